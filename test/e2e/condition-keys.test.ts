/**
 * Every condition key the server declares it supplies (src/kms/access-rules.ts, src/secrets/access-keys.ts,
 * src/parameters/access-keys.ts) is really carried by the requests, end to end: through the real server
 * and the AWS SDK v3, a user whose identity policy Denies the call on the key's value is refused, one whose
 * policy Allows it only for that value is let through, and one allowed only for another value is refused.
 * Multi-valued keys are also tried in their ForAnyValue / ForAllValues / StringNotEquals / …IfExists forms.
 *
 * Driven from the tables: a key a table lists with no scenario below fails the coverage test, so a key
 * added to a table without being supplied (a Deny that would fail open) cannot go unnoticed.
 *
 * One user ("subject") is re-policied before each call (PutUserPolicy is seen at once on the node that
 * wrote it); the keys it uses carry AWS's default key policy, so identity policies decide.
 */
import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CancelKeyDeletionCommand, ConnectCustomKeyStoreCommand, CreateAliasCommand, CreateCustomKeyStoreCommand, CreateGrantCommand, CreateKeyCommand,
  DecryptCommand, DeleteCustomKeyStoreCommand, DeriveSharedSecretCommand, DescribeCustomKeyStoresCommand, DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand, EnableKeyCommand, EnableKeyRotationCommand, EncryptCommand, GenerateDataKeyCommand,
  GenerateDataKeyPairCommand, GenerateDataKeyPairWithoutPlaintextCommand, GenerateDataKeyWithoutPlaintextCommand, GenerateMacCommand,
  GenerateRandomCommand, GetKeyPolicyCommand, GetParametersForImportCommand, GetPublicKeyCommand, ImportKeyMaterialCommand, type KMSClient,
  ListAliasesCommand, ListGrantsCommand, ListKeysCommand, ListRetirableGrantsCommand, PutKeyPolicyCommand, ReEncryptCommand, RetireGrantCommand,
  ReplicateKeyCommand, RevokeGrantCommand, ScheduleKeyDeletionCommand, SignCommand, TagResourceCommand, UntagResourceCommand, UpdateCustomKeyStoreCommand, UpdatePrimaryRegionCommand,
  VerifyCommand, VerifyMacCommand,
} from '@aws-sdk/client-kms';
import {
  CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutResourcePolicyCommand,
  RemoveRegionsFromReplicationCommand, ReplicateSecretToRegionsCommand, RestoreSecretCommand, RotateSecretCommand, SecretsManagerClient, TagResourceCommand as SmTagResourceCommand, UntagResourceCommand as SmUntagResourceCommand,
  UpdateSecretCommand, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  AddTagsToResourceCommand, DeleteParameterCommand, GetParameterCommand, GetParametersByPathCommand, PutParameterCommand,
  RemoveTagsFromResourceCommand, SSMClient,
} from '@aws-sdk/client-ssm';
import { ADMIN_ACCESS_RULES } from '../../src/auth/admin-access-rules.ts';
import { IAM_ACCESS_RULES, STS_ACCESS_RULES } from '../../src/auth/iam-access-rules.ts';
import { GLOBAL_KEYS, KEY_RESOURCE_KEYS, KMS_ACCESS_RULES } from '../../src/kms/access-rules.ts';
import { PARAMETER_RESOURCE_KEYS, PARAMETER_STORE_ACTION_KEYS } from '../../src/parameters/access-keys.ts';
import { SECRET_RESOURCE_KEYS, SECRETS_MANAGER_ACTION_KEYS } from '../../src/secrets/access-keys.ts';
import { ACCOUNT_ID, ADMIN, queryCall, rawCall, REGION, startServer, type TestServer } from './harness.ts';
import { principals, type Credentials } from './principals.ts';

type Value = string | number | boolean | readonly string[];
/** How a policy tests the key: the operator and value that match the request, and a value that does not. */
interface Cond { op: string; value: Value; otherOp?: string; other: Value }
interface Carried { value?: Value; cond?: Cond; actions?: readonly string[] }

interface Scenario {
  /** The table entry it proves: a KMS operation, or a Secrets Manager / Parameter Store action. */
  readonly service: 'kms' | 'secretsmanager' | 'ssm' | 'trent' | 'iam' | 'sts';
  readonly op: string;
  /** The IAM actions the call is decided as (the keys apply to these unless a key names its own). */
  readonly actions: readonly string[];
  /** Other actions the call needs, allowed without condition (KMS through the service, …). */
  readonly extra?: readonly string[];
  /** Concrete key → the value the request carries. */
  readonly carries: Readonly<Record<string, Value | Carried>>;
  call(): Promise<unknown>;
  /** Undoes what an allowed call changed (idempotent; runs after every form). */
  cleanup?(): Promise<void>;
  /** 'not-denied': the call is allowed through but fails afterwards for its own reasons (no HSM is configured). */
  readonly outcome?: 'ok' | 'not-denied';
}

let server: TestServer;
let subjectCreds: Credentials;
let kms: KMSClient;
let kmsAdmin: KMSClient;
/** The subject's client in the region multi-Region keys are replicated to. */
let kmsReplicaRegion: KMSClient;
const REPLICA_REGION = 'eu-west-1';
let sm: SecretsManagerClient;
let smAdmin: SecretsManagerClient;
let ssm: SSMClient;
let ssmAdmin: SSMClient;
let putPolicy: (policy: Record<string, unknown>) => Promise<void>;

