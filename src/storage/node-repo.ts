/**
 * Node heartbeats: one row per running Trent process (a node, or each worker of one), refreshed every few
 * seconds, so that every process can count how many share the store. Request quotas use the count to
 * give each process its share of a rate (src/http/quotas.ts, docs/postgres.md "Request quotas").
 * Part of the one storage interface (`Repos`); both adapters implement it and pass
 * storage/contract/node-contract.ts.
 *
 * Rows hold no secret: a random process id and a wall-clock time. A process that dies leaves its row,
 * which stops counting once it is older than the caller's window and is removed by `deleteStale`.
 */
export interface NodeHeartbeatRepo {
  /** Records that `nodeId` was alive at `seenAt` (epoch ms): inserts the row or moves it forward. */
  beat(nodeId: string, seenAt: number): Promise<void>;
  /** How many nodes were seen at or after `since` (epoch ms). */
  countLive(since: number): Promise<number>;
  /** The nodes seen at or after `since` (epoch ms), by id: the operator's view of the deployment (GetSealStatus). */
  listLive(since: number): Promise<{ nodeId: string; seenAt: number }[]>;
  /** Removes one node's row (a clean stop). */
  remove(nodeId: string): Promise<void>;
  /** Removes the rows last seen before `before`; returns how many. */
  deleteStale(before: number): Promise<number>;
}

export interface NodeRepos {
  readonly nodes: NodeHeartbeatRepo;
}
