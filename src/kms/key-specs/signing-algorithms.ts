/**
 * AWS SigningAlgorithmSpec: the signature scheme and hash each names, the MessageType values it accepts and
 * the length a DIGEST must have (aws-api.md §1.2–1.3). Which key spec lists which algorithm is in the
 * family modules (rsa.ts, ecc.ts, mldsa.ts).
 */
import type { MessageType, SignatureScheme } from '../../crypto/asymmetric.ts';
import { ED25519PH_DIGEST_BYTES } from '../../crypto/eddsa.ts';

export type { MessageType } from '../../crypto/asymmetric.ts';

export type SigningAlgorithm =
  | 'RSASSA_PSS_SHA_256' | 'RSASSA_PSS_SHA_384' | 'RSASSA_PSS_SHA_512'
  | 'RSASSA_PKCS1_V1_5_SHA_256' | 'RSASSA_PKCS1_V1_5_SHA_384' | 'RSASSA_PKCS1_V1_5_SHA_512'
  | 'ECDSA_SHA_256' | 'ECDSA_SHA_384' | 'ECDSA_SHA_512'
  | 'ED25519_SHA_512' | 'ED25519_PH_SHA_512'
  | 'ML_DSA_SHAKE_256';

export interface SigningInfo {
  readonly scheme: SignatureScheme;
  /** AWS: the message types the algorithm accepts. */
  readonly messageTypes: readonly MessageType[];
  /** Length a DIGEST message must have; undefined where DIGEST is not accepted. */
  readonly digestLength: number | undefined;
}

const RAW_OR_DIGEST: readonly MessageType[] = Object.freeze(['RAW', 'DIGEST']);
const sig = (scheme: SignatureScheme, messageTypes: readonly MessageType[], digestLength?: number): SigningInfo =>
  Object.freeze({ scheme: Object.freeze(scheme), messageTypes, digestLength });

const SIGNING: Readonly<Record<SigningAlgorithm, SigningInfo>> = Object.freeze({
  RSASSA_PSS_SHA_256: sig({ scheme: 'RSA_PSS', hash: 'sha256' }, RAW_OR_DIGEST, 32),
  RSASSA_PSS_SHA_384: sig({ scheme: 'RSA_PSS', hash: 'sha384' }, RAW_OR_DIGEST, 48),
  RSASSA_PSS_SHA_512: sig({ scheme: 'RSA_PSS', hash: 'sha512' }, RAW_OR_DIGEST, 64),
  RSASSA_PKCS1_V1_5_SHA_256: sig({ scheme: 'RSA_PKCS1_V1_5', hash: 'sha256' }, RAW_OR_DIGEST, 32),
  RSASSA_PKCS1_V1_5_SHA_384: sig({ scheme: 'RSA_PKCS1_V1_5', hash: 'sha384' }, RAW_OR_DIGEST, 48),
  RSASSA_PKCS1_V1_5_SHA_512: sig({ scheme: 'RSA_PKCS1_V1_5', hash: 'sha512' }, RAW_OR_DIGEST, 64),
  ECDSA_SHA_256: sig({ scheme: 'ECDSA', hash: 'sha256' }, RAW_OR_DIGEST, 32),
  ECDSA_SHA_384: sig({ scheme: 'ECDSA', hash: 'sha384' }, RAW_OR_DIGEST, 48),
  ECDSA_SHA_512: sig({ scheme: 'ECDSA', hash: 'sha512' }, RAW_OR_DIGEST, 64),
  // AWS: ED25519_SHA_512 requires MessageType RAW, ED25519_PH_SHA_512 requires DIGEST (a SHA-512 digest).
  ED25519_SHA_512: sig({ scheme: 'ED25519' }, ['RAW']),
  ED25519_PH_SHA_512: sig({ scheme: 'ED25519_PH' }, ['DIGEST'], ED25519PH_DIGEST_BYTES),
  // AWS: ML_DSA_SHAKE_256 takes RAW or EXTERNAL_MU (a 64-byte μ); DIGEST is not accepted.
  ML_DSA_SHAKE_256: sig({ scheme: 'ML_DSA' }, ['RAW', 'EXTERNAL_MU']),
});

export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = Object.freeze(Object.keys(SIGNING) as SigningAlgorithm[]);
export const MESSAGE_TYPES: readonly MessageType[] = Object.freeze(['RAW', 'DIGEST', 'EXTERNAL_MU']);

export const isSigningAlgorithm = (v: string): v is SigningAlgorithm => Object.prototype.hasOwnProperty.call(SIGNING, v);
export const isMessageType = (v: string): v is MessageType => (MESSAGE_TYPES as readonly string[]).includes(v);

export function signingInfo(alg: SigningAlgorithm): SigningInfo {
  if (!isSigningAlgorithm(alg)) throw new TypeError(`unknown signing algorithm ${String(alg)}`);
  return SIGNING[alg];
}

/** AWS: the MessageType values a signing algorithm accepts. */
export function messageTypesFor(alg: SigningAlgorithm): MessageType[] {
  return [...signingInfo(alg).messageTypes];
}

/** The digest length a DIGEST message must have for an algorithm (32/48/64), or undefined where DIGEST is not allowed. */
export function digestLengthFor(alg: SigningAlgorithm): number | undefined {
  return signingInfo(alg).digestLength;
}
