/**
 * One key: metadata, aliases, tags, rotation, last use, key policy editor, grants, and the state changes
 * (enable/disable, deletion, rotation, public key). Each part loads on its own, so a principal allowed
 * DescribeKey but not GetKeyPolicy sees the metadata and AWS's AccessDeniedException for the policy.
 */
import { useEffect, useState } from 'preact/hooks';
import {
  CancelKeyDeletionCommand, DescribeKeyCommand, DisableKeyCommand, DisableKeyRotationCommand, EnableKeyCommand,
  EnableKeyRotationCommand, GetKeyLastUsageCommand, GetKeyPolicyCommand, GetKeyRotationStatusCommand, GetPublicKeyCommand,
  ListAliasesCommand, ListGrantsCommand, ListKeyRotationsCommand, ListResourceTagsCommand, PutKeyPolicyCommand,
  RevokeGrantCommand, RotateKeyOnDemandCommand, ScheduleKeyDeletionCommand, TagResourceCommand, UntagResourceCommand,
} from '@aws-sdk/client-kms';
import type { PageProps } from '../app.tsx';
import { ErrorBox, Field, KeyValues, Section, Show, useAction, useLoad, when } from '../ui.tsx';
import { PermissionsNote, usePermissions, type Permissions } from '../permissions.tsx';

/** The changes this page offers, checked with SimulatePrincipalPolicy on the key (its key policy counts). */
const KEY_CHANGES = [
  'kms:DisableKey', 'kms:EnableKey', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:PutKeyPolicy', 'kms:TagResource',
  'kms:UntagResource', 'kms:EnableKeyRotation', 'kms:DisableKeyRotation', 'kms:RotateKeyOnDemand', 'kms:RevokeGrant',
];

export function KeyDetailPage({ clients, session, keyId }: PageProps & { keyId: string }) {
  const kms = clients.kms;
  const meta = useLoad(async () => (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!, [keyId]);
  const action = useAction();
  const [days, setDays] = useState(30);
  const change = (fn: () => Promise<unknown>) => void action.run(fn, meta.reload);
  const m = meta.data;
  const symmetric = m?.KeySpec === 'SYMMETRIC_DEFAULT';
  const asymmetric = m !== undefined && !symmetric && !m.KeySpec?.startsWith('HMAC');
  const perm = usePermissions(clients, session, KEY_CHANGES, m?.Arn ?? null);

  return (
    <>
      <p><a href="#/keys">← Keys</a></p>
      <h1>Key {keyId}</h1>
      <PermissionsNote permissions={perm} />
      <Show loaded={meta}>
        {(k) => (
          <>
            <Section title="Metadata">
              <KeyValues rows={[
                ['ARN', k.Arn], ['State', <strong data-testid="key-state">{k.KeyState}</strong>], ['Description', k.Description || '—'],
                ['Key spec', k.KeySpec], ['Key usage', k.KeyUsage], ['Origin', k.Origin], ['Key manager', k.KeyManager],
                ['Multi-Region', k.MultiRegion ? 'yes' : 'no'], ['Created', when(k.CreationDate)],
                ['Deletion date', k.DeletionDate ? when(k.DeletionDate) : '—'],
                ['Waiting period', k.PendingDeletionWindowInDays ? `${k.PendingDeletionWindowInDays} days` : '—'],
              ]} />
              <div class="actions">
                {k.KeyState === 'Enabled' && <button type="button" disabled={action.busy} {...perm.guard('kms:DisableKey')} onClick={() => change(() => kms.send(new DisableKeyCommand({ KeyId: keyId })))}>Disable key</button>}
                {k.KeyState === 'Disabled' && <button type="button" disabled={action.busy} {...perm.guard('kms:EnableKey')} onClick={() => change(() => kms.send(new EnableKeyCommand({ KeyId: keyId })))}>Enable key</button>}
                {k.KeyState === 'PendingDeletion'
                  ? <button type="button" disabled={action.busy} {...perm.guard('kms:CancelKeyDeletion')} onClick={() => change(() => kms.send(new CancelKeyDeletionCommand({ KeyId: keyId })))}>Cancel deletion</button>
                  : (
                    <span class="inline">
                      <Field label="Waiting period (7–30 days)"><input type="number" min={7} max={30} value={days} onInput={(e) => setDays(Number(e.currentTarget.value))} /></Field>
                      <button type="button" class="danger" disabled={action.busy} {...perm.guard('kms:ScheduleKeyDeletion')} onClick={() => change(() => kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: days })))}>Schedule deletion</button>
                    </span>
                  )}
                {asymmetric && <button type="button" onClick={() => void action.run(() => downloadPublicKey(clients, keyId))}>Download public key</button>}
              </div>
              <ErrorBox error={action.error} />
            </Section>
            <Aliases {...{ clients, keyId, perm }} />
            <Tags {...{ clients, keyId, perm }} />
            {symmetric && k.Origin === 'AWS_KMS' && <Rotation {...{ clients, keyId, perm }} />}
            <LastUse {...{ clients, keyId, perm }} />
            <Policy {...{ clients, keyId, perm }} />
            <Grants {...{ clients, keyId, perm }} />
          </>
        )}
      </Show>
    </>
  );
}

