/**
 * What AWS authorizes beyond "the action on the key", through the real server (docs/iam.md):
 * - the alias operations, also on the alias ARN by identity policy, and UpdateAlias on the alias's current
 *   key too (AWS KMS Developer Guide, "Controlling access to aliases");
 * - CreateKey with Tags, kms:TagResource too (CreateKey, "Required permissions");
 * - RetireGrant: a grant listing RetireGrant lets its grantee retire that grant only; a retiring principal
 *   of another account retires with the token (RetireGrant, "Cross-account use: Yes");
 * - ListRetirableGrants names a principal of the caller's own account ("Cross-account use");
 * - another account's key by alias ARN ("you must use the key ARN or alias ARN");
 * - session policies see the encryption context as identity policies do;
 * - names differing only in case (an encryption context with `dept` and `DEPT`, tags `team` and `TEAM`) cannot
 *   slip a request past a Deny or a grant constraint.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateAliasCommand, CreateGrantCommand, CreateKeyCommand, DeleteAliasCommand, DescribeKeyCommand, EncryptCommand, ListGrantsCommand,
  ListResourceTagsCommand, ListRetirableGrantsCommand, RetireGrantCommand, TagResourceCommand, UpdateAliasCommand, type KMSClient,
} from '@aws-sdk/client-kms';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ACCOUNT_ID, ADMIN, rawCall, REGION, startServer, type TestServer } from './harness.ts';
import { OTHER_ACCOUNT, principals, type Credentials } from './principals.ts';

let server: TestServer;
let admin: KMSClient;
let p: ReturnType<typeof principals>;
let other: Credentials;
const aliasArn = (n: string) => `arn:aws:kms:${REGION}:${ACCOUNT_ID}:alias/${n}`;
const userArn = (n: string) => `arn:aws:iam::${ACCOUNT_ID}:user/${n}`;
/** 'Allowed', or the error's name. */
const outcome = (call: Promise<unknown>) => call.then(() => 'Allowed', (e: Error) => e.name);
const newKey = async (input: ConstructorParameters<typeof CreateKeyCommand>[0] = {}) => (await admin.send(new CreateKeyCommand(input))).KeyMetadata!.Arn!;
const as = async (name: string, ...Statement: object[]) => server.kms({ credentials: await p.newUser(name, { Version: '2012-10-17', Statement }) });
const grantIds = async (key: string) => (await admin.send(new ListGrantsCommand({ KeyId: key }))).Grants!.map((g) => g.GrantId);

before(async () => {
  server = await startServer();
  admin = server.kms();
  p = principals(server);
  other = await p.otherAccountAdmin();
});
after(() => server.stop(true));

