/**
 * Embedded SQLite adapter (better-sqlite3). WAL, and a transaction resolves only once its commit is on
 * disk (the WAL fsync of synchronous=FULL, run off the event loop by WalSync), so a write the client was
 * told succeeded survives a crash. secure_delete overwrites freed pages so deleted (sealed) material does
 * not linger in the file.
 *
 * better-sqlite3 is synchronous and has one connection, so transactions are serialised through a
 * promise queue: a transaction body awaits only these repos, and no other statement can interleave.
 *
 * Units of work (unit-of-work.ts) hold that queue from their first write to their commit, so they may
 * span other awaits (crypto, the audit event). Meanwhile read() outside the unit must neither see its
 * uncommitted writes nor wait for it (read-only calls are the hot path): while the serving connection is
 * in a transaction, each read statement goes to a second, read-only connection of the same file, which
 * sees the last commit (WAL). An in-memory database has no second connection; its reads wait instead.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { dirname } from 'node:path';
import {
  type AccessKeyRecord,
  type Repos,
  type Storage,
} from '../storage.ts';
import { createSqliteAuditRepos } from './audit-repo.ts';
import { createSqliteIamRepos } from './iam-repos.ts';
import { createSqliteSecretRepos } from './secret-repo.ts';
import { createSqliteImportRepos } from './import-repo.ts';
import { createSqliteNodeRepos } from './node-repo.ts';
import { createSqliteReplicationRepos } from './replication-repo.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';
import { createSqliteCustomKeyStoreRepo } from './custom-key-store-repo.ts';
import { createSqliteParameterRepo } from './parameter-repo.ts';
import { accessKeyFromRow, aliasFromRow, keyFromRow, materialFromRow, page, type Row } from '../rows.ts';
import { guardUnique } from './unique-violation.ts';
import { Checkpointer } from './checkpointer.ts';
import { WalSync } from './wal-sync.ts';
import { BUSY_TIMEOUT_MS, enterWalMode, WriteLock } from './write-lock.ts';
import { snapshotSqlite } from './snapshot.ts';
import { outsideUnitOfWork, runInUnitTransaction, runUnitOfWork, UnitMutex, UnitOfWork, unitOwnedBy } from '../unit-of-work.ts';

/** A unit of work's hold on the connection. */
interface UnitState {
  /** Resolves once the unit's BEGIN IMMEDIATE ran (at its first write); absent until then. */
  begun?: Promise<void>;
  /** Gives the transaction queue back. */
  release: () => void;
  savepoints: number;
  readonly mutex: UnitMutex;
  /** SQLite rolled the whole transaction back on its own (e.g. disk full): the unit cannot commit. */
  broken?: { error: unknown };
}

export class SqliteStorage implements Storage {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  #reposOrUndefined: Repos | undefined;
  readonly #path: string;
  /** Reads outside a transaction: the serving connection, or the reader while that one is in a transaction. */
  #readReposOrUndefined: Repos | undefined;
  #reader: Database.Database | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** Absent for an in-memory database, which has nothing to sync or checkpoint. */
  readonly #walSync: WalSync | undefined;
  readonly #checkpointer: Checkpointer | undefined;
  /** BEGIN IMMEDIATE that waits for another process's write lock off the event loop (write-lock.ts). */
  readonly #writeLock: WriteLock;

