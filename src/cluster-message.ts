/**
 * The messages the primary and its workers exchange over the cluster IPC channel (src/cluster.ts,
 * cluster-seal.ts, cluster-audit.ts) are objects tagged with a `trent` kind; anything else on the channel
 * (node's own messages, a malformed one) is not ours.
 */
export function isClusterMessage<T extends { trent: string }>(m: unknown, kind: T['trent']): m is T {
  return typeof m === 'object' && m !== null && (m as { trent?: unknown }).trent === kind;
}
