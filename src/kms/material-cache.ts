/**
 * A bounded in-memory cache of unsealed key material. Material versions never change once written,
 * so a cached entry is never stale; an entry leaves by eviction, by evict() when a key is destroyed,
 * or by clear() when the node seals, and its bytes are zeroed as it leaves.
 * Inside a mutating call's unit of work (storage/unit-of-work.ts) a loaded version is used and zeroed,
 * never kept: it may have been read from the call's uncommitted writes, and a rolled-back version
 * number can be written again later with other material.
 */
import { LRUCache } from 'lru-cache';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import { currentUnitOfWork } from '../storage/unit-of-work.ts';

/** What the cache reports, for GET /metrics (implemented at the edge, src/http/metrics.ts). Must not throw. */
export interface MaterialCacheMetrics {
  /** A version was served from the cache. */
  hit(): void;
  /** A version had to be loaded (unsealed), the cache being cold, full or disabled. */
  miss(): void;
}

export class MaterialCache {
  readonly #cache: LRUCache<string, SecretBytes> | undefined;
  readonly #metrics: MaterialCacheMetrics | undefined;

  constructor(maxEntries: number, metrics?: MaterialCacheMetrics) {
    this.#metrics = metrics;
    this.#cache = maxEntries > 0
      ? new LRUCache<string, SecretBytes>({ max: maxEntries, dispose: (value) => value.zeroize() })
      : undefined;
  }

  static id(accountId: string, region: string, keyId: string, version: number): string {
    return `${accountId}/${region}/${keyId}/${version}`;
  }

  /**
   * Runs `use` on the material of `id`, loading (unsealing) it on a miss. `use` is synchronous on
   * purpose: an eviction zeroes the bytes, so they must not be held across an await. With the cache
   * disabled the loaded bytes are zeroed as soon as `use` returns.
   */
  async withMaterial<T>(id: string, load: () => Promise<SecretBytes>, use: (material: SecretBytes) => T): Promise<T> {
    const hit = this.#cache?.get(id);
    if (hit && !hit.isZeroized) {
      this.#metrics?.hit();
      return use(hit);
    }
    this.#metrics?.miss();
    const loaded = await load();
    if (!this.#cache || currentUnitOfWork()) {
      try {
        return use(loaded);
      } finally {
        loaded.zeroize();
      }
    }
    const raced = this.#cache.get(id);
    if (raced && !raced.isZeroized) {
      loaded.zeroize();
      return use(raced);
    }
    this.#cache.set(id, loaded);
    return use(loaded);
  }

  /** Drops (and zeroes) every cached version of one key. */
  evictKey(accountId: string, region: string, keyId: string): void {
    if (!this.#cache) return;
    const prefix = `${accountId}/${region}/${keyId}/`;
    for (const id of [...this.#cache.keys()]) if (id.startsWith(prefix)) this.#cache.delete(id);
  }

  clear(): void {
    this.#cache?.clear();
  }

  get size(): number {
    return this.#cache?.size ?? 0;
  }
}
