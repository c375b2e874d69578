/**
 * Counts the errors of the store itself (GET /metrics: trent_storage_errors_total), whichever adapter:
 * a decorator that passes everything through and reports each failing call whose error comes from the
 * store rather than from the caller's body. The store's errors are StorageUnavailableError (unreachable,
 * connection lost, aborted by the server: the edge answers 503) and what the drivers throw unmapped
 * (better-sqlite3's SQLITE_* codes other than constraints; PostgreSQL's server errors other than a unique
 * violation, which becomes DuplicateError). Domain errors thrown by a body (NotFound, a refused state
 * change) and DuplicateError are not the store failing and are not counted.
 *
 * An error that crosses several decorated calls (a transaction() joined into a unit of work) is counted once.
 */
import { DuplicateError, StorageUnavailableError, type Repos, type Storage } from './storage.ts';
import type { UnitOfWork } from './unit-of-work.ts';

/** Told once per store error (implemented at the edge, src/http/metrics.ts). Must not throw. */
export interface StorageErrorSink {
  storageError(): void;
}

export function isStoreError(err: unknown): boolean {
  if (err instanceof StorageUnavailableError) return true;
  if (err instanceof DuplicateError || typeof err !== 'object' || err === null || !('code' in err)) return false;
  const code = String(err.code);
  // better-sqlite3: SqliteError with an extended result code.
  if (code.startsWith('SQLITE_')) return !code.startsWith('SQLITE_CONSTRAINT');
  // node-postgres: DatabaseError carries the server's SQLSTATE and severity.
  return 'severity' in err && /^[0-9A-Z]{5}$/.test(code) && code !== '23505';
}

export class ErrorCountingStorage implements Storage {
  readonly #inner: Storage;
  readonly #sink: StorageErrorSink;
  readonly #counted = new WeakSet<object>();

  constructor(inner: Storage, sink: StorageErrorSink) {
    this.#inner = inner;
    this.#sink = sink;
  }

  // A rejection handler made once, not an async wrapper per call: every read of every request passes here.
  readonly #onError = (err: unknown): never => {
    if (isStoreError(err) && !this.#counted.has(err as object)) {
      this.#counted.add(err as object);
      this.#sink.storageError();
    }
    throw err;
  };

  #count<T>(call: Promise<T>): Promise<T> {
    return call.then(undefined, this.#onError);
  }

  get kind() {
    return this.#inner.kind;
  }

  migrate(): Promise<void> {
    return this.#count(this.#inner.migrate());
  }

  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    return this.#count(this.#inner.transaction(fn));
  }

  read<T>(fn: (repos: Repos) => Promise<T>): Promise<T> {
    return this.#count(this.#inner.read(fn));
  }

  unitOfWork<T>(body: (unit: UnitOfWork) => Promise<T>, finish: (tx: Repos, result: T) => Promise<void>): Promise<T> {
    return this.#count(this.#inner.unitOfWork(body, finish));
  }

  writerId(): Promise<string> {
    return this.#count(this.#inner.writerId());
  }

  writerAlive(writerId: string): Promise<boolean> {
    return this.#count(this.#inner.writerAlive(writerId));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
