/**
 * The kms/ port RemoteReplicas (src/kms/remote-replicas.ts), over the outbox of storage/replication-repo.ts:
 * a key change that must reach a replica in a linked deployment appends a record, in the change's own
 * transaction, with the next sequence number of the peer's link. The sender (sender.ts) delivers them in
 * that order.
 */
import type { RemoteReplicaRecord, RemoteReplicas } from '../kms/remote-replicas.ts';
import type { Clock } from '../clock.ts';
import type { Storage } from '../storage/storage.ts';

/** Pending records looked at by pendingFor (a backlog beyond it is not looked through). */
const MAX_SCANNED = 100_000;

export function createOutbox({ storage, clock, onAppend }: { storage: Storage; clock: Clock; onAppend?: () => void }): RemoteReplicas {
  return {
    async peerServing(region) {
      const links = await storage.read((r) => r.replication.listLinks());
      return links.find((l) => l.regions.includes(region))?.name;
    },
    async enqueue(tx, record: RemoteReplicaRecord) {
      const link = (await tx.replication.listLinks()).find((l) => l.regions.includes(record.region));
      if (!link) return false;
      await tx.replication.append(link.linkId, clock.now(), { ...record });
      // Delivery is asynchronous: the sender is nudged, and runs once the change has committed.
      onAppend?.();
      return true;
    },
    async pendingFor(tx, region, accountId, keyId) {
      const link = (await tx.replication.listLinks()).find((l) => l.regions.includes(region));
      if (!link) return undefined;
      const mine = (await tx.replication.pending(link.linkId, MAX_SCANNED)).filter((o) => {
        const r = o.doc as unknown as RemoteReplicaRecord;
        return r.accountId === accountId && r.keyId === keyId && (r.kind === undefined || r.kind === 'key');
      });
      if (mine.length === 0) return undefined;
      return mine.some((o) => o.doc.create !== undefined) ? 'create' : 'update';
    },
  };
}
