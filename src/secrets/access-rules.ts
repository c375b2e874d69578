/**
 * What each Secrets Manager operation needs (AWS Service Authorization Reference, "Actions, resources,
 * and condition keys for AWS Secrets Manager"): `secretsmanager:<Operation>` on the secret, or on "*" for
 * ListSecrets, GetRandomPassword and BatchGetSecretValue (which also needs GetSecretValue on each secret,
 * and ListSecrets when it filters). The keys each action carries are declared in access-keys.ts; the rules
 * work from the typed request (requests.ts), read and validated once at the edge.
 *
 * Where it is decided:
 * - On a secret: by SecretService where it resolves the secret the request names (SECRET_ACCESS: the
 *   action and the request's own keys), so the lookup that authorizes is the one the operation then uses.
 *   The secret's resource policy, tags and full ARN take part (secretResource). AWS authorizes before it
 *   looks for the secret, so a caller with no permission learns nothing: a secret that does not exist is
 *   evaluated as its partial ARN (`…:secret:<name>`) with no resource policy — AccessDenied unless an
 *   identity policy allows, then ResourceNotFoundException. The message names the SecretId as the caller
 *   gave it (AWS, e.g. "…secretsmanager:GetSecretValue on resource: db-connection because no
 *   identity-based policy allows the secretsmanager:GetSecretValue action").
 * - On "*": by the edge's choke point (src/http/access-control.ts) before the operation runs
 *   (SECRETS_MANAGER_ACCESS_RULES, which has a rule for every routed operation).
 */
import type { ServiceResource } from '../auth/authorizer.ts';
import { type Caller, callerScope } from '../auth/caller.ts';
import { type AccessCheck, type AccessRule, type AccessRules, anyResource, serviceRequestTagKeys } from '../auth/service-access.ts';
import type { ContextValue } from '../policy/index.ts';
import type { SecretsManagerRequests as Requests } from './requests.ts';
import { parseSecretArn, secretArn } from './secret-arn.ts';
import type { Secret } from './secret-context.ts';

/** What a request needs on the secret it names: the IAM action(s) and the condition keys of the request itself. */
export interface SecretAccess {
  readonly actions: readonly string[];
  readonly requestKeys?: Readonly<Record<string, ContextValue>>;
}

function on(operation: string, requestKeys: Record<string, ContextValue> = {}): SecretAccess {
  return { actions: [`secretsmanager:${operation}`], requestKeys };
}

/**
 * The secret a SecretId names as the authorizer sees it, with the request's keys: the secret as found or,
 * when none is, its partial ARN in the account the SecretId names (see the module comment).
 */
export function secretResource(caller: Caller, secretId: string, found: Secret | undefined, requestKeys: SecretAccess['requestKeys'] = {}): ServiceResource {
  if (!found) {
    const scope = callerScope(caller);
    return {
      arn: secretId.startsWith('arn:') ? secretId : secretArn(scope, secretId),
      accountId: parseSecretArn(secretId)?.accountId ?? scope.accountId,
      contextKeys: { 'secretsmanager:SecretId': secretId, ...requestKeys },
      shownAs: secretId,
    };
  }
  // AWS: SecretPrimaryRegion is the region of the secret's primary (a replica's primary, else its own);
  // resource/AllowRotationLambdaArn the rotation function the secret is configured with.
  const keys: Record<string, ContextValue> = { 'secretsmanager:SecretId': found.arn, 'secretsmanager:SecretPrimaryRegion': found.doc.primaryRegion ?? found.scope.region };
  if (found.doc.rotation.lambdaArn !== undefined) keys['secretsmanager:resource/AllowRotationLambdaArn'] = found.doc.rotation.lambdaArn;
  for (const t of found.doc.tags) {
    keys[`aws:ResourceTag/${t.Key}`] = t.Value;
    keys[`secretsmanager:ResourceTag/${t.Key}`] = t.Value;
  }
  return {
    arn: found.arn,
    accountId: found.scope.accountId,
    ...(found.doc.policy !== undefined ? { policyText: found.doc.policy } : {}),
    contextKeys: { ...keys, ...requestKeys },
    shownAs: secretId,
  };
}

/**
 * secretsmanager:KmsKeyId as given and secretsmanager:KmsKeyArn, the ARN of the key it names (looked up,
 * not authorized: KMS decides the key's use when the operation encrypts). Absent when no key is named;
 * KmsKeyArn absent too when the name resolves to no key (the operation then fails on it).
 */
