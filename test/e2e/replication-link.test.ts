/**
 * Multi-Region keys between two linked deployments (docs/replication.md): two real Trent processes
 * (src/main.ts) with their own data dirs and dev PKIs, serving us-east-1 (A) and eu-central-1 (B) over
 * HTTPS, linked with the real `trent replication link`. ReplicateKey on A creates the replica on B through
 * the outbox; ciphertexts cross both ways; B is SIGKILLed while records are pending and catches up on
 * restart, once; a rotation reaches B; imported material (known to the test) and the link secret are
 * searched for in both data dirs (SQLite files and WAL), both processes' logs and both audit trails.
 * Requests to B's internal endpoint with a wrong credential, a replayed exchange, a duplicate sequence
 * number or older material change nothing.
 *
 * Storage: SQLite in each data dir, or with TRENT_E2E_STORAGE=postgres a schema of its own on the test
 * PostgreSQL server for each deployment (kept across B's restart). PostgreSQL unreachable: every test is
 * skipped with a loud warning, or fails when CI is set (test-database.ts's rule).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { freePort } from '../free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client, escapeIdentifier } from 'pg';
import {
  CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GetParametersForImportCommand, ImportKeyMaterialCommand,
  KMSClient, ReplicateKeyCommand, RotateKeyOnDemandCommand, ScheduleKeyDeletionCommand, UpdatePrimaryRegionCommand, EnableKeyRotationCommand, GetKeyRotationStatusCommand,
} from '@aws-sdk/client-kms';
import { sha256 } from '../../src/crypto/primitives.ts';
import { EphemeralAgreement, linkAuthKey, signLinkRequest, wrapForTransport } from '../../src/crypto/replication-transport.ts';
import { SecretBytes } from '../../src/crypto/secret-bytes.ts';
import { DELIVER_PATH, HELLO_PATH, headerKeyBoxAad, materialBoxAad, signedParts } from '../../src/replication/wire.ts';
import { dropTestSchemas, freshSchemaUrl, probePostgres, redactUrl } from '../../src/storage/postgres/test-database.ts';
import { ACCOUNT_ID, ADMIN, awsError, E2E_STORAGE, filesUnder } from './harness.ts';
import { devPki, trentCli, type Pki } from './tls-support.ts';

interface Deployment {
  name: string;
  region: string;
  dataDir: string;
  port: number;
  url: string;
  pki: Pki;
  child?: ChildProcess;
  /** Every line either process of this deployment wrote, across restarts. */
  log: string[];
  kms: KMSClient;
  /** TRENT_WORKERS: the receiving side runs two, so hello and deliver must reach the worker holding the exchange. */
  workers: number;
  /** TRENT_STORAGE on PostgreSQL (a schema of its own); undefined on SQLite. */
  storageUrl?: string;
}

async function deployment(name: string, region: string, workers: number): Promise<Deployment> {
  const dataDir = mkdtempSync(join(tmpdir(), `trent-link-${name}-`));
  const port = await freePort();
  const pki = await devPki(mkdtempSync(join(tmpdir(), `trent-link-${name}-tls-`)));
  const url = `https://127.0.0.1:${port}`;
  const kms = new KMSClient({
    endpoint: url, region, credentials: ADMIN, maxAttempts: 1,
    requestHandler: { httpsAgent: { ca: readFileSync(pki.ca), keepAlive: false } },
  });
  const storageUrl = E2E_STORAGE === 'postgres' ? await freshSchemaUrl((await probePostgres()).url) : undefined;
  return { name, region, dataDir, port, url, pki, log: [], kms, workers, ...(storageUrl ? { storageUrl } : {}) };
}