async function downloadPublicKey(clients: PageProps['clients'], keyId: string) {
  const out = await clients.kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  const der = out.PublicKey!;
  const b64 = btoa(String.fromCharCode(...der)).replace(/.{64}/g, '$&\n');
  const pem = `-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----\n`;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([pem], { type: 'application/x-pem-file' }));
  a.download = `${keyId}.pem`;
  a.click();
  URL.revokeObjectURL(a.href);
}

type Sub = Pick<PageProps, 'clients'> & { keyId: string; perm: Permissions };

function Aliases({ clients, keyId }: Sub) {
  const aliases = useLoad(async () => (await clients.kms.send(new ListAliasesCommand({ KeyId: keyId }))).Aliases ?? [], [keyId]);
  return (
    <Section title="Aliases">
      <Show loaded={aliases}>{(list) => list.length === 0 ? <p>No alias.</p> : <ul>{list.map((a) => <li key={a.AliasName}>{a.AliasName}</li>)}</ul>}</Show>
    </Section>
  );
}

function Tags({ clients, keyId, perm }: Sub) {
  const tags = useLoad(async () => (await clients.kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags ?? [], [keyId]);
  const action = useAction();
  const add = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    void action.run(() => clients.kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: String(form.get('key')), TagValue: String(form.get('value')) }] })), tags.reload);
  };
  return (
    <Section title="Tags">
      <Show loaded={tags}>
        {(list) => list.length === 0 ? <p>No tag.</p> : (
          <table>
            <caption class="sr-only">Tags</caption>
            <thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {list.map((t) => (
                <tr key={t.TagKey}><td>{t.TagKey}</td><td>{t.TagValue}</td>
                  <td><button type="button" {...perm.guard('kms:UntagResource')} onClick={() => void action.run(() => clients.kms.send(new UntagResourceCommand({ KeyId: keyId, TagKeys: [t.TagKey!] })), tags.reload)}>Remove tag {t.TagKey}</button></td></tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
      <form class="inline" onSubmit={add}>
        <Field label="Tag key"><input name="key" required /></Field>
        <Field label="Tag value"><input name="value" /></Field>
        <button type="submit" {...perm.guard('kms:TagResource')}>Add tag</button>
      </form>
      <ErrorBox error={action.error} />
    </Section>
  );
}

function Rotation({ clients, keyId, perm }: Sub) {
  const status = useLoad(async () => {
    const [s, r] = await Promise.all([
      clients.kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId })),
      clients.kms.send(new ListKeyRotationsCommand({ KeyId: keyId })),
    ]);
    return { status: s, rotations: r.Rotations ?? [] };
  }, [keyId]);
  const action = useAction();
  return (
    <Section title="Rotation">
      <Show loaded={status}>
        {({ status: s, rotations }) => (
          <>
            <KeyValues rows={[
              ['Automatic rotation', <span data-testid="rotation-enabled">{s.KeyRotationEnabled ? 'enabled' : 'disabled'}</span>],
              ['Rotation period', s.RotationPeriodInDays ? `${s.RotationPeriodInDays} days` : '—'],
              ['Next rotation', when(s.NextRotationDate)],
            ]} />
            <div class="actions">
              <button type="button" {...perm.guard(s.KeyRotationEnabled ? 'kms:DisableKeyRotation' : 'kms:EnableKeyRotation')} onClick={() => void action.run(() => clients.kms.send(s.KeyRotationEnabled ? new DisableKeyRotationCommand({ KeyId: keyId }) : new EnableKeyRotationCommand({ KeyId: keyId })), status.reload)}>
                {s.KeyRotationEnabled ? 'Disable automatic rotation' : 'Enable automatic rotation'}
              </button>
              <button type="button" {...perm.guard('kms:RotateKeyOnDemand')} onClick={() => void action.run(() => clients.kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId })), status.reload)}>Rotate now</button>
            </div>
            <h3>Rotation history</h3>
            {rotations.length === 0 ? <p>Never rotated.</p> : (
              <ul>{rotations.map((r) => <li key={r.KeyMaterialId ?? String(r.RotationDate)}>{when(r.RotationDate)} — {r.RotationType}</li>)}</ul>
            )}
          </>
        )}
      </Show>
      <ErrorBox error={action.error} />
    </Section>
  );
}

