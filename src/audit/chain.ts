/**
 * The hash chain and its verification. hash(n) = SHA-256(hash(n-1) ‖ record(n)) in hex, hash(0) = ''
 * (or, after pruning, the hash a signed digest recorded for the last pruned event). Digests sign
 * (lastEventSeq, lastHash, previous digest's signature hash) with the deployment's ECDSA P-256 key.
 *
 * verifyChain names the FIRST break, classified as:
 * - edited:    a row whose stored hash does not match its own content;
 * - deleted:   a gap in seq, or a row whose predecessor link matches no event we have seen or will see;
 * - inserted:  a row that is self-consistent but that the next row's link skips over;
 * - reordered: a row whose link points at an event that appears later in seq order;
 * - digest:    a digest whose signature fails, or whose head hash disagrees with the chain.
 */
import { sha256Hex } from '../crypto/primitives.ts';
import type { AuditDigestRow, AuditEventRow } from '../storage/audit-repo.ts';
import { verifyDigestSignature } from './digest-key.ts';

export function chainHash(prevHash: string, record: string): string {
  // Hashes the UTF-8 of the parts joined by a newline; with the newline between them no surrogate pair
  // can form across a boundary, so these are the bytes of each part's UTF-8, concatenated.
  return sha256Hex(`${prevHash}\n${record}`);
}

export type BreakKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'digest';

export interface ChainBreak {
  readonly kind: BreakKind;
  /** seq of the event named (or, for a digest, the event seq the digest covers). */
  readonly seq: number;
  readonly eventId?: string;
  readonly message: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly events: number;
  readonly digests: number;
  readonly firstBreak?: ChainBreak;
  /** Events after the last digest: intact as a chain, but not yet signed. */
  readonly unsignedTail: number;
}

/**
 * Verifies a whole chain given in seq order (`rows` as stored, possibly tampered) and its digests.
 * `publicKeySpki` is the digest signing key (pin it: a forged key would sign a forged chain).
 */
export function verifyChain(rows: readonly AuditEventRow[], digests: readonly AuditDigestRow[], publicKeySpki: Buffer | undefined): VerifyResult {
  const result = (firstBreak?: ChainBreak, unsignedTail = 0): VerifyResult => ({
    ok: firstBreak === undefined, events: rows.length, digests: digests.length, ...(firstBreak ? { firstBreak } : {}), unsignedTail,
  });
  // Digests first: each must verify, and they form their own chain of signatures.
  let prevDigestSig = '';
  for (const d of digests) {
    let stmt: { lastEventSeq?: unknown; lastHash?: unknown; prevDigest?: unknown };
    try {
      stmt = JSON.parse(d.record) as typeof stmt;
    } catch {
      stmt = {};
    }
    const sigOk = publicKeySpki !== undefined && verifyDigestSignature(publicKeySpki, d.record, d.signature);
    if (!sigOk || stmt.lastEventSeq !== d.lastEventSeq || stmt.lastHash !== d.lastHash || stmt.prevDigest !== chainHash('', prevDigestSig)) {
      return result({ kind: 'digest', seq: d.lastEventSeq, message: `digest ${d.digestSeq} (over event seq ${d.lastEventSeq}) is not validly signed` });
    }
    prevDigestSig = d.signature;
  }
  const digestAt = new Map(digests.map((d) => [d.lastEventSeq, d]));

  // Where the chain starts: seq 1 with '' as predecessor, or after pruning a digest vouches for it.
  const hashes = new Set(rows.map((r) => r.hash));
  const seenHashes = new Set<string>();
  let prevHash = '';
  let expectedSeq = 1;
  if (rows.length > 0 && rows[0]!.seq !== 1) {
    const first = rows[0]!;
    const anchor = digestAt.get(first.seq - 1);
    if (!anchor || anchor.lastHash !== first.prevHash) {
      return result({ kind: 'deleted', seq: first.seq, eventId: first.eventId, message: `events before seq ${first.seq} are missing and no digest vouches for the pruned head` });
    }
    prevHash = first.prevHash;
    expectedSeq = first.seq;
  }
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const name = `event seq ${r.seq} (eventID ${r.eventId})`;
    if (chainHash(r.prevHash, r.record) !== r.hash) {
      return result({ kind: 'edited', seq: r.seq, eventId: r.eventId, message: `${name} was edited: its content does not match its hash` });
    }
    let recordedId: unknown;
    try {
      recordedId = (JSON.parse(r.record) as { eventID?: unknown }).eventID;
    } catch {
      recordedId = undefined;
    }
    if (recordedId !== r.eventId) {
      return result({ kind: 'edited', seq: r.seq, eventId: r.eventId, message: `${name} was edited: its eventID column differs from its record` });
    }
    if (r.prevHash !== prevHash) {
      if (hashes.has(r.prevHash) && !seenHashes.has(r.prevHash)) {
        return result({ kind: 'reordered', seq: r.seq, eventId: r.eventId, message: `${name} is out of order: it follows an event stored later in the chain` });
      }
      const prev = rows[i - 1];
      if (prev && i >= 2 && r.prevHash === rows[i - 2]!.hash) {
        return result({ kind: 'inserted', seq: prev.seq, eventId: prev.eventId, message: `event seq ${prev.seq} (eventID ${prev.eventId}) was inserted: the chain skips over it` });
      }
      if (r.seq !== expectedSeq) {
        return result({ kind: 'deleted', seq: expectedSeq, message: `event seq ${expectedSeq}${r.seq - expectedSeq > 1 ? `–${r.seq - 1}` : ''} was deleted (the chain resumes at ${name})` });
      }
      return result({ kind: prev ? 'edited' : 'deleted', seq: prev?.seq ?? r.seq, ...(prev ? { eventId: prev.eventId } : {}), message: prev
        ? `event seq ${prev.seq} (eventID ${prev.eventId}) was edited (its hash recomputed), or events after it were deleted and the rest renumbered: ${name} does not link to it`
        : `${name} does not link to the start of the chain` });
    }
    if (r.seq !== expectedSeq) {
      return result({ kind: 'deleted', seq: expectedSeq, message: `event seq ${expectedSeq} was deleted before ${name}` });
    }
    const d = digestAt.get(r.seq);
    if (d && d.lastHash !== r.hash) {
      return result({ kind: 'digest', seq: r.seq, eventId: r.eventId, message: `${name} disagrees with signed digest ${d.digestSeq}: the chain up to it was rewritten` });
    }
    seenHashes.add(r.hash);
    prevHash = r.hash;
    expectedSeq = r.seq + 1;
  }
  const lastSeq = expectedSeq - 1;
  const lastDigest = digests[digests.length - 1];
  if (lastDigest && lastDigest.lastEventSeq > lastSeq) {
    return result({ kind: 'deleted', seq: lastSeq + 1, message: `events seq ${lastSeq + 1}–${lastDigest.lastEventSeq} were deleted: signed digest ${lastDigest.digestSeq} covers them` });
  }
  return result(undefined, lastDigest ? lastSeq - lastDigest.lastEventSeq : rows.length);
}
