/**
 * Generated from what the server routes (app.routes(): every service and operation behind the edge): a
 * principal with no policy is refused on every operation of every service — KMS, Secrets Manager,
 * Parameter Store, CloudTrail LookupEvents, TrentAdmin, TrentOperator, TrentBackup, TrentReplication, and IAM and STS over the
 * query protocol — with AccessDeniedException (AccessDenied, HTTP 403, in the query protocol), and
 * each refusal is in the audit trail, read back through LookupEvents by a user whose only permission is
 * cloudtrail:LookupEvents.
 *
 * Each operation needs a request that would otherwise succeed far enough to be authorized (a key that
 * exists, members that pass validation): REQUESTS below. An operation routed without one fails the test,
 * so a new operation cannot be added without being shown to be closed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateAliasCommand, CreateGrantCommand, CreateKeyCommand, EncryptCommand, GetKeyPolicyCommand, GetPublicKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { ACCOUNT_ID, ADMIN, queryCall, rawCall, startServer, type TestServer } from './harness.ts';
import { allow, principals, type Credentials } from './principals.ts';

/**
 * Operations AWS allows any authenticated caller. AWS: GetCallerIdentity and GetSessionToken, "No
 * permissions are required to perform this operation" (STS API reference).
 */
const ALLOWED_TO_ANYONE = new Set<string>(['query:sts.GetCallerIdentity', 'query:sts.GetSessionToken']);

let server: TestServer;
let admin: KMSClient;
let subject: Credentials;
let reader: Credentials;
const ADMIN_ARN = `arn:aws:iam::${ACCOUNT_ID}:user/admin`;
const ROLE = 'np-role';
const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
const ids: Record<string, string> = {};