function kmsKeyKeys(kmsKeyId: string | undefined, kmsKeyArn: string | undefined): Record<string, ContextValue> {
  if (kmsKeyId === undefined) return {};
  return { 'secretsmanager:KmsKeyId': kmsKeyId, ...(kmsKeyArn !== undefined ? { 'secretsmanager:KmsKeyArn': kmsKeyArn } : {}) };
}

/**
 * AWS: CreateSecret is authorized on the ARN the secret will have (its 6-character suffix is random, so
 * `secret:name-??????` policies match), with secretsmanager:Name, Description, KmsKeyId and the request tags.
 */
export function createSecretCheck(arn: string, accountId: string, r: Requests['CreateSecret'], kmsKeyArn: string | undefined): AccessCheck {
  return {
    action: 'secretsmanager:CreateSecret',
    resource: {
      arn,
      accountId,
      contextKeys: {
        'secretsmanager:Name': r.name,
        ...(r.description !== undefined ? { 'secretsmanager:Description': r.description } : {}),
        ...kmsKeyKeys(r.kmsKeyId, kmsKeyArn),
        ...replicaKeys(r.addReplicaRegions, r.forceOverwrite),
        ...serviceRequestTagKeys(r.tags),
        // AWS lists the resource tags for CreateSecret too: those the new secret will carry.
        ...Object.fromEntries((r.tags ?? []).flatMap((t) => [[`aws:ResourceTag/${t.Key}`, t.Value], [`secretsmanager:ResourceTag/${t.Key}`, t.Value]])),
      },
      shownAs: r.name,
    },
  };
}

/** secretsmanager:AddReplicaRegions (the regions named) and secretsmanager:ForceOverwriteReplicaSecret, when given. */
function replicaKeys(regions: readonly { Region: string }[] | undefined, force: boolean | undefined): Record<string, ContextValue> {
  return {
    ...(regions !== undefined ? { 'secretsmanager:AddReplicaRegions': regions.map((r) => r.Region) } : {}),
    ...(force !== undefined ? { 'secretsmanager:ForceOverwriteReplicaSecret': force } : {}),
  };
}

/**
 * AWS: CreateSecret with AddReplicaRegions also needs secretsmanager:ReplicateSecretToRegions (CreateSecret,
 * "Required permissions"), decided on the same ARN; undefined when the request names no replica region.
 */
export function replicateOnCreateCheck(arn: string, accountId: string, r: Requests['CreateSecret']): AccessCheck | undefined {
  if (r.addReplicaRegions === undefined) return undefined;
  return {
    action: 'secretsmanager:ReplicateSecretToRegions',
    resource: { arn, accountId, contextKeys: replicaKeys(r.addReplicaRegions, r.forceOverwrite), shownAs: r.name },
  };
}

