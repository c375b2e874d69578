/**
 * One quorum attempt (unseal or rekey): shares arrive one at a time, from different operators, under a
 * nonce that names the attempt. Shares are kept only until the threshold is reached or the attempt is
 * reset, and are zeroed then. Which share was wrong is never known: the combined key is checked as a whole.
 */
import { constantTimeEqual, randomBytesBuffer, sha256 } from '../crypto/primitives.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import { combineShares } from '../crypto/shamir.ts';
import { InvalidNonceException, ValidationException } from '../errors/errors.ts';

/** A share of a 32-byte key: the key's length plus the x coordinate. */
export const SHARE_BYTES = 33;

/**
 * The digest stored for an issued share. A share of a random 32-byte key is itself 32 uniformly random
 * bytes (plus its x coordinate) to anyone holding fewer than the threshold, so its SHA-256 reveals
 * nothing usable; it lets the node refuse a share that is not one of the current ones before it touches
 * an attempt, so nobody without a genuine share can reset or poison an unseal or rekey attempt.
 */
export function shareDigest(share: Uint8Array): string {
  return sha256(Buffer.concat([Buffer.from('trent/seal/share/v1\0'), share])).toString('hex');
}

/** True when `share` is one of the shares whose digests are given (compared in constant time). */
export function isIssuedShare(digests: readonly string[], share: Uint8Array): boolean {
  const d = Buffer.from(shareDigest(share), 'hex');
  let found = false;
  for (const x of digests) found = constantTimeEqual(Buffer.from(x, 'hex'), d) || found;
  return found;
}

export function decodeShare(text: string): Buffer {
  const trimmed = text.trim();
  const raw = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (raw.length !== SHARE_BYTES) {
    raw.fill(0);
    throw new ValidationException('the share is not a Trent key share (base64 of 33 bytes)');
  }
  return raw;
}

export class QuorumAttempt {
  readonly nonce = randomBytesBuffer(16).toString('hex');
  readonly #shares: Buffer[] = [];

  constructor(readonly threshold: number) {}

  get progress(): number {
    return this.#shares.length;
  }

  /** Checks the caller's nonce (when given) against this attempt's. */
  checkNonce(nonce: string | undefined): void {
    if (nonce !== undefined && !constantTimeEqual(Buffer.from(nonce), Buffer.from(this.nonce))) {
      throw new InvalidNonceException('the nonce does not name the current attempt (it was reset or completed); read the status for the current nonce');
    }
  }

  /** Adds a share (owned from now on); an exact repeat is not counted twice. True once the threshold is met. */
  add(share: Buffer): boolean {
    if (this.#shares.some((s) => constantTimeEqual(s, share))) share.fill(0);
    else this.#shares.push(share);
    return this.#shares.length >= this.threshold;
  }

  /** The reconstructed key, to be verified by the caller (ShareCombineError on malformed sets). */
  combine(): Promise<SecretBytes> {
    return combineShares(this.#shares);
  }

  zeroize(): void {
    for (const s of this.#shares) s.fill(0);
    this.#shares.length = 0;
  }
}