function LastUse({ clients, keyId }: Sub) {
  const last = useLoad(() => clients.kms.send(new GetKeyLastUsageCommand({ KeyId: keyId })), [keyId]);
  return (
    <Section title="Last use">
      <Show loaded={last}>
        {(u) => (
          <p data-testid="last-use">
            {u.KeyLastUsage ? `${u.KeyLastUsage.Operation} at ${when(u.KeyLastUsage.Timestamp)}` : `Not used since ${when(u.TrackingStartDate)}`}
          </p>
        )}
      </Show>
      <button type="button" onClick={last.reload}>Refresh last use</button>
    </Section>
  );
}

function Policy({ clients, keyId, perm }: Sub) {
  const policy = useLoad(async () => (await clients.kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))).Policy ?? '', [keyId]);
  const [text, setText] = useState<string | undefined>();
  const [saved, setSaved] = useState(false);
  const action = useAction();
  useEffect(() => setText(policy.data === undefined ? undefined : pretty(policy.data)), [policy.data]);
  const save = (e: Event) => {
    e.preventDefault();
    setSaved(false);
    void action.run(async () => {
      // Validate before sending: a document that is not JSON never leaves the page.
      try {
        JSON.parse(text ?? '');
      } catch (err) {
        throw new Error(`The policy is not valid JSON: ${(err as Error).message}`);
      }
      await clients.kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: text! }));
    }, () => { setSaved(true); policy.reload(); });
  };
  return (
    <Section title="Key policy">
      <Show loaded={policy}>
        {() => (
          <form onSubmit={save}>
            <Field label="Policy document (JSON)">
              <textarea class="code" rows={16} spellcheck={false} value={text} onInput={(e) => { setText(e.currentTarget.value); setSaved(false); action.clear(); }} />
            </Field>
            <ErrorBox error={action.error} />
            {saved && <p role="status">Policy saved.</p>}
            <button type="submit" disabled={action.busy} {...perm.guard('kms:PutKeyPolicy')}>Save policy</button>
          </form>
        )}
      </Show>
    </Section>
  );
}

function pretty(json: string): string {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}

function Grants({ clients, keyId, perm }: Sub) {
  const grants = useLoad(async () => (await clients.kms.send(new ListGrantsCommand({ KeyId: keyId }))).Grants ?? [], [keyId]);
  const action = useAction();
  return (
    <Section title="Grants">
      <Show loaded={grants}>
        {(list) => list.length === 0 ? <p>No grant.</p> : (
          <table>
            <caption class="sr-only">Grants</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Grantee</th><th scope="col">Operations</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {list.map((g) => (
                <tr key={g.GrantId}>
                  <td>{g.Name || g.GrantId}</td><td>{g.GranteePrincipal}</td><td>{(g.Operations ?? []).join(', ')}</td><td>{when(g.CreationDate)}</td>
                  <td>
                    <button type="button" {...perm.guard('kms:RevokeGrant')} onClick={() => void action.run(() => clients.kms.send(new RevokeGrantCommand({ KeyId: keyId, GrantId: g.GrantId! })), grants.reload)}>Revoke grant {g.Name || g.GrantId}</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
      <ErrorBox error={action.error} />
    </Section>
  );
}
