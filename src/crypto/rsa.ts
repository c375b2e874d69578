/**
 * RSA mechanisms behind the KMS RSA_2048/3072/4096 key specs, all from node:crypto (OpenSSL 3.0):
 * RSASSA-PSS and RSASSA-PKCS1-v1_5 signatures, RSAES-OAEP encryption. Callers go through
 * asymmetric.ts, which checks key spec and algorithm; this module only knows keys and mechanisms.
 *
 * Signing a caller-supplied digest (KMS MessageType DIGEST). Node 20 has no "sign this digest" call:
 * `crypto.sign(null, …)` on an RSA key still hashes (OpenSSL picks SHA-256 as the default digest —
 * checked in rsa.test.ts), and Sign/Verify always hash. The one route to OpenSSL's EVP_PKEY_sign (which
 * signs a digest) is `privateEncrypt`, and it cannot set a signature digest (node applies `oaepHash` as
 * an OAEP parameter and OpenSSL refuses it on a signing context). A `crypto.signDigest()` is only being
 * proposed upstream (nodejs/node#62345). So:
 *   - PKCS#1 v1.5 + DIGEST: EVP_PKEY_sign with RSA_PKCS1_PADDING and no digest set — OpenSSL applies the
 *     EMSA-PKCS1-v1_5 block padding itself; we supply only the DigestInfo, whose fixed DER prefix per hash
 *     is the table of RFC 8017 §9.2 note 1 (the same table OpenSSL keeps in crypto/rsa/rsa_sign.c).
 *     rsa.test.ts proves that the prefixes equal what OpenSSL itself emits and that a DIGEST signature is
 *     byte-identical to the RAW signature of the same message. Verification recovers the DigestInfo with
 *     EVP_PKEY_verify_recover (`publicDecrypt`, which checks the block padding) and compares the whole
 *     encoding in constant time — the "encode and compare" verification of RFC 8017 §8.2.2.
 *   - PSS + DIGEST: not possible without hand-writing EMSA-PSS, so it is refused (see asymmetric.ts).
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  sign as nodeSign,
  timingSafeEqual,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';

export type RsaModulusBits = 2048 | 3072 | 4096;
export type RsaSignatureHash = 'sha256' | 'sha384' | 'sha512';
export type RsaOaepHash = 'sha1' | 'sha256';
export type RsaSignaturePadding = 'PSS' | 'PKCS1_V1_5';

/** KMS generates RSA keys with e = 65537. */
export const RSA_PUBLIC_EXPONENT = 0x10001;

const HASH_LENGTH: Readonly<Record<RsaSignatureHash | RsaOaepHash, number>> = Object.freeze({
  sha1: 20,
  sha256: 32,
  sha384: 48,
  sha512: 64,
});

/**
 * DER prefix of DigestInfo ::= SEQUENCE { AlgorithmIdentifier { hash OID, NULL }, OCTET STRING digest }
 * for each hash, from RFC 8017 §9.2 note 1. The digest follows it.
 */
export const PKCS1_DIGEST_INFO_PREFIX: Readonly<Record<RsaSignatureHash, Buffer>> = Object.freeze({
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
});

export function rsaGenerateKeyPair(bits: RsaModulusBits): { privateKeyPkcs8: Buffer; publicKeySpki: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent: RSA_PUBLIC_EXPONENT,
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  return { privateKeyPkcs8: privateKey, publicKeySpki: publicKey };
}

function hasModulus(key: KeyObject, bits: readonly number[]): boolean {
  // 'rsa' only: an id-RSASSA-PSS ('rsa-pss') key is not a KMS RSA key.
  return key.asymmetricKeyType === 'rsa' && bits.includes(key.asymmetricKeyDetails?.modulusLength ?? -1);
}

