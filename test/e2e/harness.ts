/**
 * Boots the real Trent (HTTP, SigV4, storage) on an ephemeral port for end-to-end tests, with the
 * official AWS SDK clients pointed at it. One server per test file.
 *
 * Backend: SQLite in the data dir by default; with TRENT_E2E_STORAGE=postgres each data dir gets a fresh
 * schema on the test PostgreSQL server (test-database.ts), reused when a server restarts on the same
 * data dir and dropped when the test process exits. scripts/run-tests.mjs runs test/e2e a second time so.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { after } from 'node:test';
import { createApp, type App } from '../../src/app.ts';
import type { Clock } from '../../src/clock.ts';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import type { Storage } from '../../src/storage/storage.ts';
import { dropTestSchemas, freshSchemaUrl, postgresTestBaseUrl, probePostgres, redactUrl } from '../../src/storage/postgres/test-database.ts';

export const ADMIN = { accessKeyId: 'AKIATRENTTESTADMIN01', secretAccessKey: 'trent-test-secret-access-key-0123456789' };
export const ACCOUNT_ID = '111122223333';
export const REGION = 'us-east-1';

/** The storage the e2e servers of this run use: TRENT_E2E_STORAGE=postgres or (default) sqlite. */
export const E2E_STORAGE: 'sqlite' | 'postgres' = process.env.TRENT_E2E_STORAGE === 'postgres' ? 'postgres' : 'sqlite';

const schemaOfDataDir = new Map<string, string>();
const running = new Set<TestServer>();
if (E2E_STORAGE === 'postgres') {
  // Root hooks run in registration order, so this may come before the test file's own `after`: stop
  // what still runs (stop() is idempotent) before the schemas go.
  after(async () => {
    for (const s of [...running]) await s.stop();
    await dropTestSchemas();
  });
}

/** TRENT_STORAGE for a server on `dataDir`: on PostgreSQL, one schema per data dir (kept across restarts). */
async function storageEnv(dataDir: string): Promise<Record<string, string>> {
  if (E2E_STORAGE !== 'postgres') return {};
  let url = schemaOfDataDir.get(dataDir);
  if (!url) {
    const p = await probePostgres();
    if (p.error !== undefined) {
      throw new Error(`TRENT_E2E_STORAGE=postgres but PostgreSQL is not reachable at ${redactUrl(postgresTestBaseUrl())} (${p.error})`);
    }
    url = await freshSchemaUrl(p.url);
    schemaOfDataDir.set(dataDir, url);
  }
  return { TRENT_STORAGE: url };
}

/**
 * TRENT_STORAGE for a Trent the test runs itself (a child process, the `trent` command) on `dataDir`: a
 * PostgreSQL schema in the PostgreSQL pass (the one startServer uses for that data dir), else SQLite there.
 */
export async function e2eStorageUrl(dataDir: string): Promise<string> {
  return (await storageEnv(dataDir)).TRENT_STORAGE ?? `sqlite:${join(dataDir, 'trent.db')}`;
}

export interface TestServer {
  app: App;
  url: string;
  port: number;
  dataDir: string;
  kms(options?: { region?: string; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }; systemClockOffset?: number }): KMSClient;
  /** Stops the server; keeps the data dir unless `remove` is set. */
  stop(remove?: boolean): Promise<void>;
}

