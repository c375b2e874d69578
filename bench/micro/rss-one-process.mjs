/**
 * RSS of one Trent process (TRENT_WORKERS=1, development seal, fresh SQLite data dir) at start-up and after
 * N SigV4-signed Encrypt requests, from /proc/<pid>/status. Plain .mjs so the same file runs against any
 * commit's tree (bisecting): it resolves @smithy from the tree it measures.
 *
 *   node bench/micro/rss-one-process.mjs [treeDir=.] [requests=2000] [extra node flags...]
 *
 * Prints one line: `idle <MB> after <MB> hwm <MB> req/s <n>`. RSS_CONCURRENCY sets the requests in flight
 * (default 16); RSS_PROBE=1 signals SIGUSR2 at idle and after the load, for a preload such as
 * bench/micro/rss-memprobe.mjs (bench/README.md, "One process's RSS").
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const tree = resolve(process.argv[2] ?? '.');
const N = Number(process.argv[3] ?? 2000);
const nodeFlags = process.argv.slice(4);
const req = createRequire(join(tree, 'package.json'));
const { SignatureV4 } = req('@smithy/signature-v4');
const { Hash } = req('@smithy/hash-node');

const creds = { accessKeyId: 'AKIARSSPROBE00000001', secretAccessKey: 'rss-probe-secret-rss-probe-secret-00000' };
const port = await new Promise((ok) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
});
const dataDir = mkdtempSync(join(tmpdir(), 'trent-rss-'));
const env = {};
for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TRENT_')) env[k] = v;
Object.assign(env, {
  TRENT_HOST: '127.0.0.1', TRENT_PORT: String(port), TRENT_DATA_DIR: dataDir, TRENT_WORKERS: '1', TRENT_SEAL: 'dev',
  TRENT_ADMIN_ACCESS_KEY_ID: creds.accessKeyId, TRENT_ADMIN_SECRET_ACCESS_KEY: creds.secretAccessKey,
  TRENT_LOG_LEVEL: 'warn', TRENT_QUOTAS: 'off',
});
const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', 'src/main.ts'], { cwd: tree, env, stdio: ['ignore', 'ignore', 'inherit'] });
const url = `http://127.0.0.1:${port}`;
const mb = (field) => {
  const m = readFileSync(`/proc/${child.pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return Number(m[1]) / 1024;
};
try {
  for (const deadline = Date.now() + 60_000; ; ) {
    if (Date.now() > deadline) throw new Error('no /health');
    try { if ((await fetch(`${url}/health`)).ok) break; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const idle = mb('VmRSS');
  // SIGUSR2 would kill a process without a handler: only when asked, for a preload that answers it.
  if (process.env.RSS_PROBE) { child.kill('SIGUSR2'); await new Promise((r) => setTimeout(r, 1500)); }
  const signer = new SignatureV4({ credentials: creds, region: 'us-east-1', service: 'kms', sha256: Hash.bind(null, 'sha256') });
  const call = async (target, body) => {
    const text = JSON.stringify(body);
    const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port, path: '/',
      headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target }, body: text });
    const res = await fetch(url, { method: 'POST', headers: signed.headers, body: text });
    const json = await res.json();
    if (res.status !== 200) throw new Error(`${target} ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const { KeyMetadata } = await call('TrentService.CreateKey', {});
  const body = { KeyId: KeyMetadata.KeyId, Plaintext: Buffer.alloc(256, 7).toString('base64') };
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Number(process.env.RSS_CONCURRENCY ?? 16) }, async () => { while (next++ < N) await call('TrentService.Encrypt', body); }));
  const reqPerS = N / ((performance.now() - t0) / 1000);
  await new Promise((r) => setTimeout(r, 500));
  const loaded = mb('VmRSS');
  if (process.env.RSS_PROBE) { child.kill('SIGUSR2'); await new Promise((r) => setTimeout(r, 1500)); }
  console.log(`idle ${idle.toFixed(0)} after ${loaded.toFixed(0)} hwm ${mb('VmHWM').toFixed(0)} req/s ${reqPerS.toFixed(0)}`);
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
