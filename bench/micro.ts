/**
 * Micro-benchmarks of the functions an Encrypt or Decrypt runs through (bench/README.md, "Finding where
 * the CPU goes"): process CPU per call, in a loop. With --against=<dir> (another tree of this repository,
 * e.g. `git archive <commit> | tar -x -C /tmp/base` with node_modules linked) each case runs on both
 * trees, alternating round by round in this one process, so a change is measured against the code before
 * it under the same machine load.
 *
 *   node --import tsx bench/micro.ts [--against=/tmp/base] [--rounds=5] [--only=sigv4,authorize]
 *
 * Cases: event (buildEvent + canonicalJson of an Encrypt event), sigv4 (parseSigV4 + verifySigV4 of a
 * signed 1 KiB Encrypt), authorize (kms:Encrypt by the administrator under the default key policy, on
 * SQLite behind the read cache), cached-reads (an Encrypt's three point reads, hits of the read cache over
 * the error counter over SQLite, as app.ts stacks them), blob (InputReader.blob of a 1 KiB Plaintext), header (encodeHeader),
 * ids (timeOrderedUuid + randomNonce(16)); and node:crypto alone (hkdf, hkdf-keyobject, aes-gcm-1k,
 * hmac-sha256), run once whatever --against says. Each tree's own code is loaded from its src/; a case whose
 * API differs between the trees says so and is skipped for the older one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signJsonRequest } from './signing.ts';

const args = process.argv.slice(2);
const opt = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(opt('rounds') ?? 5);
const only = opt('only')?.split(',');
const here = resolve(fileURLToPath(new URL('..', import.meta.url)));
const trees = [...(opt('against') ? [{ name: 'against', root: resolve(opt('against')!) }] : []), { name: 'this', root: here }];

const ACCOUNT = '111122223333';
const CREDS = { accessKeyId: 'AKIATRENTBENCHADMIN1', secretAccessKey: 'trent-bench-secret-access-key-0123456789' };
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1b4e28ba-2fa1-11d2-883f-0016d3cca427`;
const PLAINTEXT_B64 = Buffer.alloc(1024, 7).toString('base64');
const caller = () => ({
  accountId: ACCOUNT, region: 'us-east-1', principalArn: `arn:aws:iam::${ACCOUNT}:user/admin`, accessKeyId: CREDS.accessKeyId,
  secureTransport: false, sourceIp: '127.0.0.1', userAgent: 'node',
});
const dirs: string[] = [];
const stores: { close(): Promise<void> }[] = [];

type Case = (root: string) => Promise<(() => unknown) | undefined>;
const imp = (root: string, path: string) => import(join(root, path)) as Promise<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A migrated SQLite store of `root`'s tree in a fresh temp dir, closed and removed at the end of the run. */
async function freshSqlite(root: string) {
  const { SqliteStorage } = await imp(root, 'src/storage/sqlite/sqlite-storage.ts');
  const dir = mkdtempSync(join(tmpdir(), 'trent-micro-'));
  dirs.push(dir);
  const store = new SqliteStorage(join(dir, 'db'));
  await store.migrate();
  stores.push(store);
  return store;
}

