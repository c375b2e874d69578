/**
 * Two linked Trent deployments for the replication tests (docs/replication.md): each a real process
 * (src/main.ts) with its own data dir and dev PKI, serving one region (or more) over HTTPS; helpers to start, SIGKILL,
 * link them with the real `trent replication link`, read and write their stores behind their backs, search
 * everything they stored for secrets and sign requests to the internal endpoint as a peer's sender does.
 *
 * Storage: SQLite in each data dir, or with TRENT_E2E_STORAGE=postgres a schema of its own on the test
 * PostgreSQL server for each deployment (kept across restarts, dropped by dispose). PostgreSQL unreachable:
 * linkStorageReady() says so and every linkTest is skipped with a loud warning, or fails when CI is set
 * (test-database.ts's rule).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Client, escapeIdentifier } from 'pg';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { sha256 } from '../../src/crypto/primitives.ts';
import { EphemeralAgreement, linkAuthKey, signLinkRequest, wrapForTransport } from '../../src/crypto/replication-transport.ts';
import { SecretBytes } from '../../src/crypto/secret-bytes.ts';
import { HELLO_PATH, headerKeyBoxAad, signedParts } from '../../src/replication/wire.ts';
import { freshSchemaUrl, probePostgres, redactUrl } from '../../src/storage/postgres/test-database.ts';
import { freePort } from '../free-port.ts';
import { ACCOUNT_ID, ADMIN, E2E_STORAGE, filesUnder } from './harness.ts';
import { devPki, trentCli, type Pki } from './tls-support.ts';

export interface Deployment {
  name: string;
  /** TRENT_REGION: the region of `kms` and `sm` and of the CLI. */
  region: string;
  /** TRENT_REGIONS: `region` first, then any more the deployment serves. */
  regions: string[];
  dataDir: string;
  port: number;
  url: string;
  pki: Pki;
  child?: ChildProcess;
  /** Every line either process of this deployment wrote, across restarts. */
  log: string[];
  kms: KMSClient;
  sm: SecretsManagerClient;
  /** TRENT_WORKERS: the receiving side runs two, so hello and deliver must reach the worker holding the exchange. */
  workers: number;
  /** TRENT_STORAGE on PostgreSQL (a schema of its own); undefined on SQLite. */
  storageUrl?: string;
}

/** Set by linkStorageReady when the PostgreSQL pass was asked for and PostgreSQL does not answer (outside CI). */
let skipReason: string | undefined;

/**
 * For a file's `before`: false (after a loud warning) when TRENT_E2E_STORAGE=postgres and PostgreSQL does
 * not answer, so the caller starts nothing and every linkTest skips; throws instead when CI is set.
 */
export async function linkStorageReady(what: string): Promise<boolean> {
  if (E2E_STORAGE !== 'postgres') return true;
  const p = await probePostgres();
  if (p.error === undefined) return true;
  const why = `PostgreSQL not reachable at ${redactUrl(p.url)} (${p.error})`;
  if (process.env.CI) throw new Error(`${why}: the ${what} may not be skipped on PostgreSQL when CI is set`);
  skipReason = `${why}: skipping the ${what} on PostgreSQL`;
  console.warn(`\n*** ${skipReason}. Set TRENT_TEST_POSTGRES_URL or start PostgreSQL to run it. ***\n`);
  return false;
}

/** A test of a linked-deployments file; skipped as a whole when linkStorageReady said no. */
export function linkTest(name: string, body: () => Promise<void>): void {
  test(name, async (t) => {
    if (skipReason) return t.skip(skipReason);
    await body();
  });
}

/** A deployment (not started) serving `region` and, if given, `moreRegions` too. */
export async function deployment(name: string, region: string, workers: number, opts: { moreRegions?: string[] } = {}): Promise<Deployment> {
  const dataDir = mkdtempSync(join(tmpdir(), `trent-link-${name}-`));
  const port = await freePort();
  const pki = await devPki(mkdtempSync(join(tmpdir(), `trent-link-${name}-tls-`)));
  const url = `https://127.0.0.1:${port}`;
  const client = clientConfig(url, pki, region);
  const storageUrl = E2E_STORAGE === 'postgres' ? await freshSchemaUrl((await probePostgres()).url) : undefined;
  return {
    name, region, regions: [region, ...(opts.moreRegions ?? [])], dataDir, port, url, pki, log: [], kms: new KMSClient(client), sm: new SecretsManagerClient(client), workers,
    ...(storageUrl ? { storageUrl } : {}),
  };
}