async function start(d: Deployment): Promise<void> {
  const env = {
    PATH: process.env.PATH ?? '',
    TRENT_DATA_DIR: d.dataDir, TRENT_PORT: String(d.port), TRENT_HOST: '127.0.0.1',
    TRENT_ACCOUNT_ID: ACCOUNT_ID, TRENT_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId, TRENT_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    TRENT_REGIONS: d.region, TRENT_REGION: d.region, TRENT_LOG_LEVEL: 'debug', TRENT_WORKERS: String(d.workers), TRENT_JOB_INTERVAL_MS: '500', ...d.pki.env,
    ...(d.storageUrl ? { TRENT_STORAGE: d.storageUrl } : {}),
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  d.child = child;
  const keep = (c: Buffer) => d.log.push(c.toString('utf8'));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${d.name} did not start: ${out}`)), 60_000);
    const watch = (c: Buffer) => {
      out += c.toString('utf8');
      if (out.includes('Trent listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
    child.once('exit', (code) => reject(new Error(`${d.name} exited with ${code}: ${out}`)));
  });
}

async function kill(d: Deployment): Promise<void> {
  const child = d.child!;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

const cliEnv = (d: Deployment) => ({
  TRENT_ENDPOINT: d.url, TRENT_CA_BUNDLE: d.pki.ca, TRENT_REGION: d.region,
  AWS_ACCESS_KEY_ID: ADMIN.accessKeyId, AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
});

async function peers(d: Deployment): Promise<{ LinkId: string; Name: string; PendingRecords: number; DeliveredRecords: number; LastAppliedSequence: number }[]> {
  return JSON.parse(await trentCli(['replication', 'peers'], cliEnv(d)));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let last: unknown;
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Rows of a deployment's store, read directly (SQL with `?` placeholders; integers come back as numbers). */
async function rows(d: Deployment, sql: string, ...params: unknown[]): Promise<Record<string, unknown>[]> {
  if (!d.storageUrl) {
    const db = new Database(join(d.dataDir, 'trent.db'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all(...params) as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }
  let n = 0;
  const text = sql.replace(/\?/g, () => `$${++n}`);
  const out = await withPg(d, async (c) => (await c.query(text, params)).rows as Record<string, unknown>[]);
  // COUNT(*) and BIGINT columns arrive as strings from pg.
  return out.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v])));
}

/** One write to a deployment's store behind the running server's back (`?` placeholders). */
async function write(d: Deployment, sql: string, ...params: unknown[]): Promise<void> {
  if (!d.storageUrl) {
    const db = new Database(join(d.dataDir, 'trent.db'), { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 10000');
      db.prepare(sql).run(...params);
    } finally {
      db.close();
    }
    return;
  }
  let n = 0;
  const text = sql.replace(/\?/g, () => `$${++n}`);
  await withPg(d, (c) => c.query(text, params));
}

async function withPg<T>(d: Deployment, use: (c: Client) => Promise<T>): Promise<T> {
  const u = new URL(d.storageUrl!);
  const schema = u.searchParams.get('schema')!;
  u.searchParams.delete('schema');
  const c = new Client({ connectionString: u.toString() });
  await c.connect();
  try {
    await c.query(`SET search_path TO ${escapeIdentifier(schema)}`);
    return await use(c);
  } finally {
    await c.end();
  }
}

/** Everything a deployment stored, as bytes to search: its data dir's files and, on PostgreSQL, every row of its schema as text. */
async function storedBytes(d: Deployment): Promise<{ where: string; content: Buffer }[]> {
  const out = filesUnder(d.dataDir).map((f) => ({ where: f, content: readFileSync(f) }));
  if (d.storageUrl) {
    const tables = await rows(d, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'");
    assert.ok(tables.length > 5);
    for (const t of tables) {
      // row_to_json renders bytea as \x hex, so the hex needles find raw bytes too.
      const all = await rows(d, `SELECT row_to_json(t)::text AS j FROM ${escapeIdentifier(String(t.table_name))} t`);
      out.push({ where: `${d.name}'s table ${String(t.table_name)}`, content: Buffer.from(all.map((r) => String(r.j)).join('\n')) });
    }
  }
  return out;
}

/** Set in `before` when the PostgreSQL pass was asked for and PostgreSQL does not answer (outside CI). */
let skipReason: string | undefined;

/** A test of this file; skipped as a whole when PostgreSQL is asked for and unreachable. */
function linkTest(name: string, body: () => Promise<void>): void {
  test(name, async (t) => {
    if (skipReason) return t.skip(skipReason);
    await body();
  });
}

let A: Deployment;
let B: Deployment;
let credential = '';
let credentialFile = '';
const MATERIAL = randomBytes(32); // imported into an EXTERNAL key: the test knows these bytes

before(async () => {
  if (E2E_STORAGE === 'postgres') {
    const p = await probePostgres();
    if (p.error !== undefined) {
      const why = `PostgreSQL not reachable at ${redactUrl(p.url)} (${p.error})`;
      if (process.env.CI) throw new Error(`${why}: the linked-deployment test may not be skipped on PostgreSQL when CI is set`);
      skipReason = `${why}: skipping the linked-deployment test on PostgreSQL`;
      console.warn(`\n*** ${skipReason}. Set TRENT_TEST_POSTGRES_URL or start PostgreSQL to run it. ***\n`);
      return;
    }
  }
  A = await deployment('A', 'us-east-1', 1);
  B = await deployment('B', 'eu-central-1', 2);
  await Promise.all([start(A), start(B)]);
});

after(async () => {
  for (const d of [A, B]) {
    if (!d) continue;
    d.kms.destroy();
    if (d.child) await kill(d);
    rmSync(d.dataDir, { recursive: true, force: true });
    rmSync(d.pki.dir, { recursive: true, force: true });
  }
  await dropTestSchemas();
});

linkTest('trent replication link: a credential generated on A and pasted on B links them; overlapping regions are refused', async () => {
  const out = await trentCli(['replication', 'link', '--name', 'B', '--endpoint', B.url, '--ca', B.pki.ca, '--regions', 'eu-central-1'], cliEnv(A));
  credential = /^(trent-link-1\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43})$/m.exec(out)![1]!;
  credentialFile = join(B.pki.dir, 'link-credential');
  writeFileSync(credentialFile, `${credential}\n`, { mode: 0o600 });
  const back = await trentCli(['replication', 'link', '--name', 'A', '--endpoint', A.url, '--ca', A.pki.ca, '--regions', 'us-east-1', '--credential-file', credentialFile], cliEnv(B));
  assert.doesNotMatch(back, /trent-link-1/, 'the side given the credential does not print one');
  const [onA] = await peers(A);
  const [onB] = await peers(B);
  assert.equal(onA!.LinkId, onB!.LinkId);
  assert.deepEqual([onA!.Name, onB!.Name], ['B', 'A']);
  // A peer serving one of our own regions, or a region another link serves: refused, nothing stored.
  const overlap = await trentCli(['replication', 'link', '--name', 'C', '--endpoint', B.url, '--ca', B.pki.ca, '--regions', 'us-east-1'], cliEnv(A)).catch((e: Error) => e.message);
  assert.match(overlap, /ValidationException: The peer's regions must not overlap this deployment's: us-east-1/);
  const twice = await trentCli(['replication', 'link', '--name', 'C', '--endpoint', B.url, '--ca', B.pki.ca, '--regions', 'eu-central-1'], cliEnv(A)).catch((e: Error) => e.message);
  assert.match(twice, /ValidationException: Link B already serves eu-central-1/);
  const http = await trentCli(['replication', 'link', '--name', 'C', '--endpoint', 'http://127.0.0.1:1', '--ca', B.pki.ca, '--regions', 'eu-west-3'], cliEnv(A)).catch((e: Error) => e.message);
  assert.match(http, /ValidationException: The peer endpoint must be an https:\/\/ URL/);
  assert.equal((await peers(A)).length, 1);
});