const SUBJECT_ARN = `arn:aws:iam::${ACCOUNT_ID}:user/subject`;
const ADMIN_ARN = `arn:aws:iam::${ACCOUNT_ID}:user/admin`;
const EC = { app: 'ck' };
const MATERIAL = Buffer.alloc(32, 7);
const VALID_TO = new Date(Math.floor(Date.now() / 1000 + 365 * 86400) * 1000);
// A webhook rotator the operator listed (TRENT_ROTATORS); RotateImmediately false, so it is never called.
const WEBHOOK = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:ck-rotator`;
const ROTATORS = JSON.stringify({ 'ck-rotator': { url: 'https://127.0.0.1:9/rotate', secret: 'condition-keys-rotator-secret-0123456789' } });

const k: Record<string, string> = {}; // key ARNs made in before()
let blob: Uint8Array;
let signature: Uint8Array;
let mac: Uint8Array;
let peerPublicKey: Uint8Array;
let versionId: string;
let secretArn: string;
let rotatingSecretArn: string;
let ckUserKeyId: string;

async function newKey(input: ConstructorParameters<typeof CreateKeyCommand>[0] = {}): Promise<string> {
  return (await kmsAdmin.send(new CreateKeyCommand(input))).KeyMetadata!.Arn!;
}

async function adminGrant(constraints?: { EncryptionContextEquals: Record<string, string> }): Promise<string> {
  return (await kmsAdmin.send(new CreateGrantCommand({
    KeyId: k.main, GranteePrincipal: ADMIN_ARN, Operations: ['Decrypt'], ...(constraints ? { Constraints: constraints } : {}),
  }))).GrantId!;
}

const ignore = async (p: Promise<unknown>) => { await p.catch(() => undefined); };

function kmsOp(op: string, carries: Scenario['carries'], call: () => Promise<unknown>, more: Partial<Scenario> = {}): Scenario {
  return { service: 'kms', op, actions: KMS_ACCESS_RULES[op]!.actions, carries, call, ...more };
}

const ALIAS = 'alias/ck-main';
const ecKeys = { 'kms:EncryptionContext:app': 'ck', 'kms:EncryptionContextKeys': ['app'] } as const;
const callerAccount = { 'kms:CallerAccount': ACCOUNT_ID };

function scenarios(): Scenario[] {
  const symmetric = { 'kms:EncryptionAlgorithm': 'SYMMETRIC_DEFAULT', ...ecKeys, 'kms:RequestAlias': ALIAS };
  return [
    // Keys of every request and of the key: one representative call each.
    kmsOp('ListKeys', {
      ...callerAccount,
      'aws:CurrentTime': { cond: { op: 'DateGreaterThan', value: '2000-01-01T00:00:00Z', otherOp: 'DateLessThan', other: '2000-01-01T00:00:00Z' } },
      'aws:EpochTime': { cond: { op: 'NumericGreaterThan', value: 946684800, otherOp: 'NumericLessThan', other: 946684800 } },
      'aws:SourceIp': { cond: { op: 'IpAddress', value: '127.0.0.1/32', other: '10.0.0.0/8' } },
      'aws:SecureTransport': false,
      'aws:UserAgent': { cond: { op: 'StringLike', value: '*aws-sdk-js*', other: 'zz-none*' } },
      'aws:RequestedRegion': REGION,
      'aws:PrincipalArn': SUBJECT_ARN,
      'aws:PrincipalAccount': ACCOUNT_ID,
      'aws:PrincipalType': 'User',
      'aws:userid': { cond: { op: 'StringLike', value: 'AKIA*', other: 'zz-none*' } },
      'aws:username': 'subject',
      'aws:PrincipalTag/team': 'blue',
    }, () => kms.send(new ListKeysCommand({}))),
    kmsOp('DescribeKey', {
      'kms:RequestAlias': ALIAS, 'kms:KeySpec': 'SYMMETRIC_DEFAULT', 'kms:KeyUsage': 'ENCRYPT_DECRYPT', 'kms:KeyOrigin': 'AWS_KMS',
      'kms:MultiRegion': false, 'aws:ResourceTag/team': 'blue', 'kms:ResourceAliases': [ALIAS], 'kms:CallerAccount': ACCOUNT_ID,
    }, () => kms.send(new DescribeKeyCommand({ KeyId: ALIAS }))),
    kmsOp('DescribeKey', { 'kms:MultiRegion': true, 'kms:MultiRegionKeyType': 'PRIMARY' }, () => kms.send(new DescribeKeyCommand({ KeyId: k.multi }))),
    // kms:ViaService: Secrets Manager decrypting for the caller.
    {
      service: 'secretsmanager', op: 'kms:ViaService', actions: ['kms:Decrypt'], extra: ['secretsmanager:GetSecretValue'],
      carries: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` },
      call: () => sm.send(new GetSecretValueCommand({ SecretId: 'ck/secret' })),
    },

    // With Tags, CreateKey needs kms:TagResource too (AWS CreateKey, "Required permissions").
    kmsOp('CreateKey', {
      ...callerAccount, 'kms:KeySpec': 'ECC_NIST_P256', 'kms:KeyUsage': 'SIGN_VERIFY', 'kms:KeyOrigin': 'AWS_KMS', 'kms:MultiRegion': false,
      'kms:BypassPolicyLockoutSafetyCheck': false, 'aws:RequestTag/env': 'ck', 'aws:TagKeys': ['env'], 'aws:ResourceTag/env': 'ck',
    }, () => kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Tags: [{ TagKey: 'env', TagValue: 'ck' }] })), { extra: ['kms:TagResource'] }),
    kmsOp('CreateKey', { 'kms:MultiRegion': true, 'kms:MultiRegionKeyType': 'PRIMARY', 'kms:KeySpec': 'SYMMETRIC_DEFAULT' },
      () => kms.send(new CreateKeyCommand({ MultiRegion: true }))),
    // Multi-Region keys: a replica's type; ReplicateKey (which also needs kms:CreateKey, and kms:TagResource for its
    // Tags, in the replica region) and UpdatePrimaryRegion (decided on both keys), each on a fresh primary.
    kmsOp('DescribeKey', { 'kms:MultiRegionKeyType': 'REPLICA' }, () => kmsReplicaRegion.send(new DescribeKeyCommand({ KeyId: k.multi!.split('/').pop()! }))),
    kmsOp('ReplicateKey', { 'kms:ReplicaRegion': REPLICA_REGION, 'aws:RequestTag/env': 'ck', 'aws:TagKeys': ['env'] }, async () => {
      const primary = await newKey({ MultiRegion: true });
      return kms.send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: REPLICA_REGION, Tags: [{ TagKey: 'env', TagValue: 'ck' }] }));
    }, { extra: ['kms:CreateKey', 'kms:TagResource'] }),
    kmsOp('UpdatePrimaryRegion', { 'kms:PrimaryRegion': REPLICA_REGION }, async () => {
      const primary = await newKey({ MultiRegion: true });
      await kmsAdmin.send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: REPLICA_REGION }));
      return kms.send(new UpdatePrimaryRegionCommand({ KeyId: primary, PrimaryRegion: REPLICA_REGION }));
    }),
    kmsOp('ListAliases', callerAccount, () => kms.send(new ListAliasesCommand({}))),
    kmsOp('GenerateRandom', callerAccount, () => kms.send(new GenerateRandomCommand({ NumberOfBytes: 16 }))),
    kmsOp('ListRetirableGrants', callerAccount, () => kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: ADMIN_ARN }))),
    kmsOp('DescribeCustomKeyStores', callerAccount, () => kms.send(new DescribeCustomKeyStoresCommand({}))),
    kmsOp('CreateCustomKeyStore', callerAccount, () => kms.send(new CreateCustomKeyStoreCommand({
      CustomKeyStoreName: 'ck-store', CloudHsmClusterId: 'cluster-1234567890a', TrustAnchorCertificate: 'x', KeyStorePassword: 'password1',
    })), { outcome: 'not-denied' }),
    ...(['Connect', 'Disconnect', 'Delete', 'Update'] as const).map((verb) => kmsOp(`${verb}CustomKeyStore`, callerAccount, () => {
      const CustomKeyStoreId = 'cks-1234567890abcdef0';
      return kms.send(verb === 'Connect' ? new ConnectCustomKeyStoreCommand({ CustomKeyStoreId })
        : verb === 'Disconnect' ? new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId })
          : verb === 'Delete' ? new DeleteCustomKeyStoreCommand({ CustomKeyStoreId })
            : new UpdateCustomKeyStoreCommand({ CustomKeyStoreId, NewCustomKeyStoreName: 'ck-renamed' }));
    }, { outcome: 'not-denied' })),

    kmsOp('Encrypt', symmetric, () => kms.send(new EncryptCommand({ KeyId: ALIAS, Plaintext: Buffer.from('x'), EncryptionContext: EC }))),
    kmsOp('Decrypt', symmetric, () => kms.send(new DecryptCommand({ KeyId: ALIAS, CiphertextBlob: blob, EncryptionContext: EC }))),
    kmsOp('ReEncrypt', {
      'kms:EncryptionAlgorithm': 'SYMMETRIC_DEFAULT', ...ecKeys, 'kms:ReEncryptOnSameKey': true,
      'kms:RequestAlias': { value: ALIAS, actions: ['kms:ReEncryptTo'] },
    }, () => kms.send(new ReEncryptCommand({
      CiphertextBlob: blob, SourceEncryptionContext: EC, DestinationKeyId: ALIAS, DestinationEncryptionContext: EC,
    }))),
    kmsOp('GenerateDataKey', symmetric, () => kms.send(new GenerateDataKeyCommand({ KeyId: ALIAS, KeySpec: 'AES_256', EncryptionContext: EC }))),
    kmsOp('GenerateDataKeyWithoutPlaintext', symmetric,
      () => kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: ALIAS, KeySpec: 'AES_256', EncryptionContext: EC }))),
    kmsOp('GenerateDataKeyPair', { ...symmetric, 'kms:DataKeyPairSpec': 'ECC_NIST_P256' },
      () => kms.send(new GenerateDataKeyPairCommand({ KeyId: ALIAS, KeyPairSpec: 'ECC_NIST_P256', EncryptionContext: EC }))),
    kmsOp('GenerateDataKeyPairWithoutPlaintext', { ...symmetric, 'kms:DataKeyPairSpec': 'ECC_NIST_P256' },
      () => kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: ALIAS, KeyPairSpec: 'ECC_NIST_P256', EncryptionContext: EC }))),
    kmsOp('Sign', { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW', 'kms:RequestAlias': 'alias/ck-sign' },
      () => kms.send(new SignCommand({ KeyId: 'alias/ck-sign', Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }))),
    kmsOp('Verify', { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW', 'kms:RequestAlias': 'alias/ck-sign' },
      () => kms.send(new VerifyCommand({ KeyId: 'alias/ck-sign', Message: Buffer.from('m'), Signature: signature, SigningAlgorithm: 'ECDSA_SHA_256' }))),
    kmsOp('GetPublicKey', { 'kms:RequestAlias': 'alias/ck-sign' }, () => kms.send(new GetPublicKeyCommand({ KeyId: 'alias/ck-sign' }))),
    kmsOp('GenerateMac', { 'kms:MacAlgorithm': 'HMAC_SHA_256', 'kms:RequestAlias': 'alias/ck-hmac' },
      () => kms.send(new GenerateMacCommand({ KeyId: 'alias/ck-hmac', Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' }))),
    kmsOp('VerifyMac', { 'kms:MacAlgorithm': 'HMAC_SHA_256', 'kms:RequestAlias': 'alias/ck-hmac' },
      () => kms.send(new VerifyMacCommand({ KeyId: 'alias/ck-hmac', Message: Buffer.from('m'), Mac: mac, MacAlgorithm: 'HMAC_SHA_256' }))),
    kmsOp('DeriveSharedSecret', { 'kms:KeyAgreementAlgorithm': 'ECDH', 'kms:RequestAlias': 'alias/ck-ecdh' },
      () => kms.send(new DeriveSharedSecretCommand({ KeyId: 'alias/ck-ecdh', KeyAgreementAlgorithm: 'ECDH', PublicKey: peerPublicKey }))),

    kmsOp('ScheduleKeyDeletion', { 'kms:ScheduleKeyDeletionPendingWindowInDays': 7 },
      () => kms.send(new ScheduleKeyDeletionCommand({ KeyId: k.deletable, PendingWindowInDays: 7 })), {
        async cleanup() {
          await ignore(kmsAdmin.send(new CancelKeyDeletionCommand({ KeyId: k.deletable })));
          await ignore(kmsAdmin.send(new EnableKeyCommand({ KeyId: k.deletable })));
        },
      }),
    kmsOp('EnableKeyRotation', { 'kms:RotationPeriodInDays': 90 }, () => kms.send(new EnableKeyRotationCommand({ KeyId: k.main, RotationPeriodInDays: 90 }))),
    kmsOp('GetParametersForImport', { 'kms:WrappingAlgorithm': 'RSAES_OAEP_SHA_256', 'kms:WrappingKeySpec': 'RSA_2048' },
      () => kms.send(new GetParametersForImportCommand({ KeyId: k.external, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }))),
    kmsOp('ImportKeyMaterial', { 'kms:ExpirationModel': 'KEY_MATERIAL_EXPIRES', 'kms:ValidTo': VALID_TO.getTime() / 1000 }, async () => {
      const p = await kmsAdmin.send(new GetParametersForImportCommand({ KeyId: k.external, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
      const wrapped = publicEncrypt({
        key: createPublicKey({ key: Buffer.from(p.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256',
      }, MATERIAL);
      return kms.send(new ImportKeyMaterialCommand({
        KeyId: k.external, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: VALID_TO,
      }));
    }),
    kmsOp('TagResource', { 'aws:RequestTag/env': 'ck', 'aws:TagKeys': ['env'] },
      () => kms.send(new TagResourceCommand({ KeyId: k.main, Tags: [{ TagKey: 'env', TagValue: 'ck' }] }))),
    kmsOp('UntagResource', { 'aws:TagKeys': ['env'] }, () => kms.send(new UntagResourceCommand({ KeyId: k.main, TagKeys: ['env'] }))),
    kmsOp('PutKeyPolicy', { 'kms:BypassPolicyLockoutSafetyCheck': true }, async () => {
      const policy = (await kmsAdmin.send(new GetKeyPolicyCommand({ KeyId: k.policy, PolicyName: 'default' }))).Policy!;
      return kms.send(new PutKeyPolicyCommand({ KeyId: k.policy, PolicyName: 'default', Policy: policy, BypassPolicyLockoutSafetyCheck: true }));
    }),
    kmsOp('CreateGrant', {
      'kms:GrantOperations': ['Decrypt', 'Encrypt'], 'kms:GrantConstraintType': 'EncryptionContextSubset', 'kms:GranteePrincipal': ADMIN_ARN,
      'kms:RetiringPrincipal': ADMIN_ARN, 'kms:GrantIsForAWSResource': false, ...ecKeys,
    }, () => kms.send(new CreateGrantCommand({
      KeyId: k.main, GranteePrincipal: ADMIN_ARN, RetiringPrincipal: ADMIN_ARN, Operations: ['Decrypt', 'Encrypt'],
      Constraints: { EncryptionContextSubset: EC },
    }))),
    kmsOp('ListGrants', { 'kms:GrantIsForAWSResource': false }, () => kms.send(new ListGrantsCommand({ KeyId: k.main }))),
    kmsOp('RevokeGrant', { 'kms:GrantIsForAWSResource': false },
      async () => kms.send(new RevokeGrantCommand({ KeyId: k.main, GrantId: await adminGrant() }))),
    kmsOp('RetireGrant', { 'kms:GrantConstraintType': 'EncryptionContextEquals', ...ecKeys },
      async () => kms.send(new RetireGrantCommand({ KeyId: k.main, GrantId: await adminGrant({ EncryptionContextEquals: EC }) }))),

    // Secrets Manager.
    smOp('secretsmanager:CreateSecret', {
      'secretsmanager:Name': 'ck/created', 'secretsmanager:Description': 'made here', 'secretsmanager:KmsKeyId': ALIAS,
      'secretsmanager:KmsKeyArn': () => k.main!, 'aws:RequestTag/team': 'blue', 'aws:TagKeys': ['team'], 'aws:ResourceTag/team': 'blue',
      'secretsmanager:ResourceTag/team': 'blue',
    }, () => sm.send(new CreateSecretCommand({
      Name: 'ck/created', Description: 'made here', KmsKeyId: ALIAS, SecretString: 's', Tags: [{ Key: 'team', Value: 'blue' }],
    })), { cleanup: () => ignore(smAdmin.send(new DeleteSecretCommand({ SecretId: 'ck/created', ForceDeleteWithoutRecovery: true }))) }),
    smOp('secretsmanager:GetSecretValue', {
      'secretsmanager:VersionStage': 'AWSCURRENT', 'secretsmanager:SecretId': () => secretArn, 'aws:ResourceTag/team': 'blue',
      'secretsmanager:ResourceTag/team': 'blue', 'secretsmanager:SecretPrimaryRegion': REGION,
    }, () => sm.send(new GetSecretValueCommand({ SecretId: 'ck/secret', VersionStage: 'AWSCURRENT' }))),
    smOp('secretsmanager:GetSecretValue', { 'secretsmanager:VersionId': () => versionId },
      () => sm.send(new GetSecretValueCommand({ SecretId: 'ck/secret', VersionId: versionId }))),
    smOp('secretsmanager:DescribeSecret', { 'secretsmanager:resource/AllowRotationLambdaArn': WEBHOOK },
      () => sm.send(new DescribeSecretCommand({ SecretId: rotatingSecretArn }))),
    smOp('secretsmanager:UpdateSecret', {
      'secretsmanager:Description': 'updated', 'secretsmanager:KmsKeyId': ALIAS, 'secretsmanager:KmsKeyArn': () => k.main!,
    }, () => sm.send(new UpdateSecretCommand({ SecretId: 'ck/secret', Description: 'updated', KmsKeyId: ALIAS }))),
    smOp('secretsmanager:UpdateSecretVersionStage', { 'secretsmanager:VersionStage': 'CK' },
      () => sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'ck/secret', VersionStage: 'CK', MoveToVersionId: versionId })), {
        cleanup: () => ignore(smAdmin.send(new UpdateSecretVersionStageCommand({ SecretId: 'ck/secret', VersionStage: 'CK', RemoveFromVersionId: versionId }))),
      }),
    smOp('secretsmanager:DeleteSecret', { 'secretsmanager:RecoveryWindowInDays': 7 },
      () => sm.send(new DeleteSecretCommand({ SecretId: 'ck/doomed', RecoveryWindowInDays: 7 })),
      { cleanup: () => ignore(smAdmin.send(new RestoreSecretCommand({ SecretId: 'ck/doomed' }))) }),
    smOp('secretsmanager:DeleteSecret', { 'secretsmanager:ForceDeleteWithoutRecovery': true },
      () => sm.send(new DeleteSecretCommand({ SecretId: 'ck/forced', ForceDeleteWithoutRecovery: true })), {
        async cleanup() {
          await ignore(smAdmin.send(new CreateSecretCommand({ Name: 'ck/forced', SecretString: 'f' })));
        },
      }),
    smOp('secretsmanager:RotateSecret', {
      'secretsmanager:RotationLambdaARN': WEBHOOK, 'secretsmanager:RotateImmediately': false, 'secretsmanager:ModifyRotationRules': true,
    }, () => sm.send(new RotateSecretCommand({
      SecretId: 'ck/rotating', RotationLambdaARN: WEBHOOK, RotateImmediately: false, RotationRules: { AutomaticallyAfterDays: 30 },
    }))),
    smOp('secretsmanager:PutResourcePolicy', { 'secretsmanager:BlockPublicPolicy': true }, () => sm.send(new PutResourcePolicyCommand({
      SecretId: 'ck/secret', BlockPublicPolicy: true,
      ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'secretsmanager:DescribeSecret', Resource: '*' }] }),
    }))),
    smOp('secretsmanager:ReplicateSecretToRegions', { 'secretsmanager:AddReplicaRegions': ['eu-west-1'], 'secretsmanager:ForceOverwriteReplicaSecret': true },
      () => sm.send(new ReplicateSecretToRegionsCommand({ SecretId: 'ck/replicated', AddReplicaRegions: [{ Region: 'eu-west-1' }], ForceOverwriteReplicaSecret: true })),
      { cleanup: () => ignore(smAdmin.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'ck/replicated', RemoveReplicaRegions: ['eu-west-1'] }))) }),
    // AWS: CreateSecret with AddReplicaRegions is decided as CreateSecret and as ReplicateSecretToRegions, both with the replica keys.
    {
      ...smOp('secretsmanager:CreateSecret', { 'secretsmanager:AddReplicaRegions': ['eu-west-1'], 'secretsmanager:ForceOverwriteReplicaSecret': false },
        () => sm.send(new CreateSecretCommand({ Name: 'ck/born-replicated', SecretString: 'b', AddReplicaRegions: [{ Region: 'eu-west-1' }], ForceOverwriteReplicaSecret: false })),
        {
          async cleanup() {
            await ignore(smAdmin.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'ck/born-replicated', RemoveReplicaRegions: ['eu-west-1'] })));
            await ignore(smAdmin.send(new DeleteSecretCommand({ SecretId: 'ck/born-replicated', ForceDeleteWithoutRecovery: true })));
          },
        }),
      actions: ['secretsmanager:CreateSecret', 'secretsmanager:ReplicateSecretToRegions'],
    },
    smOp('secretsmanager:TagResource', { 'aws:RequestTag/env': 'ck', 'aws:TagKeys': ['env'] },
      () => sm.send(new SmTagResourceCommand({ SecretId: 'ck/secret', Tags: [{ Key: 'env', Value: 'ck' }] }))),
    smOp('secretsmanager:UntagResource', { 'aws:TagKeys': ['env'] }, () => sm.send(new SmUntagResourceCommand({ SecretId: 'ck/secret', TagKeys: ['env'] }))),

    // Parameter Store.
    ssmOp('ssm:PutParameter', { 'ssm:Overwrite': 'true', 'ssm:Policies': 'false' },
      () => ssm.send(new PutParameterCommand({ Name: '/ck/p', Value: 'v', Type: 'String', Overwrite: true }))),
    ssmOp('ssm:PutParameter', { 'ssm:Overwrite': 'false', 'aws:RequestTag/env': 'ck', 'aws:TagKeys': ['env'] },
      () => ssm.send(new PutParameterCommand({ Name: '/ck/new', Value: 'v', Type: 'String', Tags: [{ Key: 'env', Value: 'ck' }] })),
      { cleanup: () => ignore(ssmAdmin.send(new DeleteParameterCommand({ Name: '/ck/new' }))) }),
    ssmOp('ssm:PutParameter', { 'ssm:Policies': 'true' }, () => ssm.send(new PutParameterCommand({
      Name: '/ck/p', Value: 'v', Type: 'String', Overwrite: true, Tier: 'Advanced',
      Policies: JSON.stringify([{ Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: '2099-01-01T00:00:00.000Z' } }]),
    }))),
    ssmOp('ssm:AddTagsToResource', { 'aws:RequestTag/env': 'ck', 'aws:TagKeys': ['env'] },
      () => ssm.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: '/ck/p', Tags: [{ Key: 'env', Value: 'ck' }] }))),
    ssmOp('ssm:RemoveTagsFromResource', { 'aws:TagKeys': ['env'] },
      () => ssm.send(new RemoveTagsFromResourceCommand({ ResourceType: 'Parameter', ResourceId: '/ck/p', TagKeys: ['env'] }))),
    ssmOp('ssm:GetParametersByPath', { 'ssm:Recursive': 'true' }, () => ssm.send(new GetParametersByPathCommand({ Path: '/ck', Recursive: true }))),
    ssmOp('ssm:GetParameter', { 'aws:ResourceTag/team': 'blue' }, () => ssm.send(new GetParameterCommand({ Name: '/ck/tagged' }))),

    // TrentAdmin (IAM/STS): the named principal's tags, the request's tags, AssumeRole's session name.
    adminOp('CreateUser', { 'aws:RequestTag/env': 'ck', 'aws:TagKeys': ['env'] },
      () => admin('CreateUser', { UserName: `ck-made-${made++}`, Tags: [{ Key: 'env', Value: 'ck' }] })),
    adminOp('CreateRole', { 'aws:RequestTag/env': 'ck', 'aws:TagKeys': ['env'] },
      () => admin('CreateRole', { RoleName: `ck-made-${made++}`, Tags: [{ Key: 'env', Value: 'ck' }] })),
    ...(['User', 'Role'] as const).flatMap((K) => {
      const name = { [`${K}Name`]: `ck-${K.toLowerCase()}` };
      const tagged = { 'aws:ResourceTag/team': 'blue', 'iam:ResourceTag/team': 'blue' };
      const policy = { ...name, PolicyName: 'ck', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'none:None', Resource: '*' }] }) };
      return [
        adminOp(`Get${K}`, tagged, () => admin(`Get${K}`, name)),
        adminOp(`Put${K}Policy`, tagged, () => admin(`Put${K}Policy`, policy)),
        adminOp(`Delete${K}Policy`, tagged, () => admin(`Delete${K}Policy`, { ...name, PolicyName: 'ck' }),
          { cleanup: () => ignore(admin(`Put${K}Policy`, policy, ADMIN)) }),
        adminOp(`Tag${K}`, { ...tagged, 'aws:RequestTag/env': 'ck', 'aws:TagKeys': ['env'] }, () => admin(`Tag${K}`, { ...name, Tags: [{ Key: 'env', Value: 'ck' }] })),
      ];
    }),
    adminOp('CreateAccessKey', { 'aws:ResourceTag/team': 'blue', 'iam:ResourceTag/team': 'blue' }, () => admin('CreateAccessKey', { UserName: 'ck-user' })),
    adminOp('UpdateAccessKey', { 'aws:ResourceTag/team': 'blue', 'iam:ResourceTag/team': 'blue' },
      () => admin('UpdateAccessKey', { UserName: 'ck-user', AccessKeyId: ckUserKeyId, Status: 'Active' })),
    adminOp('AssumeRole', { 'sts:RoleSessionName': 'ck-session', 'aws:ResourceTag/team': 'blue', 'iam:ResourceTag/team': 'blue' },
      () => admin('AssumeRole', { RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/ck-role`, RoleSessionName: 'ck-session' })),
    ...iamQueryScenarios(),
  ];
}

/** The IAM and STS query APIs: the same keys as TrentAdmin's, and those of the operations only they serve. */
function iamQueryScenarios(): Scenario[] {
  const tagged = { 'aws:ResourceTag/team': 'blue', 'iam:ResourceTag/team': 'blue' };
  const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'none:None', Resource: '*' }] });
  // Session tags need sts:TagSession in the trust policy too (AWS), as AssumeRole below passes them.
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] });
  const tagOf = (key: string, value: string) => ({ 'Tags.member.1.Key': key, 'Tags.member.1.Value': value });
  const list: Scenario[] = [];
  for (const K of ['User', 'Role'] as const) {
    const name = { [`${K}Name`]: `ck-${K.toLowerCase()}` };
    const fresh = (): Record<string, string> => (K === 'User' ? { UserName: `ck-made-${made++}` } : { RoleName: `ck-made-${made++}`, AssumeRolePolicyDocument: trust });
    list.push(
      iamOp(`Create${K}`, { 'aws:RequestTag/env': 'ck', 'aws:TagKeys': ['env'] }, () => iamq(`Create${K}`, { ...fresh(), ...tagOf('env', 'ck') })),
      iamOp(`Get${K}`, tagged, () => iamq(`Get${K}`, name)),
      iamOp(`Delete${K}`, tagged, async () => {
        // A tagged entity of its own each time, made by the administrator.
        const made = fresh();
        await iamq(`Create${K}`, { ...made, ...tagOf('team', 'blue') }, ADMIN);
        await iamq(`Delete${K}`, { [`${K}Name`]: Object.values(made)[0]! });
      }),
      iamOp(`Put${K}Policy`, tagged, () => iamq(`Put${K}Policy`, { ...name, PolicyName: 'ck', PolicyDocument: doc })),
      iamOp(`Get${K}Policy`, tagged, () => iamq(`Get${K}Policy`, { ...name, PolicyName: 'ck' })),
      iamOp(`List${K}Policies`, tagged, () => iamq(`List${K}Policies`, name)),
      iamOp(`Delete${K}Policy`, tagged, () => iamq(`Delete${K}Policy`, { ...name, PolicyName: 'ck' }),
        { cleanup: () => ignore(iamq(`Put${K}Policy`, { ...name, PolicyName: 'ck', PolicyDocument: doc }, ADMIN)) }),
      iamOp(`Tag${K}`, { ...tagged, 'aws:RequestTag/env': 'ck', 'aws:TagKeys': ['env'] }, () => iamq(`Tag${K}`, { ...name, ...tagOf('env', 'ck') })),
      iamOp(`Untag${K}`, { ...tagged, 'aws:TagKeys': ['env'] }, () => iamq(`Untag${K}`, { ...name, 'TagKeys.member.1': 'env' })),
      iamOp(`List${K}Tags`, tagged, () => iamq(`List${K}Tags`, name)),
      iamOp(`Attach${K}Policy`, { ...tagged, 'iam:PolicyARN': CK_POLICY }, () => iamq(`Attach${K}Policy`, { ...name, PolicyArn: CK_POLICY }),
        { cleanup: () => ignore(iamq(`Detach${K}Policy`, { ...name, PolicyArn: CK_POLICY }, ADMIN)) }),
      iamOp(`Detach${K}Policy`, { ...tagged, 'iam:PolicyARN': CK_POLICY }, async () => {
        await iamq(`Attach${K}Policy`, { ...name, PolicyArn: CK_POLICY }, ADMIN);
        await iamq(`Detach${K}Policy`, { ...name, PolicyArn: CK_POLICY });
      }, { cleanup: () => ignore(iamq(`Detach${K}Policy`, { ...name, PolicyArn: CK_POLICY }, ADMIN)) }),
      iamOp(`ListAttached${K}Policies`, tagged, () => iamq(`ListAttached${K}Policies`, name)),
    );
  }
  const user = { UserName: 'ck-user' };
  list.push(
    iamOp('UpdateUser', tagged, () => iamq('UpdateUser', { ...user, NewPath: '/' })),
    iamOp('ListGroupsForUser', tagged, () => iamq('ListGroupsForUser', user)),
    iamOp('CreateAccessKey', tagged, async () => {
      const created = await iamq('CreateAccessKey', user);
      await iamq('DeleteAccessKey', { ...user, AccessKeyId: /<AccessKeyId>([^<]+)</.exec(created)![1]! }, ADMIN);
    }),
    iamOp('ListAccessKeys', tagged, () => iamq('ListAccessKeys', user)),
    iamOp('GetAccessKeyLastUsed', tagged, () => iamq('GetAccessKeyLastUsed', { AccessKeyId: ckUserKeyId })),
    iamOp('UpdateAccessKey', tagged, () => iamq('UpdateAccessKey', { ...user, AccessKeyId: ckUserKeyId, Status: 'Active' })),
    iamOp('DeleteAccessKey', tagged, async () => {
      const created = await iamq('CreateAccessKey', user, ADMIN);
      await iamq('DeleteAccessKey', { ...user, AccessKeyId: /<AccessKeyId>([^<]+)</.exec(created)![1]! });
    }),
    iamOp('UpdateAssumeRolePolicy', tagged, () => iamq('UpdateAssumeRolePolicy', { RoleName: 'ck-role', PolicyDocument: trust })),
    iamOp('AttachGroupPolicy', { 'iam:PolicyARN': CK_POLICY }, () => iamq('AttachGroupPolicy', { GroupName: 'ck-group', PolicyArn: CK_POLICY }),
      { cleanup: () => ignore(iamq('DetachGroupPolicy', { GroupName: 'ck-group', PolicyArn: CK_POLICY }, ADMIN)) }),
    iamOp('DetachGroupPolicy', { 'iam:PolicyARN': CK_POLICY }, async () => {
      await iamq('AttachGroupPolicy', { GroupName: 'ck-group', PolicyArn: CK_POLICY }, ADMIN);
      await iamq('DetachGroupPolicy', { GroupName: 'ck-group', PolicyArn: CK_POLICY });
    }, { cleanup: () => ignore(iamq('DetachGroupPolicy', { GroupName: 'ck-group', PolicyArn: CK_POLICY }, ADMIN)) }),
    {
      // sts:AssumeRole with the request's STS keys; its session tags are decided as sts:TagSession.
      service: 'sts', op: 'AssumeRole', actions: STS_ACCESS_RULES.AssumeRole.actions,
      carries: {
        'sts:RoleSessionName': 'ck-session', 'sts:ExternalId': 'ck-external', 'sts:SourceIdentity': 'ck-source', ...tagged,
        'aws:RequestTag/env': { value: 'ck', actions: ['sts:TagSession'] }, 'aws:TagKeys': { value: ['env'], actions: ['sts:TagSession'] },
      },
      call: () => queryOk('sts', 'AssumeRole', {
        RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/ck-role`, RoleSessionName: 'ck-session', ExternalId: 'ck-external', SourceIdentity: 'ck-source',
        ...tagOf('env', 'ck'),
      }),
    },
  );
  return list;
}

