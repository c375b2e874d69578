/**
 * Boots the real Trent (HTTP, SigV4, storage) on an ephemeral port for end-to-end tests, with the
 * official AWS SDK clients pointed at it. One server per test file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { createApp, type App } from '../../src/app.ts';
import type { Clock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config/config.ts';

export const ADMIN = { accessKeyId: 'AKIATRENTTESTADMIN01', secretAccessKey: 'trent-test-secret-access-key-0123456789' };
export const ACCOUNT_ID = '111122223333';
export const REGION = 'us-east-1';

export interface TestServer {
  app: App;
  url: string;
  port: number;
  dataDir: string;
  kms(options?: { region?: string; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }; systemClockOffset?: number }): KMSClient;
  /** Stops the server; keeps the data dir unless `remove` is set. */
  stop(remove?: boolean): Promise<void>;
}

export async function startServer(opts: { dataDir?: string; clock?: Clock; env?: Record<string, string> } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'trent-e2e-'));
  const config = loadConfig({
    TRENT_DATA_DIR: dataDir,
    TRENT_PORT: '0',
    TRENT_ACCOUNT_ID: ACCOUNT_ID,
    TRENT_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
    TRENT_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    TRENT_LOG_LEVEL: 'silent',
    ...opts.env,
  });
  const app = await createApp({ config, ...(opts.clock ? { clock: opts.clock } : {}) });
  const { port, url } = await app.listen(0, '127.0.0.1');
  const clients: KMSClient[] = [];
  return {
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
      for (const c of clients) c.destroy();
      await app.close();
      if (remove) rmSync(dataDir, { recursive: true, force: true });
    },
  };
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