let mrk = '';
let euArn = '';

linkTest('ReplicateKey to a region the peer serves: Creating at once, then the replica exists on B; ciphertexts cross both ways', async () => {
  mrk = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true, Description: 'linked' }))).KeyMetadata!.KeyId!;
  const out = await A.kms.send(new ReplicateKeyCommand({ KeyId: mrk, ReplicaRegion: 'eu-central-1', Description: 'on B' }));
  assert.equal(out.ReplicaKeyMetadata!.KeyState, 'Creating');
  euArn = out.ReplicaKeyMetadata!.Arn!;
  assert.equal(euArn, `arn:aws:kms:eu-central-1:${ACCOUNT_ID}:key/${mrk}`);
  const onA = (await A.kms.send(new DescribeKeyCommand({ KeyId: mrk }))).KeyMetadata!;
  assert.deepEqual(onA.MultiRegionConfiguration!.ReplicaKeys, [{ Arn: euArn, Region: 'eu-central-1' }]);
  const onB = await until('the replica on B', async () => (await B.kms.send(new DescribeKeyCommand({ KeyId: euArn }))).KeyMetadata);
  assert.equal(onB.KeyState, 'Enabled');
  assert.equal(onB.Description, 'on B');
  assert.equal(onB.MultiRegionConfiguration!.MultiRegionKeyType, 'REPLICA');
  assert.equal(onB.MultiRegionConfiguration!.PrimaryKey!.Region, 'us-east-1');
  assert.equal(onB.CurrentKeyMaterialId, onA.CurrentKeyMaterialId);
  const blob = (await A.kms.send(new EncryptCommand({ KeyId: mrk, Plaintext: Buffer.from('from A') }))).CiphertextBlob!;
  assert.equal(Buffer.from((await B.kms.send(new DecryptCommand({ KeyId: euArn, CiphertextBlob: blob }))).Plaintext!).toString(), 'from A');
  assert.equal(Buffer.from((await B.kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'from A');
  // B's header key came back with the acknowledgement: B's ciphertext decrypts on A.
  const fromB = (await B.kms.send(new EncryptCommand({ KeyId: euArn, Plaintext: Buffer.from('from B') }))).CiphertextBlob!;
  assert.equal(Buffer.from((await A.kms.send(new DecryptCommand({ CiphertextBlob: fromB }))).Plaintext!).toString(), 'from B');
  // ReplicateKey again to the same region: AlreadyExists, as within one deployment; a region no one serves is refused.
  assert.equal((await awsError(() => A.kms.send(new ReplicateKeyCommand({ KeyId: mrk, ReplicaRegion: 'eu-central-1' })))).name, 'AlreadyExistsException');
  const nowhere = await awsError(() => A.kms.send(new ReplicateKeyCommand({ KeyId: mrk, ReplicaRegion: 'ap-south-1' })));
  assert.deepEqual([nowhere.name, nowhere.message], ['UnsupportedOperationException', 'The Region ap-south-1 is not served by this deployment.']);
  // CloudTrail's CreateKey of the replica is in B's trail (recorded by the service), the ReplicateKey in A's.
  assert.equal((await rows(B, "SELECT * FROM audit_events WHERE event_name = 'CreateKey'")).filter((r) => JSON.stringify(r).includes(euArn)).length, 1);
  const replicateEvents = (await rows(A, "SELECT * FROM audit_events WHERE event_name = 'ReplicateKey'")).map((r) => JSON.stringify(r));
  assert.deepEqual(replicateEvents.map((e) => /AlreadyExistsException|UnsupportedOperationException/.test(e)), [false, true, true], 'one success, two refusals');
  assert.equal((await peers(A))[0]!.PendingRecords, 0);
});

let external = '';

