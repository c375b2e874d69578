/**
 * The request-scoped unit of work (docs/storage.md): while `Storage.unitOfWork` runs its body, every
 * `transaction()` and `read()` of that adapter made from the body's async context joins one storage
 * transaction, which commits only after `finish` (the audit event) has been written in it. So a mutating
 * call's changes and its audit record become visible together, or not at all.
 *
 * The context travels with AsyncLocalStorage, so services need not know about it: their own
 * `storage.transaction(fn)` becomes a savepoint of the unit's transaction (a failing `fn` still undoes
 * only its own writes), and their `storage.read(fn)` reads through the unit's connection (they see their
 * own uncommitted writes; nobody else does).
 *
 * Work that must not join (the audit log's group commit of other requests' events) runs through
 * `outsideUnitOfWork`. Work started inside a unit that outlives it (a timer, an un-awaited promise)
 * finds the unit ended and runs in transactions of its own, as before.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Repos } from './storage.ts';

export class UnitOfWork {
  /** The adapter instance that opened it: a unit never spans two stores. */
  readonly owner: object;
  /** Adapter state (its connection, savepoint counter); opaque here. */
  state: unknown;
  #ended = false;
  #committed = false;
  readonly #afterEnd: ((committed: boolean) => void)[] = [];

  constructor(owner: object) {
    this.owner = owner;
    liveUnits++;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Runs `cb` once the unit has committed (true) or rolled back (false). Caches use it: what they learnt
   * inside the unit may be dropped at its end, so a rolled-back write never outlives it.
   */
  onEnd(cb: (committed: boolean) => void): void {
    if (this.#ended) cb(this.#committed);
    else this.#afterEnd.push(cb);
  }

  /** Called once by the adapter when the unit's transaction has committed or rolled back. */
  end(committed: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#committed = committed;
    if (--liveUnits === 0) context.disable();
    for (const cb of this.#afterEnd.splice(0)) {
      try {
        cb(committed);
      } catch {
        // A cache callback must not turn a commit into a failure.
      }
    }
  }
}

/** Set while a storage transaction body of the unit runs: a nested transaction() is a nested savepoint. */
interface Frame {
  readonly unit: UnitOfWork;
  readonly inTransaction: boolean;
}

const context = new AsyncLocalStorage<Frame>();
/**
 * Units not yet ended. While an AsyncLocalStorage is enabled, Node runs a hook on every promise made;
 * when the last unit ends it is disabled again, so read-only traffic (the hot path) pays nothing.
 */
let liveUnits = 0;

/** The live unit of work of the current async context, if any. */
export function currentUnitOfWork(): UnitOfWork | undefined {
  const frame = context.getStore();
  return frame && !frame.unit.ended ? frame.unit : undefined;
}

/** The live unit of `owner` (an adapter) in the current async context, and whether a transaction body of it runs. */
export function unitOwnedBy(owner: object): { unit: UnitOfWork; inTransaction: boolean } | undefined {
  const frame = context.getStore();
  if (!frame || frame.unit.ended || frame.unit.owner !== owner) return undefined;
  return frame;
}

/** Runs `fn` as the body of `unit`. */
export function runInUnit<T>(unit: UnitOfWork, fn: () => Promise<T>): Promise<T> {
  return context.run({ unit, inTransaction: false }, fn);
}

/** Runs `fn` as a transaction body of `unit` (nested transaction() calls become nested savepoints). */
export function runInUnitTransaction<T>(unit: UnitOfWork, fn: () => Promise<T>): Promise<T> {
  return context.run({ unit, inTransaction: true }, fn);
}

/**
 * Starts background work that depends on what the current unit writes (a claim it records): once that
 * unit has committed, outside it; at once when there is no unit; never when the unit rolls back. Started
 * inside the unit, the work would join a transaction that is about to end, or read before its commit.
 */
export function afterCommit(start: () => void): void {
  const unit = currentUnitOfWork();
  if (!unit) {
    start();
    return;
  }
  unit.onEnd((committed) => {
    if (committed) outsideUnitOfWork(start);
  });
}

/** Runs `fn` outside any unit of work (its storage calls use transactions of their own). */
export function outsideUnitOfWork<T>(fn: () => T): T {
  return context.exit(fn);
}

/** Serialises the transaction bodies of one unit (they share a connection) without blocking nested ones. */
export class UnitMutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#tail.then(fn, fn);
    this.#tail = p.catch(() => undefined);
    return p;
  }
}

/** What an adapter does at each step of a unit of work; runUnitOfWork is the sequence both share. */
export interface UnitSteps {
  /** Serialises the unit's transaction bodies (and its end) on its connection. */
  readonly mutex: UnitMutex;
  /** Whether the body wrote, so the unit's transaction was begun. */
  begun(): boolean;
  /** The begun transaction's repos for the finish; throws when it can no longer commit. */
  finishRepos(): Promise<Repos>;
  /** Throws when the transaction can no longer commit (checked again after the finish). */
  checkCommittable(): void;
  /** Commits or rolls back the begun transaction (or just ends a unit that never began) and ends the unit. */
  end(commit: boolean): Promise<void>;
  /** Runs the finish alone in a transaction of its own: the body wrote nothing. */
  finishAlone(run: (tx: Repos) => Promise<void>): Promise<void>;
}

/**
 * Storage.unitOfWork, for both adapters: runs `body` as the unit, then `finish` as the last writes of the
 * unit's transaction, and commits; any failure rolls the whole unit back. A body that wrote nothing has
 * its finish committed alone.
 */
export async function runUnitOfWork<T>(
  unit: UnitOfWork, steps: UnitSteps, body: (unit: UnitOfWork) => Promise<T>, finish: (tx: Repos, result: T) => Promise<void>,
): Promise<T> {
  let result: T;
  try {
    result = await runInUnit(unit, () => body(unit));
  } catch (err) {
    await steps.mutex.run(() => steps.end(false));
    throw err;
  }
  if (!steps.begun()) {
    try {
      await outsideUnitOfWork(() => steps.finishAlone((tx) => finish(tx, result)));
    } catch (err) {
      unit.end(false);
      throw err;
    }
    unit.end(true);
    return result;
  }
  await steps.mutex.run(async () => {
    try {
      const repos = await steps.finishRepos();
      await runInUnitTransaction(unit, () => finish(repos, result));
      steps.checkCommittable();
    } catch (err) {
      await steps.end(false);
      throw err;
    }
    await steps.end(true);
  });
  return result;
}
