/** ML_DSA_44 / 65 / 87 (FIPS 204): SIGN_VERIFY only, algorithm ML_DSA_SHAKE_256. AWS: aws-api.md §1.2. */
import { signingAlgorithmsFor } from '../../crypto/asymmetric.ts';
import { acceptImportedAsymmetric, asAsymmetricSpec, generateAsymmetricMaterial, type KeySpecFamily } from './asymmetric-common.ts';

export const mlDsaFamily: KeySpecFamily = {
  usages: () => ['SIGN_VERIFY'],
  generate: generateAsymmetricMaterial,
  acceptImported: acceptImportedAsymmetric,
  algorithmLists: (spec) => ({ SigningAlgorithms: signingAlgorithmsFor(asAsymmetricSpec(spec)) }),
};