describe('aliases: the alias ARN and, for UpdateAlias, the current key', () => {
  test('UpdateAlias is refused to a principal with rights on the alias and its own key but none on the key the alias points at; the alias is unchanged', async () => {
    const victim = await newKey();
    await admin.send(new CreateAliasCommand({ AliasName: 'alias/prod', TargetKeyId: victim }));
    const own = await newKey();
    const mallory = await as('mallory', { Effect: 'Allow', Action: 'kms:UpdateAlias', Resource: [own, aliasArn('prod')] });
    assert.equal(await outcome(mallory.send(new UpdateAliasCommand({ AliasName: 'alias/prod', TargetKeyId: own }))), 'AccessDeniedException');
    assert.equal((await admin.send(new DescribeKeyCommand({ KeyId: 'alias/prod' }))).KeyMetadata!.Arn, victim);
    // With kms:UpdateAlias on the current key as well, the same call goes through.
    const trusted = await as('trusted-updater', { Effect: 'Allow', Action: 'kms:UpdateAlias', Resource: [own, victim, aliasArn('prod')] });
    assert.equal(await outcome(trusted.send(new UpdateAliasCommand({ AliasName: 'alias/prod', TargetKeyId: own }))), 'Allowed');
    assert.equal((await admin.send(new DescribeKeyCommand({ KeyId: 'alias/prod' }))).KeyMetadata!.Arn, own);
  });

  test('CreateAlias and DeleteAlias with the permission on the key alone (nothing on the alias ARN) are refused', async () => {
    const own = await newKey();
    const creator = await as('key-only-creator', { Effect: 'Allow', Action: 'kms:CreateAlias', Resource: own });
    assert.equal(await outcome(creator.send(new CreateAliasCommand({ AliasName: 'alias/anything-i-like', TargetKeyId: own }))), 'AccessDeniedException');
    await admin.send(new CreateAliasCommand({ AliasName: 'alias/keep-me', TargetKeyId: own }));
    const deleter = await as('key-only-deleter', { Effect: 'Allow', Action: 'kms:DeleteAlias', Resource: own });
    assert.equal(await outcome(deleter.send(new DeleteAliasCommand({ AliasName: 'alias/keep-me' }))), 'AccessDeniedException');
    assert.equal((await admin.send(new DescribeKeyCommand({ KeyId: 'alias/keep-me' }))).KeyMetadata!.Arn, own);
    // Scoped to the alias names as well, both go through.
    const scoped = await as('alias-scoped', { Effect: 'Allow', Action: ['kms:CreateAlias', 'kms:DeleteAlias'], Resource: [own, aliasArn('team-*')] });
    assert.equal(await outcome(scoped.send(new CreateAliasCommand({ AliasName: 'alias/team-a', TargetKeyId: own }))), 'Allowed');
    assert.equal(await outcome(scoped.send(new DeleteAliasCommand({ AliasName: 'alias/team-a' }))), 'Allowed');
  });

  test('an identity-policy Deny on one alias ARN stops CreateAlias of that name only', async () => {
    const own = await newKey();
    const u = await as('deny-alias',
      { Effect: 'Allow', Action: 'kms:CreateAlias', Resource: '*' },
      { Effect: 'Deny', Action: 'kms:CreateAlias', Resource: aliasArn('forbidden') });
    assert.equal(await outcome(u.send(new CreateAliasCommand({ AliasName: 'alias/forbidden', TargetKeyId: own }))), 'AccessDeniedException');
    assert.equal(await outcome(u.send(new CreateAliasCommand({ AliasName: 'alias/allowed', TargetKeyId: own }))), 'Allowed');
  });
});

describe('CreateKey with Tags needs kms:TagResource', () => {
  test('refused to a principal allowed only kms:CreateKey, and to one whose policy denies kms:TagResource', async () => {
    const creator = await as('creator', { Effect: 'Allow', Action: 'kms:CreateKey', Resource: '*' });
    assert.equal(await outcome(creator.send(new CreateKeyCommand({}))), 'Allowed');
    assert.equal(await outcome(creator.send(new CreateKeyCommand({ Tags: [{ TagKey: 'team', TagValue: 'red' }] }))), 'AccessDeniedException');
    const denied = await as('creator-no-tags', { Effect: 'Allow', Action: 'kms:*', Resource: '*' }, { Effect: 'Deny', Action: 'kms:TagResource', Resource: '*' });
    assert.equal(await outcome(denied.send(new CreateKeyCommand({ Tags: [{ TagKey: 'team', TagValue: 'red' }] }))), 'AccessDeniedException');
    const both = await as('creator-tags', { Effect: 'Allow', Action: ['kms:CreateKey', 'kms:TagResource'], Resource: '*' });
    assert.equal(await outcome(both.send(new CreateKeyCommand({ Tags: [{ TagKey: 'team', TagValue: 'red' }] }))), 'Allowed');
  });
});

