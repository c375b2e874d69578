/**
 * Shamir's secret sharing over GF(2^8), through the audited `shamir-secret-sharing` package (Cure53 and
 * Zellic audits) — never our own polynomial arithmetic. A share is the secret's length plus one byte
 * (the x coordinate, last). The library does not authenticate a reconstruction: a wrong or forged share
 * silently yields a wrong secret, so callers must check the result (the seal opens the keyring with it).
 */
import { combine, split } from 'shamir-secret-sharing';
import { SecretBytes } from './secret-bytes.ts';

export const MIN_THRESHOLD = 2;
export const MAX_SHARES = 255;

export class ShareCombineError extends Error {
  constructor() {
    super('the shares could not be combined');
  }
}

/** Splits `secret` into `shares` shares, any `threshold` of which reconstruct it. */
export async function splitSecret(secret: SecretBytes, shares: number, threshold: number): Promise<Buffer[]> {
  if (!Number.isInteger(shares) || !Number.isInteger(threshold) || threshold < MIN_THRESHOLD || shares < threshold || shares > MAX_SHARES) {
    throw new RangeError(`need ${MIN_THRESHOLD} <= threshold <= shares <= ${MAX_SHARES}`);
  }
  // The library insists on a plain Uint8Array (not a Buffer): a copy, zeroed once split.
  const plain = new Uint8Array(secret.expose());
  try {
    const out = await split(plain, shares, threshold);
    return out.map((s) => Buffer.from(s.buffer, s.byteOffset, s.byteLength));
  } finally {
    plain.fill(0);
  }
}

/** Combines shares (all the same length, distinct x coordinates) into a secret the caller must verify. */
export async function combineShares(shares: readonly Uint8Array[]): Promise<SecretBytes> {
  const plain = shares.map((s) => new Uint8Array(s));
  try {
    const secret = await combine(plain);
    return SecretBytes.adopt(Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength));
  } catch {
    // Duplicate x coordinates or mismatched lengths: reported like any other failed reconstruction.
    throw new ShareCombineError();
  } finally {
    for (const s of plain) s.fill(0);
  }
}
