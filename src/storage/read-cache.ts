/**
 * A decorator around a real adapter that keeps, for a short time, the three point reads every key-scoped
 * call makes before its crypto: the key record (state, policy), the grants on the key, and the caller's
 * principal (identity policies). Why: they were a third of the storage time of an Encrypt on SQLite and
 * a round trip each on PostgreSQL. Also a secret version's row (ciphertext only), the second of
 * GetSecretValue's two reads: a version's value never changes, so a cached row is stale only when
 * another node re-seals it under a new KMS key (UpdateSecret; same value, old key's policy checked) or
 * removes and re-creates its version id, each for at most the TTL (docs/postgres.md).
 *
 * Coherence (docs/postgres.md): an entry is served for at most `ttlMs` of real time after it was read,
 * so a change made on another node (or another worker) is seen within ttlMs — the config caps it below
 * the documented 1 s bound. A change made through this storage is seen at once: every write to those
 * repos inside a transaction drops the entries it may affect when the transaction ends, and bumps a
 * generation so a read that began before the write cannot store what it read afterwards.
 *
 * Only reads made through read() are cached; reads inside a transaction always reach the store (they
 * feed compare-and-set). Inside a unit of work (unit-of-work.ts) nothing is cached: its reads may see
 * its own uncommitted writes, which must not outlive a rollback; and what its writes touched is dropped
 * again when the unit ends, so a read that ran meanwhile cannot keep the state from before the commit. Absent rows and keys that are not Enabled are not cached, so a key created or
 * enabled on another node is usable here at once; what waits up to the TTL is a key being disabled or
 * scheduled for deletion, a policy change, a grant created or revoked, an identity policy changed. Entries are deep-frozen: callers share them. Time is the monotonic clock, never the app's clock
 * (a test's manual clock must not stretch the bound).
 */
import { performance } from 'node:perf_hooks';
import type { GrantRecord, PrincipalRecord } from './iam-repos.ts';
import type { SecretVersionRecord } from './secret-repo.ts';
import type { KeyRecord, Repos, Scope, Storage } from './storage.ts';
import { currentUnitOfWork, type UnitOfWork } from './unit-of-work.ts';

/** Entries per kind; past it the kind is emptied (entries live for less than a second anyway). */
const MAX_ENTRIES = 10_000;
/** Secret versions hold sealed values of up to 64 KiB: fewer of them (at most about 64 MiB). */
const MAX_SECRET_VERSIONS = 1_000;

interface Entry<T> {
  value: T;
  at: number;
  /** The value as a settled promise, made at the entry's first hit and handed to every later hit. */
  settled?: Promise<T>;
}

/** A read of the store in flight, which callers arriving meanwhile may share (see #cachingView). */
interface Loading<T> {
  promise: Promise<T | undefined>;
  /** performance.now() when the read began: a share is as old as an entry stamped then. */
  started: number;
  generation: number;
}

