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

/**
 * A value computed from secret bytes (a parsed private KeyObject) that is kept beside them so it is
 * not recomputed on every use. One Derivation object names one kind of value; `compute` must be pure.
 */
export class Derivation<T extends object> {
  constructor(readonly name: string, readonly compute: (bytes: Buffer) => T) {}
}

export class SecretBytes {
  #bytes: Buffer;
  #zeroized = false;
  // Values derived from #bytes, dropped with them: a cache entry of material carries its parsed key.
  #derived: Map<Derivation<object>, object> | undefined;

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

  /**
   * The value `derivation` computes from these bytes, computed on first use and kept until zeroize().
   * Why: parsing a PKCS#8 private key costs more than the signature made with it. What is kept (a
   * KeyObject) lives in OpenSSL memory that JavaScript cannot zero; zeroize() drops the reference and
   * OpenSSL clears the key's numbers when the garbage collector frees it (docs/seal.md).
   */
  derive<T extends object>(derivation: Derivation<T>): T {
    const bytes = this.expose();
    const known = this.#derived?.get(derivation);
    // Only derive() stores under a Derivation<T>, and always a T.
    if (known !== undefined) return known as T;
    const value = derivation.compute(bytes);
    (this.#derived ??= new Map()).set(derivation, value);
    return value;
  }

  zeroize(): void {
    this.#bytes.fill(0);
    this.#zeroized = true;
    this.#derived = undefined;
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
