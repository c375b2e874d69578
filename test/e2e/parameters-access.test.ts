/**
 * Parameter Store authorization end to end, through @aws-sdk/client-ssm with several principals of two
 * accounts: path-wildcard identity policies (parameter/app/*), GetParameters per name,
 * GetParametersByPath on the path, DescribeParameters on "*", explicit deny, ssm:Overwrite, KMS through
 * Parameter Store (WithDecryption needs kms:Decrypt on a customer key; the AWS-managed key needs none),
 * cross-account refusal, and the audit event of a denied call.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  AddTagsToResourceCommand, DeleteParameterCommand, DescribeParametersCommand, GetParameterCommand, GetParametersByPathCommand, GetParametersCommand,
  PutParameterCommand, SSMClient,
} from '@aws-sdk/client-ssm';
import { ACCOUNT_ID, ADMIN, REGION, awsError, startServer, type TestServer } from './harness.ts';
import { type Credentials, OTHER_ACCOUNT, allow, principals } from './principals.ts';

let server: TestServer;
let admin: SSMClient;
let p: ReturnType<typeof principals>;
const clients: SSMClient[] = [];
const userArn = (name: string, account = ACCOUNT_ID) => `arn:aws:iam::${account}:user/${name}`;
const PARAM = `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter`;
const VIA_SSM = `ssm.${REGION}.amazonaws.com`;

function ssm(credentials: Credentials): SSMClient {
  const c = new SSMClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials });
  clients.push(c);
  return c;
}

const put = (name: string, value: string, extra: { Type?: 'String' | 'SecureString'; KeyId?: string } = {}) =>
  admin.send(new PutParameterCommand({ Name: name, Value: value, Type: extra.Type ?? 'String', ...(extra.KeyId ? { KeyId: extra.KeyId } : {}) }));
const get = (c: SSMClient, name: string, withDecryption?: boolean) =>
  c.send(new GetParameterCommand({ Name: name, ...(withDecryption !== undefined ? { WithDecryption: withDecryption } : {}) }));

/** The app team: read and write everything under /app, by path wildcard. */
const APP_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:PutParameter', 'ssm:DeleteParameter'], Resource: `${PARAM}/app/*` },
    { Effect: 'Allow', Action: 'ssm:GetParametersByPath', Resource: [`${PARAM}/app`, `${PARAM}/app/*`] },
  ],
};

before(async () => {
  server = await startServer();
  admin = ssm(ADMIN);
  p = principals(server);
});
after(async () => {
  for (const c of clients) c.destroy();
  await server.stop(true);
});

test('a path-wildcard identity policy: allowed under /app/*, denied elsewhere, in AWS\'s words', async () => {
  await put('/app/db/host', 'db.internal');
  await put('/app/db/port', '5432');
  await put('/other/secret', 'no');
  const team = ssm(await p.newUser('team', APP_POLICY));

  assert.equal((await get(team, '/app/db/host')).Parameter!.Value, 'db.internal');
  assert.equal((await get(team, `${PARAM}/app/db/port`)).Parameter!.Value, '5432', 'by ARN too');
  assert.equal((await team.send(new PutParameterCommand({ Name: '/app/new', Value: 'v', Type: 'String' }))).Version, 1);
  const denied = await awsError(() => get(team, '/other/secret'));
  assert.equal(denied.name, 'AccessDeniedException');
  assert.equal(denied.status, 400);
  assert.equal(denied.message, `User: ${userArn('team')} is not authorized to perform: ssm:GetParameter on resource: ${PARAM}/other/secret because no identity-based policy allows the ssm:GetParameter action`);
  const write = await awsError(() => team.send(new PutParameterCommand({ Name: '/other/new', Value: 'v', Type: 'String' })));
  assert.equal(write.message, `User: ${userArn('team')} is not authorized to perform: ssm:PutParameter on resource: ${PARAM}/other/new because no identity-based policy allows the ssm:PutParameter action`);
  assert.equal((await awsError(() => team.send(new DeleteParameterCommand({ Name: '/other/secret' })))).name, 'AccessDeniedException');
  // A missing parameter the policy covers is ParameterNotFound; a malformed name is the service's own error.
  assert.equal((await awsError(() => get(team, '/app/missing'))).name, 'ParameterNotFound');
  assert.equal((await awsError(() => team.send(new PutParameterCommand({ Name: '/app/bad name', Value: 'v', Type: 'String' })))).name, 'ValidationException');

  // GetParameters checks every name: one outside the policy refuses the call.
  const both = await awsError(() => team.send(new GetParametersCommand({ Names: ['/app/db/host', '/other/secret'] })));
  assert.equal(both.message, `User: ${userArn('team')} is not authorized to perform: ssm:GetParameters on resource: ${PARAM}/other/secret because no identity-based policy allows the ssm:GetParameters action`);
  const mine = await team.send(new GetParametersCommand({ Names: ['/app/db/host', '/app/nothing'] }));
  assert.deepEqual(mine.Parameters!.map((x) => x.Name), ['/app/db/host']);
  assert.deepEqual(mine.InvalidParameters, ['/app/nothing']);

  // GetParametersByPath is authorized on the path's ARN; Recursive reaches below it.
  const byPath = await team.send(new GetParametersByPathCommand({ Path: '/app', Recursive: true }));
  assert.deepEqual(byPath.Parameters!.map((x) => x.Name).sort(), ['/app/db/host', '/app/db/port', '/app/new']);
  assert.equal((await team.send(new GetParametersByPathCommand({ Path: '/app/db' }))).Parameters!.length, 2);
  const otherPath = await awsError(() => team.send(new GetParametersByPathCommand({ Path: '/other' })));
  assert.equal(otherPath.message, `User: ${userArn('team')} is not authorized to perform: ssm:GetParametersByPath on resource: ${PARAM}/other because no identity-based policy allows the ssm:GetParametersByPath action`);

  // DescribeParameters has no resource: "*".
  const describe = await awsError(() => team.send(new DescribeParametersCommand({})));
  assert.equal(describe.message, `User: ${userArn('team')} is not authorized to perform: ssm:DescribeParameters on resource: * because no identity-based policy allows the ssm:DescribeParameters action`);
  const describer = ssm(await p.newUser('describer', allow('ssm:DescribeParameters')));
  assert.ok((await describer.send(new DescribeParametersCommand({}))).Parameters!.length >= 3);
});

