/**
 * Which request and response members an event records: an allow-list per operation, as CloudTrail shows
 * them (lowerCamelCase). Anything not listed is dropped; an operation not listed at all records only its
 * identifier members (ID_MEMBERS). A deny-list by name is applied on top, at every depth, so a mistake in
 * the allow-list still cannot log plaintext, data keys, private keys, secret values, signature inputs or
 * credentials.
 */

/** Identifier members every operation may log. */
const ID_MEMBERS = ['KeyId', 'TargetKeyId', 'SourceKeyId', 'DestinationKeyId', 'AliasName', 'GrantId', 'SecretId', 'Name'];
/** No members: one array, so compile()'s WeakMap finds it (a fresh `[]` per event was a new entry each time). */
const NO_MEMBERS: readonly string[] = [];

/**
 * Never logged, whatever an allow-list says (matched against every member name, at any depth). Policies
 * are not here: CloudTrail records key policies (PutKeyPolicy's `policy`) and resource policies, and an
 * auditor needs to see who was granted what.
 */
const DENY = /plaintext|ciphertext|secret(string|binary|accesskey)|sourceresult|password|keystorepassword|private|^message$|signature|^mac$|token|^value$|keymaterial|sessiontoken|credential|share/i;

interface Fields {
  readonly request?: readonly string[];
  readonly response?: readonly string[];
}

const KMS_CRYPTO = ['KeyId', 'EncryptionContext', 'EncryptionAlgorithm', 'DryRun'];
const KEY_METADATA = ['KeyMetadata.KeyId', 'KeyMetadata.Arn', 'KeyMetadata.KeyState', 'KeyMetadata.KeySpec', 'KeyMetadata.KeyUsage'];

/**
 * Every IAM event (query protocol) shows the entities it names, never a policy document, secret or tag
 * value (members of the form's flat encoding, so lists such as TagKeys.member.N are not shown).
 */
const IAM_FIELDS: Fields = {
  request: ['UserName', 'NewUserName', 'RoleName', 'GroupName', 'PolicyName', 'PolicyArn', 'AccessKeyId', 'Status', 'VersionId', 'SetAsDefault'],
  response: ['AccessKey.AccessKeyId', 'User.Arn', 'Role.Arn', 'Group.Arn', 'Policy.Arn'],
};

