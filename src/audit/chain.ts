/**
 * The hash chain and its verification. hash(n) = SHA-256(hash(n-1) ‖ "\n" ‖ record(n)) in hex,
 * hash(0) = '' (or, after pruning, the hash a signed digest recorded for the last pruned event).
 * Digests (src/audit/digest.ts) sign the hash of every event they cover and link to the previous digest.
 *
 * verifyChain names the FIRST break, classified as:
 * - edited:    a row whose stored hash does not match its own content, whose hash differs from the
 *              one a signed digest recorded for it (rewritten with recomputed hashes), or one of whose
 *              queried columns differs from its record (index-columns.ts);
 * - deleted:   a gap in seq, a row whose predecessor link matches no event we have seen or will see,
 *              or events a signed digest covers that are gone (the newest cut off);
 * - inserted:  a row that is self-consistent but that the next row's link skips over;
 * - reordered: a row whose link points at an event that appears later in seq order;
 * - digest:    a digest whose signature fails under the pinned key, that is malformed, that does not
 *              follow the previous digest (one missing between them), or whose coverage has a gap;
 * - unsigned:  (with an AnchorPolicy) a chain no digest signs, or an unsigned tail beyond the bound.
 */
import type { AuditDigestRow, AuditEventRow } from '../storage/audit-repo.ts';
import type { Storage } from '../storage/storage.ts';
import { sha256 } from '../crypto/primitives.ts';
import { chainHash } from './chain-hash.ts';
import { parseDigestStatement } from './digest.ts';
import { verifyDigestSignature } from './digest-key.ts';
import { columnDifferingFromRecord } from './index-columns.ts';

export { chainHash } from './chain-hash.ts';

export type BreakKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'digest' | 'unsigned';

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
 * What an auditor requires beyond an intact chain (trent audit verify always applies it): at least one
 * digest when there are events, and an unsigned tail no longer than the deployment's digest bound.
 */
export interface AnchorPolicy {
  readonly tail: { readonly maxEvents: number; readonly maxAgeMs: number; readonly now: number };
}

interface Expected {
  readonly hash: string;
  readonly digestSeq: number;
}

/**
 * Checks the digests, in digestSeq order, under `publicKeySpki`. Returns the break, or the hash each
 * covered event must have (version 2 digests: every event; version 1: the head only).
 */
function checkDigests(digests: readonly AuditDigestRow[], publicKeySpki: Buffer | undefined): ChainBreak | Map<number, Expected> {
  const expected = new Map<number, Expected>();
  const fingerprint = publicKeySpki ? sha256(publicKeySpki).toString('hex') : undefined;
  let prev: { digestSeq: number; lastEventSeq: number; signature: string } | undefined;
  for (const d of digests) {
    const s = parseDigestStatement(d.record);
    const at = (message: string): ChainBreak => ({ kind: 'digest', seq: d.lastEventSeq, message: `digest ${d.digestSeq} (over event seq ${d.lastEventSeq}) ${message}` });
    if (!s || s.digestSeq !== d.digestSeq || s.lastEventSeq !== d.lastEventSeq || s.lastHash !== d.lastHash) {
      return at('is malformed or its fields differ from its signed statement');
    }
    if (publicKeySpki === undefined || !verifyDigestSignature(publicKeySpki, d.record, d.signature) || s.publicKeyFingerprint !== fingerprint) {
      return at(`is not signed by the ${publicKeySpki ? 'pinned' : 'expected'} key (${fingerprint ?? 'none given'}); it names key ${s.publicKeyFingerprint}`);
    }
    const wantSeq = (prev?.digestSeq ?? 0) + 1;
    if (d.digestSeq !== wantSeq) {
      return at(`follows ${prev ? `digest ${prev.digestSeq}` : 'nothing'}: digest${d.digestSeq - wantSeq > 1 ? `s ${wantSeq}–${d.digestSeq - 1} are` : ` ${wantSeq} is`} missing`);
    }
    if (s.prevDigest !== chainHash('', prev?.signature ?? '')) {
      return at(`does not link to digest ${prev?.digestSeq ?? '(none)'}: a digest before it was replaced`);
    }
    const covered = prev?.lastEventSeq ?? 0;
    if (s.version >= 2 && s.firstEventSeq !== covered + 1) {
      return at(`starts at event seq ${s.firstEventSeq!}, but the digests before it cover only up to ${covered}: its coverage has a gap`);
    }
    if (s.lastEventSeq <= covered) return at(`covers nothing beyond event seq ${covered}`);
    if (s.eventHashes) s.eventHashes.forEach((hash, i) => expected.set(s.firstEventSeq! + i, { hash, digestSeq: d.digestSeq }));
    else expected.set(s.lastEventSeq, { hash: s.lastHash, digestSeq: d.digestSeq });
    prev = { digestSeq: d.digestSeq, lastEventSeq: s.lastEventSeq, signature: d.signature };
  }
  return expected;
}

