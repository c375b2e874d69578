/**
 * Secrets replicated to a linked peer deployment (docs/replication.md "What is replicated"): the secrets/
 * port RemoteSecretReplicas over the link's outbox, what the sender puts in a secret record when it sends
 * it, what it does with the peer's answer, and how the receiver applies one. The records travel in the
 * same outbox, sequence and exchanges as the key records (sender.ts, receiver.ts); only their contents
 * differ (secret-wire.ts).
 *
 * - A value crosses only as an AES-256-GCM box under the delivery's transport key (wire.ts
 *   secretValueBoxAad); the sender zeroes each value once boxed; the receiver opens one box at a time,
 *   seals it under the replica's KMS key at once and zeroes it (replica-from-peer.ts).
 * - A peer writes only replicas of secrets whose primary is in a region it serves, into regions this
 *   deployment serves; the back channel (`secret-replica-stopped`) changes only a primary here that lists
 *   the promoted replica's region as remote.
 */
import type { JobEventRecorder, ServiceEventFacts } from '../audit/service-event.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { creationEvents, replicationEvent } from '../secrets/replication-events.ts';
import { unwrapFromTransport, wrapForTransport } from '../crypto/replication-transport.ts';
import { AccessDeniedException, ConflictException, ValidationException } from '../errors/errors.ts';
import type { RemoteSecretRecord, RemoteSecretReplicas } from '../secrets/remote-replicas.ts';
import { dropStoppedReplica } from '../secrets/remote-replicas.ts';
import { deleteIncomingReplica } from '../secrets/replica-from-peer.ts';
import { replicaArnOf } from '../secrets/replica-sync.ts';
import type { SecretService } from '../secrets/secret-service.ts';
import type { Clock } from '../clock.ts';
import type { OutboxRecord, ReplicationLinkRecord } from '../storage/replication-repo.ts';
import type { Repos, Storage } from '../storage/storage.ts';
import { isSecretKind, type SecretWireRecord } from './secret-wire.ts';
import { secretValueBoxAad, type DeliverRequest } from './wire.ts';

/** The secrets/ port over the outbox: a record appended to the link serving the record's region. */
export function createSecretOutbox({ storage, clock, onAppend }: { storage: Storage; clock: Clock; onAppend?: () => void }): RemoteSecretReplicas {
  return {
    async peerServing(region) {
      const links = await storage.read((r) => r.replication.listLinks());
      return links.find((l) => l.regions.includes(region))?.name;
    },
    async enqueue(tx: Repos, record: RemoteSecretRecord) {
      const link = (await tx.replication.listLinks()).find((l) => l.regions.includes(record.region));
      if (!link) return undefined;
      const seq = await tx.replication.append(link.linkId, clock.now(), { ...record });
      // Delivery is asynchronous: the sender is nudged, and runs once the change has committed.
      onAppend?.();
      return seq;
    },
  };
}

/** Whether an outbox record is a secret record (its `kind`); key records carry none. */
export function isSecretOutbox(o: OutboxRecord): boolean {
  return isSecretKind(o.doc.kind);
}

export type SecretRecords = ReturnType<typeof createSecretRecords>;