const CK_POLICY = `arn:aws:iam::${ACCOUNT_ID}:policy/ck-policy`;
/** An IAM query call as the subject (unless `as`); a refusal is thrown as AccessDeniedException, like the SDKs'. */
const iamq = (action: string, params: Record<string, string>, as: Credentials = subjectCreds) => queryOk('iam', action, params, as);
async function queryOk(service: 'iam' | 'sts', action: string, params: Record<string, string>, as: Credentials = subjectCreds): Promise<string> {
  const res = await queryCall(server.url, service, action, params, as);
  if (res.status !== 200) throw Object.assign(new Error(res.text), { name: res.code === 'AccessDenied' ? 'AccessDeniedException' : String(res.code) });
  return res.text;
}
function iamOp(op: string, carries: Scenario['carries'], call: () => Promise<unknown>, more: Partial<Scenario> = {}): Scenario {
  const rule = (IAM_ACCESS_RULES as Readonly<Record<string, { actions: readonly string[] }>>)[op];
  assert.ok(rule, `IAM ${op} has no rule`);
  return { service: 'iam', op, actions: rule.actions, carries, call, ...more };
}

let made = 0;
/** A TrentAdmin call (no SDK speaks it: SigV4-signed awsJson1_1, service `trent`), as the subject unless `as` is given. */
async function admin(op: string, body: Record<string, unknown>, as: Credentials = subjectCreds): Promise<Record<string, unknown>> {
  const res = await rawCall(server.url, `TrentAdmin.${op}`, JSON.stringify(body), { service: 'trent', credentials: as });
  if (res.status !== 200) throw Object.assign(new Error(String(res.json.message)), { name: String(res.json.__type) });
  return res.json;
}
function adminOp(op: string, carries: Scenario['carries'], call: () => Promise<unknown>, more: Partial<Scenario> = {}): Scenario {
  return { service: 'trent', op, actions: ADMIN_ACCESS_RULES[op as keyof typeof ADMIN_ACCESS_RULES].actions, carries, call, ...more };
}

