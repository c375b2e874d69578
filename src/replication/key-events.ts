/**
 * Records of a link that carry a change of a multi-Region key other than its material (docs/replication.md
 * "Changes reported back"): each has a wire `Kind`, is checked by parseKeyEvent, built by the sender from
 * the outbox row alone (it names ids and regions, no material) and applied by the receiver in one
 * transaction with the link's last applied sequence number, as a material record is.
 *
 * - 'key-replica-deleted': the peer's copy in `sourceRegion` was deleted (its waiting period ended).
 *   Every copy here forgets that region; a primary PendingReplicaDeletion whose last replica it was starts
 *   its own waiting period (kms/multi-region.ts forgetRemoteCopy), as within one deployment.
 * - 'primary-moved': UpdatePrimaryRegion on the peer made our copy in `region` the primary; the peer's copy
 *   in `sourceRegion` is a replica already (kms/multi-region-remote.ts has the two steps and the conflict
 *   rule). When our copy cannot take the role, it is handed back with a record of the same kind, `returned`.
 */
import type { JobEventRecorder } from '../audit/service-event.ts';
import type { Clock } from '../clock.ts';
import { timeOrderedUuid } from '../crypto/primitives.ts';
import { AccessDeniedException, ValidationException } from '../errors/errors.ts';
import type { RemoteReplicaRecord } from '../kms/remote-replicas.ts';
import { keyFromRecord, type Key, type MultiRegionConfig } from '../kms/key-model.ts';
import { forgetRemoteCopy } from '../kms/multi-region.ts';
import { takePrimaryRole } from '../kms/multi-region-remote.ts';
import type { ReplicationLinkRecord } from '../storage/replication-repo.ts';
import type { Storage } from '../storage/storage.ts';

export const KEY_EVENT_KINDS = ['key-replica-deleted', 'primary-moved'] as const;
export type KeyEventKind = (typeof KEY_EVENT_KINDS)[number];

export interface KeyEventRecord {
  Kind: KeyEventKind;
  accountId: string;
  keyId: string;
  /** The region of the copy the change happened to (the sender's). */
  sourceRegion: string;
  /** The region served by the receiver the record was addressed to. */
  region: string;
  /** 'primary-moved': the configuration after the move (its primary is `region`), the schedule moving with the role. */
  multiRegionConfig?: MultiRegionConfig;
  rotation?: { enabled: boolean; periodDays: number; nextRotationAt?: number };
  onDemandRotations?: number;
  returned?: boolean;
}

const REGION = /^([a-z]+-){2,3}\d+$/;
/** A multi-Region key's id (key-service.ts makes them): only such keys have copies on a peer. */
export const MRK_ID = /^mrk-[0-9a-f]{32}$/;

export function isKeyEventKind(kind: unknown): kind is KeyEventKind {
  return (KEY_EVENT_KINDS as readonly unknown[]).includes(kind);
}

export function isKeyEvent(record: object): record is KeyEventRecord {
  return 'Kind' in record && isKeyEventKind(record.Kind);
}

/** Checks the shape of a record whose Kind is a key event (its meaning is checked when applied). */
export function parseKeyEvent(rec: Record<string, unknown>): KeyEventRecord {
  if (!isKeyEventKind(rec.Kind) || !/^\d{12}$/.test(String(rec.accountId)) || typeof rec.keyId !== 'string' || !MRK_ID.test(rec.keyId) || !REGION.test(String(rec.sourceRegion)) || !REGION.test(String(rec.region))) {
    throw new ValidationException('Malformed replication request: key event.');
  }
  const out: KeyEventRecord = { Kind: rec.Kind, accountId: String(rec.accountId), keyId: rec.keyId, sourceRegion: String(rec.sourceRegion), region: String(rec.region) };
  if (rec.Kind !== 'primary-moved') return out;
  const bad = (what: string): never => {
    throw new ValidationException(`Malformed replication request: primary move ${what}.`);
  };
  const c = rec.multiRegionConfig as Record<string, unknown> | undefined;
  if (typeof c !== 'object' || c === null || c.primaryRegion !== out.region || !Array.isArray(c.replicaRegions)
    || c.replicaRegions.length > 64 || !c.replicaRegions.every((r) => REGION.test(String(r))) || (rec.returned !== true && !c.replicaRegions.includes(out.sourceRegion))) bad('configuration');
  out.multiRegionConfig = { primaryRegion: out.region, replicaRegions: (c!.replicaRegions as unknown[]).map(String) };
  if (rec.rotation !== undefined) {
    const r = rec.rotation as Record<string, unknown>;
    // AWS: RotationPeriodInDays is 90–2560; a schedule outside it is none a call could have set.
    if (typeof r !== 'object' || r === null || typeof r.enabled !== 'boolean' || !Number.isSafeInteger(r.periodDays) || (r.periodDays as number) < 90 || (r.periodDays as number) > 2560
      || (r.nextRotationAt !== undefined && !Number.isSafeInteger(r.nextRotationAt))) bad('rotation');
    out.rotation = { enabled: r.enabled as boolean, periodDays: r.periodDays as number, ...(r.nextRotationAt !== undefined ? { nextRotationAt: r.nextRotationAt as number } : {}) };
  }
  if (rec.onDemandRotations !== undefined) {
    if (!Number.isSafeInteger(rec.onDemandRotations) || (rec.onDemandRotations as number) < 0) bad('on-demand rotations');
    out.onDemandRotations = rec.onDemandRotations as number;
  }
  if (rec.returned !== undefined && typeof rec.returned !== 'boolean') bad('returned');
  if (rec.returned === true) out.returned = true;
  return out;
}

