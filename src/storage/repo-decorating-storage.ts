/**
 * A decorator around a real adapter: everything passes through to the wrapped store, and a subclass
 * changes only the repos a body sees — in reads, in transactions and in a unit of work's finish. For
 * fault injection (fault-injection.ts) and for tests that count or hold up chosen reads. Not a mock: the
 * wrapped store does the work.
 */
import type { PoolUse, Repos, Storage } from './storage.ts';
import type { UnitOfWork } from './unit-of-work.ts';

export abstract class RepoDecoratingStorage implements Storage {
  protected readonly inner: Storage;

  constructor(inner: Storage) {
    this.inner = inner;
  }

  /** The repos a body sees: `inTransaction` for transaction bodies and a unit's finish, false for reads. */
  protected abstract decorate(repos: Repos, inTransaction: boolean): Repos;

  get kind() {
    return this.inner.kind;
  }

  migrate(): Promise<void> {
    return this.inner.migrate();
  }

  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    return this.inner.transaction((tx) => fn(this.decorate(tx, true)));
  }

  read<T>(fn: (repos: Repos) => Promise<T>): Promise<T> {
    return this.inner.read((r) => fn(this.decorate(r, false)));
  }

  unitOfWork<T>(body: (unit: UnitOfWork) => Promise<T>, finish: (tx: Repos, result: T) => Promise<void>): Promise<T> {
    return this.inner.unitOfWork(body, (tx, result) => finish(this.decorate(tx, true), result));
  }

  writerId(): Promise<string> {
    return this.inner.writerId();
  }

  writerAlive(writerId: string): Promise<boolean> {
    return this.inner.writerAlive(writerId);
  }

  /** The wrapped adapter's pool, so GET /metrics reports it through a decorator too. */
  get poolUse(): (() => PoolUse) | undefined {
    const inner = this.inner;
    return inner.poolUse ? () => inner.poolUse!() : undefined;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