export async function startServer(
  opts: {
    /** Variables over the defaults below; undefined unsets one (TRENT_QUOTAS: undefined runs AWS's default quotas). */
    dataDir?: string; clock?: Clock; env?: Record<string, string | undefined>;
    /** Wraps the real storage (fault-injection decorators). */ wrapStorage?: (s: Storage) => Storage;
    /** Replaces the silent logger (tests that read what the server logs). */ logger?: Logger;
  } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'trent-e2e-'));
  const config = loadConfig({
    TRENT_DATA_DIR: dataDir,
    TRENT_PORT: '0',
    TRENT_ACCOUNT_ID: ACCOUNT_ID,
    TRENT_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
    TRENT_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    TRENT_LOG_LEVEL: 'silent',
    // AWS's default quotas (PutParameter: 3 per second) would throttle the suite's bursts; the tests of
    // quotas set TRENT_QUOTAS themselves (test/e2e/quotas.test.ts).
    TRENT_QUOTAS: 'off',
    // One process: the harness runs createApp in the test process (node:cluster is src/main.ts's), and
    // config.workers divides quotas and dates intent recovery (TRENT_WORKERS defaults to the core count).
    TRENT_WORKERS: '1',
    ...(await storageEnv(dataDir)),
    ...opts.env,
  });
  const app = await createApp({
    config,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.wrapStorage ? { storage: opts.wrapStorage(await openStorage(config.storageUrl)) } : {}),
  });
  const { port, url } = await app.listen(0, '127.0.0.1');
  const clients: KMSClient[] = [];
  let stopping: Promise<void> | undefined;
  const server: TestServer = {
    app,
    url,
    port,
    dataDir,
    kms(o = {}) {
      const client = new KMSClient({
        endpoint: url,
        region: o.region ?? REGION,
        credentials: o.credentials ?? ADMIN,
        maxAttempts: 1,
        ...(o.systemClockOffset !== undefined ? { systemClockOffset: o.systemClockOffset } : {}),
      });
      clients.push(client);
      return client;
    },
    async stop(remove = false) {
      stopping ??= (async () => {
        for (const c of clients) c.destroy();
        await app.close();
        running.delete(server);
      })();
      await stopping;
      if (remove) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  running.add(server);
  return server;
}

/** Runs `fn` and returns the AWS error it threw (name = __type), failing if it did not throw. */
export async function awsError(fn: () => Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await fn();
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, ...(e.$metadata?.httpStatusCode !== undefined ? { status: e.$metadata.httpStatusCode } : {}) };
  }
  throw new Error('expected the call to fail');
}

/**
 * Sends a raw awsJson1_1 request, signed with SigV4 by the AWS signer, so tests can send bodies the
 * SDK never would (malformed JSON, unknown operations).
 */
export async function rawCall(
  url: string,
  target: string,
  body: string | Buffer,
  opts: { service?: string; region?: string; credentials?: { accessKeyId: string; secretAccessKey: string }; sign?: boolean; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { Hash } = await import('@smithy/hash-node');
  const u = new URL(url);
  let headers: Record<string, string> = {
    host: u.host,
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': target,
    ...opts.headers,
  };
  if (opts.sign !== false) {
    const signer = new SignatureV4({
      credentials: opts.credentials ?? ADMIN,
      region: opts.region ?? REGION,
      service: opts.service ?? 'kms',
      sha256: Hash.bind(null, 'sha256'),
    });
    const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: '/', headers, body });
    headers = signed.headers as Record<string, string>;
  }
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/**
 * Sends an IAM or STS call over the AWS query protocol (form-encoded, XML answer), SigV4-signed for
 * us-east-1 as the AWS clients sign IAM and STS. `code` is the error's <Code>, if any.
 */
export async function queryCall(
  url: string,
  service: 'iam' | 'sts',
  action: string,
  params: Record<string, string>,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = ADMIN,
): Promise<{ status: number; headers: Headers; text: string; code?: string }> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { Hash } = await import('@smithy/hash-node');
  const u = new URL(url);
  const body = new URLSearchParams({ Action: action, Version: service === 'iam' ? '2010-05-08' : '2011-06-15', ...params }).toString();
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service, sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign({
    method: 'POST', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: '/',
    headers: { host: u.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body,
  });
  const res = await fetch(url, { method: 'POST', headers: signed.headers as Record<string, string>, body });
  const text = await res.text();
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  return { status: res.status, headers: res.headers, text, ...(code !== undefined ? { code } : {}) };
}

/** Every file below `dir` (e.g. a server's data dir), for tests that search the bytes on disk. */
export function filesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...filesUnder(path));
    else files.push(path);
  }
  return files;
}
