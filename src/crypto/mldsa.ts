/**
 * ML-DSA (FIPS 204) behind the KMS ML_DSA_44/65/87 key specs, signing algorithm ML_DSA_SHAKE_256.
 * Node 20 / OpenSSL 3.0 have no ML-DSA, so the mechanism is @noble/post-quantum:
 *   - MessageType RAW: pure ML-DSA.Sign / Verify with an empty context (FIPS 204 Alg. 2/3).
 *   - MessageType EXTERNAL_MU: the caller supplies μ = SHAKE256(SHAKE256(pk, 64) ‖ 0x00 ‖ 0x00 ‖ M, 64)
 *     (64 bytes) and ML-DSA.Sign_internal / Verify_internal run on it (noble `internal` with externalMu).
 *
 * Key encodings (RFC 9881, "Algorithm Identifiers for ML-DSA"): id-ml-dsa-44/65/87 are
 * 2.16.840.1.101.3.4.3.17/18/19, AlgorithmIdentifier without parameters.
 *   SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { OID }, BIT STRING (0 unused bits) { raw public key } }
 *   PKCS#8 (OneAsymmetricKey v1): SEQUENCE { INTEGER 0, SEQUENCE { OID }, OCTET STRING { ML-DSA-PrivateKey } }
 *     with ML-DSA-PrivateKey the `seed [0] IMPLICIT OCTET STRING (SIZE (32))` choice — the form RFC 9881
 *     recommends; the key pair is re-derived from the seed (FIPS 204 ML-DSA.KeyGen_internal).
 * No vetted DER encoder is at hand (node cannot encode these OIDs, OpenSSL 3.0 has no ML-DSA), so this
 * module writes the fixed-layout DER itself; each encoding has a single length per parameter set, so
 * decoding is "rebuild the exact expected prefix and compare", with no general DER parser. Only the
 * seed form is accepted (the expandedKey / both forms are refused). mldsa.test.ts checks the SPKI against
 * every Wycheproof publicKeyDer and the PKCS#8 against the RFC 9881 example key.
 */
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { randomBytes } from 'node:crypto';

export type MlDsaParameterSet = 'ML-DSA-44' | 'ML-DSA-65' | 'ML-DSA-87';
export type MlDsaMessageType = 'RAW' | 'EXTERNAL_MU';

export const ML_DSA_SEED_BYTES = 32;
export const ML_DSA_MU_BYTES = 64;

interface ParameterSet {
  readonly oidLastArc: number;
  readonly dsa: typeof ml_dsa44;
  readonly publicKeyBytes: number;
}

const PARAMETER_SETS: Readonly<Record<MlDsaParameterSet, ParameterSet>> = Object.freeze({
  'ML-DSA-44': { oidLastArc: 17, dsa: ml_dsa44, publicKeyBytes: 1312 },
  'ML-DSA-65': { oidLastArc: 18, dsa: ml_dsa65, publicKeyBytes: 1952 },
  'ML-DSA-87': { oidLastArc: 19, dsa: ml_dsa87, publicKeyBytes: 2592 },
});

