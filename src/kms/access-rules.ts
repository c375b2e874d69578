/**
 * What every KMS operation Trent routes is authorized as: its IAM action(s), its resource, and the
 * condition keys the request carries at run time. The one declared table for KMS: the edge's choke point
 * (src/http/kms/access-control.ts) refuses to start when a routed operation has no rule here, docs/iam.md's
 * table is generated from it, and the e2e suite (test/e2e/condition-keys.test.ts) proves each key listed
 * is really supplied — a Deny on it fires, an Allow on it permits.
 *
 * AWS: Service Authorization Reference, "Actions, resources, and condition keys for AWS Key Management
 * Service" (the copy in test/fixtures/aws-sar/kms.json). access-rules.test.ts fails when AWS documents a
 * key for an action that this table neither supplies nor lists in NOT_SUPPLIED with its reason.
 *
 * Where the decision is made:
 * - `resource: 'key'`: KeyService.resolveKey, once the key is resolved (an alias or a ciphertext blob
 *   names it, so only the service knows it), with the keys the service passes (`contextKeys`).
 * - `resource: '*'`: identity policies only, at the edge choke point before the operation runs, with the
 *   keys `requestKeys` reads from the request.
 */
import { type ContextValue, requestTagKeys } from '../policy/index.ts';

/** Keys every request carries (src/auth/authorizer.ts baseContext and policy/context.ts principalContextKeys). */
export const GLOBAL_KEYS = [
  'aws:CurrentTime', 'aws:EpochTime', 'aws:SourceIp', 'aws:SecureTransport', 'aws:UserAgent', 'aws:RequestedRegion',
  'aws:PrincipalArn', 'aws:PrincipalAccount', 'aws:PrincipalType', 'aws:userid', 'aws:username', 'aws:PrincipalTag/*',
] as const;

/**
 * Keys of the KMS key a key-scoped action is decided on (authorizer.authorize): AWS lists them on the
 * `key` resource type. kms:MultiRegionKeyType only for a multi-Region key; kms:ViaService only when
 * Secrets Manager or Parameter Store calls KMS for the caller.
 */
export const KEY_RESOURCE_KEYS = [
  'kms:CallerAccount', 'kms:KeySpec', 'kms:KeyUsage', 'kms:KeyOrigin', 'kms:MultiRegion', 'kms:MultiRegionKeyType',
  'aws:ResourceTag/*', 'kms:ResourceAliases', 'kms:ViaService',
] as const;

export interface KmsAccessRule {
  /** The IAM actions the operation needs (ReEncrypt: ReEncryptFrom on the source, ReEncryptTo on the destination). */
  readonly actions: readonly string[];
  readonly resource: 'key' | '*';
  /** The request's own condition keys (beyond GLOBAL_KEYS, and KEY_RESOURCE_KEYS for a key). */
  readonly conditionKeys: readonly string[];
  /** For `resource: '*'`: the request's condition keys, read from its members (malformed ones are left to the operation). */
  readonly requestKeys?: (input: Readonly<Record<string, unknown>>) => Record<string, ContextValue>;
  /**
   * The alias operations: also decided on the alias ARN, by identity policies alone (AWS: "Controlling
   * access to aliases"), in src/kms/alias-service.ts; UpdateAlias on the alias's current key as well.
   */
  readonly alsoOnAlias?: true;
}

const EC = ['kms:EncryptionContext:*', 'kms:EncryptionContextKeys'] as const;
const ALGORITHM_AND_EC = ['kms:EncryptionAlgorithm', ...EC, 'kms:RequestAlias'] as const;

function onKey(action: string, conditionKeys: readonly string[] = []): KmsAccessRule {
  return { actions: [`kms:${action}`], resource: 'key', conditionKeys };
}

function onNothing(action: string, requestKeys?: KmsAccessRule['requestKeys'], conditionKeys: readonly string[] = []): KmsAccessRule {
  // kms:CallerAccount is derived from the principal for every KMS decision.
  return { actions: [`kms:${action}`], resource: '*', conditionKeys: ['kms:CallerAccount', ...conditionKeys], ...(requestKeys ? { requestKeys } : {}) };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * AWS: CreateKey's keys are those of the key it would make, defaults included ("This type of condition
 * works even when the parameter doesn't appear in the request": KeySpec SYMMETRIC_DEFAULT, KeyUsage
 * ENCRYPT_DECRYPT, Origin AWS_KMS, MultiRegion false), and its request tags.
 */