/** By eventSource, then operation name. AWS: the members CloudTrail shows for each KMS operation. */
const ALLOW: Readonly<Record<string, Readonly<Record<string, Fields>>>> = {
  // The seal endpoints (/v1/sys/*, src/http/operator/sys-routes.ts): the quorum asked for and the
  // attempt's progress; never a share (init and rekey answer with the new shares: not listed). The number
  // of shares asked for is not recorded either: its member is named `Shares`, like the shares themselves,
  // and DENY keeps every member so named out at any depth.
  'trent.amazonaws.com': {
    SysInit: { request: ['Threshold'], response: ['Threshold', 'RootKeyVersion'] },
    SysUnseal: { request: ['Nonce', 'Reset'], response: ['Sealed', 'Progress', 'Nonce'] },
    SysRekeyInit: { request: ['Threshold'], response: ['Nonce', 'Progress', 'Required'] },
    SysRekeyUpdate: { request: ['Nonce'], response: ['Nonce', 'Progress', 'Required', 'Complete', 'Threshold'] },
    // Linking a peer (docs/replication.md): who and where, never the link credential (DENY holds it out too).
    LinkPeer: { request: ['Name', 'Endpoint', 'Regions'], response: ['Link.LinkId', 'Link.Name', 'Link.Regions'] },
    UnlinkPeer: { request: ['Name', 'Force'], response: ['LinkId', 'DroppedRecords', 'CopiesInPeerRegions'] },
    RotatePeerCredential: { request: ['Name'], response: ['LinkId'] },
  },
  'kms.amazonaws.com': {
    CreateKey: {
      request: ['Description', 'KeyUsage', 'KeySpec', 'CustomerMasterKeySpec', 'Origin', 'CustomKeyStoreId', 'MultiRegion', 'BypassPolicyLockoutSafetyCheck', 'Tags', 'Policy'],
      response: KEY_METADATA,
    },
    DescribeKey: { request: ['KeyId'] },
    ListKeys: { request: ['Limit', 'Marker'] },
    Encrypt: { request: KMS_CRYPTO },
    Decrypt: { request: KMS_CRYPTO, response: ['KeyId', 'EncryptionAlgorithm'] },
    ReEncrypt: {
      request: ['SourceKeyId', 'DestinationKeyId', 'SourceEncryptionContext', 'DestinationEncryptionContext',
        'SourceEncryptionAlgorithm', 'DestinationEncryptionAlgorithm', 'DryRun'],
    },
    GenerateDataKey: { request: [...KMS_CRYPTO, 'KeySpec', 'NumberOfBytes'] },
    GenerateDataKeyWithoutPlaintext: { request: [...KMS_CRYPTO, 'KeySpec', 'NumberOfBytes'] },
    GenerateDataKeyPair: { request: [...KMS_CRYPTO, 'KeyPairSpec'] },
    GenerateDataKeyPairWithoutPlaintext: { request: [...KMS_CRYPTO, 'KeyPairSpec'] },
    GenerateRandom: { request: ['NumberOfBytes', 'CustomKeyStoreId'] },
    Sign: { request: ['KeyId', 'SigningAlgorithm', 'MessageType', 'DryRun'] },
    Verify: { request: ['KeyId', 'SigningAlgorithm', 'MessageType', 'DryRun'] },
    GenerateMac: { request: ['KeyId', 'MacAlgorithm', 'DryRun'] },
    VerifyMac: { request: ['KeyId', 'MacAlgorithm', 'DryRun'] },
    ScheduleKeyDeletion: { request: ['KeyId', 'PendingWindowInDays'], response: ['KeyId', 'DeletionDate', 'KeyState', 'PendingWindowInDays'] },
    CancelKeyDeletion: { request: ['KeyId'] },
    // AWS CloudTrail (ReplicateKey, UpdatePrimaryRegion examples): the replica's metadata and policy are shown.
    ReplicateKey: {
      request: ['KeyId', 'ReplicaRegion', 'Description', 'BypassPolicyLockoutSafetyCheck', 'Policy', 'Tags'],
      response: [...KEY_METADATA.map((m) => `Replica${m}`), 'ReplicaKeyMetadata.MultiRegionConfiguration', 'ReplicaPolicy'],
    },
    UpdatePrimaryRegion: { request: ['KeyId', 'PrimaryRegion'] },
    EnableKeyRotation: { request: ['KeyId', 'RotationPeriodInDays'] },
    // AWS CloudTrail: the import token, the public wrapping key and the wrapped material are never shown.
    GetParametersForImport: { request: ['KeyId', 'WrappingAlgorithm', 'WrappingKeySpec'], response: ['KeyId', 'ParametersValidTo'] },
    ImportKeyMaterial: { request: ['KeyId', 'ExpirationModel', 'ValidTo', 'ImportType'], response: ['KeyId'] },
    DeleteImportedKeyMaterial: { request: ['KeyId'], response: ['KeyId'] },
    // AWS CloudTrail: PutKeyPolicy records the policy document; GetKeyPolicy records no response.
    PutKeyPolicy: { request: ['KeyId', 'PolicyName', 'Policy', 'BypassPolicyLockoutSafetyCheck'] },
    GetKeyPolicy: { request: ['KeyId', 'PolicyName'] },
    ListKeyPolicies: { request: ['KeyId', 'Limit', 'Marker'] },
    CreateAlias: { request: ['AliasName', 'TargetKeyId'] },
    UpdateAlias: { request: ['AliasName', 'TargetKeyId'] },
    DeleteAlias: { request: ['AliasName'] },
    ListAliases: { request: ['KeyId', 'Limit', 'Marker'] },
    TagResource: { request: ['KeyId', 'Tags'] },
    UntagResource: { request: ['KeyId', 'TagKeys'] },
    UpdateKeyDescription: { request: ['KeyId', 'Description'] },
    CreateGrant: { request: ['KeyId', 'GranteePrincipal', 'RetiringPrincipal', 'Operations', 'Constraints', 'Name'], response: ['GrantId'] },
    // Custom key stores: never KeyStorePassword (also denied by name below).
    CreateCustomKeyStore: {
      request: ['CustomKeyStoreName', 'CustomKeyStoreType', 'CloudHsmClusterId', 'TrustAnchorCertificate'],
      response: ['CustomKeyStoreId'],
    },
    ConnectCustomKeyStore: { request: ['CustomKeyStoreId'] },
    DisconnectCustomKeyStore: { request: ['CustomKeyStoreId'] },
    DeleteCustomKeyStore: { request: ['CustomKeyStoreId'] },
    DescribeCustomKeyStores: { request: ['CustomKeyStoreId', 'CustomKeyStoreName', 'Limit', 'Marker'] },
    UpdateCustomKeyStore: { request: ['CustomKeyStoreId', 'NewCustomKeyStoreName', 'CloudHsmClusterId'] },
  },
  // Secrets Manager: identifiers, settings and resource policies; never SecretString/SecretBinary (denied
  // by name as well) nor ClientRequestToken (denied: "token").
  'secretsmanager.amazonaws.com': {
    CreateSecret: { request: ['Name', 'Description', 'KmsKeyId', 'Tags', 'AddReplicaRegions', 'ForceOverwriteReplicaSecret'], response: ['ARN', 'Name', 'VersionId', 'ReplicationStatus'] },
    ReplicateSecretToRegions: { request: ['SecretId', 'AddReplicaRegions', 'ForceOverwriteReplicaSecret'], response: ['ARN', 'ReplicationStatus'] },
    RemoveRegionsFromReplication: { request: ['SecretId', 'RemoveReplicaRegions'], response: ['ARN', 'ReplicationStatus'] },
    StopReplicationToReplica: { request: ['SecretId'], response: ['ARN'] },
    UpdateSecret: { request: ['SecretId', 'Description', 'KmsKeyId'], response: ['ARN', 'Name', 'VersionId'] },
    PutSecretValue: { request: ['SecretId', 'VersionStages'], response: ['ARN', 'Name', 'VersionId', 'VersionStages'] },
    GetSecretValue: { request: ['SecretId', 'VersionId', 'VersionStage'] },
    BatchGetSecretValue: { request: ['SecretIdList', 'Filters', 'MaxResults'] },
    DescribeSecret: { request: ['SecretId'] },
    DeleteSecret: { request: ['SecretId', 'RecoveryWindowInDays', 'ForceDeleteWithoutRecovery'], response: ['ARN', 'Name', 'DeletionDate'] },
    RestoreSecret: { request: ['SecretId'] },
    RotateSecret: { request: ['SecretId', 'RotationLambdaARN', 'RotationRules', 'RotateImmediately'], response: ['ARN', 'Name', 'VersionId'] },
    CancelRotateSecret: { request: ['SecretId'] },
    UpdateSecretVersionStage: { request: ['SecretId', 'VersionStage', 'MoveToVersionId', 'RemoveFromVersionId'] },
    ListSecretVersionIds: { request: ['SecretId', 'MaxResults', 'IncludeDeprecated'] },
    ListSecrets: { request: ['MaxResults', 'Filters', 'SortOrder', 'IncludePlannedDeletion'] },
    TagResource: { request: ['SecretId', 'Tags'] },
    UntagResource: { request: ['SecretId', 'TagKeys'] },
    PutResourcePolicy: { request: ['SecretId', 'ResourcePolicy', 'BlockPublicPolicy'], response: ['ARN', 'Name'] },
    ValidateResourcePolicy: { request: ['SecretId', 'ResourcePolicy'] },
    GetResourcePolicy: { request: ['SecretId'] },
    DeleteResourcePolicy: { request: ['SecretId'] },
    GetRandomPassword: { request: ['PasswordLength', 'ExcludeCharacters', 'ExcludeNumbers', 'ExcludePunctuation', 'ExcludeUppercase', 'ExcludeLowercase', 'IncludeSpace', 'RequireEachIncludedType'] },
  },
  // Parameter Store: parameter names (one, several, or a path) and settings; never Value (denied by name).
  'ssm.amazonaws.com': {
    PutParameter: { request: ['Name', 'Description', 'Type', 'KeyId', 'Overwrite', 'AllowedPattern', 'Tags', 'Tier', 'Policies', 'DataType'], response: ['Version', 'Tier'] },
    GetParameter: { request: ['Name', 'WithDecryption'] },
    GetParameters: { request: ['Names', 'WithDecryption'] },
    GetParametersByPath: { request: ['Path', 'Recursive', 'WithDecryption', 'ParameterFilters', 'MaxResults'] },
    GetParameterHistory: { request: ['Name', 'WithDecryption', 'MaxResults'] },
    DeleteParameter: { request: ['Name'] },
    DeleteParameters: { request: ['Names'], response: ['DeletedParameters', 'InvalidParameters'] },
    DescribeParameters: { request: ['Filters', 'ParameterFilters', 'MaxResults'] },
    LabelParameterVersion: { request: ['Name', 'ParameterVersion', 'Labels'] },
    UnlabelParameterVersion: { request: ['Name', 'ParameterVersion', 'Labels'] },
    AddTagsToResource: { request: ['ResourceType', 'ResourceId', 'Tags'] },
    RemoveTagsFromResource: { request: ['ResourceType', 'ResourceId', 'TagKeys'] },
    ListTagsForResource: { request: ['ResourceType', 'ResourceId'] },
  },
  'cloudtrail.amazonaws.com': {
    LookupEvents: { request: ['LookupAttributes', 'StartTime', 'EndTime', 'MaxResults', 'EventCategory'] },
  },
  'sts.amazonaws.com': {
    AssumeRole: {
      request: ['RoleArn', 'RoleSessionName', 'DurationSeconds', 'ExternalId', 'SourceIdentity'],
      response: ['AssumedRoleUser.Arn', 'AssumedRoleUser.AssumedRoleId', 'SourceIdentity'],
    },
    GetSessionToken: { request: ['DurationSeconds'] },
  },
};