function clientConfig(url: string, pki: Pki, region: string) {
  return { endpoint: url, region, credentials: ADMIN, maxAttempts: 1, requestHandler: { httpsAgent: { ca: readFileSync(pki.ca), keepAlive: false } } };
}

/** A KMS client of `d` signing for another region it serves (the caller destroys it). */
export const kmsIn = (d: Deployment, region: string): KMSClient => new KMSClient(clientConfig(d.url, d.pki, region));

export async function start(d: Deployment): Promise<void> {
  const env = {
    PATH: process.env.PATH ?? '',
    TRENT_DATA_DIR: d.dataDir, TRENT_PORT: String(d.port), TRENT_HOST: '127.0.0.1',
    TRENT_ACCOUNT_ID: ACCOUNT_ID, TRENT_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId, TRENT_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    // 500 ms job loop: a deletion date the tests move into the past is acted on promptly.
    TRENT_REGIONS: d.regions.join(','), TRENT_REGION: d.region, TRENT_LOG_LEVEL: 'debug', TRENT_WORKERS: String(d.workers), TRENT_JOB_INTERVAL_MS: '500', ...d.pki.env,
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

export async function kill(d: Deployment): Promise<void> {
  const child = d.child!;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

export const cliEnv = (d: Deployment) => ({
  TRENT_ENDPOINT: d.url, TRENT_CA_BUNDLE: d.pki.ca, TRENT_REGION: d.region,
  AWS_ACCESS_KEY_ID: ADMIN.accessKeyId, AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
});

/** `trent audit verify`'s (or another storage command's) option naming `d`'s store. */
export const storeOption = (d: Deployment): string[] => (d.storageUrl ? ['--storage', d.storageUrl] : ['--data-dir', d.dataDir]);

export async function peers(d: Deployment): Promise<{ LinkId: string; Name: string; PendingRecords: number; DeliveredRecords: number; LastAppliedSequence: number }[]> {
  return JSON.parse(await trentCli(['replication', 'peers'], cliEnv(d)));
}

export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
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

/**
 * Waits until every outbox of `ds` is empty. A record's effects (the replica on the peer, its status on the
 * sender) are visible before the sender marks it delivered, so a count read right after them may still
 * include it: tests wait for the count instead of reading it once.
 */
export async function drained(...ds: Deployment[]): Promise<void> {
  const pending = async () => (await Promise.all(ds.map(async (d) => (await peers(d))[0]!.PendingRecords))).reduce((a, b) => a + b, 0);
  await until(`the outboxes of ${ds.map((d) => d.name).join(' and ')} to drain`, async () => ((await pending()) === 0 ? true : undefined));
}

/** Waits until `d`'s log (from character `from`) has a line matching `pattern`: the log line of an event may reach the test after the event's effects. */
export async function logged(d: Deployment, pattern: RegExp, from = 0): Promise<void> {
  await until(`${d.name} to log ${pattern}`, async () => (d.log.join('').slice(from).split('\n').some((l) => pattern.test(l)) ? true : undefined));
}

/** Rows of a deployment's store, read directly (SQL with `?` placeholders; integers come back as numbers). */
export async function rows(d: Deployment, sql: string, ...params: unknown[]): Promise<Record<string, unknown>[]> {
  if (!d.storageUrl) {
    const db = new Database(join(d.dataDir, 'trent.db'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all(...params) as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }
  const out = await withPg(d, async (c) => (await c.query(numbered(sql), params)).rows as Record<string, unknown>[]);
  // COUNT(*) and BIGINT columns arrive as strings from pg.
  return out.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v])));
}

/** One write to a deployment's store behind the running server's back (`?` placeholders). */
export async function write(d: Deployment, sql: string, ...params: unknown[]): Promise<void> {
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
  await withPg(d, (c) => c.query(numbered(sql), params));
}

/** SQLite's `?` placeholders as pg's `$1, $2, …`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** A connection to `d`'s PostgreSQL schema (search_path set to it), for one use. */
async function withPg<T>(d: Deployment, use: (c: Client, schema: string) => Promise<T>): Promise<T> {
  const u = new URL(d.storageUrl!);
  const schema = u.searchParams.get('schema')!;
  u.searchParams.delete('schema');
  const c = new Client({ connectionString: u.toString() });
  await c.connect();
  try {
    await c.query(`SET search_path TO ${escapeIdentifier(schema)}`);
    return await use(c, schema);
  } finally {
    await c.end();
  }
}

/** Everything a deployment stored, as bytes to search: its data dir's files and, on PostgreSQL, every row of its schema as text. */
export async function storedBytes(d: Deployment): Promise<{ where: string; content: Buffer }[]> {
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

/** A link credential as `trent replication link` and `rotate-credential` print it. */
export const CREDENTIAL = /^(trent-link-1\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43})$/m;

/**
 * Links `a` and `b` as the operators do: a credential generated on `a`, pasted on `b` (which prints none).
 * Returns it.
 */
export async function linkDeployments(a: Deployment, b: Deployment): Promise<string> {
  const out = await trentCli(['replication', 'link', '--name', b.name, '--endpoint', b.url, '--ca', b.pki.ca, '--regions', b.regions.join(',')], cliEnv(a));
  const credential = CREDENTIAL.exec(out)![1]!;
  const file = join(b.pki.dir, 'link-credential');
  writeFileSync(file, `${credential}\n`, { mode: 0o600 });
  const back = await trentCli(['replication', 'link', '--name', a.name, '--endpoint', a.url, '--ca', a.pki.ca, '--regions', a.regions.join(','), '--credential-file', file], cliEnv(b));
  assert.doesNotMatch(back, /trent-link-1/, 'the side given the credential does not print one');
  return credential;
}

/**
 * Asserts that no needle (as given, hex, base64, base64url) is in anything the deployments stored (SQLite
 * files and WAL, or every row of their PostgreSQL schemas, and the rest of their data dirs), in their
 * processes' logs or in their audit trails.
 */
export async function assertNowhere(deployments: readonly Deployment[], secrets: readonly Buffer[]): Promise<void> {
  const needles = secrets.flatMap((b) => [b, Buffer.from(b.toString('hex')), Buffer.from(b.toString('base64')), Buffer.from(b.toString('base64url'))]);
  for (const d of deployments) {
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
}

/** Stops a deployment and removes its files and, on PostgreSQL, its schema. */
export async function dispose(d: Deployment | undefined): Promise<void> {
  if (!d) return;
  d.kms.destroy();
  d.sm.destroy();
  if (d.child) await kill(d);
  rmSync(d.dataDir, { recursive: true, force: true });
  rmSync(d.pki.dir, { recursive: true, force: true });
  if (d.storageUrl) await withPg(d, (c, schema) => c.query(`DROP SCHEMA IF EXISTS ${escapeIdentifier(schema)} CASCADE`));
}

/**
 * One kept-alive connection per deployment for `internal`, as a peer's sender holds one (src/replication/
 * sender.ts): a hello's exchange lives in the worker that answered it, and with TRENT_WORKERS > 1 only the
 * same connection is sure to reach that worker again. (The global agent may hand a deliver another free
 * socket, to the other worker.)
 */
const internalAgents = new Map<string, Agent>();
function internalAgent(to: Deployment): Agent {
  let agent = internalAgents.get(to.url);
  if (!agent) internalAgents.set(to.url, (agent = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(to.pki.ca) })));
  return agent;
}