const cases: Record<string, { calls: number; run: Case }> = {
  event: {
    calls: 100_000,
    async run(root) {
      const { buildEvent } = await imp(root, 'src/audit/event.ts');
      const { canonicalJson } = await imp(root, 'src/audit/canonical-json.ts');
      const facts = {
        requestId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427', eventId: '0190b4e2-2fa1-71d2-883f-0016d3cca427', eventTime: 1_700_000_000_000,
        eventSource: 'kms.amazonaws.com', eventName: 'Encrypt', readOnly: true, defaultAccountId: ACCOUNT, defaultRegion: 'us-east-1',
        sourceIp: '127.0.0.1', userAgent: 'node', caller: caller(),
        input: { KeyId: KEY_ARN, Plaintext: PLAINTEXT_B64, EncryptionContext: { purpose: 'bench' } },
        output: { KeyId: KEY_ARN, CiphertextBlob: 'AAAA', EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
      };
      return () => canonicalJson(buildEvent(facts).record);
    },
  },
  sigv4: {
    calls: 50_000,
    async run(root) {
      const { parseSigV4, verifySigV4 } = await imp(root, 'src/auth/sigv4.ts');
      const body = JSON.stringify({ KeyId: KEY_ARN, Plaintext: PLAINTEXT_B64 });
      const signed = await signJsonRequest({ url: 'http://127.0.0.1:4599', target: 'TrentService.Encrypt', service: 'kms', region: 'us-east-1', credentials: CREDS, body });
      const headers: Record<string, string> = { connection: 'keep-alive', 'user-agent': 'node', accept: '*/*' };
      for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
      const req = { method: 'POST', url: '/', headers, body: signed.body };
      // The secret is an object holding it (the credential store's entry) since 9bf76a6, a string before.
      let secret: unknown = { secretAccessKey: CREDS.secretAccessKey };
      try {
        verifySigV4(req, parseSigV4(req, 'kms'), secret, new Date());
      } catch {
        secret = CREDS.secretAccessKey;
      }
      return () => verifySigV4(req, parseSigV4(req, 'kms'), secret, new Date());
    },
  },
  authorize: {
    calls: 50_000,
    async run(root) {
      const { ReadCachingStorage } = await imp(root, 'src/storage/read-cache.ts');
      const { createAuthorizer, ADMIN_POLICY_NAME, ADMIN_POLICY_TEXT } = await imp(root, 'src/auth/authorizer.ts');
      const { systemClock } = await imp(root, 'src/clock.ts');
      const { defaultKeyPolicyText } = await imp(root, 'src/policy/index.ts');
      const inner = await freshSqlite(root);
      await inner.transaction(async (tx: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        await tx.principals.insert({
          arn: `arn:aws:iam::${ACCOUNT}:user/admin`, accountId: ACCOUNT, kind: 'user', name: 'admin', createdAt: 0, revision: 1,
          doc: { policies: { [ADMIN_POLICY_NAME]: ADMIN_POLICY_TEXT } },
        });
      });
      // A read cache that does not expire during the run: the case measures the decision, not a store read.
      const authorizer = createAuthorizer({ storage: new ReadCachingStorage(inner, 3_600_000), clock: systemClock });
      const key = {
        scope: { accountId: ACCOUNT, region: 'us-east-1' }, keyId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427', arn: KEY_ARN, createdAt: 0, revision: 1,
        doc: {
          description: '', keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT', origin: 'AWS_KMS', keyManager: 'CUSTOMER', state: 'Enabled',
          currentVersion: 1, currentKeyMaterialId: 'm', multiRegion: false, tags: [], policy: defaultKeyPolicyText(ACCOUNT),
        },
      };
      return () => authorizer.authorize(caller(), 'kms:Encrypt', { key });
    },
  },
  // The three point reads of an Encrypt (key, its grants, the caller's principal), all hits, through the
  // stack app.ts builds: the read cache over the error counter over SQLite. What is left is their promises.
  'cached-reads': {
    calls: 100_000,
    async run(root) {
      const { ReadCachingStorage } = await imp(root, 'src/storage/read-cache.ts');
      const { ErrorCountingStorage } = await imp(root, 'src/storage/error-counting.ts');
      const inner = await freshSqlite(root);
      const scope = { accountId: ACCOUNT, region: 'us-east-1' };
      const keyId = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
      const arn = `arn:aws:iam::${ACCOUNT}:user/admin`;
      await inner.transaction(async (tx: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        await tx.keys.insert({ ...scope, keyId, createdAt: 0, state: 'Enabled', dueAt: null, revision: 1, doc: { state: 'Enabled' } });
        await tx.principals.insert({ arn, accountId: ACCOUNT, kind: 'user', name: 'admin', createdAt: 0, revision: 1, doc: { policies: {} } });
      });
      // A TTL that does not run out during the run: every read is a hit.
      const storage = new ReadCachingStorage(new ErrorCountingStorage(inner, { storageError: () => undefined }), 3_600_000);
      /* eslint-disable @typescript-eslint/no-explicit-any */
      return async () => {
        await storage.read((r: any) => r.keys.get(scope, keyId));
        await storage.read((r: any) => r.grants.listForKey(scope, keyId));
        await storage.read((r: any) => r.principals.get(arn));
      };
      /* eslint-enable @typescript-eslint/no-explicit-any */
    },
  },
  blob: {
    calls: 200_000,
    async run(root) {
      const { InputReader } = await imp(root, 'src/http/input.ts');
      const input = { Plaintext: PLAINTEXT_B64 };
      return () => new InputReader(input).blob('Plaintext', { required: true, min: 1, max: 4096 });
    },
  },
  header: {
    calls: 200_000,
    async run(root) {
      const { encodeHeader } = await imp(root, 'src/kms/ciphertext.ts');
      const { SecretBytes } = await imp(root, 'src/crypto/secret-bytes.ts');
      const macKey = SecretBytes.adopt(Buffer.alloc(32, 1));
      const h = { accountId: ACCOUNT, keyId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427', materialVersion: 1, salt: Buffer.alloc(16, 2) };
      return () => encodeHeader(h, macKey);
    },
  },
  // node:crypto alone, the same in every tree: what an Encrypt cannot skip (HKDF with a raw key as Trent
  // calls it, and with a KeyObject, which Trent does not keep: docs/zeroization.md).
  hkdf: { calls: 50_000, run: async () => { const c = await import('node:crypto'); const ikm = c.randomBytes(32), salt = c.randomBytes(16), info = Buffer.from('trent/kms/symmetric-default/v1'); return () => c.hkdfSync('sha256', ikm, salt, info, 32); } },
  'hkdf-keyobject': { calls: 50_000, run: async () => { const c = await import('node:crypto'); const ko = c.createSecretKey(c.randomBytes(32)), salt = c.randomBytes(16), info = Buffer.from('trent/kms/symmetric-default/v1'); return () => c.hkdfSync('sha256', ko, salt, info, 32); } },
  'aes-gcm-1k': { calls: 50_000, run: async () => { const c = await import('node:crypto'); const k = c.randomBytes(32), iv = c.randomBytes(12), pt = Buffer.alloc(1024); return () => { const g = c.createCipheriv('aes-256-gcm', k, iv, { authTagLength: 16 }); g.setAAD(iv); g.update(pt); g.final(); return g.getAuthTag(); }; } },
  'hmac-sha256': { calls: 100_000, run: async () => { const c = await import('node:crypto'); const k = c.randomBytes(32), d = c.randomBytes(64); return () => c.createHmac('sha256', k).update(d).digest(); } },
  ids: {
    calls: 500_000,
    async run(root) {
      const { timeOrderedUuid, randomNonce } = await imp(root, 'src/crypto/primitives.ts');
      return () => (timeOrderedUuid(), randomNonce(16));
    },
  },
};

for (const [name, c] of Object.entries(cases)) {
  if (only && !only.includes(name)) continue;
  const fns = [];
  const treeFree = name === 'hkdf' || name === 'hkdf-keyobject' || name === 'aes-gcm-1k' || name === 'hmac-sha256';
  for (const t of treeFree ? trees.slice(-1) : trees) fns.push({ tree: t.name, fn: await c.run(t.root) });
  const results = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const { tree, fn } of fns) {
      if (!fn) continue;
      // Awaited only when it returns a promise (authorize): a synchronous case pays no microtask.
      for (let i = 0; i < 1000; i++) {
        const r = fn();
        if (r instanceof Promise) await r;
      }
      const t0 = process.cpuUsage();
      for (let i = 0; i < c.calls; i++) {
        const r = fn();
        if (r instanceof Promise) await r;
      }
      const t = process.cpuUsage(t0);
      (results.get(tree) ?? results.set(tree, []).get(tree)!).push((t.user + t.system) / c.calls);
    }
  }
  for (const [tree, v] of results) {
    const sorted = [...v].sort((a, b) => a - b);
    console.log(`${name.padEnd(10)} ${tree.padEnd(8)} median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} µs/call  [${v.map((x) => x.toFixed(2)).join(', ')}]`);
  }
}
for (const s of stores) await s.close();
for (const d of dirs) rmSync(d, { recursive: true, force: true });
process.exit(0);