/** One request per routed operation, by `<target prefix>.<operation>`. */
function requests(): Record<string, Record<string, unknown>> {
  const K = ids.key!;
  const kms: Record<string, Record<string, unknown>> = {
    CreateKey: {}, DescribeKey: { KeyId: K }, ListKeys: {}, Encrypt: { KeyId: K, Plaintext: b64('x') }, Decrypt: { CiphertextBlob: ids.blob },
    ReEncrypt: { CiphertextBlob: ids.blob, DestinationKeyId: K }, GenerateDataKey: { KeyId: K, KeySpec: 'AES_256' },
    GenerateDataKeyWithoutPlaintext: { KeyId: K, KeySpec: 'AES_256' }, GenerateRandom: { NumberOfBytes: 8 },
    GenerateDataKeyPair: { KeyId: K, KeyPairSpec: 'ECC_NIST_P256' }, GenerateDataKeyPairWithoutPlaintext: { KeyId: K, KeyPairSpec: 'ECC_NIST_P256' },
    Sign: { KeyId: ids.sign, Message: b64('m'), SigningAlgorithm: 'ECDSA_SHA_256' },
    Verify: { KeyId: ids.sign, Message: b64('m'), Signature: b64('sig'), SigningAlgorithm: 'ECDSA_SHA_256' },
    GetPublicKey: { KeyId: ids.sign }, GenerateMac: { KeyId: ids.hmac, Message: b64('m'), MacAlgorithm: 'HMAC_SHA_256' },
    VerifyMac: { KeyId: ids.hmac, Message: b64('m'), Mac: b64('0123456789abcdef0123456789abcdef'), MacAlgorithm: 'HMAC_SHA_256' },
    DeriveSharedSecret: { KeyId: ids.ecdh, KeyAgreementAlgorithm: 'ECDH', PublicKey: ids.peer },
    EnableKey: { KeyId: K }, DisableKey: { KeyId: K }, ScheduleKeyDeletion: { KeyId: K, PendingWindowInDays: 7 }, CancelKeyDeletion: { KeyId: K },
    EnableKeyRotation: { KeyId: K }, DisableKeyRotation: { KeyId: K }, GetKeyRotationStatus: { KeyId: K }, RotateKeyOnDemand: { KeyId: K },
    ListKeyRotations: { KeyId: K },
    GetParametersForImport: { KeyId: ids.external, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' },
    ImportKeyMaterial: { KeyId: ids.external, ImportToken: b64('token'), EncryptedKeyMaterial: b64('material'), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
    DeleteImportedKeyMaterial: { KeyId: ids.external },
    CreateAlias: { AliasName: 'alias/np-new', TargetKeyId: K }, UpdateAlias: { AliasName: 'alias/np-main', TargetKeyId: K },
    DeleteAlias: { AliasName: 'alias/np-main' }, ListAliases: {},
    TagResource: { KeyId: K, Tags: [{ TagKey: 'a', TagValue: 'b' }] }, UntagResource: { KeyId: K, TagKeys: ['a'] }, ListResourceTags: { KeyId: K },
    UpdateKeyDescription: { KeyId: K, Description: 'd' },
    CreateCustomKeyStore: { CustomKeyStoreName: 'np', CloudHsmClusterId: 'cluster-1234567890a', TrustAnchorCertificate: 'x', KeyStorePassword: 'password1' },
    DescribeCustomKeyStores: {}, ConnectCustomKeyStore: { CustomKeyStoreId: 'cks-1234567890abcdef0' },
    DisconnectCustomKeyStore: { CustomKeyStoreId: 'cks-1234567890abcdef0' }, DeleteCustomKeyStore: { CustomKeyStoreId: 'cks-1234567890abcdef0' },
    UpdateCustomKeyStore: { CustomKeyStoreId: 'cks-1234567890abcdef0', NewCustomKeyStoreName: 'np2' },
    GetKeyLastUsage: { KeyId: K },
    ReplicateKey: { KeyId: K, ReplicaRegion: 'eu-west-1' }, UpdatePrimaryRegion: { KeyId: K, PrimaryRegion: 'eu-west-1' },
    GetKeyPolicy: { KeyId: K, PolicyName: 'default' }, PutKeyPolicy: { KeyId: K, PolicyName: 'default', Policy: ids.policy }, ListKeyPolicies: { KeyId: K },
    CreateGrant: { KeyId: K, GranteePrincipal: ADMIN_ARN, Operations: ['Decrypt'] }, ListGrants: { KeyId: K },
    ListRetirableGrants: { RetiringPrincipal: ADMIN_ARN }, RetireGrant: { KeyId: K, GrantId: ids.grant }, RevokeGrant: { KeyId: K, GrantId: ids.grant },
  };
  const S = 'np/secret';
  const sm: Record<string, Record<string, unknown>> = {
    CreateSecret: { Name: 'np/new', SecretString: 'x', ClientRequestToken: '00000000-0000-4000-8000-000000000002' }, GetSecretValue: { SecretId: S }, BatchGetSecretValue: { SecretIdList: [S] },
    PutSecretValue: { SecretId: S, SecretString: 'y', ClientRequestToken: '00000000-0000-4000-8000-000000000003' }, UpdateSecret: { SecretId: S, Description: 'd' },
    UpdateSecretVersionStage: { SecretId: S, VersionStage: 'X' }, DescribeSecret: { SecretId: S }, ListSecrets: {}, ListSecretVersionIds: { SecretId: S },
    DeleteSecret: { SecretId: S }, RestoreSecret: { SecretId: S }, TagResource: { SecretId: S, Tags: [{ Key: 'a', Value: 'b' }] },
    UntagResource: { SecretId: S, TagKeys: ['a'] }, GetRandomPassword: {}, RotateSecret: { SecretId: S, ClientRequestToken: 'rotate-token-0000000000000000000001' }, CancelRotateSecret: { SecretId: S },
    PutResourcePolicy: { SecretId: S, ResourcePolicy: JSON.stringify(allow('secretsmanager:DescribeSecret')) }, GetResourcePolicy: { SecretId: S },
    DeleteResourcePolicy: { SecretId: S }, ValidateResourcePolicy: { ResourcePolicy: JSON.stringify(allow('secretsmanager:DescribeSecret')) },
    ReplicateSecretToRegions: { SecretId: S, AddReplicaRegions: [{ Region: 'eu-west-1' }] },
    RemoveRegionsFromReplication: { SecretId: S, RemoveReplicaRegions: ['eu-west-1'] }, StopReplicationToReplica: { SecretId: S },
  };
  const P = '/np/p';
  const ssm: Record<string, Record<string, unknown>> = {
    GetParameter: { Name: P }, GetParameters: { Names: [P] }, DeleteParameter: { Name: P }, DeleteParameters: { Names: [P] },
    GetParameterHistory: { Name: P }, LabelParameterVersion: { Name: P, Labels: ['l'] }, UnlabelParameterVersion: { Name: P, ParameterVersion: 1, Labels: ['l'] },
    DescribeParameters: {}, GetParametersByPath: { Path: '/np' }, PutParameter: { Name: '/np/q', Value: 'v', Type: 'String' },
    AddTagsToResource: { ResourceType: 'Parameter', ResourceId: P, Tags: [{ Key: 'a', Value: 'b' }] },
    RemoveTagsFromResource: { ResourceType: 'Parameter', ResourceId: P, TagKeys: ['a'] }, ListTagsForResource: { ResourceType: 'Parameter', ResourceId: P },
  };
  const admin: Record<string, Record<string, unknown>> = {
    CreateUser: { UserName: 'np-x' }, GetUser: { UserName: 'subject' }, ListUsers: {},
    PutUserPolicy: { UserName: 'subject', PolicyName: 'p', PolicyDocument: JSON.stringify(allow('*')) }, DeleteUserPolicy: { UserName: 'subject', PolicyName: 'p' },
    TagUser: { UserName: 'subject', Tags: [{ Key: 'a', Value: 'b' }] }, CreateAccessKey: { UserName: 'subject' },
    UpdateAccessKey: { UserName: 'subject', AccessKeyId: 'AKIAIOSFODNN7EXAMPLE', Status: 'Inactive' },
    CreateRole: { RoleName: 'np-r' }, GetRole: { RoleName: ROLE }, ListRoles: {},
    PutRolePolicy: { RoleName: ROLE, PolicyName: 'p', PolicyDocument: JSON.stringify(allow('*')) }, DeleteRolePolicy: { RoleName: ROLE, PolicyName: 'p' },
    TagRole: { RoleName: ROLE, Tags: [{ Key: 'a', Value: 'b' }] }, AssumeRole: { RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/${ROLE}`, RoleSessionName: 'np' },
  };
  const prefixed = (prefix: string, ops: Record<string, Record<string, unknown>>) =>
    Object.fromEntries(Object.entries(ops).map(([op, input]) => [`${prefix}.${op}`, input]));
  return {
    ...prefixed('TrentService', kms), ...prefixed('secretsmanager', sm), ...prefixed('AmazonSSM', ssm),
    ...prefixed('com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101', { LookupEvents: {} }),
    ...prefixed('TrentAdmin', admin), ...prefixed('TrentOperator', { Seal: {}, RotateRootKey: {}, GetSealStatus: {}, VerifyAuditTrail: {} }),
    ...prefixed('TrentBackup', { CreateBackup: {} }),
    ...prefixed('TrentReplication', {
      LinkPeer: { Name: 'peer', Endpoint: 'https://peer.example:8443', CaBundle: '-----BEGIN CERTIFICATE-----', Regions: ['eu-central-1'] },
      ListPeers: {},
      UnlinkPeer: { Name: 'peer' },
      RotatePeerCredential: { Name: 'peer' },
    }),
    ...prefixed('query:iam', iamQuery()),
    ...prefixed('query:sts', {
      GetCallerIdentity: {}, GetSessionToken: {},
      AssumeRole: { RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/${ROLE}`, RoleSessionName: 'np' },
    }),
  };
}