/** Parses a PKCS#8 RSA private key whose modulus has one of `bits`; undefined if it is anything else. */
export function rsaPrivateKey(pkcs8: Buffer, bits: readonly RsaModulusBits[]): KeyObject | undefined {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } catch {
    return undefined;
  }
  return hasModulus(key, bits) ? key : undefined;
}

/** Parses an SPKI RSA public key whose modulus has one of `bits`; undefined if it is anything else. */
export function rsaPublicKey(spki: Buffer, bits: readonly RsaModulusBits[]): KeyObject | undefined {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
  return hasModulus(key, bits) ? key : undefined;
}

export function rsaModulusBits(key: KeyObject): RsaModulusBits {
  return key.asymmetricKeyDetails!.modulusLength as RsaModulusBits;
}

function modulusBytes(key: KeyObject): number {
  return Math.ceil(key.asymmetricKeyDetails!.modulusLength! / 8);
}

function signingOptions(key: KeyObject, padding: RsaSignaturePadding, hash: RsaSignatureHash) {
  return padding === 'PSS'
    // AWS: RSASSA-PSS uses MGF1 with the same hash and a salt as long as the digest.
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LENGTH[hash] }
    : { key, padding: constants.RSA_PKCS1_PADDING };
}

function digestInfo(hash: RsaSignatureHash, digest: Uint8Array): Buffer {
  if (digest.length !== HASH_LENGTH[hash]) throw new RangeError(`a ${hash} digest is ${HASH_LENGTH[hash]} bytes`);
  return Buffer.concat([PKCS1_DIGEST_INFO_PREFIX[hash], digest]);
}

/**
 * Signs `data`: the message itself when `prehashed` is false, its `hash` digest when true.
 * `prehashed` is supported for PKCS#1 v1.5 only (see the module comment).
 */
export function rsaSign(
  key: KeyObject, padding: RsaSignaturePadding, hash: RsaSignatureHash, prehashed: boolean, data: Uint8Array,
): Buffer {
  if (!prehashed) return nodeSign(hash, data, signingOptions(key, padding, hash));
  if (padding !== 'PKCS1_V1_5') throw new Error('RSASSA-PSS over a precomputed digest is not available in node:crypto');
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digestInfo(hash, data));
}

/** Verifies a signature made by rsaSign with the same parameters. Never throws for a bad signature. */
export function rsaVerify(
  key: KeyObject, padding: RsaSignaturePadding, hash: RsaSignatureHash, prehashed: boolean,
  data: Uint8Array, signature: Uint8Array,
): boolean {
  if (signature.length !== modulusBytes(key)) return false;
  if (!prehashed) {
    try {
      return nodeVerify(hash, data, signingOptions(key, padding, hash), signature);
    } catch {
      return false;
    }
  }
  if (padding !== 'PKCS1_V1_5') throw new Error('RSASSA-PSS over a precomputed digest is not available in node:crypto');
  const expected = digestInfo(hash, data);
  let recovered: Buffer;
  try {
    recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
  return recovered.length === expected.length && timingSafeEqual(recovered, expected);
}

/** Largest plaintext RSAES-OAEP can take: k − 2·hLen − 2 (RFC 8017 §7.1.1). */
export function rsaOaepMaxPlaintextBytes(bits: RsaModulusBits, hash: RsaOaepHash): number {
  return bits / 8 - 2 * HASH_LENGTH[hash] - 2;
}

/** RSAES-OAEP with MGF1 over the same hash and an empty label, as AWS uses. */
export function rsaOaepEncrypt(key: KeyObject, hash: RsaOaepHash, plaintext: Uint8Array): Buffer {
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext);
}

/** Decrypts RSAES-OAEP; undefined on any failure, without saying which check failed. */
export function rsaOaepDecrypt(key: KeyObject, hash: RsaOaepHash, ciphertext: Uint8Array): Buffer | undefined {
  if (ciphertext.length !== modulusBytes(key)) return undefined;
  try {
    return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ciphertext);
  } catch {
    return undefined;
  }
}
