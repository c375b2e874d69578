/**
 * Elliptic-curve key specs. AWS (aws-api.md §1.2): ECC_NIST_P256/384/521 are SIGN_VERIFY (ECDSA with the
 * curve's hash) or KEY_AGREEMENT (ECDH); ECC_SECG_P256K1 and ECC_NIST_EDWARDS25519 are SIGN_VERIFY only.
 */
import { ecdhDeriveSharedSecret as ecdh, type EcCurve, type KeyPairType } from '../../crypto/asymmetric.ts';
import type { SecretBytes } from '../../crypto/secret-bytes.ts';
import type { KeySpec, KeyUsage } from '../key-model.ts';
import {
  acceptImportedAsymmetric, generateAsymmetricMaterial, IncompatibleAlgorithmError, mapCryptoErrors,
  type AsymmetricSpec, type KeyAgreementAlgorithm, type KeySpecFamily,
} from './asymmetric-common.ts';
import type { SigningAlgorithm } from './signing-algorithms.ts';

export type EccKeySpec = 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521' | 'ECC_SECG_P256K1' | 'ECC_NIST_EDWARDS25519';
export type EcdhKeySpec = 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521';

const spec = (keyPair: KeyPairType, signing: readonly SigningAlgorithm[], keyAgreement: readonly KeyAgreementAlgorithm[]): AsymmetricSpec =>
  Object.freeze({ keyPair: Object.freeze(keyPair), signing: Object.freeze(signing), encryption: [], keyAgreement: Object.freeze(keyAgreement) });
const curve = (c: EcCurve): KeyPairType => ({ family: 'ec', curve: c });

export const ECC_KEY_SPECS: Readonly<Record<EccKeySpec, AsymmetricSpec>> = Object.freeze({
  ECC_NIST_P256: spec(curve('P-256'), ['ECDSA_SHA_256'], ['ECDH']),
  ECC_NIST_P384: spec(curve('P-384'), ['ECDSA_SHA_384'], ['ECDH']),
  ECC_NIST_P521: spec(curve('P-521'), ['ECDSA_SHA_512'], ['ECDH']),
  // AWS: ECC_SECG_P256K1 is SIGN_VERIFY only.
  ECC_SECG_P256K1: spec(curve('secp256k1'), ['ECDSA_SHA_256'], []),
  ECC_NIST_EDWARDS25519: spec({ family: 'ed25519' }, ['ED25519_SHA_512', 'ED25519_PH_SHA_512'], []),
});

const eccSpec = (s: KeySpec): AsymmetricSpec => ECC_KEY_SPECS[s as EccKeySpec];

/**
 * AWS DeriveSharedSecret (KeyAgreementAlgorithm ECDH): the raw ECDH shared secret between our private key
 * and the peer's SubjectPublicKeyInfo DER (crypto/asymmetric.ts says which peer keys are refused). A spec
 * without key agreement is IncompatibleAlgorithmError.
 */
export function ecdhDeriveSharedSecret(s: EcdhKeySpec, privateKeyPkcs8: SecretBytes, peerPublicKeySpki: Buffer): SecretBytes {
  const info = ECC_KEY_SPECS[s as EccKeySpec];
  if (info === undefined) throw new TypeError(`unknown asymmetric key spec ${String(s)}`);
  if (info.keyPair.family !== 'ec' || !info.keyAgreement.includes('ECDH')) throw new IncompatibleAlgorithmError('ECDH', s);
  return ecdh(info.keyPair.curve, privateKeyPkcs8, peerPublicKeySpki);
}

export const eccFamily: KeySpecFamily = {
  usages: (s): readonly KeyUsage[] => (eccSpec(s).keyAgreement.length > 0 ? ['SIGN_VERIFY', 'KEY_AGREEMENT'] : ['SIGN_VERIFY']),
  generate: (s) => generateAsymmetricMaterial(eccSpec(s).keyPair),
  acceptImported: (s, material) => acceptImportedAsymmetric(eccSpec(s).keyPair, material),
  algorithmLists: (s: KeySpec, usage: KeyUsage): Record<string, string[]> =>
    usage === 'KEY_AGREEMENT'
      ? { KeyAgreementAlgorithms: [...eccSpec(s).keyAgreement] }
      : { SigningAlgorithms: [...eccSpec(s).signing] },
  keyAgreement: {
    deriveSharedSecret: (s, privateKeyPkcs8, peer) => mapCryptoErrors(() => ecdhDeriveSharedSecret(s as EcdhKeySpec, privateKeyPkcs8, peer)),
  },
};
