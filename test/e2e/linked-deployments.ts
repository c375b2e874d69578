/**
 * Two linked Trent deployments for the replication tests (docs/replication.md): each a real process
 * (src/main.ts) with its own data dir and dev PKI, serving one region over HTTPS; helpers to start, SIGKILL,
 * link them with the real `trent replication link`, read their SQLite files and sign requests to the
 * internal endpoint as a peer's sender does.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { sha256 } from '../../src/crypto/primitives.ts';
import { linkAuthKey, signLinkRequest } from '../../src/crypto/replication-transport.ts';
import type { SecretBytes } from '../../src/crypto/secret-bytes.ts';
import { signedParts } from '../../src/replication/wire.ts';
import { freePort } from '../free-port.ts';
import { ACCOUNT_ID, ADMIN, filesUnder } from './harness.ts';
import { devPki, trentCli, type Pki } from './tls-support.ts';

export interface Deployment {
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
  sm: SecretsManagerClient;
  /** TRENT_WORKERS: the receiving side runs two, so hello and deliver must reach the worker holding the exchange. */
  workers: number;
}

export async function deployment(name: string, region: string, workers: number): Promise<Deployment> {
  const dataDir = mkdtempSync(join(tmpdir(), `trent-link-${name}-`));
  const port = await freePort();
  const pki = await devPki(mkdtempSync(join(tmpdir(), `trent-link-${name}-tls-`)));
  const url = `https://127.0.0.1:${port}`;
  const kms = new KMSClient({
    endpoint: url, region, credentials: ADMIN, maxAttempts: 1,
    requestHandler: { httpsAgent: { ca: readFileSync(pki.ca), keepAlive: false } },
  });
  const sm = new SecretsManagerClient({
    endpoint: url, region, credentials: ADMIN, maxAttempts: 1,
    requestHandler: { httpsAgent: { ca: readFileSync(pki.ca), keepAlive: false } },
  });
  return { name, region, dataDir, port, url, pki, log: [], kms, sm, workers };
}

export async function start(d: Deployment): Promise<void> {
  const env = {
    PATH: process.env.PATH ?? '',
    TRENT_DATA_DIR: d.dataDir, TRENT_PORT: String(d.port), TRENT_HOST: '127.0.0.1',
    TRENT_ACCOUNT_ID: ACCOUNT_ID, TRENT_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId, TRENT_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    TRENT_REGIONS: d.region, TRENT_REGION: d.region, TRENT_LOG_LEVEL: 'debug', TRENT_WORKERS: String(d.workers), ...d.pki.env,
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

export const rows = (d: Deployment, sql: string, ...params: unknown[]) => {
  const db = new Database(join(d.dataDir, 'trent.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as Record<string, unknown>[];
  } finally {
    db.close();
  }
};


/** Links `a` and `b` as the operators do: a credential generated on `a`, pasted on `b`. Returns it. */
export async function linkDeployments(a: Deployment, b: Deployment): Promise<string> {
  const out = await trentCli(['replication', 'link', '--name', b.name, '--endpoint', b.url, '--ca', b.pki.ca, '--regions', b.region], cliEnv(a));
  const credential = /^(trent-link-1\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43})$/m.exec(out)![1]!;
  const file = join(b.pki.dir, 'link-credential');
  writeFileSync(file, `${credential}\n`, { mode: 0o600 });
  await trentCli(['replication', 'link', '--name', a.name, '--endpoint', a.url, '--ca', a.pki.ca, '--regions', a.region, '--credential-file', file], cliEnv(b));
  return credential;
}

/**
 * Asserts that no needle (as given, hex, base64, base64url) is in any file of the deployments' data dirs
 * (SQLite files and WAL), in their processes' logs or in their audit trails.
 */
export function assertNowhere(deployments: readonly Deployment[], secrets: readonly Buffer[]): void {
  const needles = secrets.flatMap((b) => [b, Buffer.from(b.toString('hex')), Buffer.from(b.toString('base64')), Buffer.from(b.toString('base64url'))]);
  for (const d of deployments) {
    const files = filesUnder(d.dataDir);
    assert.ok(files.some((f) => f.endsWith('trent.db-wal')) || files.some((f) => f.endsWith('trent.db')));
    for (const f of files) {
      const content = readFileSync(f);
      for (const n of needles) assert.equal(content.indexOf(n), -1, `${f} holds a secret`);
    }
    const log = Buffer.from(d.log.join(''));
    for (const n of needles) assert.equal(log.indexOf(n), -1, `${d.name}'s log holds a secret`);
    const audit = Buffer.from(JSON.stringify(rows(d, 'SELECT * FROM audit_events')));
    assert.ok(audit.length > 1000);
    for (const n of needles) assert.equal(audit.indexOf(n), -1, `${d.name}'s audit trail holds a secret`);
  }
}

/** Stops a deployment and removes its files. */
export async function dispose(d: Deployment | undefined): Promise<void> {
  if (!d) return;
  d.kms.destroy();
  d.sm.destroy();
  if (d.child) await kill(d);
  rmSync(d.dataDir, { recursive: true, force: true });
  rmSync(d.pki.dir, { recursive: true, force: true });
}

/** A POST to `to`'s internal endpoint signed with `secret`, as a peer's sender makes it. */
export function internal(to: Deployment, path: string, body: unknown, secret: SecretBytes, linkId: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const raw = Buffer.from(JSON.stringify(body));
  const key = linkAuthKey(secret, linkId);
  const signature = signLinkRequest(key, signedParts('request', path, linkId, sha256(raw)));
  return new Promise((resolve, reject) => {
    const req = request(`${to.url}${path}`, {
      method: 'POST', ca: readFileSync(to.pki.ca),
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