type LazyCarries = Readonly<Record<string, Value | Carried | (() => string)>>;
function resolveCarries(c: LazyCarries): Scenario['carries'] {
  return Object.fromEntries(Object.entries(c).map(([key, v]) => [key, typeof v === 'function' ? v() : v]));
}
function smOp(action: string, carries: LazyCarries, call: () => Promise<unknown>, more: Partial<Scenario> = {}): Scenario {
  return {
    service: 'secretsmanager', op: action, actions: [action], extra: ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:DescribeKey'],
    get carries() { return resolveCarries(carries); }, call, ...more,
  };
}
function ssmOp(action: string, carries: Scenario['carries'], call: () => Promise<unknown>, more: Partial<Scenario> = {}): Scenario {
  return { service: 'ssm', op: action, actions: [action], carries, call, ...more };
}

// ----------------------------------------------------------------------------------------------------------

const ALL = scenarios();

/** Whether a concrete key (aws:RequestTag/env) is an instance of a table key (aws:RequestTag/*). */
function instanceOf(concrete: string, tableKey: string): boolean {
  return tableKey.endsWith('*') ? concrete.toLowerCase().startsWith(tableKey.slice(0, -1).toLowerCase()) : concrete.toLowerCase() === tableKey.toLowerCase();
}
const carriesKey = (s: Scenario, tableKey: string) => Object.keys(s.carries).some((c) => instanceOf(c, tableKey));

