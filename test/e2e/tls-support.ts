/**
 * Helpers for the TLS tests: a development PKI made by the real `trent tls init` / `client-cert`, SDK v3
 * clients that trust it, raw handshakes, and a count of the audit trail (a request that reaches the
 * handler always leaves an event there; one refused during the handshake never does).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import { Writable } from 'node:stream';
import { KMSClient } from '@aws-sdk/client-kms';
import { pino, type Logger } from 'pino';
import { runCli } from '../../src/cli/main.ts';
import { ADMIN, REGION, type TestServer } from './harness.ts';

export interface Pki {
  dir: string;
  ca: string;
  cert: string;
  key: string;
  env: Record<string, string>;
}

/** Runs the CLI in-process; throws with its stderr when it fails. */
export async function trentCli(args: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  let out = '';
  let err = '';
  const stdout = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) });
  const stderr = new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) });
  const code = await runCli(args, { env, stdout, stderr });
  if (code !== 0) throw Object.assign(new Error(`trent ${args.join(' ')} exited ${code}: ${err}`), { stderr: err, code });
  return out;
}

/** A fresh development CA and server certificate, from `trent tls init`. */
export async function devPki(dir = mkdtempSync(join(tmpdir(), 'trent-tls-'))): Promise<Pki> {
  await trentCli(['tls', 'init', '--dir', dir]);
  const p = { dir, ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server-key.pem') };
  return { ...p, env: { TRENT_TLS_CERT: p.cert, TRENT_TLS_KEY: p.key } };
}

/** A client certificate from `trent tls client-cert`. */
export async function clientCert(pki: Pki, name: string): Promise<{ cert: string; key: string }> {
  await trentCli(['tls', 'client-cert', '--name', name, '--dir', pki.dir]);
  return { cert: join(pki.dir, `client-${name}.pem`), key: join(pki.dir, `client-${name}-key.pem`) };
}

/** An SDK v3 KMS client over HTTPS trusting `caFile` (and presenting a client certificate if given). */
export function httpsKms(url: string, caFile: string, client?: { cert: string; key: string }): KMSClient {
  return new KMSClient({
    endpoint: url,
    region: REGION,
    credentials: ADMIN,
    maxAttempts: 1,
    requestHandler: {
      httpsAgent: {
        ca: readFileSync(caFile),
        keepAlive: true,
        ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
      },
    },
  });
}

export type Handshake = { ok: true; protocol: string; fingerprint256: string } | { ok: false; code: string; message: string };

/**
 * Opens one TLS connection, sends a GET /health and reads the answer: ok with the negotiated protocol and
 * the server certificate's fingerprint, or the error that ended it. With TLS 1.3 a refused client
 * certificate only shows after the handshake (the server's alert arrives on the first read), hence the request.
 */
export function handshake(port: number, opts: ConnectionOptions = {}): Promise<Handshake> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (h: Handshake) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(h);
    };
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...opts }, () => {
      const fingerprint256 = socket.getPeerCertificate().fingerprint256;
      const protocol = socket.getProtocol() ?? '';
      socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      socket.once('data', (d: Buffer) =>
        done(d.toString('latin1').startsWith('HTTP/1.1 200') ? { ok: true, protocol, fingerprint256 } : { ok: false, code: 'HTTP', message: d.toString('latin1').split('\r\n')[0]! }),
      );
    });
    socket.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, code: err.code ?? 'ERROR', message: err.message }));
    socket.on('close', () => done({ ok: false, code: 'CLOSED', message: 'connection closed without an answer' }));
  });
}

/** GET /health over HTTPS with node:https (the server certificate checked against `ca`). */
export function httpsHealth(url: string, opts: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL('/health', url), { agent: false, ...opts }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** How many events the audit trail holds. */
export async function auditCount(server: TestServer): Promise<number> {
  const rows = await server.app.storage.read((r) => r.audit.scan(0, 1_000_000));
  return rows.length;
}

/** A logger that keeps every line (debug and up) for the test to read. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _e, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}
