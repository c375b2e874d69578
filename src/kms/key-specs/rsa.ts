/**
 * RSA_2048 / RSA_3072 / RSA_4096: ENCRYPT_DECRYPT (RSAES-OAEP with SHA-1 or SHA-256) or SIGN_VERIFY
 * (RSASSA-PSS and PKCS#1 v1.5 with SHA-256/384/512). AWS: aws-api.md §1.2.
 */
import {
  encryptionAlgorithmsFor, isRsaEncryptionAlgorithm, rsaOaepDecrypt, rsaOaepEncrypt, signingAlgorithmsFor,
  type RsaEncryptionAlgorithm,
} from '../../crypto/asymmetric.ts';
import type { SecretBytes } from '../../crypto/secret-bytes.ts';
import { InvalidKeyUsageException } from '../../errors/errors.ts';
import type { KeySpec } from '../key-model.ts';
import { acceptImportedAsymmetric, asAsymmetricSpec, generateAsymmetricMaterial, mapCryptoErrors, type KeySpecFamily } from './asymmetric-common.ts';

export const rsaFamily: KeySpecFamily = {
  usages: () => ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'],
  generate: generateAsymmetricMaterial,
  acceptImported: acceptImportedAsymmetric,
  algorithmLists: (spec, usage): Record<string, string[]> =>
    usage === 'ENCRYPT_DECRYPT'
      ? { EncryptionAlgorithms: encryptionAlgorithmsFor(asAsymmetricSpec(spec)) }
      : { SigningAlgorithms: signingAlgorithmsFor(asAsymmetricSpec(spec)) },
};

export const isRsaKeySpec = (spec: KeySpec): boolean => spec === 'RSA_2048' || spec === 'RSA_3072' || spec === 'RSA_4096';

/**
 * The RSAES algorithm an Encrypt/Decrypt/ReEncrypt names for an RSA key. AWS: EncryptionAlgorithm defaults
 * to SYMMETRIC_DEFAULT, which an RSA key cannot use; the message follows AWS's recorded incompatibility text.
 */
export function rsaEncryptionAlgorithm(spec: KeySpec, algorithm: string | undefined): RsaEncryptionAlgorithm {
  const alg = algorithm ?? 'SYMMETRIC_DEFAULT';
  if (!isRsaEncryptionAlgorithm(alg)) throw new InvalidKeyUsageException(`Algorithm ${alg} is incompatible with key spec ${spec}.`);
  return alg;
}

export function rsaEncrypt(publicKeySpki: Buffer, alg: RsaEncryptionAlgorithm, plaintext: Uint8Array): Buffer {
  return mapCryptoErrors(() => rsaOaepEncrypt(publicKeySpki, alg, plaintext));
}

/** Any failure is InvalidCiphertextException with an empty message. The result is plaintext: zero it when done. */
export function rsaDecrypt(privateKeyPkcs8: SecretBytes, alg: RsaEncryptionAlgorithm, ciphertext: Uint8Array): Buffer {
  return mapCryptoErrors(() => rsaOaepDecrypt(privateKeyPkcs8, alg, ciphertext));
}
