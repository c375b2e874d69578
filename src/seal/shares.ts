/**
 * Issuing and checking key shares (docs/seal.md): the quorum an init or rekey may ask for, the split of
 * the unseal key into shares (each optionally encrypted to its operator's age key) with the digests the
 * keyring records, and the check that a submitted share is one of those before it touches an attempt.
 * Collecting shares into an attempt is quorum.ts; they are used by init (seal-manager.ts), unseal.ts and rekey.ts.
 */
import { AgeRecipientError, encryptToAgeRecipient } from '../crypto/age.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import { splitSecret } from '../crypto/shamir.ts';
import { InvalidShareException, ValidationException } from '../errors/errors.ts';
import { decodeShare, isIssuedShare, shareDigest } from './quorum.ts';
import type { QuorumInput } from './seal-types.ts';

/**
 * Decodes a share and checks it is one of the current ones (`digests`: the keyring's shareDigests) before
 * it may touch an attempt; a share that is not is zeroed and refused, and nothing changes. Keyrings from
 * before shares were recorded cannot check (`legacy`: true).
 */
export function issuedShare(digests: readonly string[] | undefined, text: string): { share: Buffer; legacy: boolean } {
  const share = decodeShare(text);
  if (digests === undefined) return { share, legacy: true };
  if (!isIssuedShare(digests, share)) {
    share.fill(0);
    throw new InvalidShareException('the share is not one of the current key shares of this deployment (an old share from before a rekey, or not a share); nothing was changed');
  }
  return { share, legacy: false };
}

/** A quorum an init or rekey may issue: 2 <= threshold <= shares <= 255, one age recipient per share if any. */
export function checkQuorum(q: QuorumInput): void {
  if (!Number.isInteger(q.shares) || !Number.isInteger(q.threshold) || q.threshold < 2 || q.shares < q.threshold || q.shares > 255) {
    throw new ValidationException('need 2 <= threshold <= shares <= 255');
  }
  if (q.ageRecipients && q.ageRecipients.length !== q.shares) {
    throw new ValidationException(`give one age recipient per share (${q.shares}), in share order`);
  }
}

/** Splits the unseal key; each share is base64, or an armored age file for its operator's key. */
export async function issueShares(key: SecretBytes, q: QuorumInput): Promise<{ printed: string[]; digests: string[] }> {
  const parts = await splitSecret(key, q.shares, q.threshold);
  try {
    const digests = parts.map((p) => shareDigest(p));
    if (!q.ageRecipients) return { printed: parts.map((p) => p.toString('base64')), digests };
    const out: string[] = [];
    for (const [i, p] of parts.entries()) {
      try {
        out.push(await encryptToAgeRecipient(q.ageRecipients[i]!, Buffer.from(p.toString('base64'), 'utf8')));
      } catch (err) {
        if (err instanceof AgeRecipientError) throw new ValidationException(`age recipient ${i + 1}: ${err.message}`);
        throw err;
      }
    }
    return { printed: out, digests };
  } finally {
    for (const p of parts) p.fill(0);
  }
}
