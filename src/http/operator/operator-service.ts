/**
 * The authenticated operator actions on the seal: who may seal the node or rotate the root key.
 * Allowed to the administrator (AdministratorAccess allows every action) and to any principal whose
 * identity policy allows `trent:Seal` / `trent:RotateRootKey` / `trent:GetSealStatus` /
 * `trent:VerifyAuditTrail`, and `trent:Rekey`
 * for a signed /v1/sys/rekey/init (sys-routes.ts).
 * Audited like every call: these run behind the edge's audit choke point.
 */
import type { Authorizer } from '../../auth/authorizer.ts';
import type { Caller } from '../../auth/caller.ts';
import type { SealManager, SealStatus } from '../../seal/seal-manager.ts';

export function createOperatorService(deps: {
  seal: SealManager;
  authorizer: Authorizer;
  /** Verifies the audit chain against the store (audit-trail-check.ts). */
  verifyAuditTrail: () => Promise<Record<string, unknown>>;
  /** The processes of the deployment this one knows of (app.ts): part of GetSealStatus's answer. */
  nodes: () => Promise<NodesView>;
}) {
  const { seal, authorizer } = deps;
  return {
    async seal(caller: Caller): Promise<void> {
      await authorizer.authorize(caller, 'trent:Seal');
      await seal.seal();
    },
    async rotateRoot(caller: Caller): Promise<{ rootKeyVersion: number; rootKeyVersions: number[] }> {
      await authorizer.authorize(caller, 'trent:RotateRootKey');
      return seal.rotateRoot();
    },
    /** A signed /v1/sys/rekey/init: the caller may start or replace a rekey (trent:Rekey). */
    async authorizeRekey(caller: Caller): Promise<void> {
      await authorizer.authorize(caller, 'trent:Rekey');
    },
    async verifyAuditTrail(caller: Caller): Promise<Record<string, unknown>> {
      await authorizer.authorize(caller, 'trent:VerifyAuditTrail');
      return deps.verifyAuditTrail();
    },
    async status(caller: Caller): Promise<SealStatus & { nodes: NodesView }> {
      await authorizer.authorize(caller, 'trent:GetSealStatus');
      return { ...seal.status(), nodes: await deps.nodes() };
    },
  };
}

export type OperatorService = ReturnType<typeof createOperatorService>;

/**
 * The deployment's processes as this one sees them: itself (its heartbeat id, its cluster worker id under
 * TRENT_WORKERS > 1) and, where processes share the store and write heartbeats (PostgreSQL,
 * src/http/quotas.ts), every process seen within the live window. `live` is absent where there are
 * no heartbeats (SQLite): then this process is all the store can tell.
 */
export interface NodesView {
  self: { nodeId: string; worker?: string };
  live?: { nodeId: string; seenAt: number }[];
}
