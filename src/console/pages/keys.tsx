/** Keys: one page of ListKeys at a time (NextMarker paging), described, filtered; and CreateKey. */
import { useState } from 'preact/hooks';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, ListAliasesCommand, ListKeysCommand, ListResourceTagsCommand, type KeyMetadata, type KeySpec, type KeyUsageType, type OriginType } from '@aws-sdk/client-kms';
import type { PageProps } from '../app.tsx';
import { ErrorBox, Field, Section, Show, useAction, useLoad, when } from '../ui.tsx';
import { PermissionsNote, usePermissions } from '../permissions.tsx';

const CREATE_KEY = ['kms:CreateKey'];

/** Every key spec and the usages AWS allows for it (AWS: CreateKey, KeySpec and KeyUsage). */
export const KEY_SPECS: Record<string, string[]> = {
  SYMMETRIC_DEFAULT: ['ENCRYPT_DECRYPT'],
  RSA_2048: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'],
  RSA_3072: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'],
  RSA_4096: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'],
  ECC_NIST_P256: ['SIGN_VERIFY', 'KEY_AGREEMENT'],
  ECC_NIST_P384: ['SIGN_VERIFY', 'KEY_AGREEMENT'],
  ECC_NIST_P521: ['SIGN_VERIFY', 'KEY_AGREEMENT'],
  ECC_SECG_P256K1: ['SIGN_VERIFY'],
  ECC_NIST_EDWARDS25519: ['SIGN_VERIFY'],
  ML_DSA_44: ['SIGN_VERIFY'],
  ML_DSA_65: ['SIGN_VERIFY'],
  ML_DSA_87: ['SIGN_VERIFY'],
  HMAC_224: ['GENERATE_VERIFY_MAC'],
  HMAC_256: ['GENERATE_VERIFY_MAC'],
  HMAC_384: ['GENERATE_VERIFY_MAC'],
  HMAC_512: ['GENERATE_VERIFY_MAC'],
  SM2: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'KEY_AGREEMENT'],
};
const STATES = ['Enabled', 'Disabled', 'PendingDeletion', 'PendingImport', 'Unavailable'];
const PAGE_SIZES = [10, 25, 50, 100];

interface Row {
  meta: KeyMetadata;
  aliases: string[];
  tags: Record<string, string>;
}

