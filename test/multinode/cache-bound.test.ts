/**
 * The credential cache and the read cache honour the coherence bound (docs/postgres.md) even when the read
 * that fills them is slow: two nodes on one store (two servers in this process on one data dir — one SQLite file, or one
 * PostgreSQL schema with TRENT_E2E_STORAGE=postgres). Node A's read of an access key is held up after
 * the row was read; meanwhile node B deactivates the key through its API. Every request that reaches node A
 * later than the bound after B's acknowledgement must be refused: the entry's life counts from the start
 * of the read, not from when it was stored. The same for an identity policy (the principal's row in the
 * read cache). And UpdateAccessKey itself: seen at once by the node that made
 * the change, confined to the named user's keys, authorized as iam:UpdateAccessKey.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { CREDENTIAL_CACHE_TTL_MS } from '../../src/auth/credential-store.ts';
import { RepoDecoratingStorage } from '../../src/storage/repo-decorating-storage.ts';
import type { Repos } from '../../src/storage/storage.ts';
import { runCli } from '../../src/cli/main.ts';
import { ACCOUNT_ID, ADMIN, REGION, awsError, rawCall, startServer, type TestServer } from '../e2e/harness.ts';
import { principals } from '../e2e/principals.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Holds up node A's reads of chosen access keys (by id) and principals (by ARN) after the row has been
 * read — a slow store or a long GC pause. It sits below the read cache, as the store does.
 */
class SlowAccessKeyReads extends RepoDecoratingStorage {
  readonly held = new Map<string, Promise<void>>();
  // Reads only: transactions and units of work see the store as it is.
  protected decorate(r: Repos, inTransaction: boolean): Repos {
    if (inTransaction) return r;
    return {
      ...r,
      principals: {
        list: (accountId) => r.principals.list(accountId),
        insert: (p) => r.principals.insert(p),
        update: (p, expected) => r.principals.update(p, expected),
        delete: (arn, expected) => r.principals.delete(arn, expected),
        get: async (arn) => {
          const record = await r.principals.get(arn);
          await this.held.get(arn);
          return record;
        },
      },
      accessKeys: {
        insert: (k) => r.accessKeys.insert(k),
        upsert: (k) => r.accessKeys.upsert(k),
        count: () => r.accessKeys.count(),
        listForPrincipal: (arn) => r.accessKeys.listForPrincipal(arn),
        delete: (id) => r.accessKeys.delete(id),
        get: async (id) => {
          const record = await r.accessKeys.get(id);
          await this.held.get(id);
          return record;
        },
      },
    };
  }
}

let a: TestServer;
let b: TestServer;
let slow: SlowAccessKeyReads;
const clients: KMSClient[] = [];

before(async () => {
  a = await startServer({ wrapStorage: (s) => (slow = new SlowAccessKeyReads(s)) });
  b = await startServer({ dataDir: a.dataDir });
});
after(async () => {
  for (const c of clients) c.destroy();
  await b.stop();
  await a.stop(true);
});

test(`an access key deactivated through node B while node A's read of it is held up is refused by A for every request that arrives later than ${CREDENTIAL_CACHE_TTL_MS} ms after B acknowledged`, async () => {
  const creds = await principals(b).newUser('slow-read', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }] });
  const viaA = new KMSClient({ endpoint: a.url, region: REGION, credentials: creds, maxAttempts: 1 });
  clients.push(viaA);

  // A's first request reads the key (still Active) and is then held while B deactivates it.
  let release!: () => void;
  slow.held.set(creds.accessKeyId, new Promise<void>((r) => (release = r)));
  const first = viaA.send(new ListKeysCommand({ Limit: 1 }));
  await sleep(100); // the row is read by now; the request waits in the held read
  const res = await rawCall(b.url, 'TrentAdmin.UpdateAccessKey', JSON.stringify({ UserName: 'slow-read', AccessKeyId: creds.accessKeyId, Status: 'Inactive' }), { service: 'trent' });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const acked = Date.now();
  // Held for most of the bound: a cache that counted from the end of the read would keep the stale
  // Active entry for a whole TTL after this point.
  await sleep(CREDENTIAL_CACHE_TTL_MS * 0.7);
  slow.held.delete(creds.accessKeyId);
  release();
  await first; // read before the change: this one may pass, as it would have at the moment it was read

  // Nothing is required sooner than the bound; once it has passed, A refuses.
  await sleep(Math.max(0, acked + CREDENTIAL_CACHE_TTL_MS + 1 - Date.now()));
  const e = await awsError(() => viaA.send(new ListKeysCommand({ Limit: 1 })));
  assert.equal(e.name, 'UnrecognizedClientException', `node A still accepts the key ${Date.now() - acked} ms after node B deactivated it`);
});

