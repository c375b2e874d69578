/**
 * The barrier between Trent and its storage: every piece of key material (and every stored secret
 * such as an access key's secret) crosses it sealed under the root key, with AAD naming what it is,
 * so a sealed blob cannot be moved to another row and still open.
 *
 * Sealed format: [format 0x01][root-key version u32 BE][AES-256-GCM box]. The root-key version names
 * the keyring entry that opens it (src/seal/keyring.ts), so rotation never strands an old blob. The one
 * implementation is KeyringBarrier (keyring-barrier.ts).
 */
import type { SecretBytes } from '../crypto/secret-bytes.ts';

export interface Barrier {
  /** Whether the root key is loaded. A sealed barrier refuses seal/unseal with BarrierSealedError. */
  readonly isUnsealed: boolean;
  seal(plaintext: Uint8Array, aad: Uint8Array): Buffer;
  /** Returns the plaintext as SecretBytes owned by the caller; throws BarrierOpenError on any mismatch. */
  unseal(sealed: Uint8Array, aad: Uint8Array): SecretBytes;
  /** Zeroes the root key in memory; the barrier stays sealed until unsealed again. */
  zeroize(): void;
  /**
   * Reloads the keyring from storage (another node may have rotated the root key); true when it found
   * versions it did not have. Absent on barriers without a stored keyring.
   */
  refresh?(): Promise<boolean>;
}

export class BarrierSealedError extends Error {
  constructor() {
    super('the barrier is sealed');
  }
}

export class BarrierOpenError extends Error {
  constructor() {
    super('sealed value failed authentication');
  }
}

/** A sealed value names a root-key version this node does not hold (yet): see unsealFresh. */
export class BarrierUnknownVersionError extends BarrierOpenError {}

export const FORMAT = 0x01;
export const HEADER_BYTES = 5;

/**
 * unseal(), but a value sealed under a root-key version this node has not loaded yet (another node of
 * the deployment rotated the root key) first makes the barrier reload its keyring, once.
 */
export async function unsealFresh(barrier: Barrier, sealed: Uint8Array, aad: Uint8Array): Promise<SecretBytes> {
  try {
    return barrier.unseal(sealed, aad);
  } catch (err) {
    if (!(err instanceof BarrierUnknownVersionError) || !barrier.refresh || !(await barrier.refresh())) throw err;
    return barrier.unseal(sealed, aad);
  }
}

/** AAD for a purpose and its identifying fields: length-prefixed so no two field lists collide. */
export function barrierAad(purpose: string, ...fields: (string | number)[]): Buffer {
  const parts = [purpose, ...fields.map(String)].map((s) => Buffer.from(s, 'utf8'));
  const out: Buffer[] = [];
  for (const p of parts) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(p.length);
    out.push(len, p);
  }
  return Buffer.concat(out);
}
