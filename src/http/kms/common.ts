/** Input members shared by many KMS operations, read the same way everywhere. */
import type { InputReader } from '../input.ts';

export const KEY_ID_BOUNDS = { min: 1, max: 2048 } as const;

export function readKeyId(r: InputReader, name = 'KeyId') {
  return r.string(name, { required: true, ...KEY_ID_BOUNDS });
}

export function readGrantTokens(r: InputReader) {
  return r.stringList('GrantTokens', { min: 0, max: 10, itemMax: 8192 });
}

export function readEncryptionContext(r: InputReader, name = 'EncryptionContext') {
  return r.stringMap(name);
}

export function b64(bytes: Buffer): string {
  return bytes.toString('base64');
}
