/**
 * Unwrapping of imported key material (AWS KMS ImportKeyMaterial), all from node:crypto:
 *   - RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256: the material is one RSAES-OAEP block under the wrapping key
 *     (MGF1 with the same hash, empty label).
 *   - RSA_AES_KEY_WRAP_SHA_1 / RSA_AES_KEY_WRAP_SHA_256 (PKCS#11 CKM_RSA_AES_KEY_WRAP): an ephemeral
 *     256-bit AES key wrapped by RSAES-OAEP (modulus-length block), followed by the material wrapped under
 *     that AES key with AES Key Wrap with Padding (RFC 5649, OpenSSL `id-aes256-wrap-pad`).
 * Every failure is the one UnwrapError: it never says which step failed.
 */
import { createDecipheriv } from 'node:crypto';
import { rsaGenerateKeyPair, rsaModulusBits, rsaOaepDecrypt, rsaPrivateKey, type RsaModulusBits, type RsaOaepHash } from './rsa.ts';
import { SecretBytes } from './secret-bytes.ts';

export type WrappingAlgorithm = 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256' | 'RSA_AES_KEY_WRAP_SHA_1' | 'RSA_AES_KEY_WRAP_SHA_256';
export type WrappingKeySpec = 'RSA_2048' | 'RSA_3072' | 'RSA_4096';

export const WRAPPING_ALGORITHMS: readonly WrappingAlgorithm[] = Object.freeze([
  'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256',
]);
export const WRAPPING_KEY_SPECS: readonly WrappingKeySpec[] = Object.freeze(['RSA_2048', 'RSA_3072', 'RSA_4096']);

const BITS: Readonly<Record<WrappingKeySpec, RsaModulusBits>> = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 };
const HASH: Readonly<Record<WrappingAlgorithm, RsaOaepHash>> = {
  RSAES_OAEP_SHA_1: 'sha1', RSAES_OAEP_SHA_256: 'sha256', RSA_AES_KEY_WRAP_SHA_1: 'sha1', RSA_AES_KEY_WRAP_SHA_256: 'sha256',
};
/** RFC 5649 §3: the alternative initial value of AES Key Wrap with Padding. */
const KWP_IV = Buffer.from('a65959a6', 'hex');
const AES_KEY_BYTES = 32;

export class UnwrapError extends Error {
  constructor() {
    super('the wrapped key material could not be unwrapped');
  }
}

export function isWrappingAlgorithm(v: string): v is WrappingAlgorithm {
  return (WRAPPING_ALGORITHMS as readonly string[]).includes(v);
}

export function isWrappingKeySpec(v: string): v is WrappingKeySpec {
  return (WRAPPING_KEY_SPECS as readonly string[]).includes(v);
}

export function isRsaAesKeyWrap(alg: WrappingAlgorithm): boolean {
  return alg === 'RSA_AES_KEY_WRAP_SHA_1' || alg === 'RSA_AES_KEY_WRAP_SHA_256';
}

/** A fresh RSA wrapping key pair: private key PKCS#8 DER (SecretBytes), public key SubjectPublicKeyInfo DER. */
export async function generateWrappingKeyPair(spec: WrappingKeySpec): Promise<{ privateKeyPkcs8: SecretBytes; publicKeySpki: Buffer }> {
  const pair = await rsaGenerateKeyPair(BITS[spec]);
  return { privateKeyPkcs8: SecretBytes.adopt(pair.privateKeyPkcs8), publicKeySpki: pair.publicKeySpki };
}

/** RFC 5649 unwrap; undefined when the integrity check fails. The result is secret: zero it when done. */
function aesKeyUnwrapPad(key: Buffer, wrapped: Buffer): Buffer | undefined {
  // RFC 5649: at least two 64-bit blocks, a whole number of them.
  if (wrapped.length < 16 || wrapped.length % 8 !== 0) return undefined;
  try {
    const d = createDecipheriv('id-aes256-wrap-pad', key, KWP_IV);
    const out = d.update(wrapped);
    const final = d.final();
    return final.length === 0 ? out : Buffer.concat([out, final]);
  } catch {
    return undefined;
  }
}

/** The key material inside `encrypted`, unwrapped with the wrapping private key; UnwrapError on any failure. */
export function unwrapKeyMaterial(wrappingKeyPkcs8: SecretBytes, alg: WrappingAlgorithm, encrypted: Uint8Array): SecretBytes {
  const key = rsaPrivateKey(wrappingKeyPkcs8.expose(), [2048, 3072, 4096]);
  if (key === undefined) throw new UnwrapError();
  const input = Buffer.from(encrypted.buffer, encrypted.byteOffset, encrypted.byteLength);
  if (!isRsaAesKeyWrap(alg)) {
    const material = rsaOaepDecrypt(key, HASH[alg], input);
    if (material === undefined || material.length === 0) throw new UnwrapError();
    return SecretBytes.adopt(material);
  }
  const rsaBytes = rsaModulusBits(key) / 8;
  const aesKey = rsaOaepDecrypt(key, HASH[alg], input.subarray(0, rsaBytes));
  try {
    if (aesKey === undefined || aesKey.length !== AES_KEY_BYTES) throw new UnwrapError();
    const material = aesKeyUnwrapPad(aesKey, input.subarray(rsaBytes));
    if (material === undefined || material.length === 0) throw new UnwrapError();
    return SecretBytes.adopt(material);
  } finally {
    aesKey?.fill(0);
  }
}
