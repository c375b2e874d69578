/**
 * Links to peer deployments and the ordered outbox of replication records for each (docs/replication.md).
 * Part of the one storage interface (`Repos`); both adapters implement it and pass
 * storage/contract/replication-contract.ts.
 *
 * A link row holds what this deployment knows of one peer: where it is (endpoint, TLS CA), the regions it
 * serves, the shared link secret sealed by the barrier (never in the clear), the peer's ciphertext-header
 * key once it has sent it (sealed), the sequence number of the last record this side applied from the peer
 * (receiver), and the last sequence number it gave a record for the peer (sender). Outbox rows name keys and
 * regions only: the material is read, unsealed and wrapped at delivery time, so no outbox row holds any.
 */
import { int, intOrNull, json, type Row } from './rows.ts';

export interface ReplicationLinkRecord {
  /** Shared by both sides of the link (it is part of the link credential); sent with every request. */
  linkId: string;
  /** This side's name for the peer; unique. */
  name: string;
  endpoint: string;
  caPem: string;
  regions: string[];
  /** The link secret, sealed by the barrier. */
  sealedSecret: Buffer;
  /** The peer's ciphertext-header key (sent wrapped, sealed on arrival), or null until the first exchange. */
  sealedPeerHeaderKey: Buffer | null;
  createdAt: number;
  /** Sender side: the sequence number of the last record appended for this peer (0: none). */
  lastSeq: number;
  /** Receiver side: the sequence number of the last record applied from this peer (0: none). */
  lastAppliedSeq: number;
}

export interface OutboxRecord {
  linkId: string;
  /** 1, 2, 3, … per link, in the order the changes committed. */
  seq: number;
  createdAt: number;
  /** Epoch ms of the peer's acknowledgement, or null while pending. */
  deliveredAt: number | null;
  /** What to replicate (key id, regions); opaque to storage and never secret. */
  doc: Record<string, unknown>;
}

export interface ReplicationRepo {
  /** Fails with DuplicateError when the link id or the name exists. */
  insertLink(link: ReplicationLinkRecord): Promise<void>;
  getLink(linkId: string): Promise<ReplicationLinkRecord | undefined>;
  /** Every link, in name order. */
  listLinks(): Promise<ReplicationLinkRecord[]>;
  /** Replaces the sealed link secret (credential rotation); the outbox and sequence numbers stay. False when the link is gone. */
  setLinkSecret(linkId: string, sealed: Buffer): Promise<boolean>;
  /**
   * Removes the link and every outbox record of it (unlink); returns how many of those records were still
   * pending, or undefined when the link was gone. The link row goes first, so an append racing the call
   * has either committed (its record is counted and removed) or fails for want of a link.
   */
  deleteLink(linkId: string): Promise<number | undefined>;
  /** Stores the peer's sealed ciphertext-header key; false when the link is gone. */
  setPeerHeaderKey(linkId: string, sealed: Buffer): Promise<boolean>;
  /**
   * Receiver: moves lastAppliedSeq from `expected` to `seq` (compare-and-set, in the transaction that
   * applies the record); false when another writer moved it first or the link is gone.
   */
  advanceApplied(linkId: string, expected: number, seq: number): Promise<boolean>;
  /**
   * Sender: appends a record with the next sequence number of the link (lastSeq + 1, taken under the link
   * row's lock, so concurrent appends never share a number) and returns that number.
   * Throws when the link does not exist.
   */
  append(linkId: string, createdAt: number, doc: Record<string, unknown>): Promise<number>;
  /** Records not yet acknowledged, lowest sequence first. */
  pending(linkId: string, limit: number): Promise<OutboxRecord[]>;
  /** Marks one record acknowledged; false when it was already (or does not exist). */
  markDelivered(linkId: string, seq: number, at: number): Promise<boolean>;
  /** How many records of a link are pending and delivered. */
  counts(linkId: string): Promise<{ pending: number; delivered: number }>;
}

export interface ReplicationRepos {
  readonly replication: ReplicationRepo;
}

export function linkFromRow(r: Row): ReplicationLinkRecord {
  return {
    linkId: r.link_id as string,
    name: r.name as string,
    endpoint: r.endpoint as string,
    caPem: r.ca_pem as string,
    regions: JSON.parse(r.regions as string) as string[],
    sealedSecret: r.sealed_secret as Buffer,
    sealedPeerHeaderKey: (r.sealed_peer_header_key as Buffer | null) ?? null,
    createdAt: int(r.created_at),
    lastSeq: int(r.last_seq),
    lastAppliedSeq: int(r.last_applied_seq),
  };
}

export function outboxFromRow(r: Row): OutboxRecord {
  return {
    linkId: r.link_id as string,
    seq: int(r.seq),
    createdAt: int(r.created_at),
    deliveredAt: intOrNull(r.delivered_at),
    doc: json(r.doc),
  };
}