describe('every key of the tables has an end-to-end scenario', () => {
  test('KMS: each operation’s keys, the key resource’s keys and the global keys', () => {
    const missing: string[] = [];
    for (const [op, rule] of Object.entries(KMS_ACCESS_RULES)) {
      for (const key of rule.conditionKeys) if (!ALL.some((s) => s.service === 'kms' && s.op === op && carriesKey(s, key))) missing.push(`${op} ${key}`);
    }
    for (const key of [...KEY_RESOURCE_KEYS, ...GLOBAL_KEYS]) if (!ALL.some((s) => carriesKey(s, key))) missing.push(key);
    assert.deepEqual(missing, []);
  });
  test('Secrets Manager and Parameter Store: each action’s keys and the resource keys', () => {
    const missing: string[] = [];
    for (const [table, service] of [[SECRETS_MANAGER_ACTION_KEYS, 'secretsmanager'], [PARAMETER_STORE_ACTION_KEYS, 'ssm']] as const) {
      for (const [action, declared] of Object.entries(table)) {
        for (const key of declared.conditionKeys) if (!ALL.some((s) => s.service === service && s.op === action && carriesKey(s, key))) missing.push(`${action} ${key}`);
      }
    }
    for (const key of [...SECRET_RESOURCE_KEYS, ...PARAMETER_RESOURCE_KEYS]) if (!ALL.some((s) => s.service !== 'kms' && carriesKey(s, key))) missing.push(key);
    assert.deepEqual(missing, []);
  });
  test('IAM and STS (query API): each operation’s keys', () => {
    const missing: string[] = [];
    for (const [service, table] of [['iam', IAM_ACCESS_RULES], ['sts', STS_ACCESS_RULES]] as const) {
      for (const [op, rule] of Object.entries(table)) {
        for (const key of rule.conditionKeys) if (!ALL.some((s) => s.service === service && s.op === op && carriesKey(s, key))) missing.push(`${service} ${op} ${key}`);
      }
    }
    assert.deepEqual(missing, []);
  });
  test('TrentAdmin: each operation’s keys', () => {
    const missing: string[] = [];
    for (const [op, rule] of Object.entries(ADMIN_ACCESS_RULES)) {
      for (const key of rule.conditionKeys) if (!ALL.some((s) => s.service === 'trent' && s.op === op && carriesKey(s, key))) missing.push(`${op} ${key}`);
    }
    assert.deepEqual(missing, []);
  });
});

