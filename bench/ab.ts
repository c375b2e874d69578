/**
 * A/B of whole servers (bench/README.md, "Finding where the CPU goes", step 4): one Trent per variant —
 * another tree of this repository, the compiled build (`:dist`: compiled first, as `npm start` does, then
 * dist/main.js with the node flags of that tree's "start" script), or extra node flags — each on SQLite
 * with audit on and TRENT_WORKERS=1 as the bench starts it (or `--workers=N`), driven in turn by the one
 * load process (bench/load.ts) at the same concurrency, the order rotated every round. Prints each
 * window's CPU µs per request (server utime + stime ÷ requests, workers included), p99 latency and the
 * server's context switches per request (its processes' main threads and their other threads apart), and
 * the medians of them. Variants measured back to back under the same machine load compare where single
 * runs on a shared machine do not.
 *
 *   node --import tsx bench/ab.ts <label>=<tree>[:tsx|dist][:<node flag>,…] … [--rounds=5] [--duration=5] [--op=Encrypt,Decrypt] [--c=64] [--workers=1]
 *   e.g. node --import tsx bench/ab.ts before=/tmp/base after=. gc1=.::--single-threaded-gc
 *        node --import tsx bench/ab.ts before=/tmp/base after=. --op=GetSecretValue,GetParameter,DescribeKey
 * Operations: Encrypt, Decrypt, DescribeKey, GetSecretValue (1 KiB string), GetParameter (1 KiB SecureString,
 * WithDecryption), Sign (RSA_2048, RSASSA_PKCS1_V1_5_SHA_256, a 32-byte RAW message), the same requests as
 * bench/workloads.ts sends.
 *        node --import tsx bench/ab.ts p=.::--import,./bench/count-promises.mjs --rounds=1   (promises per request, on stderr)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Server } from './procs.ts';
import { runLoad, startNodeFlags, stopLoadProcess, waitForHealth } from './procs.ts';
import { signedCall } from './signing.ts';
import { message32, plaintext1k, TARGET_PREFIX, type Service } from './workloads.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const rounds = Number(opt('rounds', '5'));
const duration = Number(opt('duration', '5'));
const operations = opt('op', 'Encrypt,Decrypt').split(',');
const concurrency = Number(opt('c', '64'));
const workers = opt('workers', '1');
const variants = args.filter((a) => !a.startsWith('--')).map((a) => {
  const eq = a.indexOf('=');
  const [tree = '.', mode, flags] = (eq < 0 ? '' : a.slice(eq + 1)).split(':');
  return { label: eq < 0 ? a : a.slice(0, eq), root: resolve(tree || '.'), compiled: mode === 'dist', flags: flags ? flags.split(',') : [] };
});
if (variants.length === 0) throw new Error('usage: bench/ab.ts <label>=<tree>[:tsx|dist][:<node flag>,…] …');
// A compiled variant runs its tree's own build, made now (as `npm start` does), never a stale one.
for (const root of new Set(variants.filter((v) => v.compiled).map((v) => v.root))) {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}

const ADMIN = { accessKeyId: 'AKIATRENTBENCHADMIN1', secretAccessKey: 'trent-bench-secret-access-key-0123456789' };

function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

/** Each operation's service (for the SigV4 scope and X-Amz-Target prefix). */
const SERVICE_OF: Record<string, Service> = {
  Encrypt: 'kms', Decrypt: 'kms', DescribeKey: 'kms', GetSecretValue: 'secretsmanager', GetParameter: 'ssm', Sign: 'kms',
};
for (const op of operations) if (!SERVICE_OF[op]) throw new Error(`unknown operation ${op} (${Object.keys(SERVICE_OF).join(', ')})`);

interface Started { label: string; server: Server; child: ChildProcess; bodies: Record<string, string[]>; dir: string }

