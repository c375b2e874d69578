/**
 * What each Secrets Manager operation needs (AWS Service Authorization Reference, "Actions, resources,
 * and condition keys for AWS Secrets Manager"): `secretsmanager:<Operation>` on the secret, or on "*" for
 * ListSecrets, GetRandomPassword and BatchGetSecretValue (which also needs GetSecretValue on each secret,
 * checked per secret in the operation, and ListSecrets when it filters).
 *
 * Each rule reads its members with the operation's bounds and throws their ValidationException first
 * (when other members are also invalid, the message lists only the rule's members).
 *
 * The secret is looked up first so that its resource policy, tags and full ARN take part. AWS authorizes
 * before it looks for the secret, so a caller with no permission learns nothing: a secret that does not
 * exist is evaluated as its partial ARN (`…:secret:<name>`) with no resource policy — AccessDenied unless
 * an identity policy allows, then ResourceNotFoundException. The message names the SecretId as the caller
 * gave it (AWS, e.g. "…secretsmanager:GetSecretValue on resource: db-connection because no identity-based
 * policy allows the secretsmanager:GetSecretValue action").
 */
import type { Authorizer, ServiceResource } from '../../auth/authorizer.ts';
import { type Caller, callerScope } from '../../auth/caller.ts';
import { randomBytesBuffer } from '../../crypto/primitives.ts';
import { AccessDeniedException } from '../../errors/errors.ts';
import type { ContextValue } from '../../policy/index.ts';
import type { SecretService } from '../../secrets/secret-service.ts';
import { type AccessRule, anyResource, requestTagKeys, type ServiceAccess } from '../access-control.ts';
import { InputReader } from '../input.ts';
import { readSecretId, readTags } from './common.ts';

const SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** AWS: GetSecretValue and the writes answer this when KMS refuses the caller (recorded in client reports). */
export function kmsNotAllowed(): InstanceType<typeof AccessDeniedException> {
  return new AccessDeniedException('Access to KMS is not allowed');
}

/** Operations on one secret named by SecretId: `secretsmanager:<Operation>` on it. */
const SECRET_OPERATIONS = [
  'GetSecretValue', 'PutSecretValue', 'UpdateSecret', 'UpdateSecretVersionStage', 'DescribeSecret', 'ListSecretVersionIds',
  'DeleteSecret', 'RestoreSecret', 'TagResource', 'UntagResource', 'RotateSecret', 'CancelRotateSecret', 'PutResourcePolicy',
  'GetResourcePolicy', 'DeleteResourcePolicy', 'ReplicateSecretToRegions', 'RemoveRegionsFromReplication', 'StopReplicationToReplica',
] as const;

