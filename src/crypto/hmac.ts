/**
 * HMAC keys and MACs behind KMS GENERATE_VERIFY_MAC keys (GenerateMac / VerifyMac), from node:crypto.
 *
 * AWS: an HMAC_<n> key spec has exactly one MAC algorithm, HMAC_SHA_<n>, and KMS generates its key
 * material with the length of the hash output (HMAC_224 → 28 bytes … HMAC_512 → 64 bytes).
 * `hmac` itself accepts a key of any length (RFC 2104), so imported material of another length works.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SecretBytes } from './secret-bytes.ts';

export type HmacKeySpec = 'HMAC_224' | 'HMAC_256' | 'HMAC_384' | 'HMAC_512';
export type MacAlgorithm = 'HMAC_SHA_224' | 'HMAC_SHA_256' | 'HMAC_SHA_384' | 'HMAC_SHA_512';

export const HMAC_KEY_SPECS: readonly HmacKeySpec[] = Object.freeze(['HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512']);
export const MAC_ALGORITHMS: readonly MacAlgorithm[] = Object.freeze([
  'HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512',
]);

const MAC: Readonly<Record<MacAlgorithm, { hash: string; length: number }>> = Object.freeze({
  HMAC_SHA_224: { hash: 'sha224', length: 28 },
  HMAC_SHA_256: { hash: 'sha256', length: 32 },
  HMAC_SHA_384: { hash: 'sha384', length: 48 },
  HMAC_SHA_512: { hash: 'sha512', length: 64 },
});

const SPEC_TO_ALGORITHM: Readonly<Record<HmacKeySpec, MacAlgorithm>> = Object.freeze({
  HMAC_224: 'HMAC_SHA_224',
  HMAC_256: 'HMAC_SHA_256',
  HMAC_384: 'HMAC_SHA_384',
  HMAC_512: 'HMAC_SHA_512',
});

export function isHmacKeySpec(value: string): value is HmacKeySpec {
  return (HMAC_KEY_SPECS as readonly string[]).includes(value);
}

export function isMacAlgorithm(value: string): value is MacAlgorithm {
  return (MAC_ALGORITHMS as readonly string[]).includes(value);
}

/** The MAC algorithms an HMAC key spec allows — always exactly one (AWS DescribeKey `MacAlgorithms`). */
export function macAlgorithmsFor(spec: HmacKeySpec): MacAlgorithm[] {
  return [SPEC_TO_ALGORITHM[spec]];
}

/** Key length KMS uses for generated material: the hash output length. */
export function hmacKeyLength(spec: HmacKeySpec): number {
  return MAC[SPEC_TO_ALGORITHM[spec]].length;
}

/** Length of the (untruncated) MAC the algorithm produces. */
export function macLength(alg: MacAlgorithm): number {
  return MAC[alg].length;
}

export function generateHmacKey(spec: HmacKeySpec): SecretBytes {
  return SecretBytes.adopt(randomBytes(hmacKeyLength(spec)));
}

function params(alg: MacAlgorithm): { hash: string; length: number } {
  const p = MAC[alg];
  if (p === undefined) throw new TypeError(`unknown MAC algorithm ${String(alg)}`);
  return p;
}

/** The full-length HMAC of `message`. */
export function hmac(alg: MacAlgorithm, key: SecretBytes, message: Uint8Array): Buffer {
  const raw = key.expose();
  if (raw.length === 0) throw new RangeError('HMAC key must not be empty');
  return createHmac(params(alg).hash, raw).update(message).digest();
}

/**
 * True when `mac` is the full-length HMAC of `message`. Compared in constant time; a MAC of the wrong
 * length (including a truncated one) is simply not valid — AWS VerifyMac compares the whole MAC.
 */
export function hmacVerify(alg: MacAlgorithm, key: SecretBytes, message: Uint8Array, mac: Uint8Array): boolean {
  const expected = hmac(alg, key, message);
  // The expected length is public (it is fixed by the algorithm), so this early return leaks nothing.
  if (mac.length !== expected.length) return false;
  return timingSafeEqual(expected, mac);
}
