/**
 * Records of a link that carry a change of a multi-Region key other than its material (docs/replication.md
 * "Changes reported back"): each has a wire `Kind`, is checked by parseKeyEvent, built by the sender from
 * the outbox row alone (it names ids and regions, no material) and applied by the receiver in one
 * transaction with the link's last applied sequence number, as a material record is.
 *
 * - 'key-replica-deleted': the peer's copy in `sourceRegion` was deleted (its waiting period ended).
 *   Every copy here forgets that region; a primary PendingReplicaDeletion whose last replica it was starts
 *   its own waiting period (kms/multi-region.ts forgetRemoteCopy), as within one deployment.
 */
import type { Clock } from '../clock.ts';
import { ValidationException } from '../errors/errors.ts';
import type { RemoteReplicaRecord } from '../kms/remote-replicas.ts';
import { forgetRemoteCopy } from '../kms/multi-region.ts';
import type { ReplicationLinkRecord } from '../storage/replication-repo.ts';
import type { Storage } from '../storage/storage.ts';

export const KEY_EVENT_KINDS = ['key-replica-deleted'] as const;
export type KeyEventKind = (typeof KEY_EVENT_KINDS)[number];

export interface KeyEventRecord {
  Kind: KeyEventKind;
  accountId: string;
  keyId: string;
  /** The region of the copy the change happened to (the sender's). */
  sourceRegion: string;
  /** The region served by the receiver the record was addressed to. */
  region: string;
}

const REGION = /^([a-z]+-){2,3}\d+$/;

export function isKeyEventKind(kind: unknown): kind is KeyEventKind {
  return (KEY_EVENT_KINDS as readonly unknown[]).includes(kind);
}

export function isKeyEvent(record: object): record is KeyEventRecord {
  return 'Kind' in record && isKeyEventKind(record.Kind);
}

/** Checks the shape of a record whose Kind is a key event (its meaning is checked when applied). */
export function parseKeyEvent(rec: Record<string, unknown>): KeyEventRecord {
  if (!isKeyEventKind(rec.Kind) || !/^\d{12}$/.test(String(rec.accountId)) || typeof rec.keyId !== 'string' || rec.keyId.length === 0
    || rec.keyId.length > 64 || !REGION.test(String(rec.sourceRegion)) || !REGION.test(String(rec.region))) {
    throw new ValidationException('Malformed replication request: key event.');
  }
  return { Kind: rec.Kind, accountId: String(rec.accountId), keyId: rec.keyId, sourceRegion: String(rec.sourceRegion), region: String(rec.region) };
}

/** The record as sent for an outbox row of a key event: its ids and regions, nothing read at send time. */
export function keyEventWire(r: RemoteReplicaRecord & { kind: KeyEventKind }): KeyEventRecord {
  return { Kind: r.kind, accountId: r.accountId, keyId: r.keyId, sourceRegion: r.sourceRegion, region: r.region };
}

/**
 * Applies a key event from `link` with sequence number `seq` (above the link's last applied one: the
 * receiver answered duplicates already). A peer reports changes of its own copies only, to regions served
 * here. False when a racing delivery applied it first.
 */
export async function applyKeyEvent(
  deps: { storage: Storage; clock: Clock; localRegions?: ReadonlySet<string> },
  link: ReplicationLinkRecord, seq: number, rec: KeyEventRecord, sealedPeerHeader: Buffer,
): Promise<boolean> {
  const { storage, clock, localRegions } = deps;
  if (!localRegions?.has(rec.region)) throw new ValidationException(`The Region ${rec.region} is not served by this deployment.`);
  if (!link.regions.includes(rec.sourceRegion)) throw new ValidationException(`The Region ${rec.sourceRegion} is not served by the linked peer ${link.name}.`);
  return storage.transaction(async (tx) => {
    const now = await tx.replication.getLink(link.linkId);
    if (!now || seq <= now.lastAppliedSeq) return false;
    switch (rec.Kind) {
      case 'key-replica-deleted':
        // The addressed region first: that copy is the one the peer knew of.
        await forgetRemoteCopy(tx, rec.accountId, rec.keyId, rec.sourceRegion, [rec.region, ...localRegions], clock.now());
        break;
    }
    if (!(await tx.replication.advanceApplied(link.linkId, now.lastAppliedSeq, seq))) return false;
    await tx.replication.setPeerHeaderKey(link.linkId, sealedPeerHeader);
    return true;
  });
}