/** A POST to `to`'s internal endpoint signed with `secret`, as a peer's sender makes it. */
export function internal(to: Deployment, path: string, body: unknown, secret: SecretBytes, linkId: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const raw = Buffer.from(JSON.stringify(body));
  const key = linkAuthKey(secret, linkId);
  const signature = signLinkRequest(key, signedParts('request', path, linkId, sha256(raw)));
  return new Promise((resolve, reject) => {
    const req = request(`${to.url}${path}`, {
      method: 'POST', agent: internalAgent(to),
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

/**
 * A hello to `to` and the exchange a peer's sender builds from its answer: the deliver body's ExchangeId,
 * SenderPublicKey and HeaderKey (a random header key), and the transport key to box the record's values with.
 */
export async function openExchange(to: Deployment, secret: SecretBytes, linkId: string): Promise<{ ExchangeId: string; SenderPublicKey: string; HeaderKey: string; transport: SecretBytes }> {
  const hello = await internal(to, HELLO_PATH, {}, secret, linkId);
  assert.equal(hello.status, 200);
  const exchangeId = String(hello.json.ExchangeId);
  const receiverPublic = Buffer.from(String(hello.json.PublicKey), 'base64');
  const mine = EphemeralAgreement.generate();
  const transport = mine.transportKey(receiverPublic, secret, linkId, exchangeId, mine.publicKey, receiverPublic);
  return {
    ExchangeId: exchangeId, SenderPublicKey: mine.publicKey.toString('base64'),
    HeaderKey: wrapForTransport(transport, SecretBytes.copyOf(randomBytes(32)), headerKeyBoxAad(linkId, exchangeId, 'sender')).toString('base64'),
    transport,
  };
}