/** The IAM query API: flat form members, on the subject itself, np-role, np-group and np-policy. */
function iamQuery(): Record<string, Record<string, string>> {
  const POLICY = `arn:aws:iam::${ACCOUNT_ID}:policy/np-policy`;
  const doc = JSON.stringify(allow('*'));
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'sts:AssumeRole' }] });
  const ops: Record<string, Record<string, string>> = {
    ListUsers: {}, ListRoles: {}, ListGroups: {}, ListPolicies: {},
    UpdateUser: { UserName: 'subject', NewUserName: 'np-renamed' }, ListGroupsForUser: { UserName: 'subject' },
    CreateAccessKey: { UserName: 'subject' }, ListAccessKeys: { UserName: 'subject' },
    UpdateAccessKey: { UserName: 'subject', AccessKeyId: 'AKIAIOSFODNN7EXAMPLE', Status: 'Inactive' },
    DeleteAccessKey: { UserName: 'subject', AccessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
    UpdateAssumeRolePolicy: { RoleName: ROLE, PolicyDocument: trust },
    CreateGroup: { GroupName: 'np-new-group' }, GetGroup: { GroupName: 'np-group' }, DeleteGroup: { GroupName: 'np-group' },
    AddUserToGroup: { GroupName: 'np-group', UserName: 'subject' }, RemoveUserFromGroup: { GroupName: 'np-group', UserName: 'subject' },
    PutGroupPolicy: { GroupName: 'np-group', PolicyName: 'p', PolicyDocument: doc }, GetGroupPolicy: { GroupName: 'np-group', PolicyName: 'p' },
    ListGroupPolicies: { GroupName: 'np-group' }, DeleteGroupPolicy: { GroupName: 'np-group', PolicyName: 'p' },
    AttachGroupPolicy: { GroupName: 'np-group', PolicyArn: POLICY }, DetachGroupPolicy: { GroupName: 'np-group', PolicyArn: POLICY },
    ListAttachedGroupPolicies: { GroupName: 'np-group' },
    CreatePolicy: { PolicyName: 'np-new-policy', PolicyDocument: doc }, GetPolicy: { PolicyArn: POLICY }, DeletePolicy: { PolicyArn: POLICY },
    CreatePolicyVersion: { PolicyArn: POLICY, PolicyDocument: doc }, GetPolicyVersion: { PolicyArn: POLICY, VersionId: 'v1' },
    SetDefaultPolicyVersion: { PolicyArn: POLICY, VersionId: 'v1' }, DeletePolicyVersion: { PolicyArn: POLICY, VersionId: 'v1' },
    ListPolicyVersions: { PolicyArn: POLICY }, GetAccessKeyLastUsed: { AccessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
    SimulatePrincipalPolicy: { PolicySourceArn: `arn:aws:iam::${ACCOUNT_ID}:user/subject`, 'ActionNames.member.1': 'kms:ListKeys' },
  };
  for (const [K, name] of [['User', { UserName: 'subject' }], ['Role', { RoleName: ROLE }]] as const) {
    Object.assign(ops, {
      [`Create${K}`]: K === 'User' ? { UserName: 'np-new' } : { RoleName: 'np-new', AssumeRolePolicyDocument: trust },
      [`Get${K}`]: name, [`Delete${K}`]: name,
      [`Put${K}Policy`]: { ...name, PolicyName: 'p', PolicyDocument: doc }, [`Get${K}Policy`]: { ...name, PolicyName: 'p' },
      [`List${K}Policies`]: name, [`Delete${K}Policy`]: { ...name, PolicyName: 'p' },
      [`Tag${K}`]: { ...name, 'Tags.member.1.Key': 'a', 'Tags.member.1.Value': 'b' }, [`Untag${K}`]: { ...name, 'TagKeys.member.1': 'a' },
      [`List${K}Tags`]: name, [`Attach${K}Policy`]: { ...name, PolicyArn: POLICY }, [`Detach${K}Policy`]: { ...name, PolicyArn: POLICY },
      [`ListAttached${K}Policies`]: name,
    });
  }
  return ops;
}

/** Sends one routed operation as `credentials`, in its service's protocol; the answer's error code, if any. */
async function send(route: { targetPrefix: string; signingName: string }, op: string, body: Record<string, unknown>, credentials: Credentials) {
  if (route.targetPrefix.startsWith('query:')) {
    const res = await queryCall(server.url, route.signingName as 'iam' | 'sts', op, body as Record<string, string>, credentials);
    return { status: res.status, code: res.code, requestId: res.headers.get('x-amzn-requestid')!, detail: res.text };
  }
  const res = await rawCall(server.url, `${route.targetPrefix}.${op}`, JSON.stringify(body), { service: route.signingName, credentials });
  return { status: res.status, code: res.json.__type as string | undefined, requestId: res.headers.get('x-amzn-requestid')!, detail: JSON.stringify(res.json) };
}

/** A refusal in the route's protocol: AccessDeniedException (JSON, 400), AccessDenied (query, 403). */
const deniedAnswer = (prefix: string) => (prefix.startsWith('query:') ? { status: 403, code: 'AccessDenied' } : { status: 400, code: 'AccessDeniedException' });

before(async () => {
  server = await startServer();
  const p = principals(server);
  admin = server.kms();
  subject = await p.newUser('subject');
  reader = await p.newUser('reader', allow('cloudtrail:LookupEvents'));
  const key = async (input: ConstructorParameters<typeof CreateKeyCommand>[0] = {}) => (await admin.send(new CreateKeyCommand(input))).KeyMetadata!.Arn!;
  ids.key = await key();
  await admin.send(new CreateAliasCommand({ AliasName: 'alias/np-main', TargetKeyId: ids.key }));
  ids.blob = b64((await admin.send(new EncryptCommand({ KeyId: ids.key, Plaintext: Buffer.from('x') }))).CiphertextBlob!);
  ids.sign = await key({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
  ids.hmac = await key({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
  ids.ecdh = await key({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
  ids.peer = b64((await admin.send(new GetPublicKeyCommand({ KeyId: await key({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' }) }))).PublicKey!);
  ids.external = await key({ Origin: 'EXTERNAL' });
  ids.policy = (await admin.send(new GetKeyPolicyCommand({ KeyId: ids.key, PolicyName: 'default' }))).Policy!;
  ids.grant = (await admin.send(new CreateGrantCommand({ KeyId: ids.key, GranteePrincipal: ADMIN_ARN, RetiringPrincipal: ADMIN_ARN, Operations: ['Decrypt'] }))).GrantId!;
  const call = async (target: string, body: Record<string, unknown>, service: string) => {
    const res = await rawCall(server.url, target, JSON.stringify(body), { service });
    assert.equal(res.status, 200, `${target}: ${JSON.stringify(res.json)}`);
  };
  await call('secretsmanager.CreateSecret', { Name: 'np/secret', SecretString: 's', ClientRequestToken: '00000000-0000-4000-8000-000000000001' }, 'secretsmanager');
  await call('AmazonSSM.PutParameter', { Name: '/np/p', Value: 'v', Type: 'String' }, 'ssm');
  await call('TrentAdmin.CreateRole', { RoleName: 'np-role' }, 'trent');
  for (const [action, params] of [
    ['CreateGroup', { GroupName: 'np-group' }],
    ['CreatePolicy', { PolicyName: 'np-policy', PolicyDocument: JSON.stringify(allow('kms:DescribeKey')) }],
  ] as const) {
    const res = await queryCall(server.url, 'iam', action, params);
    assert.equal(res.status, 200, `${action}: ${res.text}`);
  }
});

test('the operations AWS allows anyone answer a principal with no policy', async () => {
  for (const target of ALLOWED_TO_ANYONE) {
    const [prefix, op] = [target.slice(0, target.lastIndexOf('.')), target.slice(target.lastIndexOf('.') + 1)];
    const res = await send({ targetPrefix: prefix, signingName: prefix.slice('query:'.length) }, op, requests()[target]!, subject);
    assert.equal(res.status, 200, `${target}: ${res.detail}`);
  }
});
after(() => server.stop(true));

test('another account\'s administrator (AdministratorAccess) is refused every deployment-wide operation: TrentOperator, TrentBackup, TrentReplication', async () => {
  const other = await principals(server).otherAccountAdmin();
  const table = requests();
  const wrong: string[] = [];
  let tried = 0;
  for (const route of server.app.routes().filter((r) => ['TrentOperator', 'TrentBackup', 'TrentReplication'].includes(r.targetPrefix))) {
    for (const op of route.operations) {
      const res = await send(route, op, table[`${route.targetPrefix}.${op}`]!, other);
      tried++;
      if (res.code !== 'AccessDeniedException' || !/only its operator account/.test(res.detail)) wrong.push(`${route.targetPrefix}.${op}: ${res.status} ${res.detail}`);
    }
  }
  assert.deepEqual(wrong, []);
  assert.ok(tried >= 8, `${tried} operations`);
  // The deployment's own administrator still may.
  const own = await send({ targetPrefix: 'TrentOperator', signingName: 'trent' }, 'GetSealStatus', {}, ADMIN);
  assert.equal(own.status, 200, own.detail);
});

describe('a principal with no policy is denied on every routed operation, and each denial is audited', () => {
  const denied = new Map<string, string>(); // request id → target

  test('the server routes operations of every service, each with a request here', () => {
    const routes = server.app.routes();
    assert.deepEqual(routes.map((r) => r.targetPrefix).sort(), [
      'AmazonSSM', 'TrentAdmin', 'TrentBackup', 'TrentOperator', 'TrentReplication', 'TrentService', 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101',
      'query:iam', 'query:sts', 'secretsmanager',
    ]);
    const table = requests();
    const missing = routes.flatMap((r) => r.operations.map((op) => `${r.targetPrefix}.${op}`)).filter((t) => !(t in table));
    assert.deepEqual(missing, []);
  });

  test('each operation answers AccessDeniedException to the principal with no policy', async () => {
    const table = requests();
    const wrong: string[] = [];
    for (const route of server.app.routes()) {
      for (const op of route.operations) {
        const target = `${route.targetPrefix}.${op}`;
        if (ALLOWED_TO_ANYONE.has(target)) continue;
        const res = await send(route, op, table[target]!, subject);
        const expected = deniedAnswer(route.targetPrefix);
        if (res.status !== expected.status || res.code !== expected.code) wrong.push(`${target}: ${res.status} ${res.detail}`);
        else denied.set(res.requestId, target);
      }
    }
    assert.deepEqual(wrong, []);
    assert.ok(denied.size > 100, `${denied.size} operations`);
  });

  test('every denial is in the audit trail, read back by a user allowed only cloudtrail:LookupEvents', async () => {
    assert.ok(denied.size > 0);
    const seen = new Map<string, { errorCode?: string; userIdentity?: { arn?: string } }>();
    let NextToken: string | undefined;
    do {
      const res = await rawCall(server.url, 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents', JSON.stringify({
        LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'subject' }], MaxResults: 50, ...(NextToken ? { NextToken } : {}),
      }), { service: 'cloudtrail', credentials: reader });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      for (const e of res.json.Events as { CloudTrailEvent: string }[]) {
        const record = JSON.parse(e.CloudTrailEvent) as { requestID: string; errorCode?: string; userIdentity?: { arn?: string } };
        seen.set(record.requestID, record);
      }
      NextToken = res.json.NextToken as string | undefined;
    } while (NextToken);
    const unaudited = [...denied].filter(([id, target]) => seen.get(id)?.errorCode !== deniedAnswer(target).code).map(([, target]) => target);
    assert.deepEqual(unaudited, []);
    for (const id of denied.keys()) assert.equal(seen.get(id)!.userIdentity?.arn, `arn:aws:iam::${ACCOUNT_ID}:user/subject`);
  });

  test('LookupEvents is refused to a user whose policy allows everything but cloudtrail:LookupEvents', async () => {
    const p = principals(server);
    const other = await p.newUser('no-trail', {
      Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'cloudtrail:LookupEvents', Resource: '*' }],
    });
    const res = await rawCall(server.url, 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents', '{}', { service: 'cloudtrail', credentials: other });
    assert.equal(res.status, 400);
    assert.equal(res.json.__type, 'AccessDeniedException');
  });
});