export function createSecretRecords(deps: { storage: Storage; secrets: SecretService; localRegions?: ReadonlySet<string>; clock: Clock; events?: JobEventRecorder }) {
  const { storage, secrets, localRegions, clock, events } = deps;

  /**
   * The record as sent: for `secret`, the primary's view and every value, read now and boxed; undefined
   * when there is nothing to send (the primary or its replica is gone, or a value could not be opened —
   * then the replica is marked Failed here, with the reason, as a failed delivery would show).
   */
  async function wireRecord(link: ReplicationLinkRecord, o: OutboxRecord, transport: SecretBytes): Promise<SecretWireRecord | undefined> {
    const r = o.doc as unknown as RemoteSecretRecord;
    const base = { Kind: r.kind, accountId: r.accountId, name: r.name, arn: r.arn, sourceRegion: r.sourceRegion, region: r.region };
    if (r.kind !== 'secret') return base;
    const snap = await secrets.remote.snapshot(r);
    if (snap.kind === 'gone') return undefined;
    if (snap.kind === 'failed') {
      await secrets.remote.recordStatus({ ...r, seq: o.seq, status: 'Failed', statusMessage: snap.message });
      return undefined;
    }
    const values: { versionId: string; wrapped: string }[] = [];
    try {
      for (const v of snap.values) {
        const aad = secretValueBoxAad(link.linkId, o.seq, r.accountId, r.arn, r.name, v.versionId, r.region);
        // Adopted, not copied: the one buffer is zeroed below.
        values.push({ versionId: v.versionId, wrapped: wrapForTransport(transport, SecretBytes.adopt(v.value), aad).toString('base64') });
      }
    } finally {
      for (const v of snap.values) v.value.fill(0);
    }
    return { ...base, ...(snap.kmsKeyId !== undefined ? { kmsKeyId: snap.kmsKeyId } : {}), view: snap.view, values };
  }

  /** The peer acknowledged `o`: a `secret` record's answer sets the replica's ReplicationStatus on the primary. */
  async function acknowledged(o: OutboxRecord, answer: Record<string, unknown>): Promise<void> {
    const r = o.doc as unknown as RemoteSecretRecord;
    if (r.kind !== 'secret' || (answer.Status !== 'InSync' && answer.Status !== 'Failed')) return;
    const message = typeof answer.StatusMessage === 'string' ? answer.StatusMessage.slice(0, 1024) : undefined;
    await secrets.remote.recordStatus({ ...r, seq: o.seq, status: answer.Status, ...(message !== undefined ? { statusMessage: message } : {}) });
  }

  /** Opens one wrapped value of the record; a box that fails authentication refuses the whole record. */
  function unwrapper(link: ReplicationLinkRecord, seq: number, rec: SecretWireRecord, transport: SecretBytes) {
    return (versionId: string): SecretBytes => {
      const box = rec.values!.find((v) => v.versionId === versionId);
      if (!box) throw new ValidationException(`Malformed replication request: the value of version ${versionId} is missing.`);
      try {
        return unwrapFromTransport(transport, Buffer.from(box.wrapped, 'base64'), secretValueBoxAad(link.linkId, seq, rec.accountId, rec.arn, rec.name, versionId, rec.region));
      } catch {
        throw new AccessDeniedException('A wrapped value of the replication request failed authentication.');
      }
    };
  }

  /**
   * Applies a secret record exactly once (the receiver's rules: a sequence number not above the last
   * applied one is a duplicate, answered with success; otherwise the change and the link's last applied
   * number move in one transaction, compare-and-set).
   */
  async function apply(
    link: ReplicationLinkRecord, req: DeliverRequest & { Record: SecretWireRecord }, transport: SecretBytes, sealedPeerHeader: Buffer,
  ): Promise<{ Applied: boolean; LastAppliedSeq: number; Status?: 'InSync' | 'Failed'; StatusMessage?: string }> {
    const rec = req.Record;
    if (!localRegions?.has(rec.region)) throw new ValidationException(`The Region ${rec.region} is not served by this deployment.`);
    if (!link.regions.includes(rec.sourceRegion)) throw new ValidationException(`The Region ${rec.sourceRegion} is not served by the linked peer ${link.name}.`);
    const ids = { accountId: rec.accountId, name: rec.name, primaryArn: rec.arn, primaryRegion: rec.sourceRegion, region: rec.region };
    if (req.Seq <= link.lastAppliedSeq) {
      await storage.transaction((tx) => tx.replication.setPeerHeaderKey(link.linkId, sealedPeerHeader));
      // The sender lost our answer: a replica that is there is InSync (else the primary waits for its next record).
      const there = rec.Kind === 'secret' && (await secrets.remote.isReplicaHere(ids));
      return { Applied: false, LastAppliedSeq: link.lastAppliedSeq, ...(there ? { Status: 'InSync' as const } : {}) };
    }
    let status: { Status: 'InSync' | 'Failed'; StatusMessage?: string } | undefined;
    let write: (tx: Repos) => Promise<unknown> = async () => undefined;
    let trail: ServiceEventFacts[] = [];
    if (rec.Kind === 'secret') {
      const outcome = await secrets.remote.prepareIncoming({
        ...ids, view: rec.view!, ...(rec.kmsKeyId !== undefined ? { kmsKeyId: rec.kmsKeyId } : {}),
      }, unwrapper(link, req.Seq, rec, transport));
      if (outcome.status === 'InSync') {
        write = outcome.write;
        status = { Status: 'InSync' };
      } else {
        status = { Status: 'Failed', StatusMessage: outcome.statusMessage };
      }
      trail = incomingEvents(link, rec, outcome);
    } else if (rec.Kind === 'secret-replica-deleted') {
      write = (tx) => deleteIncomingReplica(tx, ids);
    } else {
      // The back channel: the replica `rec.arn` in the peer's `rec.sourceRegion` was promoted there.
      write = (tx) => dropStoppedReplica(tx, { accountId: rec.accountId, name: rec.name, replicaArn: rec.arn, replicaRegion: rec.sourceRegion, region: rec.region });
    }
    const applied = await storage.transaction(async (tx) => {
      const now = (await tx.replication.getLink(link.linkId))!;
      if (req.Seq <= now.lastAppliedSeq) return false; // applied by a racing delivery of the same record
      await write(tx);
      if (!(await tx.replication.advanceApplied(link.linkId, now.lastAppliedSeq, req.Seq))) throw new ConflictException('The replication link moved on. Retry.');
      await tx.replication.setPeerHeaderKey(link.linkId, sealedPeerHeader);
      // Last (after the link row, as a call's unit takes them), in this transaction: the replica's change and its trail commit together.
      for (const e of trail) await events?.recordIn(tx, e);
      return true;
    });
    return { Applied: applied, LastAppliedSeq: req.Seq, ...(applied ? status : {}) };
  }

  /**
   * What the replica's region records of a `secret` record (secrets/replication-events.ts): its creation's
   * start and outcome, or a later failure; an update that succeeds records nothing. A replica's deletion
   * (`secret-replica-deleted`) records none either: AWS documents no replication event for it, and the
   * RemoveRegionsFromReplication call is in the primary's trail.
   */
  function incomingEvents(link: ReplicationLinkRecord, rec: SecretWireRecord, outcome: { status: 'InSync' | 'Failed'; created: boolean; statusMessage?: string }): ServiceEventFacts[] {
    const subject = { accountId: rec.accountId, primaryArn: rec.arn, replicaArn: replicaArnOf(rec.arn, rec.region), primaryRegion: rec.sourceRegion, region: rec.region };
    const now = clock.now();
    const failed = outcome.status === 'Failed' ? outcome.statusMessage! : undefined;
    if (outcome.created) return creationEvents(subject, now, { linkedPeer: link.name, ...(failed !== undefined ? { failed } : {}) });
    return failed !== undefined ? [replicationEvent('ReplicationFailed', subject, now, { statusMessage: failed, linkedPeer: link.name })] : [];
  }

  return { wireRecord, acknowledged, apply };
}
