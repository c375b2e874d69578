/**
 * PostgreSQL adapter (node-postgres Pool): the store that several Trent nodes share.
 *
 * Concurrency. Transactions run at READ COMMITTED on one pooled connection. The Storage invariants do
 * not rely on serialisable transactions, only on single statements:
 * - keys.update is `UPDATE … WHERE revision = expected`; a concurrent writer that committed first makes
 *   PostgreSQL re-check the WHERE clause on the new row version, so exactly one writer sees 1 row changed;
 * - inserts are `INSERT … ON CONFLICT DO NOTHING` and report DuplicateError when no row was inserted.
 *   Unlike a failed INSERT this leaves the transaction usable, as it is on SQLite: a caller may catch the
 *   DuplicateError and go on in the same transaction. (A statement that does fail aborts the whole
 *   PostgreSQL transaction; the adapter then refuses to commit, see #runTransaction.)
 * - meta.putIfAbsent inserts with ON CONFLICT DO NOTHING, then reads in a new statement (and therefore a
 *   new snapshot), which sees the value a racing node committed.
 * Each connection pins `default_transaction_isolation` to READ COMMITTED, so a database configured with a
 * stricter default cannot turn a lost compare-and-set into a serialisation error.
 *
 * Failures. Whatever says the server cannot be reached or went away (refused, reset, terminated,
 * connection timeout, pool ended, SQLSTATE class 08, 57P01–57P03, 53300) — and the conflicts PostgreSQL
 * resolves by aborting a transaction (40001, 40P01) — becomes StorageUnavailableError, which the HTTP
 * layer answers with a retryable 503. Caveat: if the connection drops while COMMIT is in flight, the
 * transaction may or may not have committed; the caller still sees StorageUnavailableError.
 *
 * Units of work (unit-of-work.ts). A unit checks a connection out at its first write and keeps it to
 * its commit: its transaction() calls are SAVEPOINTs on it (a failed statement inside one rolls back to
 * the savepoint, so the unit stays usable, as a caught DuplicateError does today), its read() calls run
 * on it (its own writes), and finish() runs last before COMMIT. Reads outside the unit use the pool and
 * see committed state only. A unit holds one connection and never waits for a second one while it does.
 *
 * Writers. writerId() takes a session advisory lock on a random key, on a connection of its own kept
 * open until close(); the server releases it the moment that session ends, kill -9 of the node
 * included. writerAlive() tries the lock: if it can be had, its holder is gone. Should the lock
 * connection drop while the node lives, the next writerId() takes a new key; meanwhile its intents may
 * be recovered early (recorded as outcome unknown while their calls still finish).
 *
 * Schema. The URL may name a schema with `?schema=NAME` (letters, digits, underscore; at most 63
 * characters). The adapter removes that parameter before handing the URL to node-postgres, sets
 * `search_path` to that schema alone on every new connection (before the pool hands it out), and
 * migrate() creates the schema if it is missing. Without it, the tables live in the connection's
 * default search_path (usually `public`), which can also be set with libpq's
 * `?options=-c%20search_path%3DNAME`; if both are given, `schema` wins.
 *
 * Files. Connections, the URL and the failure mapping are connection.ts; the repositories over a
 * statement runner are repos.ts; the schema is migrations.ts; this file runs transactions and units.
 */
import { Client, Pool, escapeIdentifier } from 'pg';
import type { PoolUse, Repos, Storage } from '../storage.ts';
import { POSTGRES_MIGRATIONS } from './migrations.ts';
import { int, type Row } from '../rows.ts';
import { parsePostgresUrl, Session, toStorageError } from './connection.ts';
import { createRepos, transactionRepos } from './repos.ts';
import { runInUnitTransaction, runUnitOfWork, UnitMutex, UnitOfWork, unitOwnedBy } from '../unit-of-work.ts';
import { exportSnapshot, importSnapshot, type PostgresSnapshot } from './snapshot.ts';

