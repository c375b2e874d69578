/**
 * RSA_2048 / RSA_3072 / RSA_4096: ENCRYPT_DECRYPT (RSAES-OAEP with SHA-1 or SHA-256) or SIGN_VERIFY
 * (RSASSA-PSS and PKCS#1 v1.5 with SHA-256/384/512). AWS: aws-api.md §1.2.
 */
import {
  OaepPlaintextTooLargeError, rsaOaepDecrypt as oaepDecrypt, rsaOaepEncrypt as oaepEncrypt, rsaOaepMaxPlaintext as oaepMaxPlaintext,
  type RsaModulusBits, type RsaOaepHash,
} from '../../crypto/asymmetric.ts';
import type { SecretBytes } from '../../crypto/secret-bytes.ts';
import { InvalidKeyUsageException } from '../../errors/errors.ts';
import type { KeySpec } from '../key-model.ts';
import {
  acceptImportedAsymmetric, generateAsymmetricMaterial, IncompatibleAlgorithmError, mapCryptoErrors, PlaintextTooLargeError,
  type AsymmetricSpec, type KeySpecFamily,
} from './asymmetric-common.ts';
import type { SigningAlgorithm } from './signing-algorithms.ts';

export type RsaKeySpec = 'RSA_2048' | 'RSA_3072' | 'RSA_4096';
export type RsaEncryptionAlgorithm = 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256';

const OAEP_HASH: Readonly<Record<RsaEncryptionAlgorithm, RsaOaepHash>> = Object.freeze({
  RSAES_OAEP_SHA_1: 'sha1',
  RSAES_OAEP_SHA_256: 'sha256',
});
export const RSA_ENCRYPTION_ALGORITHMS: readonly RsaEncryptionAlgorithm[] = Object.freeze(Object.keys(OAEP_HASH) as RsaEncryptionAlgorithm[]);
export const isRsaEncryptionAlgorithm = (v: string): v is RsaEncryptionAlgorithm => Object.prototype.hasOwnProperty.call(OAEP_HASH, v);

const RSA_SIGNING: readonly SigningAlgorithm[] = Object.freeze([
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512',
] as const);

const rsa = (bits: RsaModulusBits): AsymmetricSpec =>
  Object.freeze({ keyPair: Object.freeze({ family: 'rsa', bits }), signing: RSA_SIGNING, encryption: RSA_ENCRYPTION_ALGORITHMS, keyAgreement: [] });

export const RSA_KEY_SPECS: Readonly<Record<RsaKeySpec, AsymmetricSpec>> = Object.freeze({
  RSA_2048: rsa(2048),
  RSA_3072: rsa(3072),
  RSA_4096: rsa(4096),
});
const RSA_SPEC_BY_BITS: Readonly<Record<RsaModulusBits, RsaKeySpec>> = Object.freeze({
  2048: 'RSA_2048', 3072: 'RSA_3072', 4096: 'RSA_4096',
});

const rsaSpec = (spec: KeySpec): AsymmetricSpec => RSA_KEY_SPECS[spec as RsaKeySpec];

function oaepHash(alg: RsaEncryptionAlgorithm): RsaOaepHash {
  if (!isRsaEncryptionAlgorithm(alg)) throw new TypeError(`unknown encryption algorithm ${String(alg)}`);
  return OAEP_HASH[alg];
}

/** AWS: the largest plaintext Encrypt takes — RSA_2048 214/190, RSA_3072 342/318, RSA_4096 470/446 bytes. */
export function rsaOaepMaxPlaintext(spec: KeySpec, alg: RsaEncryptionAlgorithm): number {
  const info = RSA_KEY_SPECS[spec as RsaKeySpec];
  if (info?.keyPair.family !== 'rsa') throw new IncompatibleAlgorithmError(alg, spec);
  return oaepMaxPlaintext(info.keyPair.bits, oaepHash(alg));
}

/**
 * AWS Encrypt with an RSA key: RSAES-OAEP, MGF1 with the same hash, empty label. Too long a plaintext is
 * PlaintextTooLargeError naming the spec of the key's actual modulus.
 */
export function rsaOaepEncrypt(publicKeySpki: Buffer, alg: RsaEncryptionAlgorithm, plaintext: Uint8Array): Buffer {
  const hash = oaepHash(alg);
  try {
    return oaepEncrypt(publicKeySpki, hash, plaintext);
  } catch (err) {
    if (err instanceof OaepPlaintextTooLargeError) throw new PlaintextTooLargeError(alg, RSA_SPEC_BY_BITS[err.modulusBits], err.maxBytes);
    throw err;
  }
}

/**
 * AWS Decrypt with an RSA key. Any failure of the ciphertext — wrong length, bad padding, wrong key —
 * is the one DecryptionError. The returned buffer holds plaintext: zero it when done.
 */
export function rsaOaepDecrypt(privateKeyPkcs8: SecretBytes, alg: RsaEncryptionAlgorithm, ciphertext: Uint8Array): Buffer {
  return oaepDecrypt(privateKeyPkcs8, oaepHash(alg), ciphertext);
}

/**
 * The RSAES algorithm an Encrypt/Decrypt/ReEncrypt names for an RSA key. AWS: EncryptionAlgorithm defaults
 * to SYMMETRIC_DEFAULT, which an RSA key cannot use; the message follows AWS's recorded incompatibility text.
 */
function rsaEncryptionAlgorithm(spec: KeySpec, algorithm: string | undefined): RsaEncryptionAlgorithm {
  const alg = algorithm ?? 'SYMMETRIC_DEFAULT';
  if (!isRsaEncryptionAlgorithm(alg)) throw new InvalidKeyUsageException(`Algorithm ${alg} is incompatible with key spec ${spec}.`);
  return alg;
}

export const rsaFamily: KeySpecFamily = {
  usages: () => ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'],
  generate: (spec) => generateAsymmetricMaterial(rsaSpec(spec).keyPair),
  acceptImported: (spec, material) => acceptImportedAsymmetric(rsaSpec(spec).keyPair, material),
  algorithmLists: (spec, usage): Record<string, string[]> =>
    usage === 'ENCRYPT_DECRYPT'
      ? { EncryptionAlgorithms: [...rsaSpec(spec).encryption] }
      : { SigningAlgorithms: [...rsaSpec(spec).signing] },
  keyPairEncryption: {
    algorithm: rsaEncryptionAlgorithm,
    encrypt: (publicKeySpki, alg, plaintext) => mapCryptoErrors(() => rsaOaepEncrypt(publicKeySpki, alg, plaintext)),
    // Any failure is InvalidCiphertextException with an empty message.
    decrypt: (privateKeyPkcs8, alg, ciphertext) => mapCryptoErrors(() => rsaOaepDecrypt(privateKeyPkcs8, alg, ciphertext)),
  },
};