interface Form { name: string; statements: Record<string, unknown>[]; expect: 'denied' | 'allowed' }

function forms(s: Scenario, key: string, carried: Value | Carried): Form[] {
  const c: Carried = typeof carried === 'object' && !Array.isArray(carried) ? carried as Carried : { value: carried as Value };
  const on = c.actions ?? s.actions;
  const rest = [...(s.extra ?? []), ...s.actions.filter((a) => !on.includes(a))];
  const base = rest.length > 0 ? [{ Effect: 'Allow', Action: rest, Resource: '*' }] : [];
  const allowAll = { Effect: 'Allow', Action: [...(s.extra ?? []), ...s.actions], Resource: '*' };
  const stmt = (effect: string, condition: Record<string, unknown>) => ({ Effect: effect, Action: on, Resource: '*', Condition: condition });
  const v = c.value;
  if (Array.isArray(v)) {
    return [
      { name: 'Deny ForAnyValue:StringEquals fires', statements: [allowAll, stmt('Deny', { 'ForAnyValue:StringEquals': { [key]: [v[0]] } })], expect: 'denied' },
      { name: 'Allow ForAllValues:StringEquals permits', statements: [...base, stmt('Allow', { 'ForAllValues:StringEquals': { [key]: v } })], expect: 'allowed' },
      { name: 'Allow ForAnyValue:StringEqualsIfExists permits', statements: [...base, stmt('Allow', { 'ForAnyValue:StringEqualsIfExists': { [key]: [v[0]] } })], expect: 'allowed' },
      { name: 'Deny ForAllValues:StringNotEquals another value fires', statements: [allowAll, stmt('Deny', { 'ForAllValues:StringNotEquals': { [key]: ['zz-other'] } })], expect: 'denied' },
      { name: 'Allow ForAnyValue:StringEquals another value does not', statements: [...base, stmt('Allow', { 'ForAnyValue:StringEquals': { [key]: ['zz-other'] } })], expect: 'denied' },
    ];
  }
  const cond: Cond = c.cond ?? (typeof v === 'boolean' ? { op: 'Bool', value: String(v), other: String(!v) }
    : typeof v === 'number' ? { op: 'NumericEquals', value: v, other: v + 1 }
      : { op: 'StringEquals', value: v!, other: 'zz-other' });
  const list: Form[] = [
    { name: `Deny ${cond.op} fires`, statements: [allowAll, stmt('Deny', { [cond.op]: { [key]: cond.value } })], expect: 'denied' },
    { name: `Allow ${cond.op} permits`, statements: [...base, stmt('Allow', { [cond.op]: { [key]: cond.value } })], expect: 'allowed' },
    { name: `Allow ${cond.otherOp ?? cond.op} on another value does not`, statements: [...base, stmt('Allow', { [cond.otherOp ?? cond.op]: { [key]: cond.other } })], expect: 'denied' },
  ];
  if (cond.op === 'StringEquals') {
    list.push({ name: 'Deny StringNotEquals the carried value does not fire', statements: [allowAll, stmt('Deny', { StringNotEquals: { [key]: cond.value } })], expect: 'allowed' });
    list.push({ name: 'Deny StringEqualsIfExists fires', statements: [allowAll, stmt('Deny', { StringEqualsIfExists: { [key]: cond.value } })], expect: 'denied' });
  }
  return list;
}