export function KeysPage({ clients, session }: PageProps) {
  const perm = usePermissions(clients, session, CREATE_KEY);
  const [limit, setLimit] = useState(25);
  // Markers of the pages before this one: Previous pops one.
  const [markers, setMarkers] = useState<(string | undefined)[]>([undefined]);
  const [filter, setFilter] = useState({ text: '', state: '', spec: '', tag: '' });
  const [creating, setCreating] = useState(false);
  const marker = markers[markers.length - 1];
  const page = useLoad(async () => {
    const [keys, aliases] = await Promise.all([
      clients.kms.send(new ListKeysCommand({ Limit: limit, ...(marker ? { Marker: marker } : {}) })),
      listAllAliases(clients),
    ]);
    const rows: Row[] = await Promise.all((keys.Keys ?? []).map(async (k) => {
      const [described, tags] = await Promise.all([
        clients.kms.send(new DescribeKeyCommand({ KeyId: k.KeyId! })),
        clients.kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId! })),
      ]);
      return {
        meta: described.KeyMetadata!,
        aliases: aliases.filter((a) => a.TargetKeyId === k.KeyId).map((a) => a.AliasName!),
        tags: Object.fromEntries((tags.Tags ?? []).map((t) => [t.TagKey!, t.TagValue ?? ''])),
      };
    }));
    return { rows, next: keys.Truncated ? keys.NextMarker : undefined, page: markers.length };
  }, [limit, marker]);

  const matches = (r: Row) => {
    const text = filter.text.toLowerCase();
    return (!text || r.meta.KeyId!.toLowerCase().includes(text) || r.aliases.some((a) => a.toLowerCase().includes(text)) || (r.meta.Description ?? '').toLowerCase().includes(text))
      && (!filter.state || r.meta.KeyState === filter.state)
      && (!filter.spec || r.meta.KeySpec === filter.spec)
      && (!filter.tag || hasTag(r.tags, filter.tag));
  };

  return (
    <>
      <h1>Keys</h1>
      <PermissionsNote permissions={perm} />
      <div class="toolbar" role="search" aria-label="Filter keys">
        <Field label="Alias, key ID or description"><input type="search" value={filter.text} onInput={(e) => setFilter({ ...filter, text: e.currentTarget.value })} /></Field>
        <Field label="State">
          <select value={filter.state} onChange={(e) => setFilter({ ...filter, state: e.currentTarget.value })}>
            <option value="">Any</option>
            {STATES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </Field>
        <Field label="Key spec">
          <select value={filter.spec} onChange={(e) => setFilter({ ...filter, spec: e.currentTarget.value })}>
            <option value="">Any</option>
            {Object.keys(KEY_SPECS).map((s) => <option key={s}>{s}</option>)}
          </select>
        </Field>
        <Field label="Tag (key or key=value)"><input type="search" value={filter.tag} onInput={(e) => setFilter({ ...filter, tag: e.currentTarget.value })} /></Field>
        <Field label="Per page">
          <select value={String(limit)} onChange={(e) => { setLimit(Number(e.currentTarget.value)); setMarkers([undefined]); }}>
            {PAGE_SIZES.map((n) => <option key={n}>{n}</option>)}
          </select>
        </Field>
        <button type="button" {...perm.guard('kms:CreateKey')} onClick={() => setCreating(!creating)} aria-expanded={creating}>Create key</button>
      </div>
      {creating && <CreateKeyForm {...{ clients }} />}
      <Show loaded={page}>
        {({ rows, next, page: shown }) => shown !== markers.length ? <p aria-busy="true">Loading…</p> : (
          <>
            <table>
              <caption>Keys, page {markers.length}{rows.filter(matches).length !== rows.length ? ` (${rows.filter(matches).length} of ${rows.length} match the filter)` : ''}</caption>
              <thead><tr><th scope="col">Aliases</th><th scope="col">Key ID</th><th scope="col">Description</th><th scope="col">State</th><th scope="col">Spec</th><th scope="col">Usage</th><th scope="col">Created</th></tr></thead>
              <tbody>
                {rows.filter(matches).map((r) => (
                  <tr key={r.meta.KeyId}>
                    <td>{r.aliases.join(', ') || '—'}</td>
                    <td><a href={`#/keys/${encodeURIComponent(r.meta.KeyId!)}`}>{r.meta.KeyId}</a></td>
                    <td>{r.meta.Description || '—'}</td>
                    <td>{r.meta.KeyState}</td>
                    <td>{r.meta.KeySpec}</td>
                    <td>{r.meta.KeyUsage}</td>
                    <td>{when(r.meta.CreationDate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <div class="pager">
              <button type="button" disabled={markers.length < 2} onClick={() => setMarkers(markers.slice(0, -1))}>Previous page</button>
              <button type="button" disabled={!next} onClick={() => setMarkers([...markers, next])}>Next page</button>
            </div>
          </>
        )}
      </Show>
    </>
  );
}

/** `key` matches a key with that tag; `key=value` one whose tag has that value. */
function hasTag(tags: Record<string, string>, wanted: string): boolean {
  const eq = wanted.indexOf('=');
  const key = (eq < 0 ? wanted : wanted.slice(0, eq)).trim();
  return Object.hasOwn(tags, key) && (eq < 0 || tags[key] === wanted.slice(eq + 1).trim());
}

async function listAllAliases(clients: PageProps['clients']) {
  const out = [];
  let marker: string | undefined;
  do {
    const page = await clients.kms.send(new ListAliasesCommand({ Limit: 100, ...(marker ? { Marker: marker } : {}) }));
    out.push(...(page.Aliases ?? []));
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return out;
}

function CreateKeyForm({ clients }: Pick<PageProps, 'clients'>) {
  const [spec, setSpec] = useState('SYMMETRIC_DEFAULT');
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const value = (n: string) => String(form.get(n) ?? '').trim();
    void action.run(async () => {
      const created = await clients.kms.send(new CreateKeyCommand({
        KeySpec: spec as KeySpec,
        KeyUsage: value('usage') as KeyUsageType,
        Origin: value('origin') as OriginType,
        MultiRegion: form.get('multiRegion') === 'on',
        ...(value('description') ? { Description: value('description') } : {}),
      }));
      const keyId = created.KeyMetadata!.KeyId!;
      if (value('alias')) await clients.kms.send(new CreateAliasCommand({ AliasName: `alias/${value('alias').replace(/^alias\//, '')}`, TargetKeyId: keyId }));
      window.location.hash = `#/keys/${encodeURIComponent(keyId)}`;
    });
  };
  return (
    <Section title="Create a key">
      <form onSubmit={submit} class="grid">
        <Field label="Key spec">
          <select name="spec" value={spec} onChange={(e) => setSpec(e.currentTarget.value)}>
            {Object.keys(KEY_SPECS).map((s) => <option key={s}>{s}</option>)}
          </select>
        </Field>
        <Field label="Key usage">
          <select name="usage">{KEY_SPECS[spec]!.map((u) => <option key={u}>{u}</option>)}</select>
        </Field>
        <Field label="Origin">
          <select name="origin"><option>AWS_KMS</option><option>EXTERNAL</option></select>
        </Field>
        <Field label="Alias (optional)"><input name="alias" placeholder="alias/my-key" /></Field>
        <Field label="Description"><input name="description" /></Field>
        <label class="check"><input type="checkbox" name="multiRegion" /> Multi-Region key</label>
        <ErrorBox error={action.error} />
        <button type="submit" disabled={action.busy}>Create</button>
      </form>
    </Section>
  );
}