test('an explicit deny wins over an allow; ssm:Overwrite and ssm:Recursive let a policy refuse overwriting and recursion', async () => {
  await put('/app/locked/key', 'v1');
  const ops = ssm(await p.newUser('ops', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'ssm:*', Resource: '*' },
      { Effect: 'Deny', Action: 'ssm:GetParameter', Resource: `${PARAM}/app/locked/*` },
      { Effect: 'Deny', Action: 'ssm:PutParameter', Resource: '*', Condition: { StringEquals: { 'ssm:Overwrite': 'true' } } },
      { Effect: 'Deny', Action: 'ssm:GetParametersByPath', Resource: '*', Condition: { Bool: { 'ssm:Recursive': 'true' } } },
    ],
  }));
  assert.ok((await ops.send(new GetParametersByPathCommand({ Path: '/app' }))).Parameters);
  assert.equal((await awsError(() => ops.send(new GetParametersByPathCommand({ Path: '/app', Recursive: true })))).name, 'AccessDeniedException', 'ssm:Recursive');
  const denied = await awsError(() => get(ops, '/app/locked/key'));
  assert.equal(denied.message, `User: ${userArn('ops')} is not authorized to perform: ssm:GetParameter on resource: ${PARAM}/app/locked/key with an explicit deny in an identity-based policy`);
  assert.equal((await ops.send(new PutParameterCommand({ Name: '/app/fresh', Value: 'v', Type: 'String' }))).Version, 1);
  const overwrite = await awsError(() => ops.send(new PutParameterCommand({ Name: '/app/fresh', Value: 'v2', Overwrite: true })));
  assert.equal(overwrite.name, 'AccessDeniedException');
  assert.match(overwrite.message, /with an explicit deny in an identity-based policy$/);
});

