/**
 * AES-256-GCM authenticated encryption. The API takes no nonce: a fresh random 96-bit nonce is drawn
 * for every seal and carried inside the output (nonce ‖ ciphertext ‖ tag), so callers cannot reuse one.
 * Callers that encrypt many messages under one key derive a per-message key first (see hkdf), which
 * keeps random-nonce collisions out of reach.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { randomNonce } from './primitives.ts';
import type { SecretBytes } from './secret-bytes.ts';

export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;
export const AEAD_OVERHEAD = AEAD_NONCE_BYTES + AEAD_TAG_BYTES;

/** Thrown when a sealed box fails authentication; it never says which check failed. */
export class AeadOpenError extends Error {
  constructor() {
    super('authentication failed');
  }
}

function checkKey(key: SecretBytes | Buffer): Buffer {
  const raw = Buffer.isBuffer(key) ? key : key.expose();
  if (raw.length !== AEAD_KEY_BYTES) throw new RangeError('AES-256-GCM needs a 32-byte key');
  return raw;
}

export function aeadSeal(key: SecretBytes | Buffer, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const nonce = randomNonce(AEAD_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', checkKey(key), nonce, { authTagLength: AEAD_TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return Buffer.concat([nonce, body, final, cipher.getAuthTag()]);
}

/** Opens a box made by aeadSeal. The returned buffer holds plaintext: zero it when done. */
export function aeadOpen(key: SecretBytes | Buffer, box: Uint8Array, aad: Uint8Array): Buffer {
  if (box.length < AEAD_OVERHEAD) throw new AeadOpenError();
  const buf = Buffer.from(box.buffer, box.byteOffset, box.byteLength);
  const nonce = buf.subarray(0, AEAD_NONCE_BYTES);
  const tag = buf.subarray(buf.length - AEAD_TAG_BYTES);
  const body = buf.subarray(AEAD_NONCE_BYTES, buf.length - AEAD_TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', checkKey(key), nonce, { authTagLength: AEAD_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const out = decipher.update(body);
  try {
    const final = decipher.final();
    return final.length === 0 ? out : Buffer.concat([out, final]);
  } catch {
    out.fill(0);
    throw new AeadOpenError();
  }
}
