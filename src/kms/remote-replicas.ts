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
import type { Tag } from './key-model.ts';

/**
 * What a record asks of the peer (wire `Kind`; absent: 'key'):
 * - 'key': create or bring up to date the replica of the primary in `sourceRegion` in `region`;
 * - 'key-replica-deleted': the copy in `sourceRegion` (ours) was deleted; the peer's copies forget it.
 */
export type RemoteRecordKind = 'key' | 'key-replica-deleted';

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
}

export interface RemoteReplicas {
  /** The name of the linked peer that serves `region`, or undefined when no link does. */
  peerServing(region: string): Promise<string | undefined>;
  /** Inside `tx`: appends a record for the peer serving `record.region`; false when no link serves it. */
  enqueue(tx: Repos, record: RemoteReplicaRecord): Promise<boolean>;
}