/** One DER TLV with a definite length (short or long form). */
function tlv(tag: number, content: Uint8Array): Buffer {
  const n = content.length;
  let len: number[];
  if (n < 0x80) len = [n];
  else if (n <= 0xff) len = [0x81, n];
  else if (n <= 0xffff) len = [0x82, n >> 8, n & 0xff];
  else throw new RangeError('DER content too long');
  return Buffer.concat([Buffer.from([tag, ...len]), content]);
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const OID = 0x06;
const CONTEXT_0_PRIMITIVE = 0x80;

function algorithmIdentifier(set: MlDsaParameterSet): Buffer {
  // 2.16.840.1.101.3.4.3.x → 60 86 48 01 65 03 04 03 x
  const arcs = Buffer.from([0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, PARAMETER_SETS[set].oidLastArc]);
  return tlv(SEQUENCE, tlv(OID, arcs));
}

export function mlDsaEncodeSpki(set: MlDsaParameterSet, publicKey: Uint8Array): Buffer {
  if (publicKey.length !== PARAMETER_SETS[set].publicKeyBytes) throw new RangeError(`${set} public key has the wrong length`);
  return tlv(SEQUENCE, Buffer.concat([algorithmIdentifier(set), tlv(BIT_STRING, Buffer.concat([Buffer.from([0]), publicKey]))]));
}

/** The raw public key inside an ML-DSA SPKI, or undefined unless `der` is exactly such an encoding. */
export function mlDsaDecodeSpki(set: MlDsaParameterSet, der: Uint8Array): Buffer | undefined {
  const n = PARAMETER_SETS[set].publicKeyBytes;
  if (der.length !== mlDsaEncodeSpki(set, new Uint8Array(n)).length) return undefined;
  const publicKey = Buffer.from(der.subarray(der.length - n));
  return mlDsaEncodeSpki(set, publicKey).equals(der) ? publicKey : undefined;
}

/** PKCS#8 holding the 32-byte seed. The result is secret. */
export function mlDsaEncodePkcs8(set: MlDsaParameterSet, seed: Uint8Array): Buffer {
  if (seed.length !== ML_DSA_SEED_BYTES) throw new RangeError('ML-DSA seed is 32 bytes');
  const privateKey = tlv(CONTEXT_0_PRIMITIVE, seed);
  return tlv(SEQUENCE, Buffer.concat([tlv(INTEGER, Buffer.from([0])), algorithmIdentifier(set), tlv(OCTET_STRING, privateKey)]));
}

/** The seed inside an ML-DSA seed-form PKCS#8, or undefined unless `der` is exactly such an encoding. */
export function mlDsaDecodePkcs8(set: MlDsaParameterSet, der: Uint8Array): Buffer | undefined {
  const template = mlDsaEncodePkcs8(set, new Uint8Array(ML_DSA_SEED_BYTES));
  if (der.length !== template.length) return undefined;
  const prefixLength = template.length - ML_DSA_SEED_BYTES;
  if (!template.subarray(0, prefixLength).equals(der.subarray(0, prefixLength))) return undefined;
  return Buffer.from(der.subarray(prefixLength));
}

/** A fresh seed from node's CSPRNG and the key pair it determines. */
export function mlDsaGenerateKeyPair(set: MlDsaParameterSet): { privateKeyPkcs8: Buffer; publicKeySpki: Buffer } {
  const seed = randomBytes(ML_DSA_SEED_BYTES);
  try {
    return { privateKeyPkcs8: mlDsaEncodePkcs8(set, seed), publicKeySpki: mlDsaPublicKeySpki(set, seed) };
  } finally {
    seed.fill(0);
  }
}

function expand(set: MlDsaParameterSet, seed: Uint8Array): { secretKey: Uint8Array; publicKey: Uint8Array } {
  // keygen(seed) copies the seed and neither keeps nor wipes it; the caller owns and zeroes it.
  return PARAMETER_SETS[set].dsa.keygen(seed);
}

export function mlDsaPublicKeySpki(set: MlDsaParameterSet, seed: Uint8Array): Buffer {
  const { secretKey, publicKey } = expand(set, seed);
  secretKey.fill(0);
  return mlDsaEncodeSpki(set, publicKey);
}

/** Signs the message (RAW, empty context) or a 64-byte μ (EXTERNAL_MU). Hedged: fresh randomness per signature. */
export function mlDsaSign(set: MlDsaParameterSet, seed: Uint8Array, messageType: MlDsaMessageType, data: Uint8Array): Buffer {
  const { dsa } = PARAMETER_SETS[set];
  const { secretKey } = expand(set, seed);
  try {
    if (messageType === 'RAW') return Buffer.from(dsa.sign(data, secretKey));
    if (data.length !== ML_DSA_MU_BYTES) throw new RangeError('μ is 64 bytes');
    return Buffer.from(dsa.internal.sign(data, secretKey, { externalMu: true }));
  } finally {
    secretKey.fill(0);
  }
}

/** Verifies against the raw public key. Never throws for a bad signature. */
export function mlDsaVerify(
  set: MlDsaParameterSet, publicKey: Uint8Array, messageType: MlDsaMessageType, data: Uint8Array, signature: Uint8Array,
): boolean {
  const { dsa } = PARAMETER_SETS[set];
  try {
    if (messageType === 'RAW') return dsa.verify(signature, data, publicKey);
    if (data.length !== ML_DSA_MU_BYTES) return false;
    return dsa.internal.verify(signature, data, publicKey, { externalMu: true });
  } catch {
    return false;
  }
}
