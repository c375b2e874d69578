/** SQLite implementation of the audit repository; schema in migrations.ts (3). */
import type Database from 'better-sqlite3';
import type { AuditQuery, AuditRepos } from '../audit-repo.ts';
import { auditDigestFromRow, auditEventFromRow, type Row } from '../rows.ts';

/** WHERE clause and parameters of a LookupEvents-style query. */
function where(q: AuditQuery): { sql: string; params: unknown[] } {
  const c: string[] = ['recipient_account = ?', 'aws_region = ?'];
  const p: unknown[] = [q.accountId, q.region];
  const eq = (col: string, v: unknown) => {
    c.push(`${col} = ?`);
    p.push(v);
  };
  if (q.startTime !== undefined) (c.push('event_time >= ?'), p.push(q.startTime));
  if (q.endTime !== undefined) (c.push('event_time <= ?'), p.push(q.endTime));
  if (q.beforeSeq !== undefined) (c.push('seq < ?'), p.push(q.beforeSeq));
  if (q.eventName !== undefined) eq('event_name', q.eventName);
  if (q.eventSource !== undefined) eq('event_source', q.eventSource);
  if (q.username !== undefined) eq('username', q.username);
  if (q.accessKeyId !== undefined) eq('caller_access_key', q.accessKeyId);
  if (q.readOnly !== undefined) eq('read_only', q.readOnly ? 1 : 0);
  if (q.eventId !== undefined) eq('event_id', q.eventId);
  // The columns hold JSON arrays of strings: a JSON-quoted needle matches one whole element.
  if (q.resourceName !== undefined) (c.push('instr(resource_names, ?) > 0'), p.push(JSON.stringify(q.resourceName)));
  if (q.resourceType !== undefined) (c.push('instr(resource_types, ?) > 0'), p.push(JSON.stringify(q.resourceType)));
  if (q.succeededOnly) c.push('error_code IS NULL');
  if (q.eventNames !== undefined) {
    if (q.eventNames.length === 0) c.push('0');
    else (c.push(`event_name IN (${q.eventNames.map(() => '?').join(', ')})`), p.push(...q.eventNames));
  }
  return { sql: c.join(' AND '), params: p };
}

export function createSqliteAuditRepos(db: Database.Database): AuditRepos {
  const q = {
    head: db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1'),
    insert: db.prepare(
      `INSERT INTO audit_events (seq, event_id, event_time, event_name, event_source, recipient_account, aws_region, username,
         caller_access_key, read_only, error_code, resource_names, resource_types, record, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    scan: db.prepare('SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?'),
    chainAfter: db.prepare('SELECT seq, prev_hash, hash FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?'),
    range: db.prepare('SELECT * FROM audit_events WHERE event_time >= ? AND event_time <= ? AND seq > ? ORDER BY seq LIMIT ?'),
    prune: db.prepare('DELETE FROM audit_events WHERE seq <= ?'),
    intentInsert: db.prepare('INSERT INTO audit_intents (intent_id, created_at, record) VALUES (?, ?, ?)'),
    intentDelete: db.prepare('DELETE FROM audit_intents WHERE intent_id = ?'),
    intentList: db.prepare('SELECT * FROM audit_intents WHERE created_at < ? ORDER BY created_at LIMIT ?'),
    digestInsert: db.prepare(
      'INSERT INTO audit_digests (digest_seq, created_at, last_event_seq, last_hash, record, signature) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    digestLast: db.prepare('SELECT * FROM audit_digests ORDER BY digest_seq DESC LIMIT 1'),
    digestList: db.prepare('SELECT * FROM audit_digests ORDER BY digest_seq'),
    digestsAfter: db.prepare('SELECT * FROM audit_digests WHERE digest_seq > ? ORDER BY digest_seq LIMIT ?'),
  };
  return {
    audit: {
      // SQLite has one writer: the enclosing BEGIN IMMEDIATE transaction already excludes every other one.
      lockHead: async () => {
        const r = q.head.get() as Row | undefined;
        return r && { seq: Number(r.seq), hash: r.hash as string };
      },
      append: async (rows) => {
        for (const e of rows) {
          q.insert.run(
            e.seq, e.eventId, e.eventTime, e.eventName, e.eventSource, e.accountId, e.region, e.username, e.accessKeyId,
            e.readOnly ? 1 : 0, e.errorCode, JSON.stringify(e.resourceNames), JSON.stringify(e.resourceTypes), e.record,
            e.prevHash, e.hash,
          );
        }
      },
      scan: async (afterSeq, limit) => (q.scan.all(afterSeq, limit) as Row[]).map(auditEventFromRow),
      chainAfter: async (afterSeq, limit) =>
        (q.chainAfter.all(afterSeq, limit) as Row[]).map((r) => ({ seq: Number(r.seq), prevHash: r.prev_hash as string, hash: r.hash as string })),
      query: async (query) => {
        const w = where(query);
        const rows = db.prepare(`SELECT * FROM audit_events WHERE ${w.sql} ORDER BY seq DESC LIMIT ?`).all(...w.params, query.limit);
        return (rows as Row[]).map(auditEventFromRow);
      },
      range: async (from, to, afterSeq, limit) => (q.range.all(from, to, afterSeq, limit) as Row[]).map(auditEventFromRow),
      pruneThrough: async (seq) => q.prune.run(seq).changes,
      insertIntents: async (rows) => {
        for (const i of rows) q.intentInsert.run(i.intentId, i.createdAt, i.record);
      },
      deleteIntents: async (ids) => {
        let n = 0;
        for (const id of ids) n += q.intentDelete.run(id).changes;
        return n;
      },
      listIntents: async (before, limit) =>
        (q.intentList.all(before, limit) as Row[]).map((r) => ({
          intentId: r.intent_id as string,
          createdAt: Number(r.created_at),
          record: r.record as string,
        })),
      insertDigest: async (d) => {
        q.digestInsert.run(d.digestSeq, d.createdAt, d.lastEventSeq, d.lastHash, d.record, d.signature);
      },
      lastDigest: async () => {
        const r = q.digestLast.get() as Row | undefined;
        return r && auditDigestFromRow(r);
      },
      listDigests: async () => (q.digestList.all() as Row[]).map(auditDigestFromRow),
      digestsAfter: async (after, limit) => (q.digestsAfter.all(after, limit) as Row[]).map(auditDigestFromRow),
    },
  };
}