async function start(v: (typeof variants)[number]): Promise<Started> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'trent-ab-'));
  const env: Record<string, string> = {};
  for (const [k, val] of Object.entries(process.env)) if (val !== undefined && !k.startsWith('TRENT_')) env[k] = val;
  Object.assign(env, {
    TRENT_HOST: '127.0.0.1', TRENT_PORT: String(port), TRENT_DATA_DIR: dir, TRENT_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
    TRENT_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey, TRENT_LOG_LEVEL: 'warn', TRENT_QUOTAS: 'off', TRENT_WORKERS: workers,
  });
  // A compiled variant runs as its tree's `npm start` does, with the flags of its package.json's "start".
  const entry = v.compiled ? [...startNodeFlags(v.root), 'dist/main.js'] : ['--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, [...v.flags, ...entry], { cwd: v.root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, v.label, child, 30_000);
  const call = async (operation: string, body: unknown, service: Service = 'kms') =>
    (await signedCall({ url, target: `${TARGET_PREFIX[service]}.${operation}`, service, region: 'us-east-1', credentials: ADMIN, body })).json;
  const keyId = ((await call('CreateKey', {})).KeyMetadata as { KeyId: string }).KeyId;
  const ciphertext = (await call('Encrypt', { KeyId: keyId, Plaintext: plaintext1k })).CiphertextBlob as string;
  const bodies: Record<string, string[]> = {
    Encrypt: [JSON.stringify({ KeyId: keyId, Plaintext: plaintext1k })],
    Decrypt: [JSON.stringify({ CiphertextBlob: ciphertext })],
    DescribeKey: [JSON.stringify({ KeyId: keyId })],
  };
  if (operations.includes('Sign')) {
    const signingKey = ((await call('CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' })).KeyMetadata as { KeyId: string }).KeyId;
    bodies.Sign = [JSON.stringify({ KeyId: signingKey, Message: message32, MessageType: 'RAW', SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })];
  }
  if (operations.includes('GetSecretValue')) {
    await call('CreateSecret', { Name: 'bench/secret', SecretString: 's'.repeat(1024), ClientRequestToken: randomUUID() }, 'secretsmanager');
    bodies.GetSecretValue = [JSON.stringify({ SecretId: 'bench/secret' })];
  }
  if (operations.includes('GetParameter')) {
    await call('PutParameter', { Name: '/bench/parameter', Value: 'p'.repeat(1024), Type: 'SecureString' }, 'ssm');
    bodies.GetParameter = [JSON.stringify({ Name: '/bench/parameter', WithDecryption: true })];
  }
  const server: Server = { name: v.label, pid: child.pid!, url, logPath: '/dev/null', stop: async () => null };
  return { label: v.label, server, child, bodies, dir };
}

const started: Started[] = [];
for (const v of variants) started.push(await start(v));
// Preloads such as bench/alloc-sample.mjs name the server process in what they print.
for (const s of started) console.log(`${s.label}: pid ${s.server.pid}`);
const results = new Map<string, { us: number[]; p99: number[]; switches: number[] }>();
for (let round = 0; round < rounds; round++) {
  for (const operation of operations) {
    for (let i = 0; i < started.length; i++) {
      const s = started[(i + round) % started.length]!;
      const bodies = s.bodies[operation];
      if (!bodies) throw new Error(`no bodies for ${operation}`);
      const service = SERVICE_OF[operation]!;
      const m = await runLoad(s.server, {
        target: `${TARGET_PREFIX[service]}.${operation}`, service, region: 'us-east-1', credentials: ADMIN, bodies, concurrency, warmupS: 1, durationS: duration,
      });
      const us = ((m.serverCpuPct / 100) * 1e6) / m.rps;
      const key = `${operation} ${s.label}`;
      const r = results.get(key) ?? { us: [], p99: [], switches: [] };
      r.us.push(us);
      r.p99.push(m.p99Ms);
      results.set(key, r);
      // Context switches per request completed in the window, main threads apart.
      let switches = '';
      if (m.serverSwitches && m.requests > 0) {
        const n = m.requests;
        const { mainVoluntary, mainInvoluntary, otherVoluntary, otherInvoluntary } = m.serverSwitches;
        r.switches.push((mainVoluntary + mainInvoluntary + otherVoluntary + otherInvoluntary) / n);
        const per = (x: number) => (x / n).toFixed(2);
        switches = `, switches/req: main threads ${per(mainVoluntary)} slept + ${per(mainInvoluntary)} preempted, other threads ${per(otherVoluntary)} + ${per(otherInvoluntary)}`;
      }
      console.log(`round ${round} ${key}: ${m.rps.toFixed(0)} req/s, server CPU ${m.serverCpuPct.toFixed(0)}%, others' ${m.otherCpuPct.toFixed(0)}%, ${us.toFixed(0)} µs/req, p99 ${m.p99Ms.toFixed(1)} ms, errors ${m.errors}${switches}`);
    }
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
for (const [key, { us, p99, switches }] of results) {
  const sw = switches.length > 0 ? `, context switches/req median ${median(switches).toFixed(2)}` : '';
  console.log(`${key}: median ${median(us).toFixed(0)} µs/req [${us.map((x) => x.toFixed(0)).join(', ')}], p99 median ${median(p99).toFixed(1)} ms [${p99.map((x) => x.toFixed(1)).join(', ')}]${sw}`);
}
await stopLoadProcess();
await Promise.all(started.map((s) => new Promise((done) => {
  s.child.once('exit', done);
  s.child.kill('SIGTERM');
})));
for (const s of started) rmSync(s.dir, { recursive: true, force: true });
