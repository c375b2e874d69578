/**
 * Events as chain rows: their position and hashes, computed here (never by the store) onto a head read
 * under the chain's writer lock (appendEvents) or expected by the group commit (head-checked-writer.ts).
 */
import type { AuditEventRow, AuditRepo } from '../storage/audit-repo.ts';
import { canonicalJson } from './canonical-json.ts';
import { chainHash } from './chain-hash.ts';
import type { BuiltEvent } from './event.ts';

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** The stored records of events (their canonical JSON), in order: what chainOnto hashes. */
export function encodeRecords(events: readonly BuiltEvent[]): string[] {
  return events.map((e) => canonicalJson(e.record));
}

/** The row for an event at `seq` after `prevHash`; `record` is its canonical JSON, if already encoded. */
export function eventRow(e: BuiltEvent, seq: number, prevHash: string, record = canonicalJson(e.record)): AuditEventRow {
  return {
    seq,
    eventId: e.eventId,
    eventTime: e.eventTime,
    eventName: e.eventName,
    eventSource: e.eventSource,
    accountId: e.accountId,
    region: e.region,
    username: e.username,
    accessKeyId: e.accessKeyId,
    readOnly: e.readOnly,
    errorCode: e.errorCode,
    resourceNames: e.resources.map((r) => r.ARN),
    resourceTypes: e.resources.map((r) => r.type),
    record,
    prevHash,
    hash: chainHash(prevHash, record),
  };
}

/** Events at the positions after `head`, in order; `records` are their encodings (encodeRecords), if made already. */
export function chainOnto(head: ChainHead, events: readonly BuiltEvent[], records?: readonly string[]): AuditEventRow[] {
  let seq = head.seq;
  let prev = head.hash;
  return events.map((e, i) => {
    const row = eventRow(e, ++seq, prev, records?.[i]);
    prev = row.hash;
    return row;
  });
}

/**
 * The same rows at the positions after `head` instead: their records as they were serialized, only the
 * links (seq, prevHash, hash) new. For a batch the store refused because the head had moved.
 */
export function rechain(head: ChainHead, rows: readonly AuditEventRow[]): AuditEventRow[] {
  let seq = head.seq;
  let prev = head.hash;
  return rows.map((r) => {
    const row = { ...r, seq: ++seq, prevHash: prev, hash: chainHash(prev, r.record) };
    prev = row.hash;
    return row;
  });
}

/** The last of some rows, as a head. */
export function lastOf(rows: readonly AuditEventRow[]): ChainHead {
  const last = rows[rows.length - 1]!;
  return { seq: last.seq, hash: last.hash };
}

/**
 * Takes the chain lock (AuditRepo.lockHead) and returns the head: the last event; with every event
 * pruned, the last digest (which pruning always writes); with neither, seq 0 and ''.
 */
export async function lockChainHead(audit: AuditRepo): Promise<ChainHead> {
  const head = await audit.lockHead();
  if (head) return head;
  const d = await audit.lastDigest();
  return d ? { seq: d.lastEventSeq, hash: d.lastHash } : { seq: 0, hash: '' };
}

/**
 * Appends events at the chain head. Must run inside a storage transaction. `records` (encodeRecords),
 * when given, were encoded before it began: on SQLite the transaction holds the write lock from its start.
 */
export async function appendEvents(audit: AuditRepo, events: readonly BuiltEvent[], records?: readonly string[]): Promise<AuditEventRow[]> {
  if (events.length === 0) return [];
  const rows = chainOnto(await lockChainHead(audit), events, records);
  await audit.append(rows);
  return rows;
}
