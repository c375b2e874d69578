/**
 * TrentOperator.VerifyAuditTrail: the audit chain verified on demand, as `trent audit verify` does it
 * against the store (src/cli/audit-commands.ts) — every event's hash link, every digest's signature under
 * the store's digest key, and an unsigned tail within the deployment's digest bound — so the console can
 * show the chain's status and its last digest. It reads the whole trail: an operator's check, not a
 * monitoring probe. An auditor who does not trust the store pins the key and uses the delivered digests
 * with the CLI instead (README, "Verifying the audit trail").
 */
import { allEventRows, verifyChain } from '../../audit/chain.ts';
import { keyFingerprint, readDigestPublicKey } from '../../audit/digest-key.ts';
import type { Clock } from '../../clock.ts';
import type { Storage } from '../../storage/storage.ts';
import { definedMembers } from '../members.ts';


export interface AuditTrailCheckDeps {
  storage: Storage;
  clock: Clock;
  /** The deployment's digest bound (TRENT_AUDIT_DIGEST_INTERVAL / _MAX_EVENTS). */
  digestIntervalMs: number;
  digestMaxEvents: number;
}

export function createAuditTrailCheck(deps: AuditTrailCheckDeps) {
  // The bound `trent audit verify` holds the tail to: one interval plus 5 s (the digest's own commit, clock
  // skew), one event bound plus the group-commit batches that may land while a digest is written.
  const tail = { maxEvents: deps.digestMaxEvents + 4 * 512, maxAgeMs: deps.digestIntervalMs + 5000 };

  return async function verifyAuditTrail(): Promise<Record<string, unknown>> {
    const key = await deps.storage.read((r) => readDigestPublicKey(r));
    const rows = await allEventRows(deps.storage);
    const digests = await deps.storage.read((r) => r.audit.listDigests());
    const result = verifyChain(rows, digests, key, { tail: { ...tail, now: deps.clock.now() } });
    const last = digests[digests.length - 1];
    return definedMembers({
      Ok: result.ok,
      Events: result.events,
      Digests: result.digests,
      UnsignedTail: result.unsignedTail,
      FirstBreak: result.firstBreak && definedMembers({
        Kind: result.firstBreak.kind, Seq: result.firstBreak.seq, EventId: result.firstBreak.eventId, Message: result.firstBreak.message,
      }),
      LastDigest: last && { DigestSeq: last.digestSeq, LastEventSeq: last.lastEventSeq, CreatedAt: last.createdAt / 1000 },
      PublicKeyFingerprint: key ? keyFingerprint(key) : undefined,
      KeySource: 'store',
    });
  };
}
