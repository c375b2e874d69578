/**
 * Secrets Manager authorization end to end, through @aws-sdk/client-secrets-manager with several
 * principals of two accounts: identity policies per action and resource, the secret's resource policy
 * (second principal, second account — cross-account needs both sides), explicit deny, KMS permissions
 * through the service (kms:ViaService), BlockPublicPolicy, ValidateResourcePolicy, BatchGetSecretValue,
 * and the audit event of a denied call.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateKeyCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import {
  BatchGetSecretValueCommand, CreateSecretCommand, DeleteResourcePolicyCommand, DescribeSecretCommand, GetSecretValueCommand,
  GetResourcePolicyCommand, ListSecretsCommand, PutResourcePolicyCommand, PutSecretValueCommand, SecretsManagerClient, ValidateResourcePolicyCommand,
} from '@aws-sdk/client-secrets-manager';
import { ACCOUNT_ID, REGION, awsError, startServer, type TestServer } from './harness.ts';
import { type Credentials, OTHER_ACCOUNT, allow, principals } from './principals.ts';

let server: TestServer;
let admin: SecretsManagerClient;
let p: ReturnType<typeof principals>;
const clients: SecretsManagerClient[] = [];
const userArn = (name: string, account = ACCOUNT_ID) => `arn:aws:iam::${account}:user/${name}`;
const SECRETS = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret`;
const VIA_SM = `secretsmanager.${REGION}.amazonaws.com`;

function sm(credentials?: Credentials): SecretsManagerClient {
  const c = new SecretsManagerClient({ endpoint: server.url, region: REGION, maxAttempts: 1, ...(credentials ? { credentials } : {}) });
  clients.push(c);
  return c;
}

async function createSecret(name: string, extra: { KmsKeyId?: string; Tags?: { Key: string; Value: string }[] } = {}): Promise<string> {
  return (await admin.send(new CreateSecretCommand({ Name: name, SecretString: `value of ${name}`, ...extra }))).ARN!;
}

const read = (c: SecretsManagerClient, id: string) => c.send(new GetSecretValueCommand({ SecretId: id }));

before(async () => {
  server = await startServer();
  admin = new SecretsManagerClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials: { accessKeyId: 'AKIATRENTTESTADMIN01', secretAccessKey: 'trent-test-secret-access-key-0123456789' } });
  clients.push(admin);
  p = principals(server);
});
after(async () => {
  for (const c of clients) c.destroy();
  await server.stop(true);
});

test('a narrow identity policy allows its actions on its secrets and nothing else, in AWS\'s words', async () => {
  await createSecret('app/db');
  await createSecret('other/x');
  const reader = sm(await p.newUser('reader', allow(['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], `${SECRETS}:app/*`)));

  assert.equal((await read(reader, 'app/db')).SecretString, 'value of app/db');
  assert.equal((await reader.send(new DescribeSecretCommand({ SecretId: 'app/db' }))).Name, 'app/db');

  const put = await awsError(() => reader.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: 'x' })));
  assert.equal(put.name, 'AccessDeniedException');
  assert.equal(put.status, 400);
  assert.equal(put.message, `User: ${userArn('reader')} is not authorized to perform: secretsmanager:PutSecretValue on resource: app/db because no identity-based policy allows the secretsmanager:PutSecretValue action`);
  const other = await awsError(() => read(reader, 'other/x'));
  assert.equal(other.message, `User: ${userArn('reader')} is not authorized to perform: secretsmanager:GetSecretValue on resource: other/x because no identity-based policy allows the secretsmanager:GetSecretValue action`);
  // No resource: ListSecrets' message names none.
  const list = await awsError(() => reader.send(new ListSecretsCommand({})));
  assert.equal(list.message, `User: ${userArn('reader')} is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action`);
  const create = await awsError(() => reader.send(new CreateSecretCommand({ Name: 'app/new', SecretString: 'v' })));
  assert.equal(create.message, `User: ${userArn('reader')} is not authorized to perform: secretsmanager:CreateSecret on resource: app/new because no identity-based policy allows the secretsmanager:CreateSecret action`);

  // What a denied caller learns: a missing secret its policy covers is ResourceNotFound; one it does not cover is AccessDenied.
  assert.equal((await awsError(() => read(reader, 'app/missing'))).name, 'ResourceNotFoundException');
  assert.equal((await awsError(() => read(reader, 'nope/missing'))).name, 'AccessDeniedException');
  // Malformed input is the service's ValidationException before any authorization.
  assert.equal((await awsError(() => reader.send(new GetSecretValueCommand({ SecretId: 'app/db', VersionId: 'short' })))).name, 'ValidationException');
});

test('a resource policy grants a second principal of the account what its identity policies do not; deleting it takes that back', async () => {
  const arn = await createSecret('app/shared');
  const bob = sm(await p.newUser('bob'));
  assert.equal((await awsError(() => read(bob, 'app/shared'))).name, 'AccessDeniedException');
  await admin.send(new PutResourcePolicyCommand({
    SecretId: arn,
    ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: userArn('bob') }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] }),
  }));
  assert.equal((await read(bob, arn)).SecretString, 'value of app/shared');
  assert.equal((await read(bob, 'app/shared')).SecretString, 'value of app/shared');
  assert.equal((await awsError(() => bob.send(new DescribeSecretCommand({ SecretId: arn })))).name, 'AccessDeniedException', 'only the action the policy names');
  // A policy naming only the account delegates to IAM: it does not let bob in.
  await admin.send(new PutResourcePolicyCommand({
    SecretId: arn,
    ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'secretsmanager:*', Resource: '*' }] }),
  }));
  assert.equal((await awsError(() => read(bob, arn))).name, 'AccessDeniedException');
  await admin.send(new DeleteResourcePolicyCommand({ SecretId: arn }));
  assert.equal((await awsError(() => read(bob, arn))).name, 'AccessDeniedException');
});

test('cross-account: the secret\'s resource policy and the caller\'s identity policy must both allow, and the key must let the account decrypt', async () => {
  const otherAdmin = await p.otherAccountAdmin();
  const carolCreds = await p.newUser('carol', allow(['secretsmanager:GetSecretValue', 'kms:Decrypt']), otherAdmin);
  const carol = sm(carolCreds);
  const dave = sm(await p.newUser('dave', undefined, otherAdmin));
  const kms = server.kms();
  // A customer key whose policy lets the other account decrypt through Secrets Manager (AWS: cross-account
  // secrets need a customer managed key; the AWS-managed key serves its own account only).
  const keyPolicy = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'kms:*', Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` }, Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:ViaService': VIA_SM } } },
    ],
  };
  const keyArn = (await kms.send(new CreateKeyCommand({ Policy: JSON.stringify(keyPolicy) }))).KeyMetadata!.Arn!;
  const arn = await createSecret('shared/cross', { KmsKeyId: keyArn });
  const managed = await createSecret('shared/managed');

  const before = await awsError(() => read(carol, arn));
  assert.equal(before.message, `User: ${userArn('carol', OTHER_ACCOUNT)} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${arn} because no resource-based policy allows the secretsmanager:GetSecretValue action`);

  const toOtherAccount = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: OTHER_ACCOUNT }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
  await admin.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: toOtherAccount }));
  await admin.send(new PutResourcePolicyCommand({ SecretId: managed, ResourcePolicy: toOtherAccount }));
  assert.equal((await read(carol, arn)).SecretString, 'value of shared/cross');
  // Both sides: dave of the same account has no identity policy.
  const daveDenied = await awsError(() => read(dave, arn));
  assert.equal(daveDenied.message, `User: ${userArn('dave', OTHER_ACCOUNT)} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${arn} because no identity-based policy allows the secretsmanager:GetSecretValue action`);
  // The AWS-managed key cannot be used from another account: Secrets Manager's KMS refusal.
  const viaManaged = await awsError(() => read(carol, managed));
  assert.deepEqual([viaManaged.name, viaManaged.message], ['AccessDeniedException', 'Access to KMS is not allowed']);
  // A partial name is resolved in the caller's own account only: another account's secret needs its ARN.
  assert.equal((await awsError(() => read(carol, 'shared/cross'))).name, 'ResourceNotFoundException');
});

test('an explicit deny wins over allows, in the resource policy and in identity policies', async () => {
  const arn = await createSecret('app/guarded');
  const eveCreds = await p.newUser('eve', allow('secretsmanager:*'));
  const eve = sm(eveCreds);
  assert.equal((await read(eve, arn)).SecretString, 'value of app/guarded');
  await admin.send(new PutResourcePolicyCommand({
    SecretId: arn,
    ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: userArn('eve') }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] }),
  }));
  const denied = await awsError(() => read(eve, arn));
  assert.equal(denied.message, `User: ${userArn('eve')} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${arn} with an explicit deny in a resource-based policy`);

  const frankCreds = await p.newUser('frank', {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: `${SECRETS}:app/*` }],
  });
  const other = await createSecret('app/open');
  await admin.send(new PutResourcePolicyCommand({
    SecretId: other,
    ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: userArn('frank') }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] }),
  }));
  const frankDenied = await awsError(() => read(sm(frankCreds), 'app/open'));
  assert.equal(frankDenied.message, `User: ${userArn('frank')} is not authorized to perform: secretsmanager:GetSecretValue on resource: app/open with an explicit deny in an identity-based policy`);
});

test('aws:ResourceTag and secretsmanager:ResourceTag conditions see the secret\'s tags', async () => {
  await createSecret('tagged/blue', { Tags: [{ Key: 'team', Value: 'blue' }] });
  await createSecret('tagged/red', { Tags: [{ Key: 'team', Value: 'red' }] });
  const blue = sm(await p.newUser('blue-reader', allow('secretsmanager:GetSecretValue', '*', { StringEquals: { 'aws:ResourceTag/team': 'blue' } })));
  assert.equal((await read(blue, 'tagged/blue')).SecretString, 'value of tagged/blue');
  assert.equal((await awsError(() => read(blue, 'tagged/red'))).name, 'AccessDeniedException');
  const blue2 = sm(await p.newUser('blue-reader2', allow('secretsmanager:GetSecretValue', '*', { StringEquals: { 'secretsmanager:ResourceTag/team': 'blue' } })));
  assert.equal((await read(blue2, 'tagged/blue')).SecretString, 'value of tagged/blue');
  assert.equal((await awsError(() => read(blue2, 'tagged/red'))).name, 'AccessDeniedException');
});

test('a secret on a customer key is unreadable unless the key lets the caller decrypt through Secrets Manager', async () => {
  const kms = server.kms();
  // The key policy names viewer directly, but only through Secrets Manager.
  const keyPolicy = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'kms:*', Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: userArn('viewer') }, Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: '*', Condition: { StringEquals: { 'kms:ViaService': VIA_SM } } },
    ],
  };
  const smOnly = allow('secretsmanager:GetSecretValue', `${SECRETS}:cmk/*`);
  const viewerCreds = await p.newUser('viewer', smOnly);
  const outsider = sm(await p.newUser('outsider', smOnly));
  const keyArn = (await kms.send(new CreateKeyCommand({ Policy: JSON.stringify(keyPolicy), BypassPolicyLockoutSafetyCheck: true }))).KeyMetadata!.Arn!;
  await createSecret('cmk/one', { KmsKeyId: keyArn });

  assert.equal((await read(sm(viewerCreds), 'cmk/one')).SecretString, 'value of cmk/one');
  const refused = await awsError(() => read(outsider, 'cmk/one'));
  assert.deepEqual([refused.name, refused.message], ['AccessDeniedException', 'Access to KMS is not allowed']);
  // The same key is not usable by viewer directly: the key policy allows it only via the service.
  const direct = await awsError(() => server.kms({ credentials: viewerCreds }).send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: 'AES_256' })));
  assert.equal(direct.message, `User: ${userArn('viewer')} is not authorized to perform: kms:GenerateDataKey on resource: ${keyArn} because no identity-based policy allows the kms:GenerateDataKey action`);
  // Writes need kms:GenerateDataKey through the service as well.
  await p.putUserPolicy('outsider', allow(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], `${SECRETS}:cmk/*`));
  const write = await awsError(() => outsider.send(new PutSecretValueCommand({ SecretId: 'cmk/one', SecretString: 'new' })));
  assert.deepEqual([write.name, write.message], ['AccessDeniedException', 'Access to KMS is not allowed']);
  // With kms:Decrypt in an identity policy (the key policy delegates to the account), outsider reads too.
  await p.putUserPolicy('outsider', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `${SECRETS}:cmk/*` },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn, Condition: { StringEquals: { 'kms:ViaService': VIA_SM } } },
    ],
  });
  assert.equal((await read(outsider, 'cmk/one')).SecretString, 'value of cmk/one');

  // The AWS-managed key needs no KMS permission from a principal of the account: GetSecretValue is enough.
  await createSecret('cmk/managed');
  await p.putUserPolicy('viewer', allow('secretsmanager:GetSecretValue', `${SECRETS}:cmk/managed-*`));
  assert.equal((await read(sm(viewerCreds), 'cmk/managed')).SecretString, 'value of cmk/managed');
});

test('BlockPublicPolicy refuses a policy granting a wildcard principal; malformed policies are MalformedPolicyDocumentException', async () => {
  const arn = await createSecret('app/public');
  const publicPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
  const blocked = await awsError(() => admin.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: publicPolicy, BlockPublicPolicy: true })));
  assert.equal(blocked.name, 'PublicPolicyException');
  assert.equal(blocked.message, 'The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.');
  const pinned = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': ACCOUNT_ID } } }],
  });
  await admin.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: pinned, BlockPublicPolicy: true }));
  // A condition that holds for every caller is no restriction: a wildcard account or ARN, a key that may be
  // absent (…IfExists), the whole Internet. Each is refused, and the pinned policy stays in place.
  for (const condition of [
    { StringLike: { 'aws:PrincipalAccount': '*' } },
    { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:*' } },
    { StringEqualsIfExists: { 'aws:SourceVpc': 'vpc-12345678' } },
    { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } },
    { Null: { 'aws:PrincipalAccount': 'false' } },
  ]) {
    const open = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: condition }] });
    const e = await awsError(() => admin.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: open, BlockPublicPolicy: true })));
    assert.equal(e.name, 'PublicPolicyException', JSON.stringify(condition));
  }
  assert.equal(JSON.parse((await admin.send(new GetResourcePolicyCommand({ SecretId: arn }))).ResourcePolicy!).Statement[0].Condition.StringEquals['aws:PrincipalAccount'], ACCOUNT_ID);
  // Without BlockPublicPolicy a public policy is stored (AWS records such a policy) — and it then lets anyone in.
  await admin.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: publicPolicy }));
  assert.equal((await read(sm(await p.newUser('anyone')), arn)).SecretString, 'value of app/public');

  for (const bad of ['{"Statement": [', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }] })]) {
    const e = await awsError(() => admin.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: bad })));
    assert.equal(e.name, 'MalformedPolicyDocumentException');
  }
});

test('ValidateResourcePolicy: PolicyValidationPassed, or ValidationErrors for broad access; it needs its own permission', async () => {
  const arn = await createSecret('app/validated');
  const narrow = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: userArn('bob') }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
  const broad = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'secretsmanager:*', Resource: '*' }] });
  const ok = await admin.send(new ValidateResourcePolicyCommand({ SecretId: arn, ResourcePolicy: narrow }));
  assert.equal(ok.PolicyValidationPassed, true);
  assert.deepEqual(ok.ValidationErrors, []);
  const wide = await admin.send(new ValidateResourcePolicyCommand({ ResourcePolicy: broad }));
  assert.equal(wide.PolicyValidationPassed, false);
  assert.equal(wide.ValidationErrors!.length, 1);
  assert.equal(wide.ValidationErrors![0]!.CheckName, 'BROAD_ACCESS');
  assert.equal((await awsError(() => admin.send(new ValidateResourcePolicyCommand({ ResourcePolicy: 'not json' })))).name, 'MalformedPolicyDocumentException');
  const noPerm = sm(await p.newUser('validator', allow('secretsmanager:ValidateResourcePolicy')));
  const denied = await awsError(() => noPerm.send(new ValidateResourcePolicyCommand({ SecretId: arn, ResourcePolicy: narrow })));
  assert.match(denied.message, /secretsmanager:PutResourcePolicy on resource: /);
});

test('BatchGetSecretValue needs its own permission and GetSecretValue on each secret; refused secrets go to Errors', async () => {
  await createSecret('batch/a');
  await createSecret('other/batch');
  const noBatch = sm(await p.newUser('nobatch', allow('secretsmanager:GetSecretValue')));
  assert.equal((await awsError(() => noBatch.send(new BatchGetSecretValueCommand({ SecretIdList: ['batch/a'] })))).name, 'AccessDeniedException');
  const batcher = sm(await p.newUser('batcher', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'secretsmanager:BatchGetSecretValue', Resource: '*' },
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `${SECRETS}:batch/*` },
    ],
  }));
  const out = await batcher.send(new BatchGetSecretValueCommand({ SecretIdList: ['batch/a', 'other/batch'] }));
  assert.deepEqual(out.SecretValues!.map((v) => v.Name), ['batch/a']);
  assert.equal(out.Errors!.length, 1);
  assert.equal(out.Errors![0]!.SecretId, 'other/batch');
  assert.equal(out.Errors![0]!.ErrorCode, 'AccessDeniedException');
  // With Filters the batch lists secrets: secretsmanager:ListSecrets too.
  const filtered = await awsError(() => batcher.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['batch/'] }] })));
  assert.match(filtered.message, /secretsmanager:ListSecrets/);
});

test('a denied call is recorded in the audit trail with its AccessDeniedException', async () => {
  await createSecret('app/audited');
  const nobody = sm(await p.newUser('nobody'));
  let requestId = '';
  try {
    await read(nobody, 'app/audited');
    assert.fail('expected AccessDenied');
  } catch (err) {
    requestId = (err as { $metadata: { requestId: string } }).$metadata.requestId;
  }
  const events = await p.auditEventsOf(requestId);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.eventSource, 'secretsmanager.amazonaws.com');
  assert.equal(events[0]!.eventName, 'GetSecretValue');
  assert.equal(events[0]!.errorCode, 'AccessDeniedException');
  assert.equal((events[0]!.userIdentity as Record<string, unknown>).arn, userArn('nobody'));
});
