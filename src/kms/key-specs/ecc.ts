/**
 * Elliptic-curve key specs. AWS (aws-api.md §1.2): ECC_NIST_P256/384/521 are SIGN_VERIFY (ECDSA) or
 * KEY_AGREEMENT (ECDH); ECC_SECG_P256K1 and ECC_NIST_EDWARDS25519 are SIGN_VERIFY only.
 */
import { keyAgreementAlgorithmsFor, signingAlgorithmsFor } from '../../crypto/asymmetric.ts';
import type { KeySpec, KeyUsage } from '../key-model.ts';
import { acceptImportedAsymmetric, asAsymmetricSpec, generateAsymmetricMaterial, type KeySpecFamily } from './asymmetric-common.ts';

export const eccFamily: KeySpecFamily = {
  usages: (spec): readonly KeyUsage[] =>
    keyAgreementAlgorithmsFor(asAsymmetricSpec(spec)).length > 0 ? ['SIGN_VERIFY', 'KEY_AGREEMENT'] : ['SIGN_VERIFY'],
  generate: generateAsymmetricMaterial,
  acceptImported: acceptImportedAsymmetric,
  algorithmLists: (spec: KeySpec, usage: KeyUsage): Record<string, string[]> =>
    usage === 'KEY_AGREEMENT'
      ? { KeyAgreementAlgorithms: keyAgreementAlgorithmsFor(asAsymmetricSpec(spec)) }
      : { SigningAlgorithms: signingAlgorithmsFor(asAsymmetricSpec(spec)) },
};
