/**
 * Interleaved comparison on a shared machine: Trent servers of several trees (this one, an older commit
 * unpacked elsewhere with `git archive <commit> | tar -x -C <dir>` and node_modules linked) and storages
 * run at once, and Encrypt at c = 64 is measured on each in turn, round after round (the order reversed
 * every other round). Each PostgreSQL window then has a SQLite window of the same round beside it, a few
 * seconds away, under much the same load from other processes; `npm run bench` measures its SQLite and
 * PostgreSQL rows about 20 s apart, and "others' CPU" can swing from 4 to 160% in between.
 *
 *   node --import tsx bench/interleaved.ts ROUNDS SECONDS LABEL=TREE:sqlite|postgres …
 *   node --import tsx bench/interleaved.ts 20 4 sqlite=.:sqlite pgold=/tmp/base:postgres pgnew=.:postgres
 *
 * Prints each window (req/s, others' CPU, CPU of the PostgreSQL backends serving that server per request)
 * and, per label, medians and the ratio to the label starting with "sqlite" round by round. PostgreSQL
 * servers get a schema of their own on TRENT_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test),
 * dropped at the end. Each server runs TRENT_WORKERS workers (default 1) and gets NODE_OPTIONS if set
 * (e.g. `NODE_OPTIONS=--import=$PWD/bench/count-pg.mjs`, statements per request).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { freePort, runLoad, stopLoadProcess, waitForHealth, type Server } from './procs.ts';
import { signedCall } from './signing.ts';

const ADMIN = { accessKeyId: 'AKIAEXAMPLEADMIN0001', secretAccessKey: 'bench-admin-secret-access-key-0123456789' };
const BASE = process.env.TRENT_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';
const [roundsArg, secondsArg, ...specs] = process.argv.slice(2);
const rounds = Number(roundsArg);
const seconds = Number(secondsArg);
if (!(rounds > 0) || !(seconds > 0) || specs.length === 0) {
  console.error('usage: node --import tsx bench/interleaved.ts ROUNDS SECONDS LABEL=TREE:sqlite|postgres …');
  process.exit(2);
}

interface Entry { label: string; storage: string; server: Server; body: string; dir: string; child: ChildProcess }
const schemas: string[] = [];
const entries: Entry[] = [];

async function start(label: string, tree: string, storage: string): Promise<Entry> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'trent-interleaved-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '', TRENT_HOST: '127.0.0.1', TRENT_PORT: String(port), TRENT_DATA_DIR: dir,
    TRENT_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId, TRENT_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    TRENT_LOG_LEVEL: 'warn', TRENT_QUOTAS: 'off', TRENT_WORKERS: process.env.TRENT_WORKERS ?? '1',
  };
  // A preload for measuring (bench/count-pg.mjs) reaches the server, and its workers, through NODE_OPTIONS.
  if (process.env.NODE_OPTIONS) env.NODE_OPTIONS = process.env.NODE_OPTIONS;
  if (storage === 'postgres') {
    const schema = `trent_interleaved_${process.pid}_${label.replace(/\W/g, '')}`;
    schemas.push(schema);
    const u = new URL(BASE);
    u.searchParams.set('schema', schema);
    env.TRENT_STORAGE = u.toString();
  } else if (storage !== 'sqlite') throw new Error(`${label}: storage must be sqlite or postgres`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: resolve(tree), env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(join(dir, 'trent.log'));
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, `${label} (log: ${join(dir, 'trent.log')})`, child, 60_000, 100);
  const created = await signedCall({ url, target: 'TrentService.CreateKey', service: 'kms', region: 'us-east-1', credentials: ADMIN, body: {} });
  const keyId = (created.json.KeyMetadata as { KeyId?: string } | undefined)?.KeyId;
  if (!keyId) throw new Error(`${label}: CreateKey answered no KeyId`);
  const body = JSON.stringify({ KeyId: keyId, Plaintext: Buffer.alloc(1024, 7).toString('base64') });
  const server: Server = {
    name: label, pid: child.pid!, url, logPath: join(dir, 'trent.log'),
    stop: () => new Promise((res) => {
      if (child.exitCode !== null) return res(child.exitCode);
      child.once('exit', (code) => res(code));
      child.kill('SIGTERM');
    }),
  };
  return { label, storage, server, body, dir, child };
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

try {
  for (const spec of specs) {
    const [label, rest] = spec.split('=') as [string, string | undefined];
    const [tree, storage] = (rest ?? '').split(':') as [string, string];
    entries.push(await start(label, tree, storage));
  }
  const rows = new Map<string, { rps: number; other: number; dbUs: number }[]>();
  for (let r = 0; r < rounds; r++) {
    for (const e of r % 2 === 0 ? entries : [...entries].reverse()) {
      const m = await runLoad(
        e.server,
        { target: 'TrentService.Encrypt', service: 'kms', region: 'us-east-1', credentials: ADMIN, bodies: [e.body], concurrency: 64, warmupS: 1, durationS: seconds },
        { dbComm: 'postgres' },
      );
      const dbUs = e.storage === 'postgres' && m.dbBackendsCpuPct !== undefined ? (m.dbBackendsCpuPct / 100 / m.rps) * 1e6 : NaN;
      rows.set(e.label, [...(rows.get(e.label) ?? []), { rps: m.rps, other: m.otherCpuPct, dbUs }]);
      console.log(`${new Date().toISOString().slice(11, 19)} round ${r + 1} ${e.label.padEnd(10)} ${m.rps.toFixed(0).padStart(6)} req/s  others ${m.otherCpuPct.toFixed(0).padStart(4)}%  DB backends ${Number.isNaN(dbUs) ? '—' : dbUs.toFixed(0)} µs/req  errors ${m.errors}`);
    }
  }
  const sqlite = entries.find((e) => e.label.startsWith('sqlite'))?.label;
  for (const e of entries) {
    const rr = rows.get(e.label)!;
    const ratios = sqlite && e.label !== sqlite ? rr.map((x, i) => x.rps / rows.get(sqlite)![i]!.rps) : [];
    const db = rr.map((x) => x.dbUs).filter((x) => !Number.isNaN(x));
    console.log(
      `${e.label}: median ${median(rr.map((x) => x.rps)).toFixed(0)} req/s` +
        (db.length ? `, DB backends median ${median(db).toFixed(0)} µs/req` : '') +
        (ratios.length ? `; ÷ ${sqlite} by round ${ratios.map((x) => x.toFixed(2)).join(' ')}; median ${median(ratios).toFixed(2)}` : ''),
    );
  }
} finally {
  await stopLoadProcess();
  for (const e of entries) {
    await e.server.stop();
    rmSync(e.dir, { recursive: true, force: true });
  }
  if (schemas.length) {
    const c = new pg.Client({ connectionString: BASE });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(s)} CASCADE`);
    await c.end();
  }
}
