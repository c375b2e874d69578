/**
 * The keyring: every root-key version this deployment has used, and which one is current (the newest).
 * Rotation appends a version and never removes one, so every sealed blob (which names its version in its
 * header) keeps opening. The keyring is stored only sealed under the unseal key (docs/seal.md):
 *
 *   meta `seal:keyring` = JSON { format: 1, mode, generation, shares, threshold, keyring, hsmWrappedUnsealKey? }
 *   keyring = base64( AES-256-GCM box under the unseal key, AAD = barrierAad('seal/keyring', generation) )
 *   box plaintext = [count u32] then per version [version u32][root key, 32 bytes]
 *
 * `generation` grows by one on every change (rotation, rekey); the row is replaced only by
 * compare-and-set, so two nodes rotating at once cannot lose a version. Opening the box is also the
 * authenticated check of an unseal key reconstructed from shares: a wrong key fails here.
 */
import { aeadOpen, aeadSeal, AeadOpenError } from '../crypto/aead.ts';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { barrierAad } from './barrier.ts';

export const KEYRING_META = 'seal:keyring';
export const ROOT_KEY_BYTES = 32;

export type SealMode = 'dev' | 'shamir' | 'pkcs11';

/** The stored row, all of it public except what the `keyring` box holds. */
export interface StoredKeyring {
  readonly format: 1;
  readonly mode: SealMode;
  readonly generation: number;
  /** Quorum of the unseal (or, with an HSM, recovery) shares; absent in development mode. */
  readonly shares?: number;
  readonly threshold?: number;
  readonly keyring: string;
  /** The unseal key wrapped by the HSM's non-extractable key (pkcs11 mode), base64. */
  readonly hsmWrappedUnsealKey?: string;
  /**
   * SHA-256 of each issued share (quorum.ts shareDigest), so a share is known to be one of the current
   * ones before it may touch an unseal or rekey attempt. Absent on keyrings initialized before shares
   * were verified (a rekey adds it).
   */
  readonly shareDigests?: readonly string[];
}

export class KeyringOpenError extends Error {
  constructor() {
    super('the keyring did not open with this unseal key');
  }
}

/** Root-key versions in memory. Owns its SecretBytes: zeroize() clears every one. */
export class Keyring {
  readonly #keys = new Map<number, SecretBytes>();

  private constructor() {}

  /** A keyring whose version 1 is `root` (adopted). */
  static withFirst(root: SecretBytes): Keyring {
    const k = new Keyring();
    k.#put(1, root);
    return k;
  }

  static fresh(): Keyring {
    return Keyring.withFirst(SecretBytes.adopt(randomBytesBuffer(ROOT_KEY_BYTES)));
  }

  #put(version: number, key: SecretBytes): void {
    if (key.length !== ROOT_KEY_BYTES) throw new RangeError('a root key must be 32 bytes');
    if (!Number.isInteger(version) || version < 1 || version > 0xffffffff) throw new RangeError('bad root-key version');
    this.#keys.get(version)?.zeroize();
    this.#keys.set(version, key);
  }

  get current(): number {
    return Math.max(...this.#keys.keys());
  }

  get versions(): number[] {
    return [...this.#keys.keys()].sort((a, b) => a - b);
  }

  get(version: number): SecretBytes | undefined {
    return this.#keys.get(version);
  }

  /** Adds a fresh random root key as the next version and returns its number. */
  addVersion(): number {
    const next = this.current + 1;
    this.#put(next, SecretBytes.adopt(randomBytesBuffer(ROOT_KEY_BYTES)));
    return next;
  }

  /** A copy (independent buffers), e.g. to build a new generation without touching the live one. */
  clone(): Keyring {
    const k = new Keyring();
    for (const [v, key] of this.#keys) k.#put(v, SecretBytes.copyOf(key.expose()));
    return k;
  }

  zeroize(): void {
    for (const key of this.#keys.values()) key.zeroize();
    this.#keys.clear();
  }

  /** Seals the keyring under the unseal key for `generation`. */
  seal(unsealKey: SecretBytes, generation: number): string {
    const plain = Buffer.alloc(4 + this.#keys.size * (4 + ROOT_KEY_BYTES));
    plain.writeUInt32BE(this.#keys.size, 0);
    let at = 4;
    for (const v of this.versions) {
      plain.writeUInt32BE(v, at);
      this.#keys.get(v)!.expose().copy(plain, at + 4);
      at += 4 + ROOT_KEY_BYTES;
    }
    try {
      return aeadSeal(unsealKey, plain, keyringAad(generation)).toString('base64');
    } finally {
      plain.fill(0);
    }
  }

  /** Opens a sealed keyring; KeyringOpenError when the unseal key is not the one it was sealed under. */
  static open(unsealKey: SecretBytes, stored: Pick<StoredKeyring, 'keyring' | 'generation'>): Keyring {
    let plain: Buffer;
    try {
      plain = aeadOpen(unsealKey, Buffer.from(stored.keyring, 'base64'), keyringAad(stored.generation));
    } catch (err) {
      if (err instanceof AeadOpenError) throw new KeyringOpenError();
      throw err;
    }
    try {
      const count = plain.readUInt32BE(0);
      if (count < 1 || plain.length !== 4 + count * (4 + ROOT_KEY_BYTES)) throw new KeyringOpenError();
      const k = new Keyring();
      for (let i = 0, at = 4; i < count; i++, at += 4 + ROOT_KEY_BYTES) {
        k.#put(plain.readUInt32BE(at), SecretBytes.copyOf(plain.subarray(at + 4, at + 4 + ROOT_KEY_BYTES)));
      }
      return k;
    } finally {
      plain.fill(0);
    }
  }
}

function keyringAad(generation: number): Buffer {
  return barrierAad('seal/keyring', generation);
}

export function parseStoredKeyring(text: string): StoredKeyring {
  const v = JSON.parse(text) as StoredKeyring;
  if (v.format !== 1 || typeof v.keyring !== 'string' || !Number.isInteger(v.generation)) throw new Error('the stored keyring is not in a known format');
  return v;
}
