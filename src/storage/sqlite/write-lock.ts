/**
 * Taking SQLite's write lock (BEGIN IMMEDIATE) without stopping the event loop.
 *
 * Several processes may write one database file: the workers of TRENT_WORKERS > 1 (src/cluster.ts),
 * and tools such as `trent audit prune`. When another process holds the write lock, BEGIN IMMEDIATE
 * with a busy_timeout waits in SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20… ms between
 * tries — and better-sqlite3 runs it on the event loop, so the whole process stopped meanwhile: with two
 * workers under load about one audit batch in ten found the other worker's batch holding the lock and
 * froze its process for 1–15 ms (up to 100+ on a busy machine), the p99 of every request in flight
 * (bench/README.md, "Workers: the tail").
 *
 * Here the attempt is made with busy_timeout = 0, so a held lock fails at once with SQLITE_BUSY, and the
 * caller waits for the next try asynchronously while the event loop keeps serving: first a turn of the
 * event loop (another process's transaction is typically a few hundred µs), then 1 ms timers. The
 * connection's own busy_timeout is restored after each attempt, for every other statement. The overall
 * bound is the same as before (BUSY_TIMEOUT_MS): past it the last SQLITE_BUSY is thrown, as
 * busy_timeout's expiry would have thrown it.
 *
 * Nothing about the lock changes: it is SQLite's, held from BEGIN IMMEDIATE to COMMIT/ROLLBACK, and it
 * is what orders the audit chain across processes (docs/audit.md, "Single writer order across nodes").
 *
 * `enterWalMode` is the one wait at open: see its comment.
 */
import type Database from 'better-sqlite3';

/** How long a writer waits for another process's write lock before failing (as busy_timeout did). */
export const BUSY_TIMEOUT_MS = 5000;

/** Tries that wait only for a turn of the event loop before falling back to 1 ms timers. */
const IMMEDIATE_RETRIES = 3;

/** Another connection holds the lock this statement needed (and it did not, or could not, wait). */
const isBusy = (err: unknown): boolean => (err as { code?: unknown }).code === 'SQLITE_BUSY';

export class WriteLock {
  readonly #noWait: Database.Statement;
  readonly #wait: Database.Statement;
  readonly #begin: Database.Statement;

  constructor(db: Database.Database) {
    this.#noWait = db.prepare('PRAGMA busy_timeout = 0');
    this.#wait = db.prepare(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.#begin = db.prepare('BEGIN IMMEDIATE');
  }

  /** Runs BEGIN IMMEDIATE; resolves once this connection holds the write lock. */
  async begin(): Promise<void> {
    let busy = this.#tryBegin();
    if (!busy) return;
    const deadline = performance.now() + BUSY_TIMEOUT_MS;
    for (let attempt = 1; performance.now() < deadline; attempt++) {
      await (attempt <= IMMEDIATE_RETRIES
        ? new Promise<void>((r) => setImmediate(r))
        : new Promise<void>((r) => setTimeout(r, 1)));
      busy = this.#tryBegin();
      if (!busy) return;
    }
    throw busy.error;
  }

  /** One attempt: undefined once the lock is held, or the SQLITE_BUSY error if another connection holds it. */
  #tryBegin(): { error: unknown } | undefined {
    this.#noWait.get();
    try {
      this.#begin.run();
      return undefined;
    } catch (err) {
      if (isBusy(err)) return { error: err };
      throw err;
    } finally {
      this.#wait.get();
    }
  }
}

/**
 * PRAGMA journal_mode = WAL, retried while another connection holds the write lock, up to
 * BUSY_TIMEOUT_MS. On a file not yet in WAL mode (a new one) the pragma reads the header under a read
 * lock and then upgrades to the write lock; SQLite refuses such an upgrade at once with SQLITE_BUSY,
 * without calling the busy handler (two connections waiting to upgrade would wait for each other), so
 * busy_timeout does not cover it. Processes opening one new file at once (a `trent` tool run while a
 * server creates its database, servers started together on one data dir; TRENT_WORKERS's workers do
 * not, as the first one creates the file alone) hit this in about 3% of opens on this machine.
 * It runs once per connection, at open, before anything else is served, so the wait between tries
 * blocks (the constructor that calls it is synchronous).
 */
export function enterWalMode(db: Database.Database): void {
  const deadline = performance.now() + BUSY_TIMEOUT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if (!isBusy(err) || performance.now() >= deadline) throw err;
    }
    Atomics.wait(pause, 0, 0, wait);
  }
}