/** The seq a digest signed `hash` at (built lazily: only a broken chain needs it). */
const seqByHash = new WeakMap<Map<number, Expected>, Map<string, number>>();
function signedSeqOf(expected: Map<number, Expected>, hash: string): number | undefined {
  let index = seqByHash.get(expected);
  if (!index) {
    index = new Map([...expected].map(([seq, e]) => [e.hash, seq]));
    seqByHash.set(expected, index);
  }
  return index.get(hash);
}

/**
 * Every stored event row in seq order, whatever its seq: a row placed before seq 1 is not skipped, so
 * verifyChain sees what LookupEvents would serve.
 */
export async function allEventRows(storage: Pick<Storage, 'read'>, page = 5000): Promise<AuditEventRow[]> {
  const out: AuditEventRow[] = [];
  for (let after = Number.MIN_SAFE_INTEGER; ;) {
    const rows = await storage.read((r) => r.audit.scan(after, page));
    out.push(...rows);
    if (rows.length < page) return out;
    after = rows[rows.length - 1]!.seq;
  }
}

/**
 * Verifies a whole chain given in seq order (`rows` as stored, possibly tampered) against digests in
 * digestSeq order (the store's, or the delivered copies). `publicKeySpki` is the digest signing key (pin
 * it: a forged key would sign a forged chain). With `anchor`, an unanchored chain or a long unsigned tail
 * is a break too.
 */
export function verifyChain(rows: readonly AuditEventRow[], digests: readonly AuditDigestRow[], publicKeySpki: Buffer | undefined, anchor?: AnchorPolicy): VerifyResult {
  const result = (firstBreak?: ChainBreak, unsignedTail = 0): VerifyResult => ({
    ok: firstBreak === undefined, events: rows.length, digests: digests.length, ...(firstBreak ? { firstBreak } : {}), unsignedTail,
  });
  const checked = checkDigests(digests, publicKeySpki);
  if (!(checked instanceof Map)) return result(checked);
  const expected = checked;

  // No event has a position before 1 (rows are in seq order): such a row is served by queries all the same.
  const early = rows[0];
  if (early && early.seq < 1) {
    return result({ kind: 'inserted', seq: early.seq, eventId: early.eventId, message: `event seq ${early.seq} (eventID ${early.eventId}) was inserted: the chain starts at seq 1` });
  }
  // Where the chain starts: seq 1 with '' as predecessor, or after pruning a digest vouches for it.
  const hashes = new Set(rows.map((r) => r.hash));
  const seenHashes = new Set<string>();
  let prevHash = '';
  let expectedSeq = 1;
  if (rows.length > 0 && rows[0]!.seq !== 1) {
    const first = rows[0]!;
    const anchorHash = expected.get(first.seq - 1);
    if (!anchorHash || anchorHash.hash !== first.prevHash) {
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
    // The columns queries read are not hashed: each must say what the hashed record says.
    const column = columnDifferingFromRecord(r);
    if (column !== undefined) {
      return result({ kind: 'edited', seq: r.seq, eventId: r.eventId, message: `${name} was edited: its ${column} column differs from its record` });
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
    const signed = expected.get(r.seq);
    if (signed && signed.hash !== r.hash) {
      // Before calling it a rewrite: a row the next one skips over was inserted; a row the digests signed
      // at a later seq means events before it were deleted and the rest renumbered.
      const next = rows[i + 1];
      if (next && next.prevHash === prevHash) {
        return result({ kind: 'inserted', seq: r.seq, eventId: r.eventId, message: `${name} was inserted: the chain skips over it` });
      }
      const signedAt = signedSeqOf(expected, r.hash);
      if (signedAt !== undefined && signedAt > r.seq) {
        return result({ kind: 'deleted', seq: r.seq, message: `event seq ${r.seq}${signedAt - r.seq > 1 ? `–${signedAt - 1}` : ''} was deleted and later events renumbered (${name} was signed as seq ${signedAt})` });
      }
      return result({ kind: 'edited', seq: r.seq, eventId: r.eventId,
        message: `${name} differs from what signed digest ${signed.digestSeq} recorded for it: the chain from here was rewritten (hashes recomputed)` });
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
  const signedThrough = lastDigest?.lastEventSeq ?? 0;
  const tail = rows.filter((r) => r.seq > signedThrough);
  if (anchor && tail.length > 0) {
    const first = tail[0]!;
    const span = `events seq ${first.seq}–${lastSeq} (${tail.length})`;
    if (digests.length === 0) {
      return result({ kind: 'unsigned', seq: first.seq, eventId: first.eventId, message: `no signed digest covers the chain: ${span} are anchored by nothing and could have been rewritten or cut undetectably` }, tail.length);
    }
    const { maxEvents, maxAgeMs, now } = anchor.tail;
    if (tail.length > maxEvents || first.eventTime < now - maxAgeMs) {
      return result({ kind: 'unsigned', seq: first.seq, eventId: first.eventId,
        message: `${span} are not covered by a signed digest, beyond the bound of ${maxEvents} events or ${maxAgeMs} ms (the oldest is from ${new Date(first.eventTime).toISOString()}): the digests after digest ${lastDigest!.digestSeq} were deleted, or these events were appended without Trent` }, tail.length);
    }
  }
  return result(undefined, tail.length);
}