describe('grants: who may retire, and whose retirable grants one may list', () => {
  test('a grantee whose grant lists RetireGrant retires that grant, not another principal\'s grant on the same key', async () => {
    const key = await newKey();
    const bob = server.kms({ credentials: await p.newUser('bob') });
    await p.newUser('carol');
    const bobs = await admin.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: userArn('bob'), Operations: ['Encrypt', 'RetireGrant'] }));
    const carols = await admin.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: userArn('carol'), Operations: ['Decrypt'] }));
    assert.equal(await outcome(bob.send(new RetireGrantCommand({ KeyId: key, GrantId: carols.GrantId! }))), 'AccessDeniedException');
    assert.ok((await grantIds(key)).includes(carols.GrantId));
    assert.equal(await outcome(bob.send(new RetireGrantCommand({ KeyId: key, GrantId: bobs.GrantId! }))), 'Allowed');
    assert.ok(!(await grantIds(key)).includes(bobs.GrantId));
  });

  test('a retiring principal of another account retires the grant with its token', async () => {
    const sts = new STSClient({ endpoint: server.url, region: REGION, credentials: other, maxAttempts: 1 });
    const otherArn = (await sts.send(new GetCallerIdentityCommand({}))).Arn!;
    sts.destroy();
    assert.ok(otherArn.includes(OTHER_ACCOUNT));
    const key = await newKey();
    const g = await admin.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: `arn:aws:iam::${ACCOUNT_ID}:root`, RetiringPrincipal: otherArn, Operations: ['Encrypt'] }));
    assert.equal(await outcome(server.kms({ credentials: other }).send(new RetireGrantCommand({ GrantToken: g.GrantToken! }))), 'Allowed');
    assert.ok(!(await grantIds(key)).includes(g.GrantId));
  });

  test('another account naming this account\'s retiring principal in ListRetirableGrants is refused and sees none of its grants', async () => {
    await p.newUser('retirer');
    const key = await newKey();
    await admin.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: `arn:aws:iam::${ACCOUNT_ID}:root`, RetiringPrincipal: userArn('retirer'), Operations: ['Decrypt'] }));
    const res = await rawCall(server.url, 'TrentService.ListRetirableGrants', JSON.stringify({ RetiringPrincipal: userArn('retirer') }), { credentials: other });
    assert.equal(res.json.__type, 'AccessDeniedException', JSON.stringify(res.json));
    assert.doesNotMatch(JSON.stringify(res.json), new RegExp(key.split('/')[1]!));
    // The account's own administrator lists it.
    assert.equal((await admin.send(new ListRetirableGrantsCommand({ RetiringPrincipal: userArn('retirer') }))).Grants!.length, 1);
  });

  test('EncryptionContextEquals is not met by a context with an extra pair whose key differs only in case', async () => {
    const key = await newKey();
    const dave = server.kms({ credentials: await p.newUser('dave') });
    await admin.send(new CreateGrantCommand({
      KeyId: key, GranteePrincipal: userArn('dave'), Operations: ['Encrypt'], Constraints: { EncryptionContextEquals: { dept: 'finance' } },
    }));
    const enc = (ec: Record<string, string>) => outcome(dave.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x'), EncryptionContext: ec })));
    assert.equal(await enc({ dept: 'finance' }), 'Allowed');
    assert.equal(await enc({ DEPT: 'other', dept: 'finance' }), 'AccessDeniedException');
  });
});

