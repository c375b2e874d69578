/** Input members shared by GenerateMac and VerifyMac. */
import type { InputReader } from '../input.ts';

/** AWS MacAlgorithmSpec, in the order AWS lists it in its enum validation message (recorded). */
export const MAC_ALGORITHM_SPECS = ['HMAC_SHA_384', 'HMAC_SHA_256', 'HMAC_SHA_224', 'HMAC_SHA_512'] as const;

export function readMacInput(r: InputReader) {
  const message = r.blob('Message', { required: true, min: 1, max: 4096 });
  const macAlgorithm = r.enumValue('MacAlgorithm', MAC_ALGORITHM_SPECS, { required: true });
  return { message, macAlgorithm };
}
