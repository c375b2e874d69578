/**
 * Per-source-address limit on unseal and rekey attempts (docs/seal.md "Operator endpoints"): at most
 * `limit` attempts per `windowMs`, sliding. A refused attempt is not counted and reaches nothing (the
 * seal manager never sees it), so a flood neither changes an attempt nor extends its own ban.
 * The key is the TCP peer address: behind a proxy every caller shares the proxy's address (a forwarded
 * header is not trusted, since any client can set it).
 */
import type { Clock } from '../../clock.ts';
import { ThrottlingException } from '../../errors/errors.ts';

/** Addresses remembered at most; beyond it the stalest are forgotten (bounded memory under a spray). */
const MAX_ADDRESSES = 10_000;

export class AttemptLimiter {
  readonly #seen = new Map<string, number[]>();

  constructor(private readonly clock: Clock, readonly limit: number, readonly windowMs: number) {}

  /** Counts one attempt from `address`, or throws ThrottlingException (and counts nothing). */
  take(address: string): void {
    const now = this.clock.now();
    const recent = (this.#seen.get(address) ?? []).filter((t) => t > now - this.windowMs);
    if (recent.length >= this.limit) {
      this.#seen.set(address, recent);
      const retryIn = Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
      throw new ThrottlingException(`Rate exceeded: at most ${this.limit} unseal and rekey attempts per ${this.windowMs / 1000} s from one address; retry in ${retryIn} s. Nothing was changed.`);
    }
    recent.push(now);
    this.#seen.delete(address); // re-insert: Map order is then least recently used first
    this.#seen.set(address, recent);
    if (this.#seen.size > MAX_ADDRESSES) this.#seen.delete(this.#seen.keys().next().value!);
  }
}
