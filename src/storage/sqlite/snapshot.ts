/**
 * Backup and restore of a SQLite store (docs/backup.md).
 *
 * Backup: SQLite's online backup API (better-sqlite3 `backup()`), run in a worker thread on a
 * connection of its own so the serving event loop never waits on the copy. After the first step (which
 * only sizes the copy) the rest is copied in ONE step: a single step runs inside one read transaction,
 * and in WAL mode a reader sees one consistent snapshot (every transaction committed before it began,
 * none after) while the serving connection keeps writing. Copying in many small steps would instead
 * restart whenever another connection writes, which under steady load could go on forever.
 *
 * Restore: the database file is written beside its final path, checked (integrity_check), fsynced, and
 * renamed into place; a path that already holds a database is refused.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { syncDir, syncFile } from '../durable-file.ts';

/** A name beside `path` no other backup or restore of this host uses (process id, time, sequence). */
let sequence = 0;
const besideName = (path: string, what: string) => `${path}.${what}-${process.pid}-${Date.now()}-${++sequence}`;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.backup(workerData.dest, { progress: () => 0x7fffffff })
  .then(() => { db.close(); parentPort.postMessage({ ok: true }); })
  .catch((err) => { try { db.close(); } catch {} parentPort.postMessage({ error: String(err && err.message || err) }); });
`;

/** Copies the live database at `path` (consistently, online) and returns the copy's bytes. */
export async function snapshotSqlite(path: string): Promise<{ database: Buffer; schemaVersion: number }> {
  // Beside the database: same file system and the data dir's 0700 permissions. The copy holds only
  // what the database holds (sealed material) and is removed at once.
  const dest = besideName(path, 'backup');
  try {
    await new Promise<void>((resolve, reject) => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { path, dest, driver: createRequire(import.meta.url).resolve('better-sqlite3') },
        execArgv: [],
      });
      worker.once('message', (m: { ok?: boolean; error?: string }) => (m.ok ? resolve() : reject(new Error(`SQLite backup failed: ${m.error}`))));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`SQLite backup thread exited (${code})`)));
    });
    const database = readFileSync(dest);
    const db = new Database(dest, { readonly: true });
    try {
      const row = db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number };
      return { database, schemaVersion: Number(row.v) };
    } finally {
      db.close();
    }
  } finally {
    rmSync(dest, { force: true });
  }
}

export class SqliteRestoreTargetError extends Error {}

/** Puts a backed-up database at `path`, which must not exist yet (an empty data dir). */
export function restoreSqlite(path: string, database: Buffer): void {
  for (const p of [path, `${path}-wal`]) {
    if (existsSync(p)) throw new SqliteRestoreTargetError(`a database already exists at ${p}: restore only onto an empty data directory`);
  }
  const tmp = besideName(path, 'restoring');
  try {
    writeFileSync(tmp, database, { mode: 0o600, flag: 'wx' });
    const db = new Database(tmp, { fileMustExist: true });
    try {
      const check = db.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new SqliteRestoreTargetError(`the restored database failed SQLite's integrity check: ${String(check)}`);
    } finally {
      db.close();
    }
    syncFile(tmp);
    renameSync(tmp, path);
    syncDir(dirname(path));
  } finally {
    rmSync(tmp, { force: true });
    rmSync(`${tmp}-wal`, { force: true });
    rmSync(`${tmp}-shm`, { force: true });
  }
}
