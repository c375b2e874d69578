/** Small vetted primitives from node:crypto: randomness, HKDF, hashing, constant-time comparison. */
import { createHmac, createSecretKey, hash, hkdfSync, randomBytes, randomFillSync, randomUUID, timingSafeEqual } from 'node:crypto';
import { Derivation, type SecretBytes } from './secret-bytes.ts';

export function randomBytesBuffer(n: number): Buffer {
  return randomBytes(n);
}

/**
 * Public random values (nonces, salts) drawn from the CSPRNG in blocks: one randomBytes call costs about
 * 5 µs however short, and Encrypt needs two. The same idea as node's randomUUID cache. Each byte is handed
 * out once; never use this for key material, which should not sit in a shared buffer.
 */
const NONCE_POOL_BYTES = 4096;
const noncePool = Buffer.alloc(NONCE_POOL_BYTES);
let noncePoolOffset = NONCE_POOL_BYTES;

export function randomNonce(n: number): Buffer {
  if (n > NONCE_POOL_BYTES) return randomBytes(n);
  const out = Buffer.allocUnsafe(n);
  takeNonceBytes(out, 0, n);
  return out;
}

/** Copies the next `n` (≤ NONCE_POOL_BYTES) unused pool bytes into `target` at `offset`. */
function takeNonceBytes(target: Buffer, offset: number, n: number): void {
  if (noncePoolOffset + n > NONCE_POOL_BYTES) {
    randomFillSync(noncePool);
    noncePoolOffset = 0;
  }
  noncePool.copy(target, offset, noncePoolOffset, noncePoolOffset + n);
  noncePoolOffset += n;
}

export function randomUuid(): string {
  return randomUUID();
}

/**
 * A time-ordered UUID, version 7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then 74 random bits.
 * For ids that key an index written at a high rate (audit events, write-ahead intents): consecutive ids
 * land on the index's right edge instead of on a random page each, as version 4 ids do — with v4 the
 * audit COMMIT of 20 events wrote about 20 scattered index pages and cost ten times as much (755 vs 70 µs,
 * measured with better-sqlite3 on the audit schema). Reveals its creation time, to the millisecond: use
 * it only where the time is no secret (an audit event carries its time anyway).
 */
const uuidBytes = Buffer.alloc(16);
export function timeOrderedUuid(nowMs: number = Date.now()): string {
  // One scratch buffer, filled and read synchronously: nothing of it outlives the call but the string.
  const b = uuidBytes;
  b.writeUIntBE(nowMs, 0, 6);
  takeNonceBytes(b, 6, 10);
  b[6] = 0x70 | (b[6]! & 0x0f); // version 7
  b[8] = 0x80 | (b[8]! & 0x3f); // variant 10
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** HKDF-SHA256 (RFC 5869). */
export function hkdfSha256(ikm: SecretBytes | Buffer, salt: Uint8Array, info: Uint8Array, length: number): Buffer {
  const raw = Buffer.isBuffer(ikm) ? ikm : ikm.expose();
  return Buffer.from(hkdfSync('sha256', raw, salt, info, length));
}

/** Material as a node:crypto secret KeyObject, the form hkdfSync takes without converting. */
const HKDF_INPUT_KEY = new Derivation('HKDF input key', (bytes) => createSecretKey(bytes));

/**
 * HKDF-SHA256 keyed by key material that is used again and again (a symmetric key's cached material:
 * every Encrypt and Decrypt derives its message key from it). hkdfSync turns raw bytes into a KeyObject
 * on every call: 3 µs of its ~13 (bench/micro/hkdf-input.ts) and a native handle per request for the
 * young-generation GC to free. The KeyObject is made once, kept beside the material and dropped when
 * the material is zeroed (SecretBytes.derive); node clears its copy of the bytes when the garbage
 * collector frees it (docs/zeroization.md). For short-lived secrets use hkdfSha256, which keeps nothing.
 */
export function hkdfSha256FromMaterial(material: SecretBytes, salt: Uint8Array, info: Uint8Array, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', material.derive(HKDF_INPUT_KEY), salt, info, length));
}

/**
 * One-shot hashing (crypto.hash, Node ≥ 20.12) makes no Hash object. Each such object (Hash, Hmac,
 * Cipher) is a native handle the garbage collector must visit and free in every young-generation pause:
 * with a few per request they were over half of each pause under load (--trace-gc-nvp:
 * external_weak_global_handles 2.5 of 4.5 ms).
 */
export function sha256(data: Uint8Array | string): Buffer {
  return hash('sha256', data, 'buffer');
}

export function sha256Hex(data: Uint8Array | string): string {
  return hash('sha256', data, 'hex');
}

export function hmacSha256(key: Uint8Array | string, data: Uint8Array | string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Compares two byte strings in time independent of where they differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
