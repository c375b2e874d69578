/**
 * HMAC (RFC 2104) behind KMS GENERATE_VERIFY_MAC keys (GenerateMac / VerifyMac), from node:crypto,
 * parameterized by the hash. Which key spec has which MAC algorithm, and how long its generated key is,
 * is KMS knowledge (src/kms/key-specs/hmac.ts). `hmac` accepts a key of any non-zero length, so imported
 * material of another length works.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SecretBytes } from './secret-bytes.ts';

export type HmacHash = 'sha224' | 'sha256' | 'sha384' | 'sha512';

const LENGTH: Readonly<Record<HmacHash, number>> = Object.freeze({ sha224: 28, sha256: 32, sha384: 48, sha512: 64 });

/** Length of the (untruncated) MAC: the hash output length. */
export function hmacLength(hash: HmacHash): number {
  const length = LENGTH[hash];
  if (length === undefined) throw new TypeError(`unknown HMAC hash ${String(hash)}`);
  return length;
}

/** The full-length HMAC of `message`. */
export function hmac(hash: HmacHash, key: SecretBytes, message: Uint8Array): Buffer {
  hmacLength(hash);
  const raw = key.expose();
  if (raw.length === 0) throw new RangeError('HMAC key must not be empty');
  return createHmac(hash, raw).update(message).digest();
}

/**
 * True when `mac` is the full-length HMAC of `message`. Compared in constant time; a MAC of the wrong
 * length (including a truncated one) is simply not valid — AWS VerifyMac compares the whole MAC.
 */
export function hmacVerify(hash: HmacHash, key: SecretBytes, message: Uint8Array, mac: Uint8Array): boolean {
  const expected = hmac(hash, key, message);
  // The expected length is public (it is fixed by the hash), so this early return leaks nothing.
  if (mac.length !== expected.length) return false;
  return timingSafeEqual(expected, mac);
}
