/**
 * The audit store's repository: an append-only hash chain of events, write-ahead intents of mutating
 * calls, and signed digests of the chain head. Schema: migration 3 of each adapter.
 *
 * Trust: storage is untrusted; the chain hashes and digest signatures (computed in src/audit/, never
 * here) make edits detectable. Adapters store and return rows verbatim: `record` is the canonical JSON
 * that was hashed, byte for byte.
 *
 * Concurrency: appends happen only inside Storage.transaction after lockHead(), which serialises the
 * chain's writers across nodes (PostgreSQL: pg_advisory_xact_lock; SQLite: the one write transaction),
 * or through appendBatch(), which takes the same lock and checks the head the caller chained onto.
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

/** What the group commit writes at once (AuditRepo.appendBatch). */
export interface AuditBatch {
  /** Write-ahead intents to insert. */
  readonly intents: readonly AuditIntentRow[];
  /**
   * Events chained by the caller (seq and hashes computed in src/audit/) onto the head (events[0].seq − 1,
   * events[0].prevHash); may be empty (then no head is checked).
   */
  readonly events: readonly AuditEventRow[];
  /** Intents to delete: those of the calls whose events these are. */
  readonly clearIntents: readonly string[];
}

/** The chain head an appendBatch found instead of the one its events were chained onto. */
export type AuditBatchOutcome = { written: true } | { written: false; head: { seq: number; hash: string } };

export interface AuditRepo {
  /**
   * Takes the chain's writer lock for the rest of this transaction and returns the last event's seq and
   * hash (undefined when the chain is empty; then `anchor` from pruning, if any, is the head).
   */
  lockHead(): Promise<{ seq: number; hash: string } | undefined>;
  append(rows: readonly AuditEventRow[]): Promise<void>;
  /**
   * Optional: for a store where each statement of a transaction is a round trip (PostgreSQL). Writes the
   * whole batch in one atomic statement — intents inserted, events appended, cleared intents deleted —
   * under the chain's writer lock, if and only if the chain's head (the last event; with none, the last
   * digest's; with neither, seq 0 and '') is still the one the events were chained onto. Otherwise it
   * writes nothing and returns the head it found: the caller chains again. The store compares, it never
   * computes a hash. Called through Storage.read it commits by itself; inside a transaction it joins it.
   */
  appendBatch?(batch: AuditBatch): Promise<AuditBatchOutcome>;
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