class ShortLived<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly loading = new Map<string, Loading<T>>();

  constructor(readonly ttlMs: number, readonly maxEntries = MAX_ENTRIES) {}

  /**
   * A fresh entry's value, as the one promise the entry keeps: a hit is every request's case, and a
   * promise per hit (Promise.resolve) was garbage made on every read of every request.
   */
  hit(id: string, now: number): Promise<T> | undefined {
    const e = this.#entries.get(id);
    if (!e) return undefined;
    if (now - e.at < this.ttlMs) return (e.settled ??= Promise.resolve(e.value));
    this.#entries.delete(id);
    return undefined;
  }

  set(id: string, value: T, at: number): void {
    if (this.#entries.size >= this.maxEntries) this.#entries.clear();
    this.#entries.set(id, { value, at });
  }

  delete(id: string): void {
    this.#entries.delete(id);
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** Buffers cannot be frozen: a cached record's bytes (secret versions' sealed values) are shared as they are. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const keyId = (s: Scope, id: string) => `${s.accountId}/${s.region}/${id}`;
const orNone = (grants: GrantRecord[] | undefined): GrantRecord[] => grants ?? [];
const always = () => true;
const enabled = (k: KeyRecord) => k.state === 'Enabled';
const versionId = (arn: string, id: string) => `${arn}\0${id}`;

export class ReadCachingStorage implements Storage {
  readonly #inner: Storage;
  readonly #keys: ShortLived<KeyRecord>;
  readonly #grants: ShortLived<GrantRecord[]>;
  readonly #principals: ShortLived<PrincipalRecord>;
  readonly #secretVersions: ShortLived<SecretVersionRecord>;
  // Bumped by every invalidation: a read stores its result only if no write ended while it ran.
  #generation = 0;
  readonly #views = new WeakMap<Repos, Repos>();

  constructor(inner: Storage, ttlMs: number) {
    this.#inner = inner;
    this.#keys = new ShortLived(ttlMs);
    this.#grants = new ShortLived(ttlMs);
    this.#principals = new ShortLived(ttlMs);
    this.#secretVersions = new ShortLived(ttlMs, MAX_SECRET_VERSIONS);
  }

  get kind() {
    return this.#inner.kind;
  }

  migrate(): Promise<void> {
    return this.#inner.migrate();
  }

  async transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    const dropped: (() => void)[] = [];
    const unit = currentUnitOfWork();
    try {
      return await this.#inner.transaction((tx) => fn(this.#watchWrites(tx, dropped)));
    } finally {
      // Committed or not, drop what the writes touched (a rolled-back write only costs a re-read).
      if (dropped.length > 0) {
        this.#dropAll(dropped);
        // In a unit the writes are seen by others only at its end: drop again then.
        unit?.onEnd(() => this.#dropAll(dropped));
      }
    }
  }

  read<T>(fn: (repos: Repos) => Promise<T>): Promise<T> {
    if (currentUnitOfWork()) return this.#inner.read(fn);
    return this.#inner.read((r) => fn(this.#cachedReads(r)));
  }

  unitOfWork<T>(body: (unit: UnitOfWork) => Promise<T>, finish: (tx: Repos, result: T) => Promise<void>): Promise<T> {
    const dropped: (() => void)[] = [];
    return this.#inner.unitOfWork(body, (tx, result) => finish(this.#watchWrites(tx, dropped), result)).finally(() => {
      if (dropped.length > 0) this.#dropAll(dropped);
    });
  }

  #dropAll(dropped: readonly (() => void)[]): void {
    this.#generation++;
    for (const drop of dropped) drop();
  }

  writerId(): Promise<string> {
    return this.#inner.writerId();
  }

  writerAlive(writerId: string): Promise<boolean> {
    return this.#inner.writerAlive(writerId);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** Repos whose key, grant and principal writes register what they invalidate. */
  #watchWrites(tx: Repos, dropped: (() => void)[]): Repos {
    const keys = this.#keys;
    const grants = this.#grants;
    const principals = this.#principals;
    const secretVersions = this.#secretVersions;
    // Invalidate before the write too: a cached read served meanwhile is at most as old as the TTL allows.
    const dropping = (drop: () => void) => {
      drop();
      dropped.push(drop);
      this.#generation++;
    };
    return {
      ...tx,
      keys: {
        ...tx.keys,
        get: (s, id) => tx.keys.get(s, id),
        getForUpdate: (s, id) => tx.keys.getForUpdate(s, id),
        list: (s, after, limit) => tx.keys.list(s, after, limit),
        listDue: (now, limit) => tx.keys.listDue(now, limit),
        count: (s) => tx.keys.count(s),
        insert: (k) => (dropping(() => keys.delete(keyId(k, k.keyId))), tx.keys.insert(k)),
        update: (k, expected) => (dropping(() => keys.delete(keyId(k, k.keyId))), tx.keys.update(k, expected)),
        delete: (s, id) => (dropping(() => keys.delete(keyId(s, id))), tx.keys.delete(s, id)),
      },
      grants: {
        get: (id) => tx.grants.get(id),
        listForKey: (s, id) => tx.grants.listForKey(s, id),
        listByRetiringPrincipal: (p) => tx.grants.listByRetiringPrincipal(p),
        insert: (g) => (dropping(() => grants.delete(keyId(g, g.keyId))), tx.grants.insert(g)),
        // A grant id does not say which key: drop every key's grants.
        delete: (id) => (dropping(() => grants.clear()), tx.grants.delete(id)),
        deleteForKey: (s, id) => (dropping(() => grants.delete(keyId(s, id))), tx.grants.deleteForKey(s, id)),
      },
      principals: {
        get: (arn) => tx.principals.get(arn),
        list: (accountId) => tx.principals.list(accountId),
        insert: (p) => (dropping(() => principals.delete(p.arn)), tx.principals.insert(p)),
        update: (p, expected) => (dropping(() => principals.delete(p.arn)), tx.principals.update(p, expected)),
        delete: (arn, expected) => (dropping(() => principals.delete(arn)), tx.principals.delete(arn, expected)),
      },
      secretVersions: {
        get: (arn, id) => tx.secretVersions.get(arn, id),
        insert: (v) => (dropping(() => secretVersions.delete(versionId(v.secretArn, v.versionId))), tx.secretVersions.insert(v)),
        delete: (arn, ids) => (dropping(() => ids.forEach((id) => secretVersions.delete(versionId(arn, id)))), tx.secretVersions.delete(arn, ids)),
      },
    };
  }

  /** The caching view of the adapter's repos, made once per repos object (an adapter hands out the same one). */
  #cachedReads(r: Repos): Repos {
    let view = this.#views.get(r);
    if (!view) {
      view = this.#cachingView(r);
      this.#views.set(r, view);
    }
    return view;
  }

  /** Repos whose point reads of keys, grants and principals are served from the cache when fresh. */
  #cachingView(r: Repos): Repos {
    const cached = <T extends object>(
      cache: ShortLived<T>, id: string, load: () => Promise<T | undefined>, keep: (value: T) => boolean = always,
    ): Promise<T | undefined> => {
      const now = performance.now();
      // A hit is every request's case: the entry's own settled promise, no async machinery.
      return cache.hit(id, now) ?? miss(cache, id, load, keep, now);
    };
    const miss = async <T extends object>(
      cache: ShortLived<T>, id: string, load: () => Promise<T | undefined>, keep: (value: T) => boolean, now: number,
    ): Promise<T | undefined> => {
      // Share a read of the same row already in flight, under the rules of an entry: begun less than the
      // TTL ago and with no write through this storage since. Without this, every request of a burst
      // that found the entry expired read the row itself (at c = 64, up to 64 reads of each row per TTL).
      // Only a value the cache would keep is shared: an absent row or a key not Enabled is read again by
      // each caller, so a key created or enabled elsewhere is still seen at once.
      const pending = cache.loading.get(id);
      if (pending && pending.generation === this.#generation && now - pending.started < cache.ttlMs) {
        const shared = await pending.promise.catch(() => undefined);
        if (shared !== undefined && keep(shared)) return shared;
      }
      const generation = this.#generation;
      const promise = load().then((value) => {
        // Stamped with the time the read began: the entry is never older than the TTL says.
        if (value !== undefined && keep(value)) {
          // Frozen whether kept or not: callers that shared the read share the object.
          deepFreeze(value);
          if (generation === this.#generation) cache.set(id, value, now);
        }
        return value;
      });
      const loading: Loading<T> = { promise, started: now, generation };
      cache.loading.set(id, loading);
      try {
        return await promise;
      } finally {
        if (cache.loading.get(id) === loading) cache.loading.delete(id);
      }
    };
    return {
      ...r,
      // Only usable keys are kept: a key enabled on another node is usable here at once, while a disable
      // (the change that must be enforced) reaches this node within the TTL.
      keys: { ...r.keys, get: (s, id) => cached(this.#keys, keyId(s, id), () => r.keys.get(s, id), enabled) },
      // A hit is a list already (only a read's result is kept): only a miss needs orNone, not a .then per hit.
      grants: {
        ...r.grants,
        listForKey: (s, id) => {
          const k = keyId(s, id);
          const now = performance.now();
          return this.#grants.hit(k, now) ?? miss(this.#grants, k, () => r.grants.listForKey(s, id), always, now).then(orNone);
        },
      },
      principals: { ...r.principals, get: (arn) => cached(this.#principals, arn, () => r.principals.get(arn)) },
      secretVersions: { ...r.secretVersions, get: (arn, id) => cached(this.#secretVersions, versionId(arn, id), () => r.secretVersions.get(arn, id)) },
    };
  }
}