  /**
   * `checkpointInThread`: run WAL checkpoints in a worker thread (checkpointer.ts) instead of SQLite's
   * automatic ones inside COMMIT. The server turns it on (open-storage.ts); short-lived stores (tools,
   * tests) keep SQLite's default and no thread.
   */
  constructor(path: string, opts: { checkpointInThread?: boolean } = {}) {
    this.#path = path;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.#db = new Database(path);
    enterWalMode(this.#db);
    if (path === ':memory:') {
      this.#db.pragma('synchronous = FULL');
    } else {
      // NORMAL = FULL without the fsync after each commit, which WalSync does off the event loop.
      this.#db.pragma('synchronous = NORMAL');
      this.#walSync = new WalSync(path);
      if (opts.checkpointInThread) {
        this.#db.pragma('wal_autocheckpoint = 0');
        this.#checkpointer = new Checkpointer(path, (message) => process.emitWarning(`SQLite WAL checkpoint failed: ${message}`));
      }
    }
    this.#db.pragma('secure_delete = ON');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.#writeLock = new WriteLock(this.#db);
  }

  get #repos(): Repos {
    if (!this.#reposOrUndefined) throw new Error('SqliteStorage used before migrate()');
    return this.#reposOrUndefined;
  }

  async migrate(): Promise<void> {
    const db = this.#db;
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const applied = new Set(
      (db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map((r) => Number(r.version)),
    );
    const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?');
    SQLITE_MIGRATIONS.forEach((sql, i) => {
      const version = i + 1;
      if (applied.has(version)) return;
      db.transaction(() => {
        // Asked again under the write lock: another process (a worker, a `trent` tool) opening the same
        // file may have applied it since the read above, and a migration must not run twice.
        if (isApplied.get(version)) return;
        db.exec(sql);
        db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
      }).immediate();
    });
    this.#reposOrUndefined ??= this.#createRepos(db);
    if (!this.#readReposOrUndefined) {
      if (this.#path === ':memory:') {
        this.#readReposOrUndefined = this.#reposOrUndefined;
      } else {
        // Opened after the migrations, so its statements prepare against the current schema.
        const reader = new Database(this.#path);
        reader.pragma('query_only = ON');
        reader.pragma('busy_timeout = 5000');
        this.#reader = reader;
        this.#readReposOrUndefined = routedRepos(this.#reposOrUndefined, this.#createRepos(reader), () => db.inTransaction);
      }
    }
    await this.#walSync?.sync();
  }

  #enqueue<T>(run: () => Promise<T>): Promise<T> {
    const p = this.#queue.then(run, run);
    this.#queue = p.catch(() => undefined);
    return p;
  }

  async transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    const joined = unitOwnedBy(this);
    if (joined) return this.#unitTransaction(joined.unit, joined.inTransaction, fn);
    const result = await this.#enqueue(async () => {
      await this.#writeLock.begin();
      try {
        const value = await fn(this.#repos);
        this.#db.exec('COMMIT');
        return value;
      } catch (err) {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw err;
      }
    });
    // The next transaction may run while this one's fsync is under way; this one resolves after it.
    await this.#walSync?.sync();
    return result;
  }

