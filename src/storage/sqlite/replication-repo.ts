/** SQLite implementation of the replication repository; schema in migrations.ts (9: replication links). */
import type Database from 'better-sqlite3';
import { linkFromRow, outboxFromRow, type ReplicationRepos } from '../replication-repo.ts';
import type { Row } from '../rows.ts';
import { guardUnique } from './unique-violation.ts';

export function createSqliteReplicationRepos(db: Database.Database): ReplicationRepos {
  const q = {
    insertLink: db.prepare(
      'INSERT INTO replication_links (link_id, name, endpoint, ca_pem, regions, sealed_secret, sealed_peer_header_key, created_at, last_seq, last_applied_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    getLink: db.prepare('SELECT * FROM replication_links WHERE link_id = ?'),
    listLinks: db.prepare('SELECT * FROM replication_links ORDER BY name'),
    setSecret: db.prepare('UPDATE replication_links SET sealed_secret = ? WHERE link_id = ?'),
    deleteOutbox: db.prepare('DELETE FROM replication_outbox WHERE link_id = ?'),
    deleteLink: db.prepare('DELETE FROM replication_links WHERE link_id = ?'),
    setHeaderKey: db.prepare('UPDATE replication_links SET sealed_peer_header_key = ? WHERE link_id = ?'),
    advance: db.prepare('UPDATE replication_links SET last_applied_seq = ? WHERE link_id = ? AND last_applied_seq = ?'),
    nextSeq: db.prepare('UPDATE replication_links SET last_seq = last_seq + 1 WHERE link_id = ? RETURNING last_seq'),
    insertOutbox: db.prepare('INSERT INTO replication_outbox (link_id, seq, created_at, delivered_at, doc) VALUES (?, ?, ?, NULL, ?)'),
    pending: db.prepare('SELECT * FROM replication_outbox WHERE link_id = ? AND delivered_at IS NULL ORDER BY seq LIMIT ?'),
    deliver: db.prepare('UPDATE replication_outbox SET delivered_at = ? WHERE link_id = ? AND seq = ? AND delivered_at IS NULL'),
    counts: db.prepare(
      'SELECT SUM(CASE WHEN delivered_at IS NULL THEN 1 ELSE 0 END) AS pending, SUM(CASE WHEN delivered_at IS NULL THEN 0 ELSE 1 END) AS delivered FROM replication_outbox WHERE link_id = ?',
    ),
  };
  return {
    replication: {
      insertLink: async (l) => {
        guardUnique('replication link', () =>
          q.insertLink.run(l.linkId, l.name, l.endpoint, l.caPem, JSON.stringify(l.regions), l.sealedSecret, l.sealedPeerHeaderKey, l.createdAt, l.lastSeq, l.lastAppliedSeq));
      },
      getLink: async (linkId) => {
        const r = q.getLink.get(linkId) as Row | undefined;
        return r && linkFromRow(r);
      },
      listLinks: async () => (q.listLinks.all() as Row[]).map(linkFromRow),
      setLinkSecret: async (linkId, sealed) => q.setSecret.run(sealed, linkId).changes === 1,
      deleteLink: async (linkId) => {
        if (q.deleteLink.run(linkId).changes !== 1) return undefined;
        const pending = Number((q.counts.get(linkId) as Row).pending ?? 0);
        q.deleteOutbox.run(linkId);
        return pending;
      },
      setPeerHeaderKey: async (linkId, sealed) => q.setHeaderKey.run(sealed, linkId).changes === 1,
      advanceApplied: async (linkId, expected, seq) => q.advance.run(seq, linkId, expected).changes === 1,
      append: async (linkId, createdAt, doc) => {
        const r = q.nextSeq.get(linkId) as Row | undefined;
        if (!r) throw new Error(`no replication link ${linkId}`);
        const seq = Number(r.last_seq);
        guardUnique('replication record', () => q.insertOutbox.run(linkId, seq, createdAt, JSON.stringify(doc)));
        return seq;
      },
      pending: async (linkId, limit) => (q.pending.all(linkId, limit) as Row[]).map(outboxFromRow),
      markDelivered: async (linkId, seq, at) => q.deliver.run(at, linkId, seq).changes === 1,
      counts: async (linkId) => {
        const r = q.counts.get(linkId) as Row;
        return { pending: Number(r.pending ?? 0), delivered: Number(r.delivered ?? 0) };
      },
    },
  };
}