test('WithDecryption needs kms:Decrypt on a customer key through Parameter Store; without it the ciphertext is returned', async () => {
  const keyArn = (await server.kms().send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  await put('/app/secure/cmk', 'cmk-secret', { Type: 'SecureString', KeyId: keyArn });
  await put('/app/secure/managed', 'managed-secret', { Type: 'SecureString' });
  const reader = ssm(await p.newUser('reader2', APP_POLICY));

  const cipher = (await get(reader, '/app/secure/cmk', false)).Parameter!;
  assert.equal(cipher.Type, 'SecureString');
  assert.notEqual(cipher.Value, 'cmk-secret');
  const denied = await awsError(() => get(reader, '/app/secure/cmk', true));
  assert.equal(denied.name, 'AccessDeniedException');
  assert.match(denied.message, new RegExp(`^User: ${userArn('reader2')} is not authorized to perform: kms:Decrypt on resource: ${keyArn} because no identity-based policy allows the kms:Decrypt action \\(Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: [0-9a-f-]+; Proxy: null\\)$`));
  const many = await awsError(() => reader.send(new GetParametersByPathCommand({ Path: '/app/secure', WithDecryption: true })));
  assert.equal(many.name, 'AccessDeniedException', 'GetParametersByPath decrypts under the same rule');
  // The AWS-managed alias/aws/ssm key: principals of the account decrypt through Parameter Store without any KMS permission.
  assert.equal((await get(reader, '/app/secure/managed', true)).Parameter!.Value, 'managed-secret');

  // kms:Decrypt allowed only via Parameter Store (the default key policy delegates to identity policies).
  await p.putUserPolicy('reader2', {
    Version: '2012-10-17',
    Statement: [
      ...APP_POLICY.Statement,
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn, Condition: { StringEquals: { 'kms:ViaService': VIA_SSM } } },
    ],
  });
  assert.equal((await get(reader, '/app/secure/cmk', true)).Parameter!.Value, 'cmk-secret');
  // Writing a SecureString under the customer key needs kms:Encrypt through Parameter Store.
  const write = await awsError(() => reader.send(new PutParameterCommand({ Name: '/app/secure/new', Value: 'x', Type: 'SecureString', KeyId: keyArn })));
  assert.match(write.message, /kms:Encrypt on resource/);
});

test('aws:ResourceTag conditions see the parameter\'s tags', async () => {
  await admin.send(new PutParameterCommand({ Name: '/tagged/blue', Value: 'b', Type: 'String', Tags: [{ Key: 'team', Value: 'blue' }] }));
  await admin.send(new PutParameterCommand({ Name: '/tagged/red', Value: 'r', Type: 'String', Tags: [{ Key: 'team', Value: 'red' }] }));
  const blue = ssm(await p.newUser('blue-team', allow('ssm:GetParameter', '*', { StringEquals: { 'aws:ResourceTag/team': 'blue' } })));
  assert.equal((await get(blue, '/tagged/blue')).Parameter!.Value, 'b');
  assert.equal((await awsError(() => get(blue, '/tagged/red'))).name, 'AccessDeniedException');
});

test('GetParameter(s) decide aws:ResourceTag on the row they answer from, read afresh by every request (selectors and lists too)', async () => {
  // The access rule's read of the parameter is the one the operation answers from (parameters/request-reads.ts):
  // kept for that request only, so a retag is seen by the very next request.
  await admin.send(new PutParameterCommand({ Name: '/retag/p', Value: 'v1', Type: 'SecureString', Tags: [{ Key: 'team', Value: 'blue' }] }));
  await admin.send(new PutParameterCommand({ Name: '/retag/p', Value: 'v2', Type: 'SecureString', Overwrite: true }));
  await admin.send(new PutParameterCommand({ Name: '/retag/red', Value: 'r', Type: 'String', Tags: [{ Key: 'team', Value: 'red' }] }));
  const blue = ssm(await p.newUser('blue-reader', allow(['ssm:GetParameter', 'ssm:GetParameters'], '*', { StringEquals: { 'aws:ResourceTag/team': 'blue' } })));
  assert.equal((await get(blue, '/retag/p', true)).Parameter!.Value, 'v2');
  assert.equal((await get(blue, '/retag/p:1', true)).Parameter!.Value, 'v1');
  const both = await blue.send(new GetParametersCommand({ Names: ['/retag/p', '/retag/p:1', '/retag/p:9'], WithDecryption: true }));
  assert.deepEqual(both.Parameters!.map((x) => x.Value), ['v2', 'v1']);
  assert.deepEqual(both.InvalidParameters, ['/retag/p:9']);
  // All or nothing: one name the caller may not read refuses the whole list.
  assert.equal((await awsError(() => blue.send(new GetParametersCommand({ Names: ['/retag/p', '/retag/red'] })))).name, 'AccessDeniedException');

  await admin.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: '/retag/p', Tags: [{ Key: 'team', Value: 'red' }] }));
  assert.equal((await awsError(() => get(blue, '/retag/p', true))).name, 'AccessDeniedException');
  assert.equal((await awsError(() => get(blue, '/retag/p:1', true))).name, 'AccessDeniedException');
  assert.equal((await awsError(() => blue.send(new GetParametersCommand({ Names: ['/retag/p'] })))).name, 'AccessDeniedException');
  await admin.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: '/retag/p', Tags: [{ Key: 'team', Value: 'blue' }] }));
  assert.equal((await get(blue, '/retag/p', true)).Parameter!.Value, 'v2');
  // A parameter overwritten between two requests: the next one answers the new value.
  await admin.send(new PutParameterCommand({ Name: '/retag/p', Value: 'v3', Type: 'SecureString', Overwrite: true }));
  assert.equal((await get(blue, '/retag/p', true)).Parameter!.Value, 'v3');
});

