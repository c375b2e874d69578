/**
 * What each authenticated TrentOperator operation (src/http/operator/index.ts) is authorized as: Trent's
 * own actions `trent:Seal`, `trent:RotateRootKey`, `trent:GetSealStatus`, `trent:VerifyAuditTrail` on `*`, decided by the operator
 * service with identity policies alone (the administrator's AdministratorAccess allows them). The edge's
 * choke point refuses to start when a routed TrentOperator operation has no rule here. The unauthenticated
 * `/v1/sys/*` routes are not X-Amz-Target operations and are not covered by this table.
 */
const onNothing = (action: string) => ({ actions: [`trent:${action}`], resource: 'operator', conditionKeys: [] as readonly string[] });

export const OPERATOR_ACCESS_RULES = {
  Seal: onNothing('Seal'),
  RotateRootKey: onNothing('RotateRootKey'),
  GetSealStatus: onNothing('GetSealStatus'),
  VerifyAuditTrail: onNothing('VerifyAuditTrail'),
} as const;

/**
 * TrentBackup (src/http/operator/backup.ts): CreateBackup is `trent:Backup` on `*`, decided by the backup
 * service with identity policies alone, like the operator actions above.
 */
export const BACKUP_ACCESS_RULES = {
  CreateBackup: onNothing('Backup'),
} as const;

/**
 * GET /metrics signed with SigV4 (service `trent`, src/http/metrics.ts): `trent:GetMetrics` on `*`, decided
 * by the authorizer with identity policies alone, like the operator actions above. An unsigned scrape is
 * allowed by its source address (TRENT_METRICS_ALLOW) instead and is not a principal's call.
 */
export const METRICS_ACCESS_RULE = onNothing('GetMetrics');

/**
 * TrentReplication (src/http/replication/index.ts): linking a peer deployment is `trent:LinkReplicationPeer`,
 * listing the links `trent:ListReplicationPeers`, unlinking `trent:UnlinkReplicationPeer`, replacing the link
 * secret `trent:RotateReplicationPeerCredential`, on `*`, decided by the link service with identity policies
 * alone, like the operator actions above.
 */
export const REPLICATION_ACCESS_RULES = {
  LinkPeer: onNothing('LinkReplicationPeer'),
  ListPeers: onNothing('ListReplicationPeers'),
  UnlinkPeer: onNothing('UnlinkReplicationPeer'),
  RotatePeerCredential: onNothing('RotateReplicationPeerCredential'),
} as const;