linkTest('imported (EXTERNAL) material travels wrapped with the replica and decrypts on B', async () => {
  external = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true, Origin: 'EXTERNAL' }))).KeyMetadata!.KeyId!;
  const p = await A.kms.send(new GetParametersForImportCommand({ KeyId: external, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
  const wrapped = publicEncrypt({ key: createPublicKey({ key: Buffer.from(p.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, MATERIAL);
  await A.kms.send(new ImportKeyMaterialCommand({ KeyId: external, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
  await A.kms.send(new ReplicateKeyCommand({ KeyId: external, ReplicaRegion: 'eu-central-1' }));
  const arn = `arn:aws:kms:eu-central-1:${ACCOUNT_ID}:key/${external}`;
  const onB = await until('the EXTERNAL replica on B', async () => (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata);
  assert.equal(onB.KeyState, 'Enabled');
  assert.equal(onB.Origin, 'EXTERNAL');
  const blob = (await A.kms.send(new EncryptCommand({ KeyId: external, Plaintext: Buffer.from('imported') }))).CiphertextBlob!;
  assert.equal(Buffer.from((await B.kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'imported');
});


linkTest('B killed while records are pending: after its restart they are applied once, in order; rotation reaches B', async () => {
  const before = (await A.kms.send(new EncryptCommand({ KeyId: mrk, Plaintext: Buffer.from('before rotation') }))).CiphertextBlob!;
  await kill(B);
  // Two records while B is down: a rotation of the replicated key and a new replica.
  await A.kms.send(new RotateKeyOnDemandCommand({ KeyId: mrk }));
  const second = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.KeyId!;
  assert.equal((await A.kms.send(new ReplicateKeyCommand({ KeyId: second, ReplicaRegion: 'eu-central-1' }))).ReplicaKeyMetadata!.KeyState, 'Creating');
  const after = (await A.kms.send(new EncryptCommand({ KeyId: mrk, Plaintext: Buffer.from('after rotation') }))).CiphertextBlob!;
  await new Promise((r) => setTimeout(r, 1500)); // the sender tries, fails and backs off
  assert.equal((await peers(A))[0]!.PendingRecords, 2);
  assert.match(A.log.join(''), /replication: delivery failed; retrying/);

  await start(B);
  await until('the outbox to drain', async () => ((await peers(A))[0]!.PendingRecords === 0 ? true : undefined));
  const link = (await peers(B))[0]!;
  assert.equal(link.LastAppliedSequence, 4, 'four records applied: two replicas, a rotation, one more replica');
  const onA = (await A.kms.send(new DescribeKeyCommand({ KeyId: mrk }))).KeyMetadata!;
  const onB = (await B.kms.send(new DescribeKeyCommand({ KeyId: euArn }))).KeyMetadata!;
  assert.equal(onB.CurrentKeyMaterialId, onA.CurrentKeyMaterialId);
  for (const blob of [before, after]) {
    assert.ok((await B.kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext);
    assert.ok((await B.kms.send(new DecryptCommand({ KeyId: euArn, CiphertextBlob: blob }))).Plaintext);
  }
  assert.equal((await B.kms.send(new DescribeKeyCommand({ KeyId: `arn:aws:kms:eu-central-1:${ACCOUNT_ID}:key/${second}` }))).KeyMetadata!.KeyState, 'Enabled');
  // Nothing duplicated: one key row per replica, each material version once.
  assert.deepEqual(await rows(B, 'SELECT COUNT(*) AS n FROM keys WHERE key_id = ?', mrk), [{ n: 1 }]);
  assert.deepEqual((await rows(B, 'SELECT version FROM key_materials WHERE key_id = ? ORDER BY version', mrk)).map((r) => r.version), [1, 2]);
  assert.deepEqual(await rows(B, 'SELECT COUNT(*) AS n FROM key_materials WHERE key_id = ?', second), [{ n: 1 }]);
});

/** A POST to B's internal endpoint signed with `secret`, as a peer's sender makes it. */
function internal(path: string, body: unknown, secret: SecretBytes, linkId: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const raw = Buffer.from(JSON.stringify(body));
  const key = linkAuthKey(secret, linkId);
  const signature = signLinkRequest(key, signedParts('request', path, linkId, sha256(raw)));
  return new Promise((resolve, reject) => {
    const req = request(`${B.url}${path}`, {
      method: 'POST', ca: readFileSync(B.pki.ca),
      headers: { 'content-type': 'application/json', 'x-trent-link': linkId, 'x-trent-signature': signature },
    }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(raw);
  });
}

linkTest('the internal endpoint refuses a wrong link credential, a replayed exchange and older material, answers a duplicate with success, and changes nothing', async () => {
  const [, linkId, secretText] = credential.split('.');
  const secret = SecretBytes.copyOf(Buffer.from(secretText!, 'base64url'));
  const state = async () => ({ link: (await peers(B))[0]!, keys: await rows(B, 'SELECT key_id, revision FROM keys ORDER BY key_id'), materials: await rows(B, 'SELECT COUNT(*) AS n FROM key_materials') });
  const start = await state();

  const wrong = await internal(HELLO_PATH, {}, SecretBytes.copyOf(randomBytes(32)), linkId!);
  assert.deepEqual([wrong.status, wrong.json.__type], [400, 'AccessDeniedException']);
  const unknownLink = await internal(HELLO_PATH, {}, secret, 'f'.repeat(32));
  assert.deepEqual([unknownLink.status, unknownLink.json.__type], [400, 'AccessDeniedException']);

  // A well-formed delivery of the replicated key at version 1 only (B has version 2), as the real sender builds it.
  const deliver = async (seq: number) => {
    const hello = await internal(HELLO_PATH, {}, secret, linkId!);
    assert.equal(hello.status, 200);
    const exchangeId = String(hello.json.ExchangeId);
    const receiverPublic = Buffer.from(String(hello.json.PublicKey), 'base64');
    const mine = EphemeralAgreement.generate();
    const transport = mine.transportKey(receiverPublic, secret, linkId!, exchangeId, mine.publicKey, receiverPublic);
    const material = SecretBytes.copyOf(randomBytes(32));
    return {
      ExchangeId: exchangeId, SenderPublicKey: mine.publicKey.toString('base64'), Seq: seq,
      HeaderKey: wrapForTransport(transport, SecretBytes.copyOf(randomBytes(32)), headerKeyBoxAad(linkId!, exchangeId, 'sender')).toString('base64'),
      Record: {
        accountId: ACCOUNT_ID, keyId: mrk, sourceRegion: 'us-east-1', region: 'eu-central-1',
        key: { keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', currentVersion: 1, currentKeyMaterialId: 'x'.repeat(64), multiRegionConfig: { primaryRegion: 'us-east-1', replicaRegions: ['eu-central-1'] } },
        versions: [{ version: 1, createdAt: 1, doc: {}, wrapped: wrapForTransport(transport, material, materialBoxAad(linkId!, seq, ACCOUNT_ID, mrk, 1, 'eu-central-1')).toString('base64') }],
      },
    };
  };
  const duplicate = await deliver(start.link.LastAppliedSequence);
  const dup = await internal(DELIVER_PATH, duplicate, secret, linkId!);
  assert.deepEqual([dup.status, dup.json.Applied, dup.json.LastAppliedSeq], [200, false, start.link.LastAppliedSequence]);
  const replay = await internal(DELIVER_PATH, duplicate, secret, linkId!);
  assert.deepEqual([replay.status, replay.json.__type, replay.json.message], [400, 'AccessDeniedException', 'Unknown or used replication exchange.']);
  const older = await internal(DELIVER_PATH, await deliver(start.link.LastAppliedSequence + 1), secret, linkId!);
  assert.equal(older.status, 400);
  assert.equal(older.json.__type, 'ConflictException');
  assert.match(String(older.json.message), /has material version 2; refusing older material \(version 1\)/);
  const tampered = await deliver(start.link.LastAppliedSequence + 1);
  const forged = await internal(DELIVER_PATH, { ...tampered, Record: { ...tampered.Record, keyId: 'mrk-00000000000000000000000000000000' } }, secret, linkId!);
  assert.deepEqual([forged.status, forged.json.__type], [400, 'AccessDeniedException'], 'a box moved to another key id fails its AAD');

  assert.deepEqual(await state(), start);
});

linkTest('a replica deleted on B is reported back: A drops it from ReplicaKeys and its primary PendingReplicaDeletion starts its waiting period', async () => {
  const doomed = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true, Description: 'doomed' }))).KeyMetadata!.KeyId!;
  const arn = (await A.kms.send(new ReplicateKeyCommand({ KeyId: doomed, ReplicaRegion: 'eu-central-1' }))).ReplicaKeyMetadata!.Arn!;
  await until('the replica on B', async () => (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata);
  const appliedOnA = (await peers(A))[0]!.LastAppliedSequence;
  // AWS: a primary with replicas waits for them (PendingReplicaDeletion, no DeletionDate).
  const waiting = (await A.kms.send(new ScheduleKeyDeletionCommand({ KeyId: doomed, PendingWindowInDays: 7 })));
  assert.equal(waiting.KeyState, 'PendingReplicaDeletion');
  assert.equal(waiting.DeletionDate, undefined);
  await B.kms.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: 7 }));
  // The replica's 7 days pass: its stored deletion date is moved into the past; B's own deletion job does the rest.
  const [row] = await rows(B, 'SELECT doc FROM keys WHERE account_id = ? AND region = ? AND key_id = ?', ACCOUNT_ID, 'eu-central-1', doomed);
  const past = Date.now() - 1000;
  const doc = { ...(JSON.parse(String(row!.doc)) as Record<string, unknown>), deletionDate: past };
  await write(B, 'UPDATE keys SET due_at = ?, doc = ? WHERE account_id = ? AND region = ? AND key_id = ?', past, JSON.stringify(doc), ACCOUNT_ID, 'eu-central-1', doomed);
  await until('the replica to be deleted on B', async () => ((await awsError(() => B.kms.send(new DescribeKeyCommand({ KeyId: arn })))).name === 'NotFoundException' ? true : undefined));
  const onA = await until('A to hear of it', async () => {
    const m = (await A.kms.send(new DescribeKeyCommand({ KeyId: doomed }))).KeyMetadata!;
    return m.KeyState === 'PendingDeletion' ? m : undefined;
  });
  assert.deepEqual(onA.MultiRegionConfiguration!.ReplicaKeys, []);
  // The primary's own 7-day window starts when its last replica is gone (AWS), not when it was scheduled.
  const window = onA.DeletionDate!.getTime() - Date.now();
  assert.ok(window > 6 * 86_400_000 && window <= 7 * 86_400_000, `deletion in ${window} ms`);
  assert.equal((await peers(B))[0]!.PendingRecords, 0);
  assert.equal((await peers(A))[0]!.LastAppliedSequence, appliedOnA + 1, 'one record from B: the deletion');
});

linkTest('a material record for a replica B has deleted meanwhile is acknowledged and changes nothing: the link is not held up', async () => {
  const key = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.KeyId!;
  const arn = (await A.kms.send(new ReplicateKeyCommand({ KeyId: key, ReplicaRegion: 'eu-central-1' }))).ReplicaKeyMetadata!.Arn!;
  await until('the replica on B', async () => (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata);
  await B.kms.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: 7 }));
  await kill(B);
  // A rotates while B is down; B's replica reaches the end of its window meanwhile, so B's deletion job
  // (right after its restart) and A's rotation record race: either order must leave both outboxes empty.
  await A.kms.send(new RotateKeyOnDemandCommand({ KeyId: key }));
  const [row] = await rows(B, 'SELECT doc FROM keys WHERE account_id = ? AND region = ? AND key_id = ?', ACCOUNT_ID, 'eu-central-1', key);
  const past = Date.now() - 1000;
  const doc = { ...(JSON.parse(String(row!.doc)) as Record<string, unknown>), deletionDate: past };
  await write(B, 'UPDATE keys SET due_at = ?, doc = ? WHERE account_id = ? AND region = ? AND key_id = ?', past, JSON.stringify(doc), ACCOUNT_ID, 'eu-central-1', key);
  await start(B);
  await until('both outboxes to drain', async () => ((await peers(A))[0]!.PendingRecords + (await peers(B))[0]!.PendingRecords === 0 ? true : undefined));
  assert.equal((await awsError(() => B.kms.send(new DescribeKeyCommand({ KeyId: arn })))).name, 'NotFoundException');
  const onA = await until('A to hear of the deletion', async () => {
    const m = (await A.kms.send(new DescribeKeyCommand({ KeyId: key }))).KeyMetadata!;
    return m.MultiRegionConfiguration!.ReplicaKeys!.length === 0 ? m : undefined;
  });
  assert.equal(onA.KeyState, 'Enabled');
});

linkTest('UpdatePrimaryRegion to the peer\'s region: A\'s copy is a replica at once, B\'s becomes the primary, and B\'s rotations reach A', async () => {
  const moved = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true, Description: 'moving' }))).KeyMetadata!.KeyId!;
  await A.kms.send(new EnableKeyRotationCommand({ KeyId: moved, RotationPeriodInDays: 90 }));
  const arn = (await A.kms.send(new ReplicateKeyCommand({ KeyId: moved, ReplicaRegion: 'eu-central-1' }))).ReplicaKeyMetadata!.Arn!;
  await until('the replica on B', async () => (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata);
  const beforeMove = (await A.kms.send(new EncryptCommand({ KeyId: moved, Plaintext: Buffer.from('before the move') }))).CiphertextBlob!;
  // A region with no replica: NotFoundException, as within one deployment.
  const none = await awsError(() => A.kms.send(new UpdatePrimaryRegionCommand({ KeyId: moved, PrimaryRegion: 'ap-south-1' })));
  assert.equal(none.name, 'NotFoundException');

  await A.kms.send(new UpdatePrimaryRegionCommand({ KeyId: moved, PrimaryRegion: 'eu-central-1' }));
  const onA = (await A.kms.send(new DescribeKeyCommand({ KeyId: moved }))).KeyMetadata!;
  assert.equal(onA.MultiRegionConfiguration!.MultiRegionKeyType, 'REPLICA');
  assert.deepEqual(onA.MultiRegionConfiguration!.PrimaryKey, { Arn: arn, Region: 'eu-central-1' });
  // A's copy gave the role up in the same transaction: it no longer rotates or re-homes the key.
  assert.equal((await awsError(() => A.kms.send(new RotateKeyOnDemandCommand({ KeyId: moved })))).name, 'UnsupportedOperationException');
  assert.equal((await awsError(() => A.kms.send(new UpdatePrimaryRegionCommand({ KeyId: moved, PrimaryRegion: 'eu-central-1' })))).name, 'UnsupportedOperationException');

  const onB = await until('B to take the role', async () => {
    const m = (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata!;
    return m.MultiRegionConfiguration!.MultiRegionKeyType === 'PRIMARY' ? m : undefined;
  });
  assert.deepEqual(onB.MultiRegionConfiguration!.ReplicaKeys, [{ Arn: `arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/${moved}`, Region: 'us-east-1' }]);
  // The automatic rotation schedule moved with the role.
  // (until: B's other worker may serve its cached copy of the key for up to TRENT_READ_CACHE_MS)
  await until('the rotation schedule on B', async () => {
    const status = await B.kms.send(new GetKeyRotationStatusCommand({ KeyId: arn }));
    return status.KeyRotationEnabled === true && status.RotationPeriodInDays === 90 ? true : undefined;
  }, 10_000);
  // CloudTrail: UpdatePrimaryRegion is in B's trail too, recorded when B took the role.
  assert.equal((await rows(B, "SELECT * FROM audit_events WHERE event_name = 'UpdatePrimaryRegion'")).filter((r) => JSON.stringify(r).includes(moved)).length, 1);

  // Rotations now originate on B and flow to A.
  await B.kms.send(new RotateKeyOnDemandCommand({ KeyId: arn }));
  const rotated = await until('the new material on B', async () => {
    const id = (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata!.CurrentKeyMaterialId;
    return id !== onA.CurrentKeyMaterialId ? id : undefined;
  }, 10_000);
  await until('the rotation to reach A', async () => ((await A.kms.send(new DescribeKeyCommand({ KeyId: moved }))).KeyMetadata!.CurrentKeyMaterialId === rotated ? true : undefined));
  const fromB = (await B.kms.send(new EncryptCommand({ KeyId: arn, Plaintext: Buffer.from('after the move') }))).CiphertextBlob!;
  assert.equal(Buffer.from((await A.kms.send(new DecryptCommand({ KeyId: moved, CiphertextBlob: fromB }))).Plaintext!).toString(), 'after the move');
  assert.equal(Buffer.from((await B.kms.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: beforeMove }))).Plaintext!).toString(), 'before the move');
});

linkTest('UpdatePrimaryRegion to a peer copy that cannot take the role (pending deletion there): the role comes back to A', async () => {
  const key = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.KeyId!;
  const arn = (await A.kms.send(new ReplicateKeyCommand({ KeyId: key, ReplicaRegion: 'eu-central-1' }))).ReplicaKeyMetadata!.Arn!;
  await until('the replica on B', async () => (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata);
  await B.kms.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: 30 }));
  await A.kms.send(new UpdatePrimaryRegionCommand({ KeyId: key, PrimaryRegion: 'eu-central-1' }));
  const back = await until('the role to come back to A', async () => {
    const m = (await A.kms.send(new DescribeKeyCommand({ KeyId: key }))).KeyMetadata!;
    return m.MultiRegionConfiguration!.MultiRegionKeyType === 'PRIMARY' ? m : undefined;
  });
  assert.deepEqual(back.MultiRegionConfiguration!.ReplicaKeys, [{ Arn: arn, Region: 'eu-central-1' }]);
  const onB = (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata!;
  assert.deepEqual([onB.KeyState, onB.MultiRegionConfiguration!.MultiRegionKeyType], ['PendingDeletion', 'REPLICA']);
  await A.kms.send(new RotateKeyOnDemandCommand({ KeyId: key }));
  await until('both outboxes to drain', async () => ((await peers(A))[0]!.PendingRecords + (await peers(B))[0]!.PendingRecords === 0 ? true : undefined));
});

let newCredential = '';

linkTest('trent replication rotate-credential: records wait while the sides disagree and deliver once both have the new secret; the old one is refused', async () => {
  const out = await trentCli(['replication', 'rotate-credential', '--name', 'B'], cliEnv(A));
  newCredential = /^(trent-link-1\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43})$/m.exec(out)![1]!;
  const [, linkId, newSecretText] = newCredential.split('.');
  assert.equal(linkId, credential.split('.')[1], 'the link keeps its id');
  assert.notEqual(newCredential, credential);
  // A signs with the new secret, B still checks the old: the record waits in A's outbox.
  const logFrom = A.log.join('').length;
  const waiting = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true, Description: 'across a rotation' }))).KeyMetadata!.KeyId!;
  const arn = (await A.kms.send(new ReplicateKeyCommand({ KeyId: waiting, ReplicaRegion: 'eu-central-1' }))).ReplicaKeyMetadata!.Arn!;
  await until('a refused delivery', async () => (A.log.join('').slice(logFrom).split('\n').some((l) => l.includes('delivery failed') && l.includes('AccessDeniedException')) ? true : undefined));
  assert.equal((await peers(A))[0]!.PendingRecords, 1);
  assert.equal((await awsError(() => B.kms.send(new DescribeKeyCommand({ KeyId: arn })))).name, 'NotFoundException');
  // The primary cannot move to a replica whose creation still waits in the outbox.
  const creating = await awsError(() => A.kms.send(new UpdatePrimaryRegionCommand({ KeyId: waiting, PrimaryRegion: 'eu-central-1' })));
  assert.deepEqual([creating.name, creating.message], ['KMSInvalidStateException', `${arn} is creating.`]);
  // Unlinking is refused while a record is pending (and keys have copies in B's regions).
  const refused = await trentCli(['replication', 'unlink', '--name', 'B'], cliEnv(A)).catch((e: Error) => e.message);
  assert.match(refused, /ConflictException: Link B has 1 pending record\(s\) and \d+ multi-Region key\(s\) with a copy in its regions/);
  // A credential of another link is refused, and changes nothing.
  const otherFile = join(B.pki.dir, 'other-credential');
  writeFileSync(otherFile, `trent-link-1.${'0'.repeat(32)}.${newSecretText}\n`, { mode: 0o600 });
  const wrongLink = await trentCli(['replication', 'rotate-credential', '--name', 'A', '--credential-file', otherFile], cliEnv(B)).catch((e: Error) => e.message);
  assert.match(wrongLink, /ValidationException: The credential is for another link than A/);

  const file = join(B.pki.dir, 'new-link-credential');
  writeFileSync(file, `${newCredential}\n`, { mode: 0o600 });
  const back = await trentCli(['replication', 'rotate-credential', '--name', 'A', '--credential-file', file], cliEnv(B));
  assert.doesNotMatch(back, /trent-link-1/, 'the side given the credential does not print one');
  await until('the pending record to deliver', async () => ((await peers(A))[0]!.PendingRecords === 0 ? true : undefined));
  assert.equal((await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata!.KeyState, 'Enabled');
  // B's internal endpoint: the old secret is refused, the new one accepted.
  const old = await internal(HELLO_PATH, {}, SecretBytes.copyOf(Buffer.from(credential.split('.')[2]!, 'base64url')), linkId!);
  assert.deepEqual([old.status, old.json.__type], [400, 'AccessDeniedException']);
  const fresh = await internal(HELLO_PATH, {}, SecretBytes.copyOf(Buffer.from(newSecretText!, 'base64url')), linkId!);
  assert.equal(fresh.status, 200);
  // Each side audited its call, without the credential.
  assert.equal((await rows(A, "SELECT * FROM audit_events WHERE event_name = 'RotatePeerCredential'")).length, 1);
  assert.equal((await rows(B, "SELECT * FROM audit_events WHERE event_name = 'RotatePeerCredential'")).length, 2, 'one refused, one done');
});

