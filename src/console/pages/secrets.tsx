/**
 * Secrets Manager: list and search, create; one secret's versions and staging labels, its value revealed
 * only on an explicit click (fetched then, held in this component's state, never put in the URL or the
 * page before the click, dropped on Hide or when the page changes), put a new value, rotation, deletion
 * and restore.
 */
import { useState } from 'preact/hooks';
import {
  CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand,
  PutSecretValueCommand, RestoreSecretCommand, RotateSecretCommand, type Filter,
} from '@aws-sdk/client-secrets-manager';
import type { PageProps } from '../app.tsx';
import { ErrorBox, Field, KeyValues, Section, Show, useAction, useLoad, when } from '../ui.tsx';
import { PermissionsNote, usePermissions } from '../permissions.tsx';

/** The changes a secret's page offers, checked with SimulatePrincipalPolicy on the secret's ARN. */
const SECRET_CHANGES = ['secretsmanager:PutSecretValue', 'secretsmanager:RotateSecret', 'secretsmanager:DeleteSecret', 'secretsmanager:RestoreSecret'];

export function SecretsPage({ clients }: PageProps) {
  const [query, setQuery] = useState('');
  const [deleted, setDeleted] = useState(false);
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const token = tokens[tokens.length - 1];
  const list = useLoad(async () => {
    const filters: Filter[] = query ? [{ Key: 'all', Values: [query] }] : [];
    const out = await clients.secrets.send(new ListSecretsCommand({ MaxResults: 25, Filters: filters, IncludePlannedDeletion: deleted, ...(token ? { NextToken: token } : {}) }));
    return { secrets: out.SecretList ?? [], next: out.NextToken };
  }, [query, deleted, token]);
  const action = useAction();
  const create = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const name = String(data.get('name')).trim();
    void action.run(async () => {
      await clients.secrets.send(new CreateSecretCommand({
        Name: name, SecretString: String(data.get('value')), ...(String(data.get('description')) ? { Description: String(data.get('description')) } : {}),
      }));
      form.reset();
    }, () => { window.location.hash = `#/secrets/${encodeURIComponent(name)}`; });
  };

  return (
    <>
      <h1>Secrets</h1>
      <div class="toolbar" role="search" aria-label="Search secrets">
        <Field label="Search name, description or tags">
          <input type="search" onChange={(e) => { setQuery(e.currentTarget.value.trim()); setTokens([undefined]); }} />
        </Field>
        <label class="check"><input type="checkbox" checked={deleted} onChange={(e) => { setDeleted(e.currentTarget.checked); setTokens([undefined]); }} /> Include secrets scheduled for deletion</label>
      </div>
      <Show loaded={list}>
        {({ secrets, next }) => (
          <>
            <table>
              <caption>Secrets, page {tokens.length}</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Rotation</th><th scope="col">Last changed</th><th scope="col">Deletion</th></tr></thead>
              <tbody>
                {secrets.map((s) => (
                  <tr key={s.ARN}>
                    <td><a href={`#/secrets/${encodeURIComponent(s.Name!)}`}>{s.Name}</a></td>
                    <td>{s.Description || '—'}</td>
                    <td>{s.RotationEnabled ? 'enabled' : 'off'}</td>
                    <td>{when(s.LastChangedDate)}</td>
                    <td>{s.DeletedDate ? `scheduled ${when(s.DeletedDate)}` : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <div class="pager">
              <button type="button" disabled={tokens.length < 2} onClick={() => setTokens(tokens.slice(0, -1))}>Previous page</button>
              <button type="button" disabled={!next} onClick={() => setTokens([...tokens, next])}>Next page</button>
            </div>
          </>
        )}
      </Show>
      <Section title="Create a secret">
        <form class="grid" onSubmit={create}>
          <Field label="Secret name"><input name="name" required autocomplete="off" /></Field>
          <Field label="Description"><input name="description" autocomplete="off" /></Field>
          <Field label="Secret value"><input name="value" type="password" required autocomplete="off" /></Field>
          <ErrorBox error={action.error} />
          <button type="submit" disabled={action.busy}>Create secret</button>
        </form>
      </Section>
    </>
  );
}

/** The built-in rotators (docs/secrets.md); a webhook rotator the operator listed is named by its function ARN. */
const BUILT_IN_ROTATORS = ['trent:rotator:postgres', 'trent:rotator:mysql'];

export function SecretDetailPage({ clients, session, name }: PageProps & { name: string }) {
  const sm = clients.secrets;
  const secret = useLoad(() => sm.send(new DescribeSecretCommand({ SecretId: name })), [name]);
  const action = useAction();
  const [revealed, setRevealed] = useState<{ versionId: string; value: string } | undefined>();
  const [recovery, setRecovery] = useState(30);
  const change = (fn: () => Promise<unknown>) => void action.run(fn, () => { setRevealed(undefined); secret.reload(); });
  const perm = usePermissions(clients, session, SECRET_CHANGES, secret.data?.ARN ?? null);

  const reveal = (versionId: string) => void action.run(async () => {
    const v = await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: versionId }));
    setRevealed({ versionId, value: v.SecretString ?? `(binary, ${v.SecretBinary?.length ?? 0} bytes)` });
  });
  const put = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const value = String(new FormData(form).get('value'));
    change(async () => {
      await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
      form.reset();
    });
  };
  const rotate = (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const days = Number(data.get('days'));
    change(() => sm.send(new RotateSecretCommand({
      SecretId: name, RotationLambdaARN: String(data.get('rotator')).trim(), ...(days > 0 ? { RotationRules: { AutomaticallyAfterDays: days } } : {}),
    })));
  };

  return (
    <>
      <p><a href="#/secrets">← Secrets</a></p>
      <h1>Secret {name}</h1>
      <PermissionsNote permissions={perm} />
      <ErrorBox error={action.error} />
      <Show loaded={secret}>
        {(s) => {
          const versions = Object.entries(s.VersionIdsToStages ?? {});
          return (
            <>
              <Section title="Details">
                <KeyValues rows={[
                  ['ARN', s.ARN], ['Description', s.Description || '—'], ['Encryption key', s.KmsKeyId ?? 'aws/secretsmanager (default)'],
                  ['Created', when(s.CreatedDate)], ['Last changed', when(s.LastChangedDate)], ['Last accessed', when(s.LastAccessedDate)],
                  ['Deletion', s.DeletedDate ? <strong data-testid="deletion">scheduled for {when(s.DeletedDate)}</strong> : <span data-testid="deletion">not scheduled</span>],
                ]} />
                <div class="actions">
                  {s.DeletedDate
                    ? <button type="button" disabled={action.busy} {...perm.guard('secretsmanager:RestoreSecret')} onClick={() => change(() => sm.send(new RestoreSecretCommand({ SecretId: name })))}>Restore secret</button>
                    : (
                      <span class="inline">
                        <Field label="Recovery window (7–30 days)"><input type="number" min={7} max={30} value={recovery} onInput={(e) => setRecovery(Number(e.currentTarget.value))} /></Field>
                        <button type="button" class="danger" disabled={action.busy} {...perm.guard('secretsmanager:DeleteSecret')} onClick={() => change(() => sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: recovery })))}>Delete secret</button>
                      </span>
                    )}
                </div>
              </Section>
              <Section title="Versions">
                <table>
                  <caption class="sr-only">Versions and staging labels</caption>
                  <thead><tr><th scope="col">Version ID</th><th scope="col">Staging labels</th><th scope="col">Value</th></tr></thead>
                  <tbody>
                    {versions.map(([id, stages]) => (
                      <tr key={id} data-testid={`version-${id}`}>
                        <td>{id}</td>
                        <td>{stages.join(', ')}</td>
                        <td>
                          {revealed?.versionId === id
                            ? <><pre data-testid="secret-value">{revealed.value}</pre><button type="button" onClick={() => setRevealed(undefined)}>Hide value</button></>
                            : <button type="button" onClick={() => reveal(id)}>Reveal value of {stages[0] ?? id}</button>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <form class="inline" onSubmit={put}>
                  <Field label="New secret value"><input name="value" type="password" required autocomplete="off" /></Field>
                  <button type="submit" disabled={action.busy || s.DeletedDate !== undefined} {...perm.guard('secretsmanager:PutSecretValue')}>Put new value</button>
                </form>
              </Section>
              <Section title="Rotation">
                <KeyValues rows={[
                  ['Rotation', <span data-testid="rotation">{s.RotationEnabled ? 'enabled' : 'not configured'}</span>],
                  ['Rotator', s.RotationLambdaARN ?? '—'],
                  ['Schedule', s.RotationRules?.AutomaticallyAfterDays ? `every ${s.RotationRules.AutomaticallyAfterDays} days` : s.RotationRules?.ScheduleExpression ?? '—'],
                  ['Last rotated', when(s.LastRotatedDate)], ['Next rotation', when(s.NextRotationDate)],
                ]} />
                <form class="grid" onSubmit={rotate}>
                  <Field label="Rotator (built-in name, or the function ARN of a rotator in TRENT_ROTATORS)">
                    <input name="rotator" list="rotators" required autocomplete="off" defaultValue={s.RotationLambdaARN ?? ''}
                      placeholder={`arn:aws:lambda:${session.region}:${session.account}:function:NAME`} />
                  </Field>
                  <datalist id="rotators">{BUILT_IN_ROTATORS.map((r) => <option key={r} value={r} />)}</datalist>
                  <Field label="Rotate every (days, 0 = on demand only)"><input name="days" type="number" min={0} max={1000} defaultValue={String(s.RotationRules?.AutomaticallyAfterDays ?? 0)} /></Field>
                  <button type="submit" disabled={action.busy || s.DeletedDate !== undefined} {...perm.guard('secretsmanager:RotateSecret')}>Rotate now</button>
                </form>
                <button type="button" onClick={secret.reload}>Refresh</button>
              </Section>
            </>
          );
        }}
      </Show>
    </>
  );
}
