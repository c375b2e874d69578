/**
 * Secret bytes are a type, not a Buffer: they never print, never serialise, compare in constant time,
 * and can be zeroed. `expose()` is the one explicit way to the raw bytes, so grep finds every use.
 */
import { timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

/** Use of bytes already zeroed: e.g. a request still running while the node seals. */
export class SecretZeroizedError extends Error {
  constructor() {
    super('secret bytes used after zeroize');
  }
}

export class SecretBytes {
  #bytes: Buffer;
  #zeroized = false;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** Takes ownership of `bytes`: the caller must not keep or reuse the buffer. */
  static adopt(bytes: Buffer): SecretBytes {
    return new SecretBytes(bytes);
  }

  /** Copies `bytes` into a buffer owned by the new SecretBytes. */
  static copyOf(bytes: Uint8Array): SecretBytes {
    return new SecretBytes(Buffer.from(bytes));
  }

  get length(): number {
    return this.#bytes.length;
  }

  get isZeroized(): boolean {
    return this.#zeroized;
  }

  /** The raw bytes. Do not keep the reference beyond the operation that needs it. */
  expose(): Buffer {
    if (this.#zeroized) throw new SecretZeroizedError();
    return this.#bytes;
  }

  equals(other: SecretBytes): boolean {
    const a = this.expose();
    const b = other.expose();
    return a.length === b.length && timingSafeEqual(a, b);
  }

  zeroize(): void {
    this.#bytes.fill(0);
    this.#zeroized = true;
  }

  toString(): string {
    return '[SecretBytes redacted]';
  }

  toJSON(): string {
    return '[SecretBytes redacted]';
  }

  [inspect.custom](): string {
    return `[SecretBytes ${this.#bytes.length} bytes redacted]`;
  }
}
