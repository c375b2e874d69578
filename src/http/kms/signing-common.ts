/** Input members shared by Sign and Verify. */
import type { InputReader } from '../input.ts';

/** AWS SigningAlgorithmSpec enum (model order), SM2DSA included so that it is refused with a KMS error, not a validation one. */
export const SIGNING_ALGORITHM_SPECS = [
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512',
  'ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512', 'SM2DSA', 'ML_DSA_SHAKE_256', 'ED25519_SHA_512', 'ED25519_PH_SHA_512',
] as const;

export const MESSAGE_TYPES = ['RAW', 'DIGEST', 'EXTERNAL_MU'] as const;

/** AWS: Message is 1–4096 bytes (PlaintextType). */
export function readSigningInput(r: InputReader) {
  const message = r.blob('Message', { required: true, min: 1, max: 4096 });
  const messageType = r.enumValue('MessageType', MESSAGE_TYPES);
  const signingAlgorithm = r.enumValue('SigningAlgorithm', SIGNING_ALGORITHM_SPECS, { required: true });
  return { message, messageType, signingAlgorithm };
}