function lowerCamel(name: string): string {
  return name.length === 0 ? name : name[0]!.toLowerCase() + name.slice(1);
}

/**
 * Drops denied member names at every depth. The copy lists its keys in canonical order (the audit
 * record's encoding, canonical-json.ts), whatever order the client sent them in.
 */
function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length > 1) keys.sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) if (!DENY.test(k)) out[k] = scrub(obj[k]);
  return out;
}

/** An allow-list path split once: its head and optional sub-member, their logged names, and whether DENY drops it. */
interface Path {
  head: string;
  sub: string | undefined;
  headName: string;
  subName: string;
  denied: boolean;
}
/**
 * Every event goes through pick(): its allow-list is split and tested against DENY once per list, not per
 * event, and ordered by logged name so that pick() writes its members in canonical order (canonical-json.ts).
 */
const compiled = new WeakMap<readonly string[], readonly Path[]>();
function compile(paths: readonly string[]): readonly Path[] {
  let c = compiled.get(paths);
  if (!c) {
    c = paths.map((path) => {
      const [head, sub] = path.split('.', 2) as [string, string | undefined];
      return { head, sub, headName: lowerCamel(head), subName: sub === undefined ? '' : lowerCamel(sub), denied: DENY.test(head) || (sub !== undefined && DENY.test(sub)) };
    }).sort((a, b) => (a.headName < b.headName ? -1 : a.headName > b.headName ? 1 : a.subName < b.subName ? -1 : a.subName > b.subName ? 1 : 0));
    compiled.set(paths, c);
  }
  return c;
}

