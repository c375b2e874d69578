/**
 * PostgreSQL implementation of the audit repository; schema in migrations.ts (3, and 10 for appendBatch).
 * Several nodes append to one chain: lockHead() and appendBatch() take a transaction-scoped advisory
 * lock, so batches commit one after another and each reads the head the previous one committed (READ
 * COMMITTED: the SELECT after the lock sees it). The lock's key names this schema's audit_events table
 * (its OID), not the database: every node of a deployment writes that one table and takes that one lock,
 * while deployments (or test runs) in other schemas of the same database do not wait for each other.
 */
import type { QueryResult } from 'pg';
import type { AuditBatch, AuditQuery, AuditRepos } from '../audit-repo.ts';
import { auditDigestFromRow, auditEventFromRow, type Row } from '../rows.ts';

type Exec = (sql: string, params?: readonly unknown[]) => Promise<QueryResult<Row>>;

/**
 * The chain's writer lock: the two-key form (its own key space, so no random writer lock, a bigint, can
 * ever take it), "audi" in ASCII and the table's OID. Migration 10's function takes the same one.
 */
const AUDIT_CHAIN_LOCK = "pg_advisory_xact_lock(1635083369, 'audit_events'::regclass::oid::int4)";

const EVENT_COLUMNS =
  'seq, event_id, event_time, event_name, event_source, recipient_account, aws_region, username, caller_access_key, read_only, ' +
  'error_code, resource_names, resource_types, record, prev_hash, hash';

const HEAD_SQL = 'SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1';