linkTest('trent replication unlink: refused while keys have copies in the peer\'s regions; --force removes the link, after which the peer is refused and its regions are not served', async () => {
  const [, linkId, newSecretText] = newCredential.split('.');
  await until('the outbox to drain', async () => ((await peers(A))[0]!.PendingRecords === 0 ? true : undefined));
  const refused = await trentCli(['replication', 'unlink', '--name', 'B'], cliEnv(A)).catch((e: Error) => e.message);
  assert.match(refused, /ConflictException: Link B has 0 pending record\(s\) and [1-9]\d* multi-Region key\(s\) with a copy in its regions/);
  assert.equal((await peers(A)).length, 1, 'nothing removed');
  const forced = await trentCli(['replication', 'unlink', '--name', 'B', '--force'], cliEnv(A));
  assert.match(forced, /unlinked B \(link id [0-9a-f]{32}\); 0 pending record\(s\) dropped/);
  assert.deepEqual(await peers(A), []);
  // B's replicas have their primary in A's regions: B refuses too until forced.
  const onB = await trentCli(['replication', 'unlink', '--name', 'A'], cliEnv(B)).catch((e: Error) => e.message);
  assert.match(onB, /ConflictException: Link A has 0 pending record\(s\) and [1-9]\d* multi-Region key\(s\)/);
  await trentCli(['replication', 'unlink', '--name', 'A', '--force'], cliEnv(B));
  assert.deepEqual(await peers(B), []);
  const gone = await internal(HELLO_PATH, {}, SecretBytes.copyOf(Buffer.from(newSecretText!, 'base64url')), linkId!);
  assert.deepEqual([gone.status, gone.json.__type], [400, 'AccessDeniedException']);
  const key = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.KeyId!;
  const nowhere = await awsError(() => A.kms.send(new ReplicateKeyCommand({ KeyId: key, ReplicaRegion: 'eu-central-1' })));
  assert.deepEqual([nowhere.name, nowhere.message], ['UnsupportedOperationException', 'The Region eu-central-1 is not served by this deployment.']);
  // The replicas on B keep their material and decrypt what B makes; A's header key went with the link, so
  // a ciphertext A makes no longer decrypts on B.
  const mine = (await B.kms.send(new EncryptCommand({ KeyId: euArn, Plaintext: Buffer.from('on B') }))).CiphertextBlob!;
  assert.equal(Buffer.from((await B.kms.send(new DecryptCommand({ CiphertextBlob: mine }))).Plaintext!).toString(), 'on B');
  const blob = (await A.kms.send(new EncryptCommand({ KeyId: mrk, Plaintext: Buffer.from('after unlink') }))).CiphertextBlob!;
  // (Another worker of B may hold the peers' header keys it read for up to 5 s.)
  await until('A\'s ciphertext to be refused on B', async () =>
    ((await awsError(() => B.kms.send(new DecryptCommand({ KeyId: euArn, CiphertextBlob: blob })))).name === 'InvalidCiphertextException' ? true : undefined));
  assert.equal((await rows(A, "SELECT * FROM audit_events WHERE event_name = 'UnlinkPeer'")).length, 3, 'A: one refused for a pending record, one for copies, one done');
});

