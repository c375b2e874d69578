/**
 * Two processes appending to one audit chain on one SQLite file, as the workers of TRENT_WORKERS=2 do,
 * without HTTP, auth or crypto in the way: what waiting for the other process's write lock costs.
 *
 *   node --import tsx bench/micro/sqlite-write-lock.ts [--src=<tree>] [--seconds=5] [--clients=8] [--work-us=150] [--event=padded|encrypt]
 *
 * Each process opens SqliteStorage from `<tree>/src` (default: this tree; point it at a checkout of an
 * older commit to compare) on the same file and runs `clients` loops, each: `work-us` of synchronous
 * CPU (a request's own work), then AuditLog.record() of a 1 KB event through the real group commit, and
 * the time from the start of the work to the record's resolution is one "request". Printed per process:
 * requests/s, request p50/p99/max, and the event loop's delay (monitorEventLoopDelay, 1 ms resolution)
 * p99/max — the stall every request in flight shares when the loop is stopped — and the time the event
 * loop spent inside BEGIN IMMEDIATE (better-sqlite3's exec and Statement.run wrapped to time it), and
 * how long the write lock was held per request: from BEGIN IMMEDIATE's return to COMMIT's, all the time
 * the other process cannot write. --event=encrypt records what the edge records for an Encrypt (the
 * tree's own buildEvent), where the default is a 1 KB record of fixed shape.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const src = resolve(args.src ?? join(fileURLToPath(import.meta.url), '../../..'));
const seconds = Number(args.seconds ?? 5);
const clients = Number(args.clients ?? 8);
const workUs = Number(args['work-us'] ?? 150);
const eventKind = args.event ?? 'padded';
if (eventKind !== 'padded' && eventKind !== 'encrypt') throw new Error(`--event=${eventKind}: padded or encrypt`);

if (process.env.WRITE_LOCK_CHILD) {
  await child(process.env.WRITE_LOCK_CHILD);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'trent-write-lock-'));
  const db = join(dir, 'trent.db');
  // Migrate once, before the two processes start.
  const { SqliteStorage } = (await import(join(src, 'src/storage/sqlite/sqlite-storage.ts'))) as typeof import('../../src/storage/sqlite/sqlite-storage.ts');
  const s = new SqliteStorage(db);
  await s.migrate();
  await s.close();
  const children = [0, 1].map(() =>
    fork(fileURLToPath(import.meta.url), process.argv.slice(2), { env: { ...process.env, WRITE_LOCK_CHILD: db }, execArgv: ['--import', 'tsx'] }),
  );
  await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
  rmSync(dir, { recursive: true, force: true });
}

async function child(db: string): Promise<void> {
  const { SqliteStorage } = (await import(join(src, 'src/storage/sqlite/sqlite-storage.ts'))) as typeof import('../../src/storage/sqlite/sqlite-storage.ts');
  const { AuditLog } = (await import(join(src, 'src/audit/audit-log.ts'))) as typeof import('../../src/audit/audit-log.ts');
  const { pino } = await import('pino');
  // Time spent inside BEGIN IMMEDIATE, on the event loop (exec in older trees, a prepared statement now).
  // The tree's own copy of the driver (its node_modules), the one its SqliteStorage loads.
  const Database = createRequire(join(src, 'package.json'))('better-sqlite3') as typeof import('better-sqlite3');
  const inBegin: number[] = [];
  const timed = <F extends (...a: never[]) => unknown>(f: F, isBegin: (self: unknown, a: unknown[]) => boolean) =>
    function (this: unknown, ...a: unknown[]) {
      if (!isBegin(this, a)) return (f as unknown as (...x: unknown[]) => unknown).apply(this, a);
      const t = performance.now();
      try {
        return (f as unknown as (...x: unknown[]) => unknown).apply(this, a);
      } finally {
        if (measuringBegin) inBegin.push(performance.now() - t);
      }
    };
  let measuringBegin = false;
  // The write lock is held from BEGIN IMMEDIATE's return to COMMIT's (or ROLLBACK's).
  let lockedAt: number | undefined;
  let lockHeldMs = 0;
  const locked = <F extends (...a: never[]) => unknown>(f: F, isBegin: (self: unknown, a: unknown[]) => boolean, isEnd: (self: unknown, a: unknown[]) => boolean) =>
    function (this: unknown, ...a: unknown[]) {
      const result = (f as unknown as (...x: unknown[]) => unknown).apply(this, a);
      if (isBegin(this, a)) lockedAt = performance.now();
      else if (isEnd(this, a) && lockedAt !== undefined) {
        if (measuringBegin) lockHeldMs += performance.now() - lockedAt;
        lockedAt = undefined;
      }
      return result;
    };
  const ends = (sql: unknown) => sql === 'COMMIT' || sql === 'ROLLBACK';
  const dbProto = Database.prototype as unknown as { exec: (sql: string) => unknown };
  dbProto.exec = timed(dbProto.exec, (_s, a) => a[0] === 'BEGIN IMMEDIATE') as typeof dbProto.exec;
  dbProto.exec = locked(dbProto.exec, (_s, a) => a[0] === 'BEGIN IMMEDIATE', (_s, a) => ends(a[0])) as typeof dbProto.exec;
  const stmt = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1')) as { run: (...a: unknown[]) => unknown };
  const source = (self: unknown) => (self as { source?: string }).source;
  stmt.run = timed(stmt.run, (self) => source(self) === 'BEGIN IMMEDIATE') as typeof stmt.run;
  stmt.run = locked(stmt.run, (self) => source(self) === 'BEGIN IMMEDIATE', (self) => ends(source(self))) as typeof stmt.run;
  const storage = new SqliteStorage(db, { checkpointInThread: true });
  await storage.migrate();
  const audit = new AuditLog({ storage, clock: { now: () => Date.now() }, logger: pino({ level: 'silent' }) });
  const padding = 'x'.repeat(900);
  const { buildEvent } = (await import(join(src, 'src/audit/event.ts'))) as typeof import('../../src/audit/event.ts');
  const keyArn = 'arn:aws:kms:us-east-1:111122223333:key/1b4e28ba-2fa1-11d2-883f-0016d3cca427';
  // What the edge knows of an Encrypt by the administrator when it records it (server.ts).
  const encryptEvent = () => buildEvent({
    requestId: randomUUID(), eventId: randomUUID(), eventTime: Date.now(), eventSource: 'kms.amazonaws.com', eventName: 'Encrypt',
    readOnly: true, defaultAccountId: '111122223333', defaultRegion: 'us-east-1', sourceIp: '127.0.0.1', userAgent: 'node',
    caller: {
      accountId: '111122223333', region: 'us-east-1', principalArn: 'arn:aws:iam::111122223333:user/admin', accessKeyId: 'AKIATRENTBENCHADMIN1',
      secureTransport: false, sourceIp: '127.0.0.1', userAgent: 'node',
    },
    input: { KeyId: keyArn, Plaintext: Buffer.alloc(1024, 7).toString('base64') },
    output: { KeyId: keyArn, CiphertextBlob: 'AAAA', EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
  });
  const paddedEvent = () => {
    const eventId = randomUUID();
    return {
      record: { eventVersion: '1.08', eventID: eventId, eventName: 'Encrypt', requestParameters: { keyId: padding } },
      eventId, eventTime: Date.now(), eventName: 'Encrypt', eventSource: 'kms.amazonaws.com', accountId: '111122223333',
      region: 'us-east-1', username: 'admin', accessKeyId: 'AKIA', readOnly: true, errorCode: null, resources: [],
    };
  };
  const event = eventKind === 'encrypt' ? encryptEvent : paddedEvent;
  const latency = createHistogram();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  let requests = 0;
  let measuring = false;
  let running = true;
  const client = async () => {
    while (running) {
      const started = process.hrtime.bigint();
      const until = performance.now() + workUs / 1000;
      while (performance.now() < until); // the request's own CPU work
      await audit.record(event());
      if (measuring) {
        latency.record(Number(process.hrtime.bigint() - started) || 1);
        requests++;
      }
      await new Promise<void>((r) => setImmediate(r));
    }
  };
  const all = Array.from({ length: clients }, client);
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  measuring = true;
  measuringBegin = true;
  loop.enable();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  loop.disable();
  measuring = false;
  measuringBegin = false;
  running = false;
  await Promise.all(all);
  await audit.drain();
  await storage.close();
  const ms = (ns: number) => (ns / 1e6).toFixed(2);
  console.log(
    `pid ${process.pid}: ${Math.round(requests / seconds)} req/s, request p50 ${ms(latency.percentile(50))} p99 ${ms(latency.percentile(99))} max ${ms(latency.max)} ms; ` +
      `event-loop delay p99 ${ms(loop.percentile(99))} max ${ms(loop.max)} ms; ` +
      `BEGIN IMMEDIATE on the event loop: ${inBegin.length} (${inBegin.filter((x) => x > 0.5).length} > 0.5 ms), ` +
      `${(inBegin.reduce((a, b) => a + b, 0) / seconds).toFixed(1)} ms/s, max ${Math.max(0, ...inBegin).toFixed(2)} ms; ` +
      `write lock held ${((lockHeldMs * 1000) / Math.max(1, requests)).toFixed(1)} µs per request`,
  );
}