test('UpdateAccessKey: the node that made the change refuses at once and accepts again at once; only a key of the named user, and only with iam:UpdateAccessKey', async () => {
  const p = principals(a);
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }] };
  const carol = await p.newUser('carol', policy);
  const dave = await p.newUser('dave', policy);
  const viaA = new KMSClient({ endpoint: a.url, region: REGION, credentials: carol, maxAttempts: 1 });
  clients.push(viaA);
  const update = (body: Record<string, unknown>, credentials?: { accessKeyId: string; secretAccessKey: string }) =>
    rawCall(a.url, 'TrentAdmin.UpdateAccessKey', JSON.stringify(body), { service: 'trent', ...(credentials ? { credentials } : {}) });

  await viaA.send(new ListKeysCommand({ Limit: 1 })); // cached on A
  assert.equal((await update({ UserName: 'carol', AccessKeyId: carol.accessKeyId, Status: 'Inactive' })).status, 200);
  assert.equal((await awsError(() => viaA.send(new ListKeysCommand({ Limit: 1 })))).name, 'UnrecognizedClientException');
  assert.equal((await update({ UserName: 'carol', AccessKeyId: carol.accessKeyId, Status: 'Active' })).status, 200);
  await viaA.send(new ListKeysCommand({ Limit: 1 }));

  // Another user's key is not found under this user (IAM: NoSuchEntity), and nothing changes.
  const wrongUser = await update({ UserName: 'carol', AccessKeyId: dave.accessKeyId, Status: 'Inactive' });
  assert.deepEqual([wrongUser.status, wrongUser.json.message], [400, `The Access Key with id ${dave.accessKeyId} cannot be found.`]);
  // Dave has no iam:UpdateAccessKey, not even for his own key.
  const refused = await update({ UserName: 'dave', AccessKeyId: dave.accessKeyId, Status: 'Inactive' }, dave);
  assert.equal(refused.json.__type, 'AccessDeniedException');
  assert.match(String(refused.json.message), /iam:UpdateAccessKey on resource: arn:aws:iam::\d{12}:user\/dave because no identity-based policy allows/);
  const viaDave = new KMSClient({ endpoint: a.url, region: REGION, credentials: dave, maxAttempts: 1 });
  clients.push(viaDave);
  await viaDave.send(new ListKeysCommand({ Limit: 1 }));
  // Bad input is AWS's ValidationException, never a 500.
  const bad = await update({ UserName: 'carol', AccessKeyId: carol.accessKeyId, Status: 'Paused' });
  assert.deepEqual([bad.status, bad.json.__type], [400, 'ValidationException']);
});

test('trent iam update-access-key deactivates a key from the command line', async () => {
  const erin = await principals(a).newUser('erin', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }] });
  const viaA = new KMSClient({ endpoint: a.url, region: REGION, credentials: erin, maxAttempts: 1 });
  clients.push(viaA);
  await viaA.send(new ListKeysCommand({ Limit: 1 }));
  const ctx = {
    env: { TRENT_ENDPOINT: a.url, AWS_ACCESS_KEY_ID: ADMIN.accessKeyId, AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey, TRENT_REGION: REGION },
    stdout: { write: () => true } as unknown as NodeJS.WritableStream,
    stderr: process.stderr,
  };
  const before = (await a.app.storage.read((r) => r.audit.scan(0, 1_000_000))).at(-1)?.seq ?? 0;
  assert.equal(await runCli(['iam', 'update-access-key', 'erin', erin.accessKeyId, 'Inactive'], ctx), 0);
  assert.equal((await awsError(() => viaA.send(new ListKeysCommand({ Limit: 1 })))).name, 'UnrecognizedClientException');
  // The command is IAM's UpdateAccessKey over the query API, not a TrentAdmin call.
  const trail = (await a.app.storage.read((r) => r.audit.scan(before, 100_000))).map((r) => JSON.parse(r.record) as { eventSource: string; eventName: string; errorCode?: string });
  assert.ok(trail.some((e) => e.eventSource === 'iam.amazonaws.com' && e.eventName === 'UpdateAccessKey' && e.errorCode === undefined));
});

test(`an identity policy changed through node B while node A's read of the principal is held up is enforced by A for every request that arrives later than ${CREDENTIAL_CACHE_TTL_MS} ms after B acknowledged (the read cache counts from the start of its read too)`, async () => {
  const policy = (action: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });
  const frank = await principals(b).newUser('frank', policy('kms:ListKeys'));
  const viaA = new KMSClient({ endpoint: a.url, region: REGION, credentials: frank, maxAttempts: 1 });
  clients.push(viaA);
  await viaA.send(new ListKeysCommand({ Limit: 1 })); // the access key is cached on A; the principal's entry expires below
  const arn = `arn:aws:iam::${ACCOUNT_ID}:user/frank`;
  await sleep(CREDENTIAL_CACHE_TTL_MS); // every entry of A about frank's principal has expired (TRENT_READ_CACHE_MS ≤ 1 s)

  let release!: () => void;
  slow.held.set(arn, new Promise<void>((r) => (release = r)));
  const first = viaA.send(new ListKeysCommand({ Limit: 1 }));
  await sleep(100);
  await principals(b).putUserPolicy('frank', policy('kms:DescribeKey'));
  const acked = Date.now();
  await sleep(CREDENTIAL_CACHE_TTL_MS * 0.7);
  slow.held.delete(arn);
  release();
  await first; // authorized with what was read before the change

  await sleep(Math.max(0, acked + CREDENTIAL_CACHE_TTL_MS + 1 - Date.now()));
  const e = await awsError(() => viaA.send(new ListKeysCommand({ Limit: 1 })));
  assert.equal(e.name, 'AccessDeniedException', `node A still allows under the old identity policy ${Date.now() - acked} ms after node B changed it`);
});