test('a parameter has no resource policy: another account is refused whatever its identity policies allow', async () => {
  await put('/app/shared', 'mine');
  const otherAdmin = ssm(await p.otherAccountAdmin());
  const arn = `${PARAM}/app/shared`;
  const denied = await awsError(() => get(otherAdmin, arn));
  assert.equal(denied.message, `User: ${userArn('admin', OTHER_ACCOUNT)} is not authorized to perform: ssm:GetParameter on resource: ${arn} because no resource-based policy allows the ssm:GetParameter action`);
  const missing = await awsError(() => get(otherAdmin, `${PARAM}/app/not-there`));
  assert.equal(missing.name, 'AccessDeniedException', 'whether or not it exists');
  // By name, the other account sees its own parameters only.
  assert.equal((await awsError(() => get(otherAdmin, '/app/shared'))).name, 'ParameterNotFound');
});

test('a denied call is recorded in the audit trail with its AccessDeniedException', async () => {
  await put('/audited/p', 'v');
  const nobody = ssm(await p.newUser('nobody'));
  let requestId = '';
  try {
    await get(nobody, '/audited/p');
    assert.fail('expected AccessDenied');
  } catch (err) {
    requestId = (err as { $metadata: { requestId: string } }).$metadata.requestId;
  }
  const events = await p.auditEventsOf(requestId);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.eventSource, 'ssm.amazonaws.com');
  assert.equal(events[0]!.eventName, 'GetParameter');
  assert.equal(events[0]!.errorCode, 'AccessDeniedException');
});

test('the Secrets Manager pass-through needs secretsmanager:GetSecretValue on the secret, not only ssm:GetParameter', async () => {
  const { SecretsManagerClient, CreateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
  const sm = new SecretsManagerClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials: ADMIN });
  try {
    const created = await sm.send(new CreateSecretCommand({ Name: 'passthrough/db', SecretString: 'pass-through-value' }));
    const ref = '/aws/reference/secretsmanager/passthrough/db';
    const ssmOnly = ssm(await p.newUser('ssm-only', allow('ssm:GetParameter', '*')));
    const err = await awsError(() => get(ssmOnly, ref, true));
    assert.equal(err.name, 'AccessDeniedException');
    assert.match(err.message, /secretsmanager:GetSecretValue/);
    const both = ssm(await p.newUser('ssm-and-secret', {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' },
        { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: created.ARN },
      ],
    }));
    // The secret's AWS-managed key is used through Secrets Manager, which the managed key policy allows.
    const got = await get(both, ref, true);
    assert.equal(got.Parameter?.Value, 'pass-through-value');
  } finally {
    sm.destroy();
  }
});

test('through the pass-through, a selector is authorized as GetSecretValue of that version: a Deny on secretsmanager:VersionStage or VersionId holds', async () => {
  const { SecretsManagerClient, CreateSecretCommand, PutSecretValueCommand, DescribeSecretCommand } = await import('@aws-sdk/client-secrets-manager');
  const sm = new SecretsManagerClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials: ADMIN });
  try {
    await sm.send(new CreateSecretCommand({ Name: 'passthrough/rotated', SecretString: 'old-password' }));
    const firstId = Object.keys((await sm.send(new DescribeSecretCommand({ SecretId: 'passthrough/rotated' }))).VersionIdsToStages!)[0]!;
    await sm.send(new PutSecretValueCommand({ SecretId: 'passthrough/rotated', SecretString: 'new-password' }));
    const ref = '/aws/reference/secretsmanager/passthrough/rotated';
    const allowRead = { Effect: 'Allow', Action: ['ssm:GetParameter', 'secretsmanager:GetSecretValue'], Resource: '*' };
    const currentOnly = ssm(await p.newUser('current-only', { Version: '2012-10-17', Statement: [allowRead,
      { Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringEquals: { 'secretsmanager:VersionStage': 'AWSPREVIOUS' } } }] }));
    assert.equal((await awsError(() => get(currentOnly, `${ref}:AWSPREVIOUS`, true))).name, 'AccessDeniedException');
    assert.equal((await get(currentOnly, ref, true)).Parameter?.Value, 'new-password');
    const notFirst = ssm(await p.newUser('not-first-version', { Version: '2012-10-17', Statement: [allowRead,
      { Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringEquals: { 'secretsmanager:VersionId': firstId } } }] }));
    assert.equal((await awsError(() => get(notFirst, `${ref}:${firstId}`, true))).name, 'AccessDeniedException');
    assert.equal((await get(notFirst, `${ref}:AWSCURRENT`, true)).Parameter?.Value, 'new-password');
  } finally {
    sm.destroy();
  }
});