export function createSecretAccess(
  secrets: SecretService, authorizer: Authorizer, keyArnOf: (caller: Caller, keyId: string) => Promise<string | undefined>,
) {
  /** The secret a SecretId names, as the authorizer sees it (see the module comment for a missing one). */
  async function resourceOf(caller: Caller, secretId: string): Promise<ServiceResource> {
    const s = await secrets.find(caller, secretId);
    if (!s) {
      const scope = callerScope(caller);
      const arnAccount = /^arn:aws:secretsmanager:[^:]*:(\d{12}):secret:/.exec(secretId)?.[1];
      return {
        arn: secretId.startsWith('arn:') ? secretId : `arn:aws:secretsmanager:${scope.region}:${scope.accountId}:secret:${secretId}`,
        accountId: arnAccount ?? scope.accountId,
        contextKeys: { 'secretsmanager:SecretId': secretId },
        shownAs: secretId,
      };
    }
    // AWS: SecretPrimaryRegion is the region the secret was made in (Trent keeps no replicas, so its own);
    // resource/AllowRotationLambdaArn the rotation function the secret is configured with.
    const keys: Record<string, ContextValue> = { 'secretsmanager:SecretId': s.arn, 'secretsmanager:SecretPrimaryRegion': s.scope.region };
    if (s.doc.rotation.lambdaArn !== undefined) keys['secretsmanager:resource/AllowRotationLambdaArn'] = s.doc.rotation.lambdaArn;
    for (const t of s.doc.tags) {
      keys[`aws:ResourceTag/${t.Key}`] = t.Value;
      keys[`secretsmanager:ResourceTag/${t.Key}`] = t.Value;
    }
    return {
      arn: s.arn,
      accountId: s.scope.accountId,
      ...(s.doc.policy !== undefined ? { policyText: s.doc.policy } : {}),
      contextKeys: keys,
      shownAs: secretId,
    };
  }

  /**
   * secretsmanager:KmsKeyId as given and secretsmanager:KmsKeyArn, the ARN of the key it names (looked up,
   * not authorized: KMS decides the key's use when the operation encrypts). Absent when no key is named;
   * KmsKeyArn absent too when the name resolves to no key (the operation then fails on it).
   */
  async function kmsKeys(caller: Caller, kmsKeyId: string | undefined): Promise<Record<string, ContextValue>> {
    if (kmsKeyId === undefined) return {};
    const arn = await keyArnOf(caller, kmsKeyId);
    return { 'secretsmanager:KmsKeyId': kmsKeyId, ...(arn !== undefined ? { 'secretsmanager:KmsKeyArn': arn } : {}) };
  }

  /** Throws AccessDeniedException unless the caller may perform `action` on the secret `secretId`. */
  async function authorizeSecret(caller: Caller, action: string, secretId: string): Promise<void> {
    await authorizer.authorizeResource(caller, action, await resourceOf(caller, secretId));
  }

  function onSecret(operation: string, extraKeys?: (r: InputReader, input: Readonly<Record<string, unknown>>) => Record<string, ContextValue>): AccessRule {
    return async (input, caller) => {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const extra = extraKeys?.(r, input);
      r.done();
      const resource = await resourceOf(caller, secretId!);
      return [{ action: `secretsmanager:${operation}`, resource: extra ? { ...resource, contextKeys: { ...resource.contextKeys, ...extra } } : resource }];
    };
  }

  const rules: Record<string, AccessRule> = {};
  for (const op of SECRET_OPERATIONS) rules[op] = onSecret(op);
  // AWS condition keys of single requests.
  rules.GetSecretValue = onSecret('GetSecretValue', (r) => {
    const versionId = r.string('VersionId', { min: 32, max: 64 });
    const stage = r.string('VersionStage', { min: 1, max: 256 });
    return { ...(versionId !== undefined ? { 'secretsmanager:VersionId': versionId } : {}), ...(stage !== undefined ? { 'secretsmanager:VersionStage': stage } : {}) };
  });
  rules.PutResourcePolicy = onSecret('PutResourcePolicy', (r) => {
    const block = r.boolean('BlockPublicPolicy');
    return block !== undefined ? { 'secretsmanager:BlockPublicPolicy': block } : {};
  });
  rules.TagResource = onSecret('TagResource', (r) => requestTagKeys(readTags(r)));
  rules.UntagResource = onSecret('UntagResource', (r) => {
    const keys = r.stringList('TagKeys', { required: true, itemMax: 128 });
    return keys && keys.length > 0 ? { 'aws:TagKeys': keys } : {};
  });
  rules.DeleteSecret = onSecret('DeleteSecret', (r) => {
    const days = r.integer('RecoveryWindowInDays');
    const force = r.boolean('ForceDeleteWithoutRecovery');
    return {
      ...(days !== undefined ? { 'secretsmanager:RecoveryWindowInDays': days } : {}),
      ...(force !== undefined ? { 'secretsmanager:ForceDeleteWithoutRecovery': force } : {}),
    };
  });
  rules.RotateSecret = onSecret('RotateSecret', (r, input) => {
    const lambda = r.string('RotationLambdaARN', { max: 2048 });
    const immediately = r.boolean('RotateImmediately');
    return {
      ...(lambda !== undefined ? { 'secretsmanager:RotationLambdaARN': lambda } : {}),
      // AWS: RotateImmediately defaults to true; ModifyRotationRules is whether the request sets RotationRules.
      'secretsmanager:RotateImmediately': immediately ?? true,
      'secretsmanager:ModifyRotationRules': input.RotationRules !== undefined && input.RotationRules !== null,
    };
  });
  rules.UpdateSecretVersionStage = onSecret('UpdateSecretVersionStage', (r) => {
    const stage = r.string('VersionStage', { required: true, min: 1, max: 256 });
    return stage !== undefined ? { 'secretsmanager:VersionStage': stage } : {};
  });
  rules.UpdateSecret = async (input, caller) => {
    const r = new InputReader(input);
    const secretId = readSecretId(r);
    const description = r.string('Description', { max: 2048 });
    const kmsKeyId = r.string('KmsKeyId', { max: 2048 });
    r.done();
    const resource = await resourceOf(caller, secretId!);
    return [{
      action: 'secretsmanager:UpdateSecret',
      resource: { ...resource, contextKeys: { ...resource.contextKeys, ...(description !== undefined ? { 'secretsmanager:Description': description } : {}), ...(await kmsKeys(caller, kmsKeyId)) } },
    }];
  };

  /**
   * AWS: CreateSecret is authorized on the ARN the secret will have (its 6-character suffix is random, so
   * `secret:name-??????` policies match), with secretsmanager:Name, Description, KmsKeyId and the request tags.
   */
  rules.CreateSecret = async (input, caller) => {
    const r = new InputReader(input);
    const name = r.string('Name', { required: true, min: 1, max: 512 })!;
    const description = r.string('Description', { max: 2048 });
    const kmsKeyId = r.string('KmsKeyId', { max: 2048 });
    const tags = readTags(r);
    r.done();
    const scope = callerScope(caller);
    const suffix = [...randomBytesBuffer(6)].map((b) => SUFFIX_CHARS[b % SUFFIX_CHARS.length]).join('');
    return [{
      action: 'secretsmanager:CreateSecret',
      resource: {
        arn: `arn:aws:secretsmanager:${scope.region}:${scope.accountId}:secret:${name}-${suffix}`,
        accountId: scope.accountId,
        contextKeys: {
          'secretsmanager:Name': name,
          ...(description !== undefined ? { 'secretsmanager:Description': description } : {}),
          ...(await kmsKeys(caller, kmsKeyId)),
          ...requestTagKeys(tags),
          // AWS lists the resource tags for CreateSecret too: those the new secret will carry.
          ...Object.fromEntries((tags ?? []).flatMap((t) => [[`aws:ResourceTag/${t.Key}`, t.Value], [`secretsmanager:ResourceTag/${t.Key}`, t.Value]])),
        },
        shownAs: name,
      },
    }];
  };

  // AWS: these have no resource. ListSecrets' message has no "on resource" part.
  rules.ListSecrets = async (_input, caller) => [{ action: 'secretsmanager:ListSecrets', resource: anyResource(caller, null) }];
  rules.GetRandomPassword = async (_input, caller) => [{ action: 'secretsmanager:GetRandomPassword', resource: anyResource(caller) }];
  rules.BatchGetSecretValue = async (input, caller) => {
    const checks = [{ action: 'secretsmanager:BatchGetSecretValue', resource: anyResource(caller) }];
    // AWS: with Filters the batch lists secrets, which needs secretsmanager:ListSecrets too.
    if (input.Filters !== undefined && input.Filters !== null) checks.push({ action: 'secretsmanager:ListSecrets', resource: anyResource(caller, null) });
    return checks;
  };
  /** AWS: ValidateResourcePolicy needs ValidateResourcePolicy and PutResourcePolicy (on the secret, when named). */
  rules.ValidateResourcePolicy = async (input, caller) => {
    const r = new InputReader(input);
    const secretId = r.string('SecretId', { min: 1, max: 2048 });
    r.done();
    const resource = secretId !== undefined ? await resourceOf(caller, secretId) : anyResource(caller);
    return [
      { action: 'secretsmanager:ValidateResourcePolicy', resource },
      { action: 'secretsmanager:PutResourcePolicy', resource },
    ];
  };

  const access: ServiceAccess = {
    viaService: 'secretsmanager',
    rules,
    kmsDenied: () => kmsNotAllowed(),
  };
  return { access, authorizeSecret };
}
