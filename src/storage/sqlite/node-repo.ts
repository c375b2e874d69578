/** SQLite implementation of the node-heartbeat repository; schema in migrations.ts (8: node heartbeats). */
import type Database from 'better-sqlite3';
import type { NodeRepos } from '../node-repo.ts';

export function createSqliteNodeRepos(db: Database.Database): NodeRepos {
  const q = {
    // Never moves a row backwards: a late write of an older time leaves the newer one.
    beat: db.prepare('INSERT INTO trent_nodes (node_id, seen_at) VALUES (?, ?) ON CONFLICT (node_id) DO UPDATE SET seen_at = MAX(seen_at, excluded.seen_at)'),
    countLive: db.prepare('SELECT COUNT(*) AS n FROM trent_nodes WHERE seen_at >= ?'),
    listLive: db.prepare('SELECT node_id, seen_at FROM trent_nodes WHERE seen_at >= ? ORDER BY node_id'),
    remove: db.prepare('DELETE FROM trent_nodes WHERE node_id = ?'),
    deleteStale: db.prepare('DELETE FROM trent_nodes WHERE seen_at < ?'),
  };
  return {
    nodes: {
      beat: async (nodeId, seenAt) => {
        q.beat.run(nodeId, seenAt);
      },
      countLive: async (since) => Number((q.countLive.get(since) as { n: number }).n),
      listLive: async (since) =>
        (q.listLive.all(since) as { node_id: string; seen_at: number }[]).map((r) => ({ nodeId: r.node_id, seenAt: Number(r.seen_at) })),
      remove: async (nodeId) => {
        q.remove.run(nodeId);
      },
      deleteStale: async (before) => q.deleteStale.run(before).changes,
    },
  };
}
