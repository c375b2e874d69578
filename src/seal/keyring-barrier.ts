/**
 * The barrier over a keyring of root-key versions: seals under the current (newest) version, opens
 * whichever version a sealed value names. A version it does not hold makes it throw
 * BarrierUnknownVersionError; `refresh` (wired by the seal manager to reload the stored keyring) lets a
 * node pick up a version another node added (see unsealFresh in barrier.ts).
 */
import { aeadOpen, aeadSeal, AeadOpenError } from '../crypto/aead.ts';
import { hkdfSha256 } from '../crypto/primitives.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { BarrierOpenError, BarrierSealedError, BarrierUnknownVersionError, FORMAT, HEADER_BYTES, type Barrier } from './barrier.ts';
import type { Keyring } from './keyring.ts';

export class KeyringBarrier implements Barrier {
  #keyring: Keyring | undefined;
  readonly #reload: (() => Promise<boolean>) | undefined;

  /** Takes ownership of `keyring` (zeroize() clears it). */
  constructor(keyring: Keyring, reload?: () => Promise<boolean>) {
    this.#keyring = keyring;
    this.#reload = reload;
  }

  get isUnsealed(): boolean {
    return this.#keyring !== undefined;
  }

  get currentVersion(): number {
    return this.#ring().current;
  }

  #ring(): Keyring {
    if (!this.#keyring) throw new BarrierSealedError();
    return this.#keyring;
  }

  /** Swaps in a newer keyring (rotation here or on another node), zeroing the one it replaces. */
  replace(keyring: Keyring): void {
    const old = this.#ring();
    this.#keyring = keyring;
    old.zeroize();
  }

  seal(plaintext: Uint8Array, aad: Uint8Array): Buffer {
    const ring = this.#ring();
    const version = ring.current;
    const header = Buffer.alloc(HEADER_BYTES);
    header[0] = FORMAT;
    header.writeUInt32BE(version, 1);
    const box = aeadSeal(ring.get(version)!, plaintext, Buffer.concat([header, aad]));
    return Buffer.concat([header, box]);
  }

  unseal(sealed: Uint8Array, aad: Uint8Array): SecretBytes {
    const ring = this.#ring();
    const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (buf.length < HEADER_BYTES || buf[0] !== FORMAT) throw new BarrierOpenError();
    const key = ring.get(buf.readUInt32BE(1));
    if (!key) throw new BarrierUnknownVersionError();
    const header = buf.subarray(0, HEADER_BYTES);
    try {
      return SecretBytes.adopt(aeadOpen(key, buf.subarray(HEADER_BYTES), Buffer.concat([header, aad])));
    } catch (err) {
      if (err instanceof AeadOpenError) throw new BarrierOpenError();
      throw err;
    }
  }

  /**
   * A key derived (HKDF-SHA256) from one root-key version (default: the current one), for data sealed
   * outside the barrier's format (backups, src/backup/). The root key itself never leaves the keyring.
   */
  deriveKey(info: Uint8Array, salt: Uint8Array, version?: number): { version: number; key: SecretBytes } {
    const ring = this.#ring();
    const v = version ?? ring.current;
    const root = ring.get(v);
    if (!root) throw new BarrierUnknownVersionError();
    return { version: v, key: SecretBytes.adopt(hkdfSha256(root, salt, info, 32)) };
  }

  async refresh(): Promise<boolean> {
    return this.#keyring !== undefined && this.#reload !== undefined && (await this.#reload());
  }

  zeroize(): void {
    this.#keyring?.zeroize();
    this.#keyring = undefined;
  }
}