before(async () => {
  server = await startServer({ env: { TRENT_ROTATORS: ROTATORS } });
  const p = principals(server);
  kmsAdmin = server.kms();
  const clientOpts = (credentials: Credentials) => ({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
  smAdmin = new SecretsManagerClient(clientOpts(ADMIN));
  ssmAdmin = new SSMClient(clientOpts(ADMIN));
  subjectCreds = await p.newUser('subject');
  const tagged = await rawCall(server.url, 'TrentAdmin.TagUser', JSON.stringify({ UserName: 'subject', Tags: [{ Key: 'team', Value: 'blue' }] }), { service: 'trent' });
  assert.equal(tagged.status, 200);
  kms = server.kms({ credentials: subjectCreds });
  sm = new SecretsManagerClient(clientOpts(subjectCreds));
  ssm = new SSMClient(clientOpts(subjectCreds));
  putPolicy = (policy) => p.putUserPolicy('subject', policy);

  k.main = await newKey({ Tags: [{ TagKey: 'team', TagValue: 'blue' }] });
  await kmsAdmin.send(new CreateAliasCommand({ AliasName: ALIAS, TargetKeyId: k.main }));
  blob = (await kmsAdmin.send(new EncryptCommand({ KeyId: k.main, Plaintext: Buffer.from('x'), EncryptionContext: EC }))).CiphertextBlob!;
  k.sign = await newKey({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
  await kmsAdmin.send(new CreateAliasCommand({ AliasName: 'alias/ck-sign', TargetKeyId: k.sign }));
  signature = (await kmsAdmin.send(new SignCommand({ KeyId: k.sign, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }))).Signature!;
  k.hmac = await newKey({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
  await kmsAdmin.send(new CreateAliasCommand({ AliasName: 'alias/ck-hmac', TargetKeyId: k.hmac }));
  mac = (await kmsAdmin.send(new GenerateMacCommand({ KeyId: k.hmac, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' }))).Mac!;
  k.ecdh = await newKey({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
  await kmsAdmin.send(new CreateAliasCommand({ AliasName: 'alias/ck-ecdh', TargetKeyId: k.ecdh }));
  const peer = await newKey({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
  peerPublicKey = (await kmsAdmin.send(new GetPublicKeyCommand({ KeyId: peer }))).PublicKey!;
  k.external = await newKey({ Origin: 'EXTERNAL' });
  k.deletable = await newKey();
  k.policy = await newKey();
  k.multi = await newKey({ MultiRegion: true });
  await kmsAdmin.send(new ReplicateKeyCommand({ KeyId: k.multi, ReplicaRegion: REPLICA_REGION }));
  kmsReplicaRegion = server.kms({ region: REPLICA_REGION, credentials: subjectCreds });

  const secret = await smAdmin.send(new CreateSecretCommand({ Name: 'ck/secret', SecretString: 's', KmsKeyId: k.main, Tags: [{ Key: 'team', Value: 'blue' }] }));
  secretArn = secret.ARN!;
  versionId = secret.VersionId!;
  await smAdmin.send(new CreateSecretCommand({ Name: 'ck/doomed', SecretString: 'd' }));
  await smAdmin.send(new CreateSecretCommand({ Name: 'ck/forced', SecretString: 'f' }));
  await smAdmin.send(new CreateSecretCommand({ Name: 'ck/rotating', SecretString: 'r' }));
  await smAdmin.send(new CreateSecretCommand({ Name: 'ck/replicated', SecretString: 'r' }));
  rotatingSecretArn = (await smAdmin.send(new RotateSecretCommand({
    SecretId: 'ck/rotating', RotationLambdaARN: WEBHOOK, RotateImmediately: false, RotationRules: { AutomaticallyAfterDays: 30 },
  }))).ARN!;
  await ssmAdmin.send(new PutParameterCommand({ Name: '/ck/p', Value: 'v', Type: 'String' }));
  await admin('CreateUser', { UserName: 'ck-user', Tags: [{ Key: 'team', Value: 'blue' }] }, ADMIN);
  await admin('CreateRole', { RoleName: 'ck-role', Tags: [{ Key: 'team', Value: 'blue' }] }, ADMIN);
  ckUserKeyId = ((await admin('CreateAccessKey', { UserName: 'ck-user' }, ADMIN)).AccessKey as { AccessKeyId: string }).AccessKeyId;
  for (const K of ['User', 'Role']) {
    await admin(`Put${K}Policy`, {
      [`${K}Name`]: `ck-${K.toLowerCase()}`, PolicyName: 'ck',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'none:None', Resource: '*' }] }),
    }, ADMIN);
  }
  await ssmAdmin.send(new PutParameterCommand({ Name: '/ck/tagged', Value: 'v', Type: 'String', Tags: [{ Key: 'team', Value: 'blue' }] }));
  await iamq('CreateGroup', { GroupName: 'ck-group' }, ADMIN);
  await iamq('CreatePolicy', { PolicyName: 'ck-policy', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'none:None', Resource: '*' }] }) }, ADMIN);
});

after(async () => {
  sm?.destroy();
  smAdmin?.destroy();
  ssm?.destroy();
  ssmAdmin?.destroy();
  await server?.stop(true);
});

for (const s of ALL) {
  describe(`${s.service} ${s.op}`, () => {
    // Keys are read lazily: some values (ARNs, version ids) exist only once before() has run.
    const keys = Object.keys(s.carries);
    for (const key of keys) {
      test(`${key}: a Deny fires and an Allow permits, for the value the request carries`, async () => {
        for (const f of forms(s, key, s.carries[key]!)) {
          await putPolicy({ Version: '2012-10-17', Statement: f.statements });
          let outcome: 'denied' | 'allowed';
          try {
            await s.call();
            outcome = 'allowed';
          } catch (err) {
            const name = (err as { name?: string }).name;
            if (name === 'AccessDeniedException') outcome = 'denied';
            else if (s.outcome === 'not-denied') outcome = 'allowed';
            else throw Object.assign(err as Error, { message: `${f.name}: ${(err as Error).message}` });
          } finally {
            await s.cleanup?.();
          }
          assert.equal(outcome, f.expect, `${key} — ${f.name}`);
        }
      });
    }
  });
}