/** The column types of EVENT_COLUMNS, in order, for the unnest of append(). */
const EVENT_COLUMN_TYPES = ['bigint', 'text', 'bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'boolean', 'text', 'text', 'text', 'text', 'text', 'text'];
const APPEND_SQL = `INSERT INTO audit_events (${EVENT_COLUMNS}) SELECT * FROM unnest(${EVENT_COLUMN_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`;

/** Migration 10's function: the event columns as for append(), then the intents to insert and those to delete. */
const APPEND_BATCH_SQL = `SELECT written, head_seq, head_hash FROM trent_audit_append(${[...EVENT_COLUMN_TYPES, 'text', 'bigint', 'text', 'text']
  .map((t, i) => `$${i + 1}::${t}[]`)
  .join(', ')})`;

/** One array per column of EVENT_COLUMNS (unnest's input): the statement's text never depends on the batch size. */
function eventColumns(rows: AuditBatch['events']): unknown[][] {
  const columns: unknown[][] = Array.from({ length: EVENT_COLUMN_TYPES.length }, () => new Array<unknown>(rows.length));
  rows.forEach((e, i) => {
    const vals = [
      e.seq, e.eventId, e.eventTime, e.eventName, e.eventSource, e.accountId, e.region, e.username, e.accessKeyId,
      e.readOnly, e.errorCode, JSON.stringify(e.resourceNames), JSON.stringify(e.resourceTypes), e.record, e.prevHash, e.hash,
    ];
    vals.forEach((v, c) => (columns[c]![i] = v));
  });
  return columns;
}

function where(q: AuditQuery): { sql: string; params: unknown[] } {
  const p: unknown[] = [];
  const arg = (v: unknown) => {
    p.push(v);
    return `$${p.length}`;
  };
  const c: string[] = [`recipient_account = ${arg(q.accountId)}`, `aws_region = ${arg(q.region)}`];
  if (q.startTime !== undefined) c.push(`event_time >= ${arg(q.startTime)}`);
  if (q.endTime !== undefined) c.push(`event_time <= ${arg(q.endTime)}`);
  if (q.beforeSeq !== undefined) c.push(`seq < ${arg(q.beforeSeq)}`);
  if (q.eventName !== undefined) c.push(`event_name = ${arg(q.eventName)}`);
  if (q.eventSource !== undefined) c.push(`event_source = ${arg(q.eventSource)}`);
  if (q.username !== undefined) c.push(`username = ${arg(q.username)}`);
  if (q.accessKeyId !== undefined) c.push(`caller_access_key = ${arg(q.accessKeyId)}`);
  if (q.readOnly !== undefined) c.push(`read_only = ${arg(q.readOnly)}`);
  if (q.eventId !== undefined) c.push(`event_id = ${arg(q.eventId)}`);
  if (q.resourceName !== undefined) c.push(`strpos(resource_names, ${arg(JSON.stringify(q.resourceName))}) > 0`);
  if (q.resourceType !== undefined) c.push(`strpos(resource_types, ${arg(JSON.stringify(q.resourceType))}) > 0`);
  if (q.succeededOnly) c.push('error_code IS NULL');
  if (q.eventNames !== undefined) c.push(`event_name = ANY(${arg([...q.eventNames])}::text[])`);
  return { sql: c.join(' AND '), params: p };
}

export function createPostgresAuditRepos(exec: Exec): AuditRepos {
  return {
    audit: {
      // One message, two statements (simple protocol, no parameters), so a transaction's BEGIN, the lock
      // and the head read are one round trip (connection.ts). Each statement takes its own snapshot at
      // READ COMMITTED, so the head read after the lock sees the previous batch.
      lockHead: async () => {
        const r = (await exec(`SELECT ${AUDIT_CHAIN_LOCK}; ${HEAD_SQL}`)).rows[0];
        return r && { seq: Number(r.seq), hash: r.hash as string };
      },
      // One statement whatever the batch size: a column of values per parameter (unnest), so its text
      // never changes and no batch approaches the 65,535-parameter limit (512 events × 16 did not, but
      // PostgreSQL parsed a new statement text for every batch size).
      append: async (rows) => {
        if (rows.length === 0) return;
        await exec(APPEND_SQL, eventColumns(rows));
      },
      // One statement (migration 10's function): through the pool it is a transaction of its own, one
      // round trip where BEGIN, lock and head, INSERT and COMMIT took three.
      appendBatch: async (batch) => {
        const r = (
          await exec(APPEND_BATCH_SQL, [
            ...eventColumns(batch.events),
            batch.intents.map((i) => i.intentId),
            batch.intents.map((i) => i.createdAt),
            batch.intents.map((i) => i.record),
            [...batch.clearIntents],
          ])
        ).rows[0];
        if (!r) throw new Error('trent_audit_append returned no row');
        if (r.written === true) return { written: true };
        return { written: false, head: { seq: Number(r.head_seq), hash: r.head_hash as string } };
      },
      chainAfter: async (afterSeq, limit) =>
        (await exec('SELECT seq, prev_hash, hash FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, limit])).rows.map(
          (r) => ({ seq: Number(r.seq), prevHash: r.prev_hash as string, hash: r.hash as string }),
        ),
      scan: async (afterSeq, limit) =>
        (await exec(`SELECT ${EVENT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit])).rows.map(
          auditEventFromRow,
        ),
      query: async (query) => {
        const w = where(query);
        const r = await exec(
          `SELECT ${EVENT_COLUMNS} FROM audit_events WHERE ${w.sql} ORDER BY seq DESC LIMIT $${w.params.length + 1}`,
          [...w.params, query.limit],
        );
        return r.rows.map(auditEventFromRow);
      },
      range: async (from, to, afterSeq, limit) =>
        (
          await exec(
            `SELECT ${EVENT_COLUMNS} FROM audit_events WHERE event_time >= $1 AND event_time <= $2 AND seq > $3 ORDER BY seq LIMIT $4`,
            [from, to, afterSeq, limit],
          )
        ).rows.map(auditEventFromRow),
      pruneThrough: async (seq) => (await exec('DELETE FROM audit_events WHERE seq <= $1', [seq])).rowCount ?? 0,
      // One statement, so through Storage.read (the group commit's intents-only batches) it is all or nothing.
      insertIntents: async (rows) => {
        if (rows.length === 0) return;
        await exec('INSERT INTO audit_intents (intent_id, created_at, record) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])', [
          rows.map((i) => i.intentId),
          rows.map((i) => i.createdAt),
          rows.map((i) => i.record),
        ]);
      },
      deleteIntents: async (ids) =>
        ids.length > 0 ? ((await exec('DELETE FROM audit_intents WHERE intent_id = ANY($1::text[])', [[...ids]])).rowCount ?? 0) : 0,
      listIntents: async (before, limit) =>
        (await exec('SELECT intent_id, created_at, record FROM audit_intents WHERE created_at < $1 ORDER BY created_at LIMIT $2', [before, limit])).rows.map(
          (r) => ({ intentId: r.intent_id as string, createdAt: Number(r.created_at), record: r.record as string }),
        ),
      insertDigest: async (d) => {
        await exec(
          'INSERT INTO audit_digests (digest_seq, created_at, last_event_seq, last_hash, record, signature) VALUES ($1, $2, $3, $4, $5, $6)',
          [d.digestSeq, d.createdAt, d.lastEventSeq, d.lastHash, d.record, d.signature],
        );
      },
      lastDigest: async () => {
        const r = (await exec('SELECT * FROM audit_digests ORDER BY digest_seq DESC LIMIT 1')).rows[0];
        return r && auditDigestFromRow(r);
      },
      listDigests: async () => (await exec('SELECT * FROM audit_digests ORDER BY digest_seq')).rows.map(auditDigestFromRow),
      digestsAfter: async (after, limit) =>
        (await exec('SELECT * FROM audit_digests WHERE digest_seq > $1 ORDER BY digest_seq LIMIT $2', [after, limit])).rows.map(auditDigestFromRow),
    },
  };
}
