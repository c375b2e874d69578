/** PostgreSQL implementation of the replication repository; schema in migrations.ts (9: replication links). */
import { linkFromRow, outboxFromRow, type ReplicationRepos } from '../replication-repo.ts';
import { insertOnceWith, type Exec } from './insert-once.ts';

const LINK_COLUMNS = 'link_id, name, endpoint, ca_pem, regions, sealed_secret, sealed_peer_header_key, created_at, last_seq, last_applied_seq';

/** `exec` runs one statement on the adapter's connection (autocommit or the current transaction). */
export function createPostgresReplicationRepos(exec: Exec): ReplicationRepos {
  const insertOnce = insertOnceWith(exec);
  return {
    replication: {
      insertLink: (l) =>
        insertOnce('replication link', `INSERT INTO replication_links (${LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`, [
          l.linkId, l.name, l.endpoint, l.caPem, JSON.stringify(l.regions), l.sealedSecret, l.sealedPeerHeaderKey, l.createdAt, l.lastSeq, l.lastAppliedSeq,
        ]),
      getLink: async (linkId) => {
        const r = await exec(`SELECT ${LINK_COLUMNS} FROM replication_links WHERE link_id = $1`, [linkId]);
        return r.rows[0] && linkFromRow(r.rows[0]);
      },
      listLinks: async () => (await exec(`SELECT ${LINK_COLUMNS} FROM replication_links ORDER BY name`)).rows.map(linkFromRow),
      setLinkSecret: async (linkId, sealed) =>
        ((await exec('UPDATE replication_links SET sealed_secret = $1 WHERE link_id = $2', [sealed, linkId])).rowCount ?? 0) === 1,
      deleteLink: async (linkId) => {
        // The link row first: its lock waits for appends in flight, whose records the next DELETE then sees.
        if (((await exec('DELETE FROM replication_links WHERE link_id = $1', [linkId])).rowCount ?? 0) !== 1) return undefined;
        const r = await exec('DELETE FROM replication_outbox WHERE link_id = $1 AND delivered_at IS NULL', [linkId]);
        await exec('DELETE FROM replication_outbox WHERE link_id = $1', [linkId]);
        return r.rowCount ?? 0;
      },
      setPeerHeaderKey: async (linkId, sealed) =>
        ((await exec('UPDATE replication_links SET sealed_peer_header_key = $1 WHERE link_id = $2', [sealed, linkId])).rowCount ?? 0) === 1,
      advanceApplied: async (linkId, expected, seq) =>
        ((await exec('UPDATE replication_links SET last_applied_seq = $1 WHERE link_id = $2 AND last_applied_seq = $3', [seq, linkId, expected])).rowCount ?? 0) === 1,
      append: async (linkId, createdAt, doc) => {
        // The UPDATE takes the link row's lock until the transaction ends, so concurrent appends queue here.
        const r = await exec('UPDATE replication_links SET last_seq = last_seq + 1 WHERE link_id = $1 RETURNING last_seq', [linkId]);
        if (!r.rows[0]) throw new Error(`no replication link ${linkId}`);
        const seq = Number(r.rows[0].last_seq);
        await insertOnce('replication record', 'INSERT INTO replication_outbox (link_id, seq, created_at, delivered_at, doc) VALUES ($1, $2, $3, NULL, $4) ON CONFLICT DO NOTHING', [
          linkId, seq, createdAt, JSON.stringify(doc),
        ]);
        return seq;
      },
      pending: async (linkId, limit) =>
        (await exec('SELECT link_id, seq, created_at, delivered_at, doc FROM replication_outbox WHERE link_id = $1 AND delivered_at IS NULL ORDER BY seq LIMIT $2', [linkId, limit])).rows.map(outboxFromRow),
      markDelivered: async (linkId, seq, at) =>
        ((await exec('UPDATE replication_outbox SET delivered_at = $1 WHERE link_id = $2 AND seq = $3 AND delivered_at IS NULL', [at, linkId, seq])).rowCount ?? 0) === 1,
      counts: async (linkId) => {
        const r = await exec(
          'SELECT COUNT(*) FILTER (WHERE delivered_at IS NULL) AS pending, COUNT(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered FROM replication_outbox WHERE link_id = $1',
          [linkId],
        );
        return { pending: Number(r.rows[0]!.pending), delivered: Number(r.rows[0]!.delivered) };
      },
    },
  };
}