function createKeyRequestKeys(input: Readonly<Record<string, unknown>>): Record<string, ContextValue> {
  const keys: Record<string, ContextValue> = {};
  const spec = input.KeySpec ?? input.CustomerMasterKeySpec;
  if (spec === undefined || spec === null) keys['kms:KeySpec'] = 'SYMMETRIC_DEFAULT';
  else if (str(spec)) keys['kms:KeySpec'] = spec as string;
  if (input.KeyUsage === undefined || input.KeyUsage === null) keys['kms:KeyUsage'] = spec === 'HMAC_224' || spec === 'HMAC_256' || spec === 'HMAC_384' || spec === 'HMAC_512' ? 'GENERATE_VERIFY_MAC' : 'ENCRYPT_DECRYPT';
  else if (str(input.KeyUsage)) keys['kms:KeyUsage'] = input.KeyUsage as string;
  if (input.Origin === undefined || input.Origin === null) keys['kms:KeyOrigin'] = 'AWS_KMS';
  else if (str(input.Origin)) keys['kms:KeyOrigin'] = input.Origin as string;
  const multiRegion = input.MultiRegion === true;
  if (input.MultiRegion === undefined || input.MultiRegion === null || typeof input.MultiRegion === 'boolean') keys['kms:MultiRegion'] = multiRegion;
  if (multiRegion) keys['kms:MultiRegionKeyType'] = 'PRIMARY';
  keys['kms:BypassPolicyLockoutSafetyCheck'] = input.BypassPolicyLockoutSafetyCheck === true;
  const tags = Array.isArray(input.Tags) ? (input.Tags as unknown[]).filter((t): t is { TagKey: string; TagValue: string } =>
    typeof t === 'object' && t !== null && typeof (t as { TagKey?: unknown }).TagKey === 'string' && typeof (t as { TagValue?: unknown }).TagValue === 'string') : [];
  Object.assign(keys, requestTagKeys(tags.map((t) => [t.TagKey, t.TagValue])));
  // AWS lists aws:ResourceTag for CreateKey: the tags the new key will carry.
  for (const t of tags) keys[`aws:ResourceTag/${t.TagKey}`] = t.TagValue;
  return keys;
}

const GRANT_KEYS = ['kms:GrantIsForAWSResource'] as const;

