/**
 * An error-injecting decorator around a real adapter, for fault tests (Vault: sdk/physical/error.go):
 * the real store does the work; chosen repos fail their writes, or chosen repo methods fail, while a
 * fault is switched on. Not a mock: everything else passes through to the wrapped store unchanged, units
 * of work included (so a fault hits a call's change and its audit event in their one transaction).
 */
import { RepoDecoratingStorage } from './repo-decorating-storage.ts';
import { StorageUnavailableError, type Repos } from './storage.ts';

export class InjectedFault extends Error {
  constructor(what: string) {
    super(`injected fault: ${what} is not writable`);
  }
}

/** Repo methods that only read; every other method of a faulted repo throws. */
const READS = new Set(['get', 'getForUpdate', 'list', 'count', 'scan', 'chainAfter', 'query', 'range', 'lockHead', 'listIntents', 'lastDigest', 'listDigests', 'digestsAfter', 'listDue', 'getByName', 'getByCluster']);

export class FaultInjectingStorage extends RepoDecoratingStorage {
  /** Names of the repos (keys of Repos) whose writes fail. */
  readonly unwritable = new Set<keyof Repos>();
  /**
   * `repo.method` names (e.g. `audit.append`: the event of a call, written after its change) that throw
   * InjectedFault, reads included.
   */
  readonly failing = new Set<string>();
  readonly #failNext = new Map<string, number>();
  readonly #unavailable = new Set<string>();

  /**
   * The next `times` calls of `name` (`repo.method`) throw; later ones pass through. `as`: `injected`
   * throws InjectedFault (a bug-like failure, answered 500); `unavailable` throws what an adapter throws
   * when it loses its connection to the store (StorageUnavailableError: answered 503, counted as a store
   * error by trent_storage_errors_total).
   */
  failNext(name: string, times = 1, as: 'injected' | 'unavailable' = 'injected'): void {
    this.#failNext.set(name, (this.#failNext.get(name) ?? 0) + times);
    if (as === 'unavailable') this.#unavailable.add(name);
    else this.#unavailable.delete(name);
  }

  /** Calls of failNext() not yet used up. */
  pendingFaults(name: string): number {
    return this.#failNext.get(name) ?? 0;
  }

  protected decorate(repos: Repos): Repos {
    if (this.unwritable.size === 0 && this.failing.size === 0 && this.#failNext.size === 0) return repos;
    return new Proxy(repos, {
      get: (target, prop, receiver) => {
        const repo = Reflect.get(target, prop, receiver) as unknown;
        if (typeof prop !== 'string') return repo;
        return new Proxy(repo as object, {
          get: (r, method, rr) => {
            const f = Reflect.get(r, method, rr) as unknown;
            if (typeof f !== 'function' || typeof method !== 'string') return f;
            const name = `${prop}.${method}`;
            const faulted = this.failing.has(name) || this.#failNext.has(name) || (this.unwritable.has(prop as keyof Repos) && !READS.has(method));
            if (!faulted) return f;
            return async (...args: unknown[]) => {
              const once = this.#failNext.get(name);
              if (once !== undefined) {
                if (once <= 1) this.#failNext.delete(name);
                else this.#failNext.set(name, once - 1);
                if (this.#unavailable.has(name)) {
                  if (once <= 1) this.#unavailable.delete(name);
                  throw new StorageUnavailableError(`injected fault: ${name}: connection to the store lost`);
                }
              } else if (!this.failing.has(name) && !(this.unwritable.has(prop as keyof Repos) && !READS.has(method))) {
                return (f as (...a: unknown[]) => unknown)(...args);
              }
              throw new InjectedFault(name);
            };
          },
        });
      },
    });
  }
}