function pick(source: Record<string, unknown> | undefined, paths: readonly string[]): Record<string, unknown> | null {
  if (!source) return null;
  const out: Record<string, unknown> = {};
  let any = false;
  for (const { head, sub, headName, subName, denied } of compile(paths)) {
    if (denied) continue;
    const v = source[head];
    if (v === undefined) continue;
    if (sub === undefined) {
      out[headName] = scrub(v);
      any = true;
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const inner = (v as Record<string, unknown>)[sub];
      if (inner === undefined) continue;
      const target = (out[headName] ??= {}) as Record<string, unknown>;
      target[subName] = scrub(inner);
      any = true;
    }
  }
  return any ? out : null;
}

/** requestParameters and responseElements for an event, per the allow-list. */
export function loggedMembers(
  eventSource: string,
  eventName: string,
  input: Record<string, unknown> | undefined,
  output: Record<string, unknown> | undefined,
): { requestParameters: Record<string, unknown> | null; responseElements: Record<string, unknown> | null } {
  const fields = eventSource === 'iam.amazonaws.com' ? IAM_FIELDS : ALLOW[eventSource]?.[eventName];
  return {
    requestParameters: pick(input, fields?.request ?? ID_MEMBERS),
    responseElements: pick(output, fields?.response ?? NO_MEMBERS),
  };
}