/** One rule per routed KMS operation (X-Amz-Target TrentService.<name>). */
export const KMS_ACCESS_RULES: Readonly<Record<string, KmsAccessRule>> = {
  CreateKey: onNothing('CreateKey', createKeyRequestKeys, [
    'kms:KeySpec', 'kms:KeyUsage', 'kms:KeyOrigin', 'kms:MultiRegion', 'kms:MultiRegionKeyType', 'kms:BypassPolicyLockoutSafetyCheck',
    'aws:RequestTag/*', 'aws:TagKeys', 'aws:ResourceTag/*',
  ]),
  ListKeys: onNothing('ListKeys'),
  ListAliases: onNothing('ListAliases'),
  GenerateRandom: onNothing('GenerateRandom'),
  ListRetirableGrants: onNothing('ListRetirableGrants'),
  CreateCustomKeyStore: onNothing('CreateCustomKeyStore'),
  DescribeCustomKeyStores: onNothing('DescribeCustomKeyStores'),
  ConnectCustomKeyStore: onNothing('ConnectCustomKeyStore'),
  DisconnectCustomKeyStore: onNothing('DisconnectCustomKeyStore'),
  DeleteCustomKeyStore: onNothing('DeleteCustomKeyStore'),
  UpdateCustomKeyStore: onNothing('UpdateCustomKeyStore'),

  DescribeKey: onKey('DescribeKey', ['kms:RequestAlias']),
  Encrypt: onKey('Encrypt', ALGORITHM_AND_EC),
  Decrypt: onKey('Decrypt', ALGORITHM_AND_EC),
  ReEncrypt: { actions: ['kms:ReEncryptFrom', 'kms:ReEncryptTo'], resource: 'key', conditionKeys: [...ALGORITHM_AND_EC, 'kms:ReEncryptOnSameKey'] },
  GenerateDataKey: onKey('GenerateDataKey', ALGORITHM_AND_EC),
  GenerateDataKeyWithoutPlaintext: onKey('GenerateDataKeyWithoutPlaintext', ALGORITHM_AND_EC),
  GenerateDataKeyPair: onKey('GenerateDataKeyPair', [...ALGORITHM_AND_EC, 'kms:DataKeyPairSpec']),
  GenerateDataKeyPairWithoutPlaintext: onKey('GenerateDataKeyPairWithoutPlaintext', [...ALGORITHM_AND_EC, 'kms:DataKeyPairSpec']),
  Sign: onKey('Sign', ['kms:SigningAlgorithm', 'kms:MessageType', 'kms:RequestAlias']),
  Verify: onKey('Verify', ['kms:SigningAlgorithm', 'kms:MessageType', 'kms:RequestAlias']),
  GetPublicKey: onKey('GetPublicKey', ['kms:RequestAlias']),
  GenerateMac: onKey('GenerateMac', ['kms:MacAlgorithm', 'kms:RequestAlias']),
  VerifyMac: onKey('VerifyMac', ['kms:MacAlgorithm', 'kms:RequestAlias']),
  DeriveSharedSecret: onKey('DeriveSharedSecret', ['kms:KeyAgreementAlgorithm', 'kms:RequestAlias']),

  EnableKey: onKey('EnableKey'),
  DisableKey: onKey('DisableKey'),
  ScheduleKeyDeletion: onKey('ScheduleKeyDeletion', ['kms:ScheduleKeyDeletionPendingWindowInDays']),
  CancelKeyDeletion: onKey('CancelKeyDeletion'),
  EnableKeyRotation: onKey('EnableKeyRotation', ['kms:RotationPeriodInDays']),
  DisableKeyRotation: onKey('DisableKeyRotation'),
  GetKeyRotationStatus: onKey('GetKeyRotationStatus'),
  RotateKeyOnDemand: onKey('RotateKeyOnDemand'),
  ListKeyRotations: onKey('ListKeyRotations'),
  GetParametersForImport: onKey('GetParametersForImport', ['kms:WrappingAlgorithm', 'kms:WrappingKeySpec']),
  ImportKeyMaterial: onKey('ImportKeyMaterial', ['kms:ExpirationModel', 'kms:ValidTo']),
  DeleteImportedKeyMaterial: onKey('DeleteImportedKeyMaterial'),
  CreateAlias: { ...onKey('CreateAlias'), alsoOnAlias: true },
  UpdateAlias: { ...onKey('UpdateAlias'), alsoOnAlias: true },
  DeleteAlias: { ...onKey('DeleteAlias'), alsoOnAlias: true },
  TagResource: onKey('TagResource', ['aws:RequestTag/*', 'aws:TagKeys']),
  UntagResource: onKey('UntagResource', ['aws:TagKeys']),
  ListResourceTags: onKey('ListResourceTags'),
  UpdateKeyDescription: onKey('UpdateKeyDescription'),
  GetKeyPolicy: onKey('GetKeyPolicy'),
  PutKeyPolicy: onKey('PutKeyPolicy', ['kms:BypassPolicyLockoutSafetyCheck']),
  ListKeyPolicies: onKey('ListKeyPolicies'),
  CreateGrant: onKey('CreateGrant', [
    ...EC, 'kms:GrantOperations', 'kms:GrantConstraintType', 'kms:GranteePrincipal', 'kms:RetiringPrincipal', ...GRANT_KEYS,
  ]),
  ListGrants: onKey('ListGrants', GRANT_KEYS),
  RevokeGrant: onKey('RevokeGrant', GRANT_KEYS),
  // AWS: RetireGrant is allowed to the grant's retiring principal (or its grantee when it lists
  // RetireGrant) before any policy; otherwise kms:RetireGrant on the key decides.
  RetireGrant: onKey('RetireGrant', [...EC, 'kms:GrantConstraintType']),
  // Its own action (AWS), not kms:DescribeKey.
  GetKeyLastUsage: onKey('GetKeyLastUsage'),
  // AWS: kms:ReplicateKey on the primary; the service also asks, in the replica region and by identity policy,
  // kms:CreateKey (with the new replica's kms:KeySpec, kms:MultiRegionKeyType REPLICA, tags, …) and, with Tags,
  // kms:TagResource (src/kms/multi-region.ts).
  ReplicateKey: onKey('ReplicateKey', ['kms:ReplicaRegion', 'aws:RequestTag/*', 'aws:TagKeys']),
  // AWS: kms:UpdatePrimaryRegion on the primary and on the replica that becomes primary, both with kms:PrimaryRegion.
  UpdatePrimaryRegion: onKey('UpdatePrimaryRegion', ['kms:PrimaryRegion']),
};

/**
 * Keys AWS documents for an action Trent serves that Trent never supplies, and why. access-rules.test.ts
 * accepts a documented key only when the table supplies it or it is listed here.
 */
export const NOT_SUPPLIED: Readonly<Record<string, string>> = {
  'kms:RecipientAttestation:*': 'Nitro Enclaves attestation: Trent accepts no Recipient parameter, so a request never carries one (AWS supplies the keys only with a Recipient).',
  'kms:GrantConstraintSourceArn': 'AWS supplies it only for grants made by AWS services for a source resource; Trent\'s services make no grants.',
  'kms:GranteeServicePrincipal': 'Trent grantees are IAM principals (ARNs); a service principal cannot be a grantee.',
  'kms:RetiringServicePrincipal': 'Trent retiring principals are IAM principals (ARNs); a service principal cannot be one.',
  'kms:TrailingDaysWithoutKeyUsage': 'Key usage tracking (AWS: DisableKey/ScheduleKeyDeletion guard) is not kept per key; GetKeyLastUsage reads the audit trail instead.',
  'kms:ViaService@CreateKey': 'Trent\'s services never call CreateKey for a caller (the alias/aws/* keys are made by the service itself); no CreateKey request carries it.',
};
