/**
 * The asymmetric key specs as one table (the RSA, ECC and ML-DSA family tables), and the spec-level
 * operations on them: a request is checked against the AWS matrix here (algorithm allowed for the spec,
 * message type, digest length), then the crypto layer runs the mechanism the spec and algorithm name.
 * Errors: the matrix's own (IncompatibleAlgorithmError, InvalidMessageError) and the crypto layer's typed
 * errors; mapCryptoErrors turns both into TrentErrors.
 */
import {
  generateKeyPair as generatePair, publicKeyFromPrivate as publicKeyOfPair, sign as signWith, signOffLoop as signOffLoopWith,
  verify as verifyWith, type MessageType, type SignatureScheme,
} from '../../crypto/asymmetric.ts';
import { ML_DSA_MU_BYTES } from '../../crypto/mldsa.ts';
import type { SecretBytes } from '../../crypto/secret-bytes.ts';
import { IncompatibleAlgorithmError, InvalidMessageError, type AsymmetricSpec, type KeyAgreementAlgorithm } from './asymmetric-common.ts';
import { ECC_KEY_SPECS, type EccKeySpec } from './ecc.ts';
import { ML_DSA_KEY_SPECS, type MlDsaKeySpec } from './mldsa.ts';
import { RSA_KEY_SPECS, type RsaEncryptionAlgorithm, type RsaKeySpec } from './rsa.ts';
import { signingInfo, type SigningAlgorithm } from './signing-algorithms.ts';

export type AsymmetricKeySpec = RsaKeySpec | EccKeySpec | MlDsaKeySpec;

const SPECS: Readonly<Record<AsymmetricKeySpec, AsymmetricSpec>> = Object.freeze({ ...RSA_KEY_SPECS, ...ECC_KEY_SPECS, ...ML_DSA_KEY_SPECS });

export const ASYMMETRIC_KEY_SPECS: readonly AsymmetricKeySpec[] = Object.freeze(Object.keys(SPECS) as AsymmetricKeySpec[]);
export const isAsymmetricKeySpec = (v: string): v is AsymmetricKeySpec => Object.prototype.hasOwnProperty.call(SPECS, v);

function specInfo(spec: AsymmetricKeySpec): AsymmetricSpec {
  if (!isAsymmetricKeySpec(spec)) throw new TypeError(`unknown asymmetric key spec ${String(spec)}`);
  return SPECS[spec];
}

/** AWS: the SigningAlgorithms of a SIGN_VERIFY key of this spec. */
export function signingAlgorithmsFor(spec: AsymmetricKeySpec): SigningAlgorithm[] {
  return [...specInfo(spec).signing];
}

/** AWS: the EncryptionAlgorithms of an ENCRYPT_DECRYPT key of this spec (RSA only; empty otherwise). */
export function encryptionAlgorithmsFor(spec: AsymmetricKeySpec): RsaEncryptionAlgorithm[] {
  return [...specInfo(spec).encryption];
}

/** AWS: the KeyAgreementAlgorithms of a KEY_AGREEMENT key of this spec (ECDH on the NIST curves; empty otherwise). */
export function keyAgreementAlgorithmsFor(spec: AsymmetricKeySpec): KeyAgreementAlgorithm[] {
  return [...specInfo(spec).keyAgreement];
}

/** Checks everything about a Sign/Verify request that does not need the key; the scheme to run. */
function checkSigningRequest(spec: AsymmetricKeySpec, alg: SigningAlgorithm, messageType: MessageType, message: Uint8Array): SignatureScheme {
  const info = specInfo(spec);
  const algInfo = signingInfo(alg);
  if (!info.signing.includes(alg)) throw new IncompatibleAlgorithmError(alg, spec);
  if (!algInfo.messageTypes.includes(messageType)) {
    throw new InvalidMessageError(`MessageType ${String(messageType)} is not valid for algorithm ${alg}.`);
  }
  if (messageType === 'DIGEST' && message.length !== algInfo.digestLength) {
    // AWS: "Digest is invalid length for algorithm ECDSA_SHA_384." (recorded)
    throw new InvalidMessageError(`Digest is invalid length for algorithm ${alg}.`);
  }
  if (messageType === 'EXTERNAL_MU' && message.length !== ML_DSA_MU_BYTES) {
    throw new InvalidMessageError(`External mu must be ${ML_DSA_MU_BYTES} bytes for algorithm ${alg}.`);
  }
  return algInfo.scheme;
}

/** Generates a key pair of the spec; private key as PKCS#8 DER (SecretBytes), public as SubjectPublicKeyInfo DER. */
export function generateKeyPair(spec: AsymmetricKeySpec): Promise<{ privateKeyPkcs8: SecretBytes; publicKeySpki: Buffer }> {
  return generatePair(specInfo(spec).keyPair);
}

/** The SubjectPublicKeyInfo DER of a private key of the spec (AWS GetPublicKey). */
export function publicKeyFromPrivate(spec: AsymmetricKeySpec, privateKeyPkcs8: SecretBytes): Buffer {
  return publicKeyOfPair(specInfo(spec).keyPair, privateKeyPkcs8);
}

/**
 * AWS Sign. RAW: `message` is hashed with the algorithm's hash (ML-DSA: signed as the FIPS 204 message).
 * DIGEST: `message` is the digest and is signed as-is. EXTERNAL_MU (ML-DSA): `message` is the 64-byte μ.
 */
export function sign(
  spec: AsymmetricKeySpec, privateKeyPkcs8: SecretBytes, alg: SigningAlgorithm, messageType: MessageType, message: Uint8Array,
): Buffer {
  const scheme = checkSigningRequest(spec, alg, messageType, message);
  return signWith(SPECS[spec].keyPair, privateKeyPkcs8, scheme, messageType, message);
}

/**
 * sign(), with an RSA signature of a RAW message computed on libuv's thread pool. Request errors throw at
 * once, before anything is started; the material may be zeroed as soon as this returns.
 */
export function signOffLoop(
  spec: AsymmetricKeySpec, privateKeyPkcs8: SecretBytes, alg: SigningAlgorithm, messageType: MessageType, message: Uint8Array,
): Promise<Buffer> {
  const scheme = checkSigningRequest(spec, alg, messageType, message);
  return signOffLoopWith(SPECS[spec].keyPair, privateKeyPkcs8, scheme, messageType, message);
}

/** AWS Verify: true when `signature` is a valid signature as `sign` would make it. Request errors throw. */
export function verify(
  spec: AsymmetricKeySpec, publicKeySpki: Buffer, alg: SigningAlgorithm, messageType: MessageType, message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const scheme = checkSigningRequest(spec, alg, messageType, message);
  return verifyWith(SPECS[spec].keyPair, publicKeySpki, scheme, messageType, message, signature);
}
