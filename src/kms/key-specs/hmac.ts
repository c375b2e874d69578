/**
 * HMAC_224 / 256 / 384 / 512: GENERATE_VERIFY_MAC only, one MAC algorithm per spec. AWS (recorded): a
 * MacAlgorithm of another spec is InvalidKeyUsageException "Algorithm HMAC_SHA_512 is incompatible with key
 * spec HMAC_256."; a MAC that does not verify is KMSInvalidMacException with an empty message. KMS generates
 * an HMAC key as long as the hash output (HMAC_224 → 28 bytes … HMAC_512 → 64 bytes).
 */
import { hmac as hmacWith, hmacLength, hmacVerify as hmacVerifyWith, type HmacHash } from '../../crypto/hmac.ts';
import { randomBytesBuffer } from '../../crypto/primitives.ts';
import { SecretBytes } from '../../crypto/secret-bytes.ts';
import { InvalidKeyUsageException, KMSInvalidMacException } from '../../errors/errors.ts';
import type { KeySpec } from '../key-model.ts';
import type { KeySpecFamily } from './asymmetric-common.ts';

export type HmacKeySpec = 'HMAC_224' | 'HMAC_256' | 'HMAC_384' | 'HMAC_512';
export type MacAlgorithm = 'HMAC_SHA_224' | 'HMAC_SHA_256' | 'HMAC_SHA_384' | 'HMAC_SHA_512';

export const HMAC_KEY_SPECS: readonly HmacKeySpec[] = Object.freeze(['HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512']);

const MAC_HASH: Readonly<Record<MacAlgorithm, HmacHash>> = Object.freeze({
  HMAC_SHA_224: 'sha224',
  HMAC_SHA_256: 'sha256',
  HMAC_SHA_384: 'sha384',
  HMAC_SHA_512: 'sha512',
});

const SPEC_TO_ALGORITHM: Readonly<Record<HmacKeySpec, MacAlgorithm>> = Object.freeze({
  HMAC_224: 'HMAC_SHA_224',
  HMAC_256: 'HMAC_SHA_256',
  HMAC_384: 'HMAC_SHA_384',
  HMAC_512: 'HMAC_SHA_512',
});

/** AWS (importing HMAC keys): the key length an imported HMAC key may have, per spec. */
const IMPORTED_HMAC_KEY_BYTES: Readonly<Record<HmacKeySpec, { min: number; max: number }>> = {
  HMAC_224: { min: 28, max: 64 },
  HMAC_256: { min: 32, max: 64 },
  HMAC_384: { min: 48, max: 128 },
  HMAC_512: { min: 64, max: 128 },
};

const asHmacSpec = (spec: KeySpec): HmacKeySpec => spec as HmacKeySpec;

function hashOf(alg: MacAlgorithm): HmacHash {
  const hash = MAC_HASH[alg];
  if (hash === undefined) throw new TypeError(`unknown MAC algorithm ${String(alg)}`);
  return hash;
}

/** The MAC algorithms an HMAC key spec allows — always exactly one (AWS DescribeKey `MacAlgorithms`). */
export function macAlgorithmsFor(spec: HmacKeySpec): MacAlgorithm[] {
  return [SPEC_TO_ALGORITHM[spec]];
}

/** Key length KMS uses for generated material: the hash output length. */
export function hmacKeyLength(spec: HmacKeySpec): number {
  return hmacLength(MAC_HASH[SPEC_TO_ALGORITHM[spec]]);
}

/** Length of the (untruncated) MAC the algorithm produces. */
export function macLength(alg: MacAlgorithm): number {
  return hmacLength(hashOf(alg));
}

export function generateHmacKey(spec: HmacKeySpec): SecretBytes {
  return SecretBytes.adopt(randomBytesBuffer(hmacKeyLength(spec)));
}

/** The full-length MAC of `message` under the algorithm's hash. */
export function hmac(alg: MacAlgorithm, key: SecretBytes, message: Uint8Array): Buffer {
  return hmacWith(hashOf(alg), key, message);
}

/** True when `mac` is the full-length MAC of `message` (constant-time; a truncated MAC is not valid). */
export function hmacVerify(alg: MacAlgorithm, key: SecretBytes, message: Uint8Array, mac: Uint8Array): boolean {
  return hmacVerifyWith(hashOf(alg), key, message, mac);
}

export const hmacFamily: KeySpecFamily = {
  usages: () => ['GENERATE_VERIFY_MAC'],
  generate: (spec) => ({ secret: generateHmacKey(asHmacSpec(spec)) }),
  acceptImported: (spec, material) => {
    const { min, max } = IMPORTED_HMAC_KEY_BYTES[asHmacSpec(spec)];
    return material.length >= min && material.length <= max ? {} : undefined;
  },
  algorithmLists: (spec) => ({ MacAlgorithms: macAlgorithmsFor(asHmacSpec(spec)) }),
};

/** Refuses a MAC algorithm the key spec does not have (before any use of the material). */
export function checkMacAlgorithm(spec: KeySpec, alg: MacAlgorithm): void {
  if (!macAlgorithmsFor(asHmacSpec(spec)).includes(alg)) {
    throw new InvalidKeyUsageException(`Algorithm ${alg} is incompatible with key spec ${spec}.`);
  }
}

export function generateMac(key: SecretBytes, alg: MacAlgorithm, message: Uint8Array): Buffer {
  return hmac(alg, key, message);
}

/** Throws KMSInvalidMacException unless `mac` is the MAC of `message`. */
export function verifyMac(key: SecretBytes, alg: MacAlgorithm, message: Uint8Array, mac: Uint8Array): void {
  if (!hmacVerify(alg, key, message, mac)) throw new KMSInvalidMacException('');
}