linkTest('neither the imported material nor the link secret appears in either data dir, log or audit trail', async () => {
  const secret = Buffer.from(credential.split('.')[2]!, 'base64url');
  const rotated = Buffer.from(newCredential.split('.')[2]!, 'base64url');
  const needles = [MATERIAL, secret, rotated].flatMap((b) => [b, Buffer.from(b.toString('hex')), Buffer.from(b.toString('base64')), Buffer.from(b.toString('base64url'))]);
  for (const d of [A, B]) {
    const stored = await storedBytes(d);
    if (!d.storageUrl) assert.ok(stored.some((f) => f.where.endsWith('trent.db-wal') || f.where.endsWith('trent.db')));
    for (const { where, content } of stored) {
      for (const n of needles) assert.equal(content.indexOf(n), -1, `${where} holds a secret`);
    }
    const log = Buffer.from(d.log.join(''));
    for (const n of needles) assert.equal(log.indexOf(n), -1, `${d.name}'s log holds a secret`);
    const audit = Buffer.from(JSON.stringify(await rows(d, 'SELECT * FROM audit_events')));
    assert.ok(audit.length > 1000);
    for (const n of needles) assert.equal(audit.indexOf(n), -1, `${d.name}'s audit trail holds a secret`);
  }
  // The link was made by a call each side audited, without its credential.
  assert.match(JSON.stringify(await rows(A, "SELECT * FROM audit_events WHERE event_name = 'LinkPeer'")), /LinkPeer/);
});
