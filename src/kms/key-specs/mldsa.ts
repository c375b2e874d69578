/** ML_DSA_44 / 65 / 87 (FIPS 204): SIGN_VERIFY only, algorithm ML_DSA_SHAKE_256. AWS: aws-api.md §1.2. */
import type { MlDsaParameterSet } from '../../crypto/asymmetric.ts';
import type { KeySpec } from '../key-model.ts';
import { acceptImportedAsymmetric, generateAsymmetricMaterial, type AsymmetricSpec, type KeySpecFamily } from './asymmetric-common.ts';

export type MlDsaKeySpec = 'ML_DSA_44' | 'ML_DSA_65' | 'ML_DSA_87';

const mlDsa = (set: MlDsaParameterSet): AsymmetricSpec =>
  Object.freeze({ keyPair: Object.freeze({ family: 'mldsa', set }), signing: Object.freeze(['ML_DSA_SHAKE_256'] as const), encryption: [], keyAgreement: [] });

export const ML_DSA_KEY_SPECS: Readonly<Record<MlDsaKeySpec, AsymmetricSpec>> = Object.freeze({
  ML_DSA_44: mlDsa('ML-DSA-44'),
  ML_DSA_65: mlDsa('ML-DSA-65'),
  ML_DSA_87: mlDsa('ML-DSA-87'),
});

const mlDsaSpec = (spec: KeySpec): AsymmetricSpec => ML_DSA_KEY_SPECS[spec as MlDsaKeySpec];

export const mlDsaFamily: KeySpecFamily = {
  usages: () => ['SIGN_VERIFY'],
  generate: (spec) => generateAsymmetricMaterial(mlDsaSpec(spec).keyPair),
  acceptImported: (spec, material) => acceptImportedAsymmetric(mlDsaSpec(spec).keyPair, material),
  algorithmLists: (spec) => ({ SigningAlgorithms: [...mlDsaSpec(spec).signing] }),
};