/** A unit of work's connection, opened at its first write. */
interface UnitState {
  begun?: Promise<{ session: Session; repos: Repos }>;
  savepoints: number;
  readonly mutex: UnitMutex;
  /** A statement failed outside any savepoint: PostgreSQL aborted the transaction, so it cannot commit. */
  aborted?: { error: unknown };
}

export interface PostgresStorageOptions {
  /**
   * Told about errors of idle pooled connections (e.g. the server restarted). The pool has already
   * dropped the connection; the next call opens a new one. Without a listener these are ignored.
   */
  onIdleError?: (err: Error) => void;
}

export { parsePostgresUrl } from './connection.ts';

/** Key of the advisory lock that serialises migrate() across nodes ("trent" in ASCII). */
const MIGRATION_LOCK_ID = 0x7472656e74;

export class PostgresStorage implements Storage {
  readonly kind = 'postgres' as const;
  readonly #pool: Pool;
  readonly #schema: string | undefined;
  readonly #autocommitRepos: Repos;
  #ended: Promise<void> | undefined;
  readonly #connectionString: string;
  readonly #setup: string;
  /** The held writer lock (see the header); cleared when its connection goes. */
  #writer: Promise<{ id: string; client: Client }> | undefined;

  constructor(url: string, options: PostgresStorageOptions = {}) {
    const { connectionString, schema } = parsePostgresUrl(url);
    this.#schema = schema;
    this.#connectionString = connectionString;
    const setup = [
      ...(schema === undefined ? [] : [`SET search_path TO ${escapeIdentifier(schema)}`]),
      "SET default_transaction_isolation TO 'read committed'",
    ].join('; ');
    this.#setup = setup;
    this.#pool = new Pool({
      connectionString,
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      // Awaited by the pool before it hands the connection out; if it fails, so does the checkout.
      // (pool.on('connect') would not be awaited, and a failure there could not stop the checkout.)
      onConnect: async (client) => {
        await client.query(setup);
      },
    });
    // An idle connection's error (server restart, admin shutdown) must never crash the process: the pool
    // has already removed the connection, and the next call gets a new one or StorageUnavailableError.
    this.#pool.on('error', (err) => options.onIdleError?.(err));
    this.#autocommitRepos = createRepos(async (sql, params) => {
      try {
        // pool.query checks a connection out for this one statement (autocommit) and destroys it on error.
        return await this.#pool.query<Row>(sql, params as unknown[] | undefined);
      } catch (err) {
        throw toStorageError(err);
      }
    });
  }

  /**
   * One transaction holding an advisory lock, so nodes starting together apply each migration once:
   * the others wait on the lock, then (READ COMMITTED: a new snapshot per statement) find it applied.
   */
  async migrate(): Promise<void> {
    await this.#runTransaction(async (s) => {
      await s.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_ID]);
      if (this.#schema !== undefined) {
        // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema
        // exists, and a deployment may pre-create the schema for a role without it.
        const exists = await s.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.#schema]);
        if (exists.rowCount === 0) await s.query(`CREATE SCHEMA ${escapeIdentifier(this.#schema)}`);
      }
      await s.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const applied = new Set((await s.query('SELECT version FROM schema_migrations')).rows.map((r) => int(r.version)));
      for (const [i, sql] of POSTGRES_MIGRATIONS.entries()) {
        const version = i + 1;
        if (applied.has(version)) continue;
        await s.query(sql);
        await s.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
      }
    });
  }

  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    const joined = unitOwnedBy(this);
    if (joined) return this.#unitTransaction(joined.unit, joined.inTransaction, fn);
    return this.#runTransaction(async (session) => {
      // After a failed statement PostgreSQL ignores everything up to ROLLBACK, and turns COMMIT into a
      // ROLLBACK. If fn swallowed such an error, committing would silently lose its writes: refuse.
      const tx = transactionRepos(session);
      try {
        const result = await fn(tx.repos);
        tx.throwIfFailed();
        return result;
      } finally {
        tx.end();
      }
    });
  }

  /** Each repo call checks a connection out of the pool for its statements (autocommit). */
  read<T>(fn: (repos: Repos) => Promise<T>): Promise<T> {
    const joined = unitOwnedBy(this);
    const begun = joined && (joined.unit.state as UnitState).begun;
    // Inside a unit that has written: on its connection, so it sees its own writes.
    if (begun) return begun.then((b) => fn(b.repos));
    return fn(this.#autocommitRepos);
  }

  unitOfWork<T>(body: (unit: UnitOfWork) => Promise<T>, finish: (tx: Repos, result: T) => Promise<void>): Promise<T> {
    const unit = new UnitOfWork(this);
    const state: UnitState = { savepoints: 0, mutex: new UnitMutex() };
    unit.state = state;
    const checkCommittable = () => {
      if (state.aborted) throw state.aborted.error;
    };
    return runUnitOfWork(unit, {
      mutex: state.mutex,
      begun: () => state.begun !== undefined,
      finishRepos: async () => {
        const { repos } = await state.begun!;
        checkCommittable();
        return repos;
      },
      checkCommittable,
      end: (commit) => this.#endUnit(unit, state, commit),
      finishAlone: (run) => this.transaction(run),
    }, body, finish);
  }

  /** A transaction() inside a unit: a savepoint on the unit's connection (opened at its first write). */
  async #unitTransaction<T>(unit: UnitOfWork, nested: boolean, fn: (tx: Repos) => Promise<T>): Promise<T> {
    const state = unit.state as UnitState;
    const run = async (): Promise<T> => {
      const { session } = await this.#beginUnit(state);
      if (state.aborted) throw state.aborted.error;
      const name = `trent_unit_${++state.savepoints}`;
      await this.#unitQuery(state, session, `SAVEPOINT ${name}`);
      const tx = transactionRepos(session);
      try {
        const value = await runInUnitTransaction(unit, () => fn(tx.repos));
        // A failed statement that fn swallowed: the savepoint's writes are lost, so fn failed.
        tx.throwIfFailed();
        await this.#unitQuery(state, session, `RELEASE SAVEPOINT ${name}`);
        return value;
      } catch (err) {
        if (!state.aborted) {
          await this.#unitQuery(state, session, `ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
          await this.#unitQuery(state, session, `RELEASE SAVEPOINT ${name}`).catch(() => undefined);
        }
        throw err;
      } finally {
        tx.end();
      }
    };
    // Transaction bodies of one unit run one at a time; a nested one runs inside its parent.
    return nested ? run() : state.mutex.run(run);
  }

  /** A statement of the unit's own; if it fails, the unit's transaction is aborted. */
  async #unitQuery(state: UnitState, session: Session, sql: string): Promise<void> {
    try {
      await session.query(sql);
    } catch (err) {
      state.aborted ??= { error: err };
      throw err;
    }
  }

  #beginUnit(state: UnitState): Promise<{ session: Session; repos: Repos }> {
    state.begun ??= (async () => {
      const session = await this.#session();
      try {
        await session.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      } catch (err) {
        session.release();
        throw err;
      }
      // Reads of the unit (read() inside it): a failure there aborts the whole transaction.
      const repos = createRepos(async (sql, params) => {
        try {
          return await session.query(sql, params);
        } catch (err) {
          state.aborted ??= { error: err };
          throw err;
        }
      });
      return { session, repos };
    })();
    return state.begun;
  }

  /** Commits or rolls back a unit that began, and returns its connection. */
  async #endUnit(unit: UnitOfWork, state: UnitState, commit: boolean): Promise<void> {
    let begun: { session: Session } | undefined;
    try {
      begun = await state.begun;
    } catch {
      begun = undefined;
    }
    if (!begun) {
      unit.end(false);
      return;
    }
    const { session } = begun;
    try {
      if (!commit) {
        await session.rollback();
      } else {
        const done = await session.query('COMMIT');
        if (done.command !== 'COMMIT') throw new Error(`PostgreSQL ended the transaction with ${done.command}`);
      }
    } catch (err) {
      unit.end(false);
      throw err;
    } finally {
      session.release();
    }
    unit.end(commit);
  }

  async writerId(): Promise<string> {
    this.#writer ??= this.#holdWriterLock();
    const writer = this.#writer;
    try {
      return (await writer).id;
    } catch (err) {
      if (this.#writer === writer) this.#writer = undefined;
      throw err;
    }
  }

  async writerAlive(writerId: string): Promise<boolean> {
    const own = this.#writer && (await this.#writer.catch(() => undefined));
    if (own?.id === writerId) return true;
    if (!/^-?\d{1,19}$/.test(writerId)) return true;
    return this.#withSession(async (session) => {
      const got = await session.query('SELECT pg_try_advisory_lock($1::bigint) AS got', [writerId]);
      if (got.rows[0]?.got !== true) return true;
      await session.query('SELECT pg_advisory_unlock($1::bigint)', [writerId]);
      return false;
    });
  }

  /** A connection outside the pool (it never takes a request's slot) holding a lock on a fresh key. */
  async #holdWriterLock(): Promise<{ id: string; client: Client }> {
    const client = new Client({ connectionString: this.#connectionString, connectionTimeoutMillis: 10_000, keepAlive: true });
    const lost = () => {
      void this.#writer?.then((w) => {
        if (w.client === client) this.#writer = undefined;
      }, () => undefined);
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      await client.query(this.#setup);
      for (;;) {
        // Not a secret, only unique among the nodes: a key already held (vanishingly rare) draws another.
        const id = String((BigInt(Math.floor(Math.random() * 2 ** 31)) << 32n) | BigInt(Math.floor(Math.random() * 2 ** 32)));
        const got = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS got', [id]);
        if (got.rows[0]?.got === true) return { id, client };
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      throw toStorageError(err);
    }
  }

  /** A consistent snapshot of every table, taken while other connections write (snapshot.ts). */
  snapshot(): Promise<PostgresSnapshot> {
    return this.#withSession((s) => exportSnapshot(s));
  }

  /** Writes a snapshot into this (migrated, empty) store in one transaction (snapshot.ts). */
  restoreSnapshot(snap: PostgresSnapshot): Promise<void> {
    return this.#withSession((s) => importSnapshot(s, snap));
  }

  /** A pooled connection; the pool's failure to give one is the store being unavailable. */
  async #session(): Promise<Session> {
    try {
      return new Session(await this.#pool.connect());
    } catch (err) {
      throw toStorageError(err);
    }
  }

  async #withSession<T>(body: (session: Session) => Promise<T>): Promise<T> {
    const session = await this.#session();
    try {
      return await body(session);
    } finally {
      session.release();
    }
  }

  /** node-postgres's own counts (the writer lock's connection is not pooled and not counted). */
  poolUse(): PoolUse {
    return { total: this.#pool.totalCount, idle: this.#pool.idleCount, waiting: this.#pool.waitingCount };
  }

  async close(): Promise<void> {
    const writer = this.#writer;
    this.#writer = undefined;
    const w = await writer?.catch(() => undefined);
    await w?.client.end().catch(() => undefined);
    this.#ended ??= this.#pool.end();
    return this.#ended;
  }

  async #runTransaction<T>(body: (session: Session) => Promise<T>): Promise<T> {
    const session = await this.#session();
    try {
      await session.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      let result: T;
      try {
        result = await body(session);
      } catch (err) {
        await session.rollback();
        throw err;
      }
      const done = await session.query('COMMIT');
      // Belt and braces: PostgreSQL answers COMMIT of an aborted transaction with ROLLBACK, not an error.
      if (done.command !== 'COMMIT') throw new Error(`PostgreSQL ended the transaction with ${done.command}`);
      return result;
    } finally {
      session.release();
    }
  }
}
