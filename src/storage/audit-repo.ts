/**
 * The audit store's repository: an append-only hash chain of events, write-ahead intents of mutating
 * calls, and signed digests of the chain head. Schema: migration 3 of each adapter.
 *
 * Trust: storage is untrusted; the chain hashes and digest signatures (computed in src/audit/, never
 * here) make edits detectable. Adapters store and return rows verbatim: `record` is the canonical JSON
 * that was hashed, byte for byte.
 *
 * Concurrency: appends happen only inside Storage.transaction after lockHead(), which serialises the
 * chain's writers across nodes (PostgreSQL: pg_advisory_xact_lock; SQLite: the one write transaction).
 */

export interface AuditEventRow {
  /** Position in the chain: 1, 2, 3 … without gaps, assigned under the head lock. */
  seq: number;
  eventId: string;
  /** Epoch ms. */
  eventTime: number;
  eventName: string;
  eventSource: string;
  /** recipientAccountId and awsRegion: the scope LookupEvents answers for. */
  accountId: string;
  region: string;
  username: string | null;
  accessKeyId: string | null;
  readOnly: boolean;
  errorCode: string | null;
  /** ARNs and types of the resources the event names (same order). */
  resourceNames: string[];
  resourceTypes: string[];
  /** Canonical JSON of the CloudTrail record: exactly the bytes that were hashed. */
  record: string;
  /** Hex SHA-256 of the previous event ('' for the first event ever). */
  prevHash: string;
  /** Hex SHA-256(prevHash ‖ record). */
  hash: string;
}

export interface AuditIntentRow {
  intentId: string;
  createdAt: number;
  /** JSON of what is known before the call runs (request id, operation, caller); never secrets. */
  record: string;
}

export interface AuditDigestRow {
  /** 1, 2, 3 … */
  digestSeq: number;
  createdAt: number;
  /** The chain head this digest signs. */
  lastEventSeq: number;
  lastHash: string;
  /** Canonical JSON of the signed statement. */
  record: string;
  /** Base64 DER ECDSA P-256 / SHA-256 signature over `record`. */
  signature: string;
}

export interface AuditQuery {
  accountId: string;
  region: string;
  /** Epoch ms, inclusive. */
  startTime?: number;
  endTime?: number;
  /** Only events with seq < beforeSeq (pagination, newest first). */
  beforeSeq?: number;
  eventName?: string;
  eventSource?: string;
  username?: string;
  accessKeyId?: string;
  readOnly?: boolean;
  eventId?: string;
  resourceName?: string;
  resourceType?: string;
  /** Only events without an error code. */
  succeededOnly?: boolean;
  /** Only events whose name is one of these. */
  eventNames?: readonly string[];
  limit: number;
}

export interface AuditRepo {
  /**
   * Takes the chain's writer lock for the rest of this transaction and returns the last event's seq and
   * hash (undefined when the chain is empty; then `anchor` from pruning, if any, is the head).
   */
  lockHead(): Promise<{ seq: number; hash: string } | undefined>;
  append(rows: readonly AuditEventRow[]): Promise<void>;
  /** Events with seq > afterSeq, ascending. */
  scan(afterSeq: number, limit: number): Promise<AuditEventRow[]>;
  /** Only the chain fields of the events with seq > afterSeq, ascending: what a digest signs (a full scan of 1,000 rows cost 15-60 ms under the head lock). */
  chainAfter(afterSeq: number, limit: number): Promise<{ seq: number; prevHash: string; hash: string }[]>;
  /** Newest first. */
  query(q: AuditQuery): Promise<AuditEventRow[]>;
  /** Events with eventTime in [from, to], ascending by seq. */
  range(from: number, to: number, afterSeq: number, limit: number): Promise<AuditEventRow[]>;
  /** Deletes events with seq ≤ throughSeq; returns how many. */
  pruneThrough(throughSeq: number): Promise<number>;
  insertIntents(rows: readonly AuditIntentRow[]): Promise<void>;
  /** Deletes the intents of these ids; returns how many existed. */
  deleteIntents(ids: readonly string[]): Promise<number>;
  /** Intents created before `before`, oldest first. */
  listIntents(before: number, limit: number): Promise<AuditIntentRow[]>;
  insertDigest(row: AuditDigestRow): Promise<void>;
  lastDigest(): Promise<AuditDigestRow | undefined>;
  /** All digests ascending. */
  listDigests(): Promise<AuditDigestRow[]>;
  /** Digests with digestSeq > afterDigestSeq, ascending (delivery catches up on other nodes' digests). */
  digestsAfter(afterDigestSeq: number, limit: number): Promise<AuditDigestRow[]>;
}

export interface AuditRepos {
  readonly audit: AuditRepo;
}