/** The record as sent for an outbox row of a key event: its ids and regions, nothing read at send time. */
export function keyEventWire(r: RemoteReplicaRecord & { kind: KeyEventKind }): KeyEventRecord {
  return {
    Kind: r.kind, accountId: r.accountId, keyId: r.keyId, sourceRegion: r.sourceRegion, region: r.region,
    ...(r.multiRegionConfig ? { multiRegionConfig: r.multiRegionConfig } : {}),
    ...(r.rotation ? { rotation: r.rotation } : {}),
    ...(r.onDemandRotations !== undefined ? { onDemandRotations: r.onDemandRotations } : {}),
    ...(r.returned ? { returned: true } : {}),
  };
}

/**
 * Applies a key event from `link` with sequence number `seq` (above the link's last applied one: the
 * receiver answered duplicates already). A peer reports changes of its own copies only, to regions served
 * here. False when a racing delivery applied it first.
 */
export async function applyKeyEvent(
  deps: { storage: Storage; clock: Clock; localRegions?: ReadonlySet<string>; events?: JobEventRecorder },
  link: ReplicationLinkRecord, seq: number, rec: KeyEventRecord, sealedPeerHeader: Buffer,
): Promise<boolean> {
  const { storage, clock, localRegions, events } = deps;
  let taken: Key | undefined;
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
      case 'primary-moved': {
        // The peer can hand over only a role it holds: a copy here that is the primary, or a replica of a
        // primary outside the peer's regions, refuses the record. Bouncing it as `returned` instead would tell
        // the peer's copy (a replica of ours) to take the role while ours keeps it: two primaries.
        for (const region of localRegions) {
          const r = await tx.keys.get({ accountId: rec.accountId, region }, rec.keyId);
          const primary = r && keyFromRecord(r).doc.multiRegionConfig?.primaryRegion;
          if (primary !== undefined && !link.regions.includes(primary)) {
            throw new AccessDeniedException(`The linked peer ${link.name} does not hold the primary role of ${rec.keyId}.`);
          }
        }
        const move = {
          accountId: rec.accountId, keyId: rec.keyId, from: rec.sourceRegion, to: rec.region, multiRegionConfig: rec.multiRegionConfig!,
          ...(rec.rotation ? { rotation: rec.rotation } : {}), ...(rec.onDemandRotations !== undefined ? { onDemandRotations: rec.onDemandRotations } : {}),
        };
        taken = await takePrimaryRole(tx, move);
        if (!taken && !rec.returned) {
          // The role goes back where it came from, without our region if our copy is gone.
          const here = await tx.keys.get({ accountId: rec.accountId, region: rec.region }, rec.keyId);
          const back: RemoteReplicaRecord = {
            kind: 'primary-moved', returned: true, accountId: rec.accountId, keyId: rec.keyId, sourceRegion: rec.region, region: rec.sourceRegion,
            multiRegionConfig: {
              primaryRegion: rec.sourceRegion,
              replicaRegions: rec.multiRegionConfig!.replicaRegions.filter((r) => r !== rec.sourceRegion).concat(here ? [rec.region] : []),
            },
            ...(rec.rotation ? { rotation: rec.rotation } : {}), ...(rec.onDemandRotations !== undefined ? { onDemandRotations: rec.onDemandRotations } : {}),
          };
          await tx.replication.append(link.linkId, clock.now(), { ...back });
        }
        break;
      }
    }
    if (!(await tx.replication.advanceApplied(link.linkId, now.lastAppliedSeq, seq))) return false;
    await tx.replication.setPeerHeaderKey(link.linkId, sealedPeerHeader);
    if (taken && events) {
      // AWS CloudTrail: UpdatePrimaryRegion writes an entry in the new primary's region too: here, in the
      // transaction that moves the role (after its writes), so the move and its event commit together.
      await events.recordIn(tx, {
        eventId: timeOrderedUuid(), eventTime: clock.now(), eventSource: 'kms.amazonaws.com', eventName: 'UpdatePrimaryRegion',
        accountId: rec.accountId, region: rec.region,
        resources: [{ accountId: rec.accountId, type: 'AWS::KMS::Key', ARN: taken.arn }],
        details: { keyId: rec.keyId, primaryRegion: rec.region, linkedPeer: link.name },
      });
    }
    return true;
  });
}