/** What each operation on one secret needs (decided by SecretService on the secret it resolves), from its typed request. */
export const SECRET_ACCESS = {
  GetSecretValue: (r: Requests['GetSecretValue']) => on('GetSecretValue', {
    ...(r.versionId !== undefined ? { 'secretsmanager:VersionId': r.versionId } : {}),
    ...(r.versionStage !== undefined ? { 'secretsmanager:VersionStage': r.versionStage } : {}),
  }),
  PutSecretValue: () => on('PutSecretValue'),
  UpdateSecret: (r: Requests['UpdateSecret'], kmsKeyArn: string | undefined) => on('UpdateSecret', {
    ...(r.description !== undefined ? { 'secretsmanager:Description': r.description } : {}),
    ...kmsKeyKeys(r.kmsKeyId, kmsKeyArn),
  }),
  UpdateSecretVersionStage: (r: Requests['UpdateSecretVersionStage']) => on('UpdateSecretVersionStage', { 'secretsmanager:VersionStage': r.stage }),
  DescribeSecret: () => on('DescribeSecret'),
  ListSecretVersionIds: () => on('ListSecretVersionIds'),
  DeleteSecret: (r: Requests['DeleteSecret']) => on('DeleteSecret', {
    ...(r.recoveryWindowInDays !== undefined ? { 'secretsmanager:RecoveryWindowInDays': r.recoveryWindowInDays } : {}),
    ...(r.force !== undefined ? { 'secretsmanager:ForceDeleteWithoutRecovery': r.force } : {}),
  }),
  RestoreSecret: () => on('RestoreSecret'),
  TagResource: (r: Requests['TagResource']) => on('TagResource', serviceRequestTagKeys(r.tags)),
  UntagResource: (r: Requests['UntagResource']) => on('UntagResource', r.tagKeys.length > 0 ? { 'aws:TagKeys': r.tagKeys } : {}),
  RotateSecret: (r: Requests['RotateSecret']) => on('RotateSecret', {
    ...(r.lambdaArn !== undefined ? { 'secretsmanager:RotationLambdaARN': r.lambdaArn } : {}),
    // AWS: RotateImmediately defaults to true; ModifyRotationRules is whether the request sets RotationRules.
    'secretsmanager:RotateImmediately': r.rotateImmediately ?? true,
    'secretsmanager:ModifyRotationRules': r.rules !== undefined,
  }),
  CancelRotateSecret: () => on('CancelRotateSecret'),
  PutResourcePolicy: (r: Requests['PutResourcePolicy']) => on('PutResourcePolicy', r.blockPublicPolicy !== undefined ? { 'secretsmanager:BlockPublicPolicy': r.blockPublicPolicy } : {}),
  GetResourcePolicy: () => on('GetResourcePolicy'),
  DeleteResourcePolicy: () => on('DeleteResourcePolicy'),
  /** AWS: ValidateResourcePolicy needs ValidateResourcePolicy and PutResourcePolicy (on the secret, when named; else on "*"). */
  ValidateResourcePolicy: (): SecretAccess => ({ actions: ['secretsmanager:ValidateResourcePolicy', 'secretsmanager:PutResourcePolicy'] }),
  // AWS: the KMS keys (kms:Decrypt of the primary's, kms:GenerateDataKey of each replica's) are KMS's to decide when used.
  ReplicateSecretToRegions: (r: Requests['ReplicateSecretToRegions']) => on('ReplicateSecretToRegions', replicaKeys(r.addReplicaRegions, r.forceOverwrite)),
  RemoveRegionsFromReplication: () => on('RemoveRegionsFromReplication'),
  StopReplicationToReplica: () => on('StopReplicationToReplica'),
} as const;

/** Nothing to decide before the operation runs: SecretService decides on the secret once it has looked it up (SECRET_ACCESS). */
const onTheSecret: AccessRule<unknown> = async () => [];

/** The edge's rule of every routed operation (its choke point refuses to start without one). */
export const SECRETS_MANAGER_ACCESS_RULES: AccessRules<Requests> = {
  CreateSecret: onTheSecret,
  GetSecretValue: onTheSecret,
  PutSecretValue: onTheSecret,
  UpdateSecret: onTheSecret,
  UpdateSecretVersionStage: onTheSecret,
  DescribeSecret: onTheSecret,
  ListSecretVersionIds: onTheSecret,
  DeleteSecret: onTheSecret,
  RestoreSecret: onTheSecret,
  TagResource: onTheSecret,
  UntagResource: onTheSecret,
  RotateSecret: onTheSecret,
  CancelRotateSecret: onTheSecret,
  PutResourcePolicy: onTheSecret,
  GetResourcePolicy: onTheSecret,
  DeleteResourcePolicy: onTheSecret,
  ValidateResourcePolicy: onTheSecret,
  ReplicateSecretToRegions: onTheSecret,
  RemoveRegionsFromReplication: onTheSecret,
  StopReplicationToReplica: onTheSecret,
  // AWS: these have no resource. ListSecrets' message has no "on resource" part.
  ListSecrets: async (_request, caller) => [{ action: 'secretsmanager:ListSecrets', resource: anyResource(caller, null) }],
  GetRandomPassword: async (_request, caller) => [{ action: 'secretsmanager:GetRandomPassword', resource: anyResource(caller) }],
  BatchGetSecretValue: async (request, caller) => [
    { action: 'secretsmanager:BatchGetSecretValue', resource: anyResource(caller) },
    // AWS: with Filters the batch lists secrets, which needs secretsmanager:ListSecrets too.
    ...(request.filters !== undefined ? [{ action: 'secretsmanager:ListSecrets', resource: anyResource(caller, null) }] : []),
  ],
};
