/**
 * Port: replicas of multi-Region keys that live in a linked peer deployment (docs/replication.md). kms/
 * declares what it needs; src/replication/ implements it and app.ts wires it in, so kms/ never imports
 * the replication layer.
 *
 * Contract: `enqueue` runs inside the caller's transaction, so the replication record commits with the key
 * change (and, through the unit of work, with its audit event) or not at all. Records name keys and
 * regions only; the material is read and wrapped when the record is delivered.
 */
import type { Repos } from '../storage/storage.ts';
import type { KeyDoc, MultiRegionConfig, Tag } from './key-model.ts';

/**
 * What a record asks of the peer (wire `Kind`; absent: 'key'):
 * - 'key': create or bring up to date the replica of the primary in `sourceRegion` in `region`;
 * - 'key-replica-deleted': the copy in `sourceRegion` (ours) was deleted; the peer's copies forget it.
 * - 'primary-moved': UpdatePrimaryRegion made the peer's copy in `region` the primary (our copy in
 *   `sourceRegion` became a replica in the same transaction); `multiRegionConfig` is the new configuration,
 *   `rotation`/`onDemandRotations` the primary's schedule, which moves with the role.
 */
export type RemoteRecordKind = 'key' | 'key-replica-deleted' | 'primary-moved';

export interface RemoteReplicaRecord {
  /** Absent: 'key'. */
  kind?: RemoteRecordKind;
  accountId: string;
  keyId: string;
  /** The region of the copy the record was made from (the primary's; for 'key-replica-deleted', the deleted copy's). */
  sourceRegion: string;
  /** The region served by the peer the record is for (the replica's, for 'key'). */
  region: string;
  /** Only when the record creates the replica: its own attributes (ReplicateKey's Description, Policy, Tags). */
  create?: { description: string; policy: string; tags: Tag[] };
  /** 'primary-moved' only: the configuration after the move, and the schedule that moves with the role. */
  multiRegionConfig?: MultiRegionConfig;
  rotation?: KeyDoc['rotation'];
  onDemandRotations?: number;
  /** 'primary-moved' only: the peer could not take the role and hands it back (never bounced again). */
  returned?: boolean;
}

export interface RemoteReplicas {
  /** The name of the linked peer that serves `region`, or undefined when no link does. */
  peerServing(region: string): Promise<string | undefined>;
  /** Inside `tx`: appends a record for the peer serving `record.region`; false when no link serves it. */
  enqueue(tx: Repos, record: RemoteReplicaRecord): Promise<boolean>;
  /**
   * Inside `tx`: whether material records ('key') of this key wait for the peer serving `region`:
   * 'create' when one of them creates the replica, 'update' otherwise, undefined when none does.
   */
  pendingFor(tx: Repos, region: string, accountId: string, keyId: string): Promise<'create' | 'update' | undefined>;
}
