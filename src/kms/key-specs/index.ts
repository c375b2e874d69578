/**
 * The key-spec registry: each KeySpec names its family module, and the key service asks the family
 * instead of switching on the spec. SM2 (China Regions only) has no family: Trent does not implement it.
 */
import { UnsupportedOperationException, ValidationException } from '../../errors/errors.ts';
import type { KeySpec, KeyUsage } from '../key-model.ts';
import type { KeySpecFamily } from './asymmetric-common.ts';
import { eccFamily } from './ecc.ts';
import { hmacFamily } from './hmac.ts';
import { mlDsaFamily } from './mldsa.ts';
import { rsaFamily } from './rsa.ts';
import { symmetricFamily } from './symmetric.ts';

const FAMILIES: Readonly<Record<Exclude<KeySpec, 'SM2'>, KeySpecFamily>> = Object.freeze({
  SYMMETRIC_DEFAULT: symmetricFamily,
  RSA_2048: rsaFamily,
  RSA_3072: rsaFamily,
  RSA_4096: rsaFamily,
  ECC_NIST_P256: eccFamily,
  ECC_NIST_P384: eccFamily,
  ECC_NIST_P521: eccFamily,
  ECC_SECG_P256K1: eccFamily,
  ECC_NIST_EDWARDS25519: eccFamily,
  ML_DSA_44: mlDsaFamily,
  ML_DSA_65: mlDsaFamily,
  ML_DSA_87: mlDsaFamily,
  HMAC_224: hmacFamily,
  HMAC_256: hmacFamily,
  HMAC_384: hmacFamily,
  HMAC_512: hmacFamily,
});

export const SM2_UNSUPPORTED =
  'KeySpec SM2 is not supported: SM2 keys exist only in AWS China Regions and Trent does not implement the SM2 algorithms.';

/** The family of a supported spec; SM2 is UnsupportedOperationException. */
export function familyOf(spec: KeySpec): KeySpecFamily {
  if (spec === 'SM2') throw new UnsupportedOperationException(SM2_UNSUPPORTED);
  return FAMILIES[spec];
}

/**
 * AWS CreateKey rules (recorded texts): a non-symmetric spec needs an explicit KeyUsage; the usage must be
 * one the spec allows. Returns the usage to store.
 */
export function checkCreateKeyUsage(spec: KeySpec, usage: KeyUsage | undefined): KeyUsage {
  if (spec !== 'SYMMETRIC_DEFAULT' && usage === undefined) {
    throw new ValidationException('You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.');
  }
  const keyUsage = usage ?? 'ENCRYPT_DECRYPT';
  if (spec === 'SM2') throw new UnsupportedOperationException(SM2_UNSUPPORTED);
  if (!familyOf(spec).usages(spec).includes(keyUsage)) {
    throw new ValidationException(`KeyUsage ${keyUsage} is not compatible with KeySpec ${spec}`);
  }
  return keyUsage;
}

/** AWS KeyMetadata algorithm lists for a key. */
export function algorithmListsOf(spec: KeySpec, usage: KeyUsage): Record<string, string[]> {
  if (spec === 'SM2') return {};
  return FAMILIES[spec].algorithmLists(spec, usage);
}
