/**
 * SYMMETRIC_DEFAULT keys: 256-bit AES-GCM. Each message is encrypted under a key derived from the
 * material and a random 16-byte salt (HKDF-SHA256), as AWS KMS derives per-call keys, so one key
 * version can encrypt far more than the 2^32 messages a single AES-GCM key with random nonces allows.
 */
import { aeadOpen, aeadSeal } from '../../crypto/aead.ts';
import { hkdfSha256FromMaterial, randomBytesBuffer } from '../../crypto/primitives.ts';
import { SecretBytes } from '../../crypto/secret-bytes.ts';
import type { KeySpecFamily } from './asymmetric-common.ts';

const INFO = Buffer.from('trent/kms/symmetric-default/v1', 'ascii');

export const SYMMETRIC_MATERIAL_BYTES = 32;

export function generateSymmetricMaterial(): SecretBytes {
  return SecretBytes.adopt(randomBytesBuffer(SYMMETRIC_MATERIAL_BYTES));
}

function withMessageKey<T>(material: SecretBytes, salt: Buffer, use: (key: Buffer) => T): T {
  const key = hkdfSha256FromMaterial(material, salt, INFO, 32);
  try {
    return use(key);
  } finally {
    key.fill(0);
  }
}

/** AAD = the ciphertext header followed by the canonical encryption context. */
export function symmetricEncrypt(material: SecretBytes, salt: Buffer, aad: Buffer, plaintext: Uint8Array): Buffer {
  return withMessageKey(material, salt, (key) => aeadSeal(key, plaintext, aad));
}

/** Throws AeadOpenError on any mismatch. The result is plaintext: zero it when done. */
export function symmetricDecrypt(material: SecretBytes, salt: Buffer, aad: Buffer, box: Buffer): Buffer {
  return withMessageKey(material, salt, (key) => aeadOpen(key, box, aad));
}

/** SYMMETRIC_DEFAULT: ENCRYPT_DECRYPT only; DescribeKey lists EncryptionAlgorithms [SYMMETRIC_DEFAULT]. */
export const symmetricFamily: KeySpecFamily = {
  usages: () => ['ENCRYPT_DECRYPT'],
  generate: () => ({ secret: generateSymmetricMaterial() }),
  // AWS: imported symmetric material is a 256-bit key.
  acceptImported: (_spec, material) => (material.length === SYMMETRIC_MATERIAL_BYTES ? {} : undefined),
  algorithmLists: () => ({ EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }),
};