  read<T>(fn: (repos: Repos) => Promise<T>): Promise<T> {
    const joined = unitOwnedBy(this);
    const begun = joined && (joined.unit.state as UnitState).begun;
    // Inside a unit that has written: its own connection, so it sees its own writes.
    if (begun) return begun.then(() => fn(this.#repos));
    // The reader connection serves statements that come while a transaction is open on this one.
    if (this.#reader || !this.#db.inTransaction) return fn(this.#readRepos);
    return this.#enqueue(() => fn(this.#repos));
  }

  async unitOfWork<T>(body: (unit: UnitOfWork) => Promise<T>, finish: (tx: Repos, result: T) => Promise<void>): Promise<T> {
    const unit = new UnitOfWork(this);
    const state: UnitState = { release: () => undefined, savepoints: 0, mutex: new UnitMutex() };
    unit.state = state;
    const checkCommittable = () => {
      if (state.broken) throw state.broken.error;
    };
    const result = await runUnitOfWork(unit, {
      mutex: state.mutex,
      begun: () => state.begun !== undefined,
      finishRepos: async () => {
        await state.begun;
        checkCommittable();
        return this.#repos;
      },
      checkCommittable,
      end: (commit) => this.#endUnit(unit, state, commit),
      finishAlone: (run) => this.transaction(run),
    }, body, finish);
    // Acknowledged only once the commit is on disk, as every transaction (WalSync).
    await this.#walSync?.sync();
    return result;
  }

  /** A transaction() inside a unit: a savepoint of the unit's transaction, begun at its first write. */
  async #unitTransaction<T>(unit: UnitOfWork, nested: boolean, fn: (tx: Repos) => Promise<T>): Promise<T> {
    const state = unit.state as UnitState;
    const run = async (): Promise<T> => {
      await this.#beginUnit(state);
      if (state.broken) throw state.broken.error;
      const name = `trent_unit_${++state.savepoints}`;
      this.#db.exec(`SAVEPOINT ${name}`);
      try {
        const value = await runInUnitTransaction(unit, () => fn(this.#repos));
        this.#db.exec(`RELEASE ${name}`);
        return value;
      } catch (err) {
        if (this.#db.inTransaction) {
          this.#db.exec(`ROLLBACK TO ${name}`);
          this.#db.exec(`RELEASE ${name}`);
        } else {
          state.broken ??= { error: err };
        }
        throw err;
      }
    };
    // Transaction bodies of one unit run one at a time; a nested one runs inside its parent.
    return nested ? run() : state.mutex.run(run);
  }

  /** Takes the transaction queue for the unit and opens its transaction (once). */
  #beginUnit(state: UnitState): Promise<void> {
    state.begun ??= new Promise<void>((resolve, reject) => {
      const held = new Promise<void>((r) => (state.release = r));
      void outsideUnitOfWork(() =>
        this.#enqueue(async () => {
          try {
            await this.#writeLock.begin();
          } catch (err) {
            reject(err);
            return;
          }
          resolve();
          await held;
        }),
      );
    });
    return state.begun;
  }

  /** Commits or rolls back a unit that began, and gives the queue back. */
  async #endUnit(unit: UnitOfWork, state: UnitState, commit: boolean): Promise<void> {
    if (!state.begun) {
      unit.end(false);
      return;
    }
    try {
      await state.begun;
    } catch {
      unit.end(false);
      return;
    }
    try {
      if (commit) {
        this.#db.exec('COMMIT');
      } else if (this.#db.inTransaction) {
        this.#db.exec('ROLLBACK');
      }
    } catch (err) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      state.release();
      unit.end(false);
      throw err;
    }
    state.release();
    unit.end(commit);
  }

  /**
   * `<pid>:<start time>`: the store is a local file, so its writers are processes of this host, and the
   * OS says whether one still runs. The start time tells this process from an earlier one that had the
   * same pid (a container's server is pid 1 at every start).
   */
  readonly #writerId = `${process.pid}:${Math.round(performance.timeOrigin * 1000)}`;

  async writerId(): Promise<string> {
    return this.#writerId;
  }

  async writerAlive(writerId: string): Promise<boolean> {
    if (writerId === this.#writerId) return true;
    const pid = Number(writerId.split(':')[0]);
    if (!Number.isSafeInteger(pid) || pid <= 0) return true;
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      // ESRCH: no such process. EPERM: it runs, under another user.
      return (err as NodeJS.ErrnoException).code !== 'ESRCH';
    }
  }

  /** An online, consistent copy of the database (snapshot.ts); the serving connection keeps writing. */
  snapshot(): Promise<{ database: Buffer; schemaVersion: number }> {
    if (this.#path === ':memory:') return Promise.reject(new Error('an in-memory database cannot be backed up'));
    return snapshotSqlite(this.#path);
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#walSync?.close();
    // The thread's connection closes first, so this one is the last and removes the WAL as it closes.
    await this.#checkpointer?.stop();
    this.#reader?.close();
    this.#db.close();
  }

  get #readRepos(): Repos {
    if (!this.#readReposOrUndefined) throw new Error('SqliteStorage used before migrate()');
    return this.#readReposOrUndefined;
  }

  #createRepos(db: Database.Database): Repos {
    const q = {
      keyInsert: db.prepare(
        'INSERT INTO keys (account_id, region, key_id, created_at, state, due_at, revision, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      keyGet: db.prepare('SELECT * FROM keys WHERE account_id = ? AND region = ? AND key_id = ?'),
      keyList: db.prepare('SELECT * FROM keys WHERE account_id = ? AND region = ? AND key_id > ? ORDER BY key_id LIMIT ?'),
      keyUpdate: db.prepare(
        'UPDATE keys SET state = ?, due_at = ?, revision = ?, doc = ? WHERE account_id = ? AND region = ? AND key_id = ? AND revision = ?',
      ),
      keyDelete: db.prepare('DELETE FROM keys WHERE account_id = ? AND region = ? AND key_id = ?'),
      keyDue: db.prepare('SELECT * FROM keys WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?'),
      keyCount: db.prepare('SELECT count(*) AS n FROM keys WHERE account_id = ? AND region = ?'),
      matInsert: db.prepare(
        'INSERT INTO key_materials (account_id, region, key_id, version, created_at, sealed, doc) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      matGet: db.prepare('SELECT * FROM key_materials WHERE account_id = ? AND region = ? AND key_id = ? AND version = ?'),
      matList: db.prepare('SELECT * FROM key_materials WHERE account_id = ? AND region = ? AND key_id = ? ORDER BY version'),
      matDeleteAll: db.prepare('DELETE FROM key_materials WHERE account_id = ? AND region = ? AND key_id = ?'),
      aliasInsert: db.prepare(
        'INSERT INTO aliases (account_id, region, alias_name, target_key_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      aliasGet: db.prepare('SELECT * FROM aliases WHERE account_id = ? AND region = ? AND alias_name = ?'),
      aliasList: db.prepare(
        'SELECT * FROM aliases WHERE account_id = ? AND region = ? AND alias_name > ? ORDER BY alias_name LIMIT ?',
      ),
      aliasListForKey: db.prepare(
        'SELECT * FROM aliases WHERE account_id = ? AND region = ? AND target_key_id = ? AND alias_name > ? ORDER BY alias_name LIMIT ?',
      ),
      aliasUpdate: db.prepare(
        'UPDATE aliases SET target_key_id = ?, updated_at = ? WHERE account_id = ? AND region = ? AND alias_name = ?',
      ),
      aliasDelete: db.prepare('DELETE FROM aliases WHERE account_id = ? AND region = ? AND alias_name = ?'),
      aliasDeleteForKey: db.prepare('DELETE FROM aliases WHERE account_id = ? AND region = ? AND target_key_id = ?'),
      akInsert: db.prepare(
        'INSERT INTO access_keys (access_key_id, account_id, principal_arn, sealed_secret, status, created_at, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      akUpsert: db.prepare(
        `INSERT INTO access_keys (access_key_id, account_id, principal_arn, sealed_secret, status, created_at, expires_at, doc)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (access_key_id) DO UPDATE SET account_id = excluded.account_id, principal_arn = excluded.principal_arn,
           sealed_secret = excluded.sealed_secret, status = excluded.status, created_at = excluded.created_at,
           expires_at = excluded.expires_at, doc = excluded.doc`,
      ),
      akGet: db.prepare('SELECT * FROM access_keys WHERE access_key_id = ?'),
      akCount: db.prepare('SELECT count(*) AS n FROM access_keys'),
      akForPrincipal: db.prepare('SELECT * FROM access_keys WHERE principal_arn = ? ORDER BY access_key_id'),
      akDelete: db.prepare('DELETE FROM access_keys WHERE access_key_id = ?'),
      metaGet: db.prepare('SELECT value FROM meta WHERE name = ?'),
      metaInsert: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING'),
      metaCas: db.prepare('UPDATE meta SET value = ? WHERE name = ? AND value = ?'),
    };
    const guard = guardUnique;
    const akArgs = (k: AccessKeyRecord) =>
      [k.accessKeyId, k.accountId, k.principalArn, k.sealedSecret, k.status, k.createdAt, k.expiresAt, JSON.stringify(k.doc)] as const;

    return {
      keys: {
        insert: async (k) => {
          guard('key', () =>
            q.keyInsert.run(k.accountId, k.region, k.keyId, k.createdAt, k.state, k.dueAt, k.revision, JSON.stringify(k.doc)),
          );
        },
        get: async (s, keyId) => {
          const r = q.keyGet.get(s.accountId, s.region, keyId) as Row | undefined;
          return r && keyFromRow(r);
        },
        // One writer at a time (BEGIN IMMEDIATE): a transaction's read is already current until it ends.
        getForUpdate: async (s, keyId) => {
          const r = q.keyGet.get(s.accountId, s.region, keyId) as Row | undefined;
          return r && keyFromRow(r);
        },
        list: async (s, after, limit) =>
          page((q.keyList.all(s.accountId, s.region, after ?? '', limit + 1) as Row[]).map(keyFromRow), limit, (k) => k.keyId),
        update: async (k, expected) =>
          q.keyUpdate.run(k.state, k.dueAt, expected + 1, JSON.stringify(k.doc), k.accountId, k.region, k.keyId, expected).changes === 1,
        delete: async (s, keyId) => {
          q.keyDelete.run(s.accountId, s.region, keyId);
        },
        listDue: async (now, limit) => (q.keyDue.all(now, limit) as Row[]).map(keyFromRow),
        count: async (s) => Number((q.keyCount.get(s.accountId, s.region) as Row).n),
      },
      materials: {
        insert: async (m) => {
          guard('key material', () =>
            q.matInsert.run(m.accountId, m.region, m.keyId, m.version, m.createdAt, m.sealed, JSON.stringify(m.doc)),
          );
        },
        get: async (s, keyId, version) => {
          const r = q.matGet.get(s.accountId, s.region, keyId, version) as Row | undefined;
          return r && materialFromRow(r);
        },
        list: async (s, keyId) => (q.matList.all(s.accountId, s.region, keyId) as Row[]).map(materialFromRow),
        deleteAll: async (s, keyId) => {
          q.matDeleteAll.run(s.accountId, s.region, keyId);
        },
      },
      aliases: {
        insert: async (a) => {
          guard('alias', () =>
            q.aliasInsert.run(a.accountId, a.region, a.aliasName, a.targetKeyId, a.createdAt, a.updatedAt),
          );
        },
        get: async (s, name) => {
          const r = q.aliasGet.get(s.accountId, s.region, name) as Row | undefined;
          return r && aliasFromRow(r);
        },
        list: async (s, keyId, after, limit) => {
          const rows = keyId === undefined
            ? (q.aliasList.all(s.accountId, s.region, after ?? '', limit + 1) as Row[])
            : (q.aliasListForKey.all(s.accountId, s.region, keyId, after ?? '', limit + 1) as Row[]);
          return page(rows.map(aliasFromRow), limit, (a) => a.aliasName);
        },
        update: async (s, name, keyId, at) => q.aliasUpdate.run(keyId, at, s.accountId, s.region, name).changes === 1,
        delete: async (s, name) => q.aliasDelete.run(s.accountId, s.region, name).changes === 1,
        deleteForKey: async (s, keyId) => {
          q.aliasDeleteForKey.run(s.accountId, s.region, keyId);
        },
      },
      accessKeys: {
        insert: async (k) => {
          guard('access key', () => q.akInsert.run(...akArgs(k)));
        },
        get: async (id) => {
          const r = q.akGet.get(id) as Row | undefined;
          return r && accessKeyFromRow(r);
        },
        upsert: async (k) => {
          q.akUpsert.run(...akArgs(k));
        },
        count: async () => Number((q.akCount.get() as Row).n),
        listForPrincipal: async (arn) => (q.akForPrincipal.all(arn) as Row[]).map(accessKeyFromRow),
        delete: async (id) => q.akDelete.run(id).changes === 1,
      },
      meta: {
        get: async (name) => (q.metaGet.get(name) as Row | undefined)?.value as string | undefined,
        putIfAbsent: async (name, value) => {
          q.metaInsert.run(name, value);
          return (q.metaGet.get(name) as Row).value as string;
        },
        compareAndSet: async (name, expected, value) => q.metaCas.run(value, name, expected).changes === 1,
      },
      ...createSqliteIamRepos(db),
      ...createSqliteAuditRepos(db),
      ...createSqliteParameterRepo(db),
      ...createSqliteCustomKeyStoreRepo(db),
      ...createSqliteSecretRepos(db),
      ...createSqliteImportRepos(db),
      ...createSqliteNodeRepos(db),
      ...createSqliteReplicationRepos(db),
    };
  }
}

/**
 * Repos whose every call goes to `reader` while `useReader()` says so, else to `main`: chosen per
 * statement, so a read function spanning several awaits never sees a transaction begun meanwhile.
 */
function routedRepos(main: Repos, reader: Repos, useReader: () => boolean): Repos {
  const routed: Record<string, Record<string, unknown>> = {};
  for (const [name, repo] of Object.entries(main) as [string, Record<string, unknown>][]) {
    const other = (reader as unknown as Record<string, Record<string, unknown>>)[name]!;
    const view: Record<string, unknown> = {};
    for (const [method, f] of Object.entries(repo)) {
      if (typeof f !== 'function') continue;
      const g = other[method] as (...args: unknown[]) => unknown;
      view[method] = (...args: unknown[]) => (useReader() ? g(...args) : (f as (...a: unknown[]) => unknown)(...args));
    }
    routed[name] = view;
  }
  return routed as unknown as Repos;
}
