/**
 * HMAC_224 / 256 / 384 / 512: GENERATE_VERIFY_MAC only, one MAC algorithm per spec. AWS (recorded): a
 * MacAlgorithm of another spec is InvalidKeyUsageException "Algorithm HMAC_SHA_512 is incompatible with key
 * spec HMAC_256."; a MAC that does not verify is KMSInvalidMacException with an empty message.
 */
import { generateHmacKey, hmac, hmacVerify, macAlgorithmsFor, type HmacKeySpec, type MacAlgorithm } from '../../crypto/asymmetric.ts';
import type { SecretBytes } from '../../crypto/secret-bytes.ts';
import { InvalidKeyUsageException, KMSInvalidMacException } from '../../errors/errors.ts';
import type { KeySpec } from '../key-model.ts';
import type { KeySpecFamily } from './asymmetric-common.ts';

const asHmacSpec = (spec: KeySpec): HmacKeySpec => spec as HmacKeySpec;

/** AWS (importing HMAC keys): the key length an imported HMAC key may have, per spec. */
const IMPORTED_HMAC_KEY_BYTES: Readonly<Record<HmacKeySpec, { min: number; max: number }>> = {
  HMAC_224: { min: 28, max: 64 },
  HMAC_256: { min: 32, max: 64 },
  HMAC_384: { min: 48, max: 128 },
  HMAC_512: { min: 64, max: 128 },
};

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
