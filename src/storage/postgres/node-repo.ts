/** PostgreSQL implementation of the node-heartbeat repository; schema in migrations.ts (8: node heartbeats). */
import type { NodeRepos } from '../node-repo.ts';
import type { Exec } from './insert-once.ts';

/** `exec` runs one statement on the adapter's connection (autocommit or the current transaction). */
export function createPostgresNodeRepos(exec: Exec): NodeRepos {
  return {
    nodes: {
      beat: async (nodeId, seenAt) => {
        // Never moves a row backwards: a late write of an older time leaves the newer one.
        await exec(
          'INSERT INTO trent_nodes (node_id, seen_at) VALUES ($1, $2) ON CONFLICT (node_id) DO UPDATE SET seen_at = GREATEST(trent_nodes.seen_at, EXCLUDED.seen_at)',
          [nodeId, seenAt],
        );
      },
      countLive: async (since) => Number((await exec('SELECT COUNT(*) AS n FROM trent_nodes WHERE seen_at >= $1', [since])).rows[0]!.n),
      listLive: async (since) =>
        (await exec('SELECT node_id, seen_at FROM trent_nodes WHERE seen_at >= $1 ORDER BY node_id', [since])).rows
          .map((r) => ({ nodeId: String(r.node_id), seenAt: Number(r.seen_at) })),
      remove: async (nodeId) => {
        await exec('DELETE FROM trent_nodes WHERE node_id = $1', [nodeId]);
      },
      deleteStale: async (before) => (await exec('DELETE FROM trent_nodes WHERE seen_at < $1', [before])).rowCount ?? 0,
    },
  };
}