test('another account allowed by the key policy names the key by alias ARN as by key ARN', async () => {
  const key = await newKey({
    Policy: JSON.stringify({ Version: '2012-10-17', Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'kms:*', Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` }, Action: ['kms:Encrypt', 'kms:DescribeKey'], Resource: '*' },
    ] }),
  });
  await admin.send(new CreateAliasCommand({ AliasName: 'alias/shared', TargetKeyId: key }));
  await admin.send(new CreateAliasCommand({ AliasName: 'alias/unshared', TargetKeyId: await newKey() }));
  const kms = server.kms({ credentials: other });
  assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: aliasArn('shared') }))).KeyMetadata!.Arn, key);
  assert.equal(await outcome(kms.send(new EncryptCommand({ KeyId: aliasArn('shared'), Plaintext: Buffer.from('x') }))), 'Allowed');
  // A key whose policy does not name the other account, and an alias that does not exist, answer alike.
  assert.equal(await outcome(kms.send(new DescribeKeyCommand({ KeyId: aliasArn('unshared') }))), 'AccessDeniedException');
  assert.equal(await outcome(kms.send(new DescribeKeyCommand({ KeyId: aliasArn('no-such-alias') }))), 'AccessDeniedException');
});

test('a session policy sees the encryption context: its Deny on kms:EncryptionContext:<k> or kms:EncryptionContextKeys fires, its conditioned Allow permits', async () => {
  const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
  await rawCall(server.url, 'TrentAdmin.CreateRole', JSON.stringify({ RoleName: 'ec-worker' }), { service: 'trent' });
  await rawCall(server.url, 'TrentAdmin.PutRolePolicy', JSON.stringify({ RoleName: 'ec-worker', PolicyName: 'kms', PolicyDocument: doc({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }) }), { service: 'trent' });
  const key = await newKey();
  const sts = new STSClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
  const session = async (name: string, policy: string) => {
    const c = (await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/ec-worker`, RoleSessionName: name, Policy: policy }))).Credentials!;
    return server.kms({ credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } });
  };
  const enc = (kms: KMSClient, ec: Record<string, string>) => outcome(kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x'), EncryptionContext: ec })));
  try {
    const allowEncrypt = { Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' };
    const denyValue = await session('deny-value', doc(allowEncrypt, { Effect: 'Deny', Action: 'kms:Encrypt', Resource: '*', Condition: { StringEquals: { 'kms:EncryptionContext:dept': 'secret' } } }));
    assert.equal(await enc(denyValue, { dept: 'secret' }), 'AccessDeniedException');
    assert.equal(await enc(denyValue, { dept: 'public' }), 'Allowed');
    const denyKey = await session('deny-key', doc(allowEncrypt, { Effect: 'Deny', Action: 'kms:Encrypt', Resource: '*', Condition: { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': 'dept' } } }));
    assert.equal(await enc(denyKey, { dept: 'x' }), 'AccessDeniedException');
    const allowPublic = await session('allow-public', doc({ ...allowEncrypt, Condition: { StringEquals: { 'kms:EncryptionContext:dept': 'public' } } }));
    assert.equal(await enc(allowPublic, { dept: 'public' }), 'Allowed');
    assert.equal(await enc(allowPublic, { dept: 'secret' }), 'AccessDeniedException');
  } finally {
    sts.destroy();
  }
});

describe('names differing only in case do not dodge a Deny', () => {
  test('a Deny on kms:EncryptionContext:dept = secret fires when the context also holds DEPT', async () => {
    const key = await newKey();
    const u = await as('labeller',
      { Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' },
      { Effect: 'Deny', Action: 'kms:Encrypt', Resource: '*', Condition: { StringEquals: { 'kms:EncryptionContext:dept': 'secret' } } });
    const enc = (ec: Record<string, string>) => outcome(u.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('x'), EncryptionContext: ec })));
    assert.equal(await enc({ dept: 'secret' }), 'AccessDeniedException');
    assert.equal(await enc({ DEPT: 'public', dept: 'secret' }), 'AccessDeniedException');
    assert.equal(await enc({ dept: 'public' }), 'Allowed');
  });

  test('a Deny on aws:RequestTag/team = admins fires on TagResource when a TEAM tag comes first, and no tag is written', async () => {
    const key = await newKey();
    const u = await as('tagger',
      { Effect: 'Allow', Action: 'kms:TagResource', Resource: '*' },
      { Effect: 'Deny', Action: 'kms:TagResource', Resource: '*', Condition: { StringEquals: { 'aws:RequestTag/team': 'admins' } } });
    const tag = (Tags: { TagKey: string; TagValue: string }[]) => outcome(u.send(new TagResourceCommand({ KeyId: key, Tags })));
    assert.equal(await tag([{ TagKey: 'TEAM', TagValue: 'x' }, { TagKey: 'team', TagValue: 'admins' }]), 'AccessDeniedException');
    assert.deepEqual((await admin.send(new ListResourceTagsCommand({ KeyId: key }))).Tags, []);
  });
});
