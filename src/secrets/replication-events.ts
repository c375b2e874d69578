/**
 * The CloudTrail records of secret replication (docs/secrets.md "Replication").
 *
 * AWS (Secrets Manager user guide, "Log entries for replication"): Secrets Manager records its replication
 * work as service events, `eventType: "AwsServiceEvent"` by "AWS Internal" — `ReplicationStarted` when it
 * starts replicating a secret to a region, `ReplicationSucceeded` when the replica is made, and
 * `ReplicationFailed` when replication fails. Trent writes them in the **replica's** region (where the
 * replica is, or would have been), naming the replica's ARN, with the primary's ARN and region and, for a
 * failure, the status message the primary shows, in `serviceEventDetails`. They are written in the
 * transaction of the change they describe (fail closed: `JobEventRecorder.recordIn`).
 *
 * When: a replica's creation (ReplicateSecretToRegions, CreateSecret's AddReplicaRegions, or its first
 * record arriving from a linked peer) is Started then Succeeded or Failed; a later change that fails to
 * reach a replica is Failed; within one deployment, the change that brings a Failed replica back is
 * Succeeded. Changes that reach a replica that was in sync record nothing of their own (the primary's
 * call is in its own region's trail).
 */
import type { ServiceEventFacts } from '../audit/service-event.ts';
import { timeOrderedUuid } from '../crypto/primitives.ts';

export type ReplicationEventName = 'ReplicationStarted' | 'ReplicationSucceeded' | 'ReplicationFailed';

export interface ReplicationEventSubject {
  accountId: string;
  /** The primary's ARN and region, and the replica's ARN (the primary's with `region`: replica-sync.ts replicaArnOf). */
  primaryArn: string;
  replicaArn: string;
  primaryRegion: string;
  /** The replica's region: where the event is recorded. */
  region: string;
}

export function replicationEvent(
  eventName: ReplicationEventName, s: ReplicationEventSubject, now: number, extra: { statusMessage?: string; linkedPeer?: string } = {},
): ServiceEventFacts {
  const arn = s.replicaArn;
  return {
    eventId: timeOrderedUuid(), eventTime: now, eventSource: 'secretsmanager.amazonaws.com', eventName,
    accountId: s.accountId, region: s.region,
    resources: [{ ARN: arn, type: 'AWS::SecretsManager::Secret', accountId: s.accountId }],
    details: {
      secretId: arn, primarySecretId: s.primaryArn, primaryRegion: s.primaryRegion, replicaRegion: s.region,
      ...(extra.statusMessage !== undefined ? { statusMessage: extra.statusMessage } : {}),
      ...(extra.linkedPeer !== undefined ? { linkedPeer: extra.linkedPeer } : {}),
    },
  };
}

/** Started, then the outcome: what a replica's creation (or a failed attempt at it) records. */
export function creationEvents(s: ReplicationEventSubject, now: number, outcome: { failed?: string; linkedPeer?: string }): ServiceEventFacts[] {
  const peer = outcome.linkedPeer !== undefined ? { linkedPeer: outcome.linkedPeer } : {};
  return [
    replicationEvent('ReplicationStarted', s, now, peer),
    outcome.failed !== undefined
      ? replicationEvent('ReplicationFailed', s, now, { statusMessage: outcome.failed, ...peer })
      : replicationEvent('ReplicationSucceeded', s, now, peer),
  ];
}
