/**
 * An error-injecting decorator around a real adapter, for fault tests (Vault: sdk/physical/error.go):
 * the real store does the work; chosen repos fail their writes while a fault is switched on.
 * Not a mock: everything else passes through to the wrapped store unchanged.
 */
import type { Repos, Storage } from './storage.ts';

export class InjectedFault extends Error {
  constructor(what: string) {
    super(`injected fault: ${what} is not writable`);
  }
}

/** Repo methods that only read; every other method of a faulted repo throws. */
const READS = new Set(['get', 'list', 'count', 'scan', 'chainAfter', 'query', 'range', 'lockHead', 'listIntents', 'lastDigest', 'listDigests', 'digestsAfter', 'listDue', 'getByName', 'getByCluster']);

export class FaultInjectingStorage implements Storage {
  readonly #inner: Storage;
  /** Names of the repos (keys of Repos) whose writes fail. */
  readonly unwritable = new Set<keyof Repos>();

  constructor(inner: Storage) {
    this.#inner = inner;
  }

  get kind() {
    return this.#inner.kind;
  }

  migrate(): Promise<void> {
    return this.#inner.migrate();
  }

  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    return this.#inner.transaction((tx) => fn(this.#wrap(tx)));
  }

  read<T>(fn: (repos: Repos) => Promise<T>): Promise<T> {
    return this.#inner.read((r) => fn(this.#wrap(r)));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  #wrap(repos: Repos): Repos {
    if (this.unwritable.size === 0) return repos;
    return new Proxy(repos, {
      get: (target, prop, receiver) => {
        const repo = Reflect.get(target, prop, receiver) as unknown;
        if (typeof prop !== 'string' || !this.unwritable.has(prop as keyof Repos)) return repo;
        return new Proxy(repo as object, {
          get: (r, method, rr) => {
            const f = Reflect.get(r, method, rr) as unknown;
            if (typeof f !== 'function' || typeof method !== 'string' || READS.has(method)) return f;
            return async () => {
              throw new InjectedFault(`${prop}.${method}`);
            };
          },
        });
      },
    });
  }
}
