/**
 * The authenticated operator API: X-Amz-Target prefix `TrentOperator`, SigV4 service `trent`,
 * awsJson1_1 (like TrentAdmin, docs/iam.md). The part that must work while sealed (init, unseal, rekey,
 * status; shares prove themselves, a signature is checked when it can be) is src/http/operator/sys-routes.ts.
 */
import type { NodesView, OperatorService } from './operator-service.ts';
import type { SealStatus } from '../../seal/seal-manager.ts';
import { InputReader } from '../input.ts';
import { defineOperations, type ServiceDefinition } from '../operation.ts';
import { definedMembers } from '../members.ts';

export function sealStatusView(s: SealStatus): Record<string, unknown> {
  return definedMembers({
    Mode: s.mode,
    Initialized: s.initialized,
    Sealed: s.sealed,
    Threshold: s.threshold,
    Shares: s.threshold !== undefined ? s.shares : undefined,
    Progress: s.progress,
    Nonce: s.nonce,
    RootKeyVersion: s.rootKeyVersion,
    KeyringGeneration: s.keyringGeneration,
    SharesVerified: s.sharesVerified,
    Rekey: s.rekey && {
      Nonce: s.rekey.nonce, Progress: s.rekey.progress, Required: s.rekey.required,
      Shares: s.rekey.shares, Threshold: s.rekey.threshold, AgeRecipients: s.rekey.ageRecipients,
    },
  });
}

/**
 * GetSealStatus's `Node` (the process that answered: its heartbeat id, its worker id under TRENT_WORKERS > 1)
 * and `Nodes` (every process seen in the heartbeat table, LastSeen in epoch seconds; absent without heartbeats).
 */
function nodesView(n: NodesView): Record<string, unknown> {
  return definedMembers({
    Node: definedMembers({ Id: n.self.nodeId, Worker: n.self.worker }),
    Nodes: n.live?.map((x) => ({ Id: x.nodeId, LastSeen: x.seenAt / 1000 })),
  });
}

export function operatorServiceDefinition(operator: OperatorService): ServiceDefinition {
  return {
    targetPrefix: 'TrentOperator',
    signingName: 'trent',
    eventSource: 'trent.amazonaws.com',
    internalErrorCode: 'ServiceFailure',
    operations: defineOperations([
      {
        name: 'Seal', readOnly: false,
        async handle(input, { caller }) {
          new InputReader(input).done();
          await operator.seal(caller);
          return { Sealed: true };
        },
      },
      {
        name: 'RotateRootKey', readOnly: false,
        async handle(input, { caller }) {
          new InputReader(input).done();
          const r = await operator.rotateRoot(caller);
          return { RootKeyVersion: r.rootKeyVersion, RootKeyVersions: r.rootKeyVersions };
        },
      },
      {
        name: 'VerifyAuditTrail', readOnly: true,
        async handle(input, { caller }) {
          new InputReader(input).done();
          return operator.verifyAuditTrail(caller);
        },
      },
      {
        name: 'GetSealStatus', readOnly: true,
        async handle(input, { caller }) {
          new InputReader(input).done();
          const s = await operator.status(caller);
          return { ...sealStatusView(s), ...nodesView(s.nodes) };
        },
      },
    ]),
  };
}
