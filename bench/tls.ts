/**
 * The `tls` section of `npm run bench`: what HTTPS costs. Two Trents on one data dir (so the same key),
 * one serving plain HTTP and one HTTPS with a certificate of `trent tls init` (ECDSA P-256), measured in
 * turns at each concurrency so that drift of the machine hits both alike:
 *   - keep-alive connections (the usual client: one handshake, then many requests): Encrypt at c = 1/16/64;
 *   - a new connection per request, no session resumption (every request pays a full TLS handshake):
 *     Encrypt at c = 1 and 16, the handshake's cost.
 * The figure is HTTPS req/s ÷ HTTP req/s at the same concurrency and connection mode.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../src/cli/main.ts';
import type { Measured, Server } from './procs.ts';
import type { runLoad } from './procs.ts';

export interface TlsRow {
  connections: 'keep-alive' | 'new per request';
  concurrency: number;
  http: Measured;
  https: Measured;
  /** HTTPS req/s ÷ HTTP req/s. */
  ratio: number;
}

export interface TlsDeps {
  workDir: string;
  /** Starts a Trent with extra environment (and, for HTTPS, the CA to check it against). */
  launch(name: string, env: Record<string, string>, caPem?: string): Promise<Server>;
  /** The Encrypt 1 KiB request bodies, prepared through the given (plain HTTP) server. */
  encryptBodies(server: Server): Promise<string[]>;
  /** One window, unmeasured (warm-up: no noise retry spent on it). */
  load(server: Server, spec: Parameters<typeof runLoad>[1]): Promise<Measured>;
  /** One measured window (with the bench's noise retry). */
  measure(server: Server, spec: Parameters<typeof runLoad>[1], label: string): Promise<Measured>;
  /** The spec of an Encrypt cell. */
  spec(bodies: string[], concurrency: number, warmupS: number, durationS: number): Parameters<typeof runLoad>[1];
  warmupS: number;
  durationS: number;
  log(msg: string): void;
  errorNote(label: string, m: Measured): void;
}

const silent = new Writable({ write: (_c, _e, cb) => cb() });

export async function tlsSection(d: TlsDeps): Promise<TlsRow[]> {
  const dir = join(d.workDir, 'tls');
  mkdirSync(dir, { recursive: true });
  const code = await runCli(['tls', 'init', '--dir', dir], { env: {}, stdout: silent, stderr: silent });
  if (code !== 0) throw new Error('trent tls init failed');
  const caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');

  const http = await d.launch('Trent (HTTP)', {});
  let https: Server | undefined;
  const rows: TlsRow[] = [];
  try {
    const bodies = await d.encryptBodies(http);
    https = await d.launch(
      'Trent (HTTPS)',
      { TRENT_DATA_DIR: dataDirOf(http), TRENT_TLS_CERT: join(dir, 'server.pem'), TRENT_TLS_KEY: join(dir, 'server-key.pem') },
      caPem,
    );
    // Unmeasured load first on each: a process just started is still compiling its hot path.
    for (const s of [http, https]) await d.load(s, { ...d.spec(bodies, 16, d.warmupS * 2, 0.1), caPem });
    const cells: { connections: TlsRow['connections']; c: number }[] = [
      ...[1, 16, 64].map((c) => ({ connections: 'keep-alive' as const, c })),
      ...[1, 16].map((c) => ({ connections: 'new per request' as const, c })),
    ];
    for (const cell of cells) {
      const keepAlive = cell.connections === 'keep-alive';
      const label = (s: Server) => `tls ${s.name} Encrypt c=${cell.c} ${cell.connections}`;
      const mHttp = await d.measure(http, { ...d.spec(bodies, cell.c, d.warmupS, d.durationS), keepAlive }, label(http));
      const mHttps = await d.measure(https, { ...d.spec(bodies, cell.c, d.warmupS, d.durationS), keepAlive, caPem }, label(https));
      d.errorNote(label(http), mHttp);
      d.errorNote(label(https), mHttps);
      rows.push({ connections: cell.connections, concurrency: cell.c, http: mHttp, https: mHttps, ratio: mHttps.rps / mHttp.rps });
      d.log(`tls: Encrypt c=${cell.c} ${cell.connections}: HTTP ${Math.round(mHttp.rps)} req/s, HTTPS ${Math.round(mHttps.rps)} req/s (${(mHttps.rps / mHttp.rps).toFixed(2)} x)`);
    }
  } finally {
    await https?.stop();
    await http.stop();
  }
  return rows;
}

/** The data dir of a Trent started by the bench: its log lies in it (launchTrent in run.ts). */
function dataDirOf(server: Server): string {
  return server.logPath.replace(/\/trent\.log$/, '');
}

export function tlsMarkdown(rows: TlsRow[]): string[] {
  if (rows.length === 0) return [];
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '—');
  const us = (m: Measured) => ((m.serverCpuPct / 100 / m.rps) * 1e6);
  const out = [
    '## HTTPS vs HTTP: Encrypt 1 KiB',
    '',
    'Two Trents on one data dir (same key), one on plain HTTP, one on HTTPS (TLS 1.3, ECDSA P-256 certificate from `trent tls init`, ' +
      'node:https client checking it), measured in turns. "keep-alive": each of the c connections is opened once (one handshake) and reused; ' +
      '"new per request": every request opens a new connection without session resumption, so each pays a full TCP + TLS handshake. ' +
      '"CPU µs/req" is the server\'s CPU time per request.',
    '',
    '| connections | c | HTTP req/s | HTTPS req/s | HTTPS ÷ HTTP | HTTP p50 / p99 ms | HTTPS p50 / p99 ms | HTTP CPU µs/req | HTTPS CPU µs/req | load CPU % (HTTPS) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const warn = r.http.errors || r.https.errors ? ' ⚠' : '';
    out.push(
      `| ${r.connections}${warn} | ${r.concurrency} | ${f(r.http.rps)} | ${f(r.https.rps)} | ${f(r.ratio, 2)} | ${f(r.http.p50Ms, 2)} / ${f(r.http.p99Ms, 2)} | ` +
        `${f(r.https.p50Ms, 2)} / ${f(r.https.p99Ms, 2)} | ${f(us(r.http))} | ${f(us(r.https))} | ${f(r.https.loadCpuPct)} |`,
    );
  }
  out.push('');
  return out;
}
