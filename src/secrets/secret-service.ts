/**
 * Secrets Manager semantics, knowing nothing of HTTP. The operations are plain functions of a context
 * (secret-context.ts), one file per concern:
 *   secret-lookup.ts     finding a secret, authorizing on it, changing it by compare-and-set
 *   secret-sealing.ts    envelope encryption of a version's value through KMS
 *   secret-versions.ts   versions and staging labels (PutSecretValue, GetSecretValue, UpdateSecretVersionStage)
 *   secret-lifecycle.ts  CreateSecret, UpdateSecret, DescribeSecret
 *   replication.ts       ReplicateSecretToRegions, RemoveRegionsFromReplication, StopReplicationToReplica
 *   replica-sync.ts      replicas kept in step with their primary, in the primary's transaction
 *   remote-replicas.ts   replicas in a linked deployment: the port, the primary's side (replica-from-peer.ts: the replica's)
 *   secret-deletion.ts   DeleteSecret, RestoreSecret, the purge job
 *   secret-listing.ts    ListSecrets, ListSecretVersionIds (secret-filters.ts: ListSecrets' Filters)
 *   secret-tags.ts, resource-policy.ts, rotation-state.ts
 *   secret-arn.ts        the one ARN format and parser
 * This factory binds them to one context; it is the service's whole public surface (app.ts wires it).
 *
 * Concurrency: every change of a secret (labels, versions, metadata) is one compare-and-set of the
 * secret row's revision; a lost race re-reads and re-applies. KMS calls never run inside a storage
 * transaction (the SQLite adapter serialises transactions, and KMS reads storage).
 */
import { AccessDeniedException, type TrentError } from '../errors/errors.ts';
import { configureRotation, claimScheduledRotation, renewRotationClaim, recordRotation, cancelRotateSecret } from './rotation-state.ts';
import { deleteResourcePolicy, getResourcePolicy, putResourcePolicy, validateResourcePolicy } from './resource-policy.ts';
import type { SecretContext } from './secret-context.ts';
import { deleteSecret, purgeDue, restoreSecret } from './secret-deletion.ts';
import { recordRemoteStatus, remoteSnapshot } from './remote-replicas.ts';
import { isIncomingReplicaHere, prepareIncomingReplica } from './replica-from-peer.ts';
import { removeRegionsFromReplication, replicateSecretToRegions, replicationStatusOf, stopReplicationToReplica } from './replication.ts';
import { createSecret, describeSecret, updateSecret } from './secret-lifecycle.ts';
import { listSecrets, listSecretVersionIds } from './secret-listing.ts';
import { find, resolve } from './secret-lookup.ts';
import { open } from './secret-sealing.ts';
import { tagResource, untagResource } from './secret-tags.ts';
import { addVersion, getSecretValue, putSecretValue, updateSecretVersionStage } from './secret-versions.ts';

export type { Authorization, Secret, SecretValue } from './secret-context.ts';
export type { ListFilter } from './secret-filters.ts';
export type { ReplicationStatusEntry } from './replication.ts';

export type SecretServiceDeps = SecretContext;

/** `operation` with its context argument filled in: the method the service exposes. */
function bound<A extends unknown[], R>(ctx: SecretContext, operation: (ctx: SecretContext, ...args: A) => R): (...args: A) => R {
  return (...args) => operation(ctx, ...args);
}

export type SecretService = ReturnType<typeof createSecretService>;

export function createSecretService(deps: SecretServiceDeps) {
  const ctx: SecretContext = { ...deps };
  return {
    find: bound(ctx, find),
    resolve: bound(ctx, resolve),
    open: bound(ctx, open),
    createSecret: bound(ctx, createSecret),
    getSecretValue: bound(ctx, getSecretValue),
    putSecretValue: bound(ctx, putSecretValue),
    addVersion: bound(ctx, addVersion),
    updateSecret: bound(ctx, updateSecret),
    updateSecretVersionStage: bound(ctx, updateSecretVersionStage),
    describeSecret: bound(ctx, describeSecret),
    listSecrets: bound(ctx, listSecrets),
    listSecretVersionIds: bound(ctx, listSecretVersionIds),
    deleteSecret: bound(ctx, deleteSecret),
    restoreSecret: bound(ctx, restoreSecret),
    tagResource: bound(ctx, tagResource),
    untagResource: bound(ctx, untagResource),
    putResourcePolicy: bound(ctx, putResourcePolicy),
    getResourcePolicy: bound(ctx, getResourcePolicy),
    deleteResourcePolicy: bound(ctx, deleteResourcePolicy),
    validateResourcePolicy: bound(ctx, validateResourcePolicy),
    configureRotation: bound(ctx, configureRotation),
    claimScheduledRotation: bound(ctx, claimScheduledRotation),
    renewRotationClaim: bound(ctx, renewRotationClaim),
    recordRotation: bound(ctx, recordRotation),
    cancelRotateSecret: bound(ctx, cancelRotateSecret),
    replicateSecretToRegions: bound(ctx, replicateSecretToRegions),
    removeRegionsFromReplication: bound(ctx, removeRegionsFromReplication),
    stopReplicationToReplica: bound(ctx, stopReplicationToReplica),
    replicationStatusOf: bound(ctx, replicationStatusOf),
    purgeDue: bound(ctx, purgeDue),
    /** For the replication layer (docs/replication.md): a record as sent, the peer's answer, a record received. */
    remote: {
      snapshot: bound(ctx, remoteSnapshot),
      recordStatus: bound(ctx, recordRemoteStatus),
      prepareIncoming: bound(ctx, prepareIncomingReplica),
      isReplicaHere: bound(ctx, isIncomingReplicaHere),
    },
  };
}

export function accessDeniedForRotator(): TrentError {
  return new AccessDeniedException(
    'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.',
  );
}
