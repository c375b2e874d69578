/**
 * Parameter Store's pass-through to Secrets Manager, `/aws/reference/secretsmanager/<secret-id>`, through
 * the official @aws-sdk/client-ssm against secrets made with @aws-sdk/client-secrets-manager: the
 * SecureString answer with SourceResult, the `:version-id` / `:label` selectors, AWS's errors, GetParameters
 * listing what it cannot answer, and that the secret value stays out of the audit trail.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GetParameterCommand, GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ManualClock } from '../../src/clock.ts';
import { ADMIN, awsError, rawCall, REGION, startServer, type TestServer } from './harness.ts';

const PREFIX = '/aws/reference/secretsmanager/';
const clock = new ManualClock(Date.UTC(2026, 4, 1, 8));
let server: TestServer;
let ssm: SSMClient;
let sm: SecretsManagerClient;

before(async () => {
  server = await startServer({ clock });
  ssm = new SSMClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
  sm = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
});
after(async () => {
  ssm.destroy();
  sm.destroy();
  await server.stop(true);
});

const V1 = '11111111-aaaa-bbbb-cccc-000000000001';
const V2 = '11111111-aaaa-bbbb-cccc-000000000002';

test('WithDecryption: the secret as a SecureString with SourceResult (GetSecretValue JSON), Version 0 and the secret ARN', async () => {
  const created = await sm.send(new CreateSecretCommand({ Name: 'app/db/creds', SecretString: 'ref-first-value', ClientRequestToken: V1 }));
  clock.advance(60_000);
  await sm.send(new PutSecretValueCommand({ SecretId: 'app/db/creds', SecretString: 'ref-second-value', ClientRequestToken: V2 }));
  const p = (await ssm.send(new GetParameterCommand({ Name: `${PREFIX}app/db/creds`, WithDecryption: true }))).Parameter!;
  assert.equal(p.Name, `${PREFIX}app/db/creds`);
  assert.equal(p.Type, 'SecureString');
  assert.equal(p.Value, 'ref-second-value');
  assert.equal(p.Version, 0);
  assert.equal(p.ARN, created.ARN);
  assert.equal(p.Selector, undefined);
  assert.equal(p.LastModifiedDate!.getTime(), clock.now());
  assert.deepEqual(JSON.parse(p.SourceResult!), {
    ARN: created.ARN, Name: 'app/db/creds', VersionId: V2, SecretString: 'ref-second-value', VersionStages: ['AWSCURRENT'], CreatedDate: clock.now() / 1000,
  });
});

test('selectors: `:label` (staging label) and `:version-id` pick the version and come back as Selector; an unknown one is ParameterNotFound', async () => {
  const prev = (await ssm.send(new GetParameterCommand({ Name: `${PREFIX}app/db/creds:AWSPREVIOUS`, WithDecryption: true }))).Parameter!;
  assert.deepEqual([prev.Name, prev.Value, prev.Selector], [`${PREFIX}app/db/creds`, 'ref-first-value', ':AWSPREVIOUS']);
  assert.deepEqual((JSON.parse(prev.SourceResult!) as { VersionStages: string[] }).VersionStages, ['AWSPREVIOUS']);
  const byId = (await ssm.send(new GetParameterCommand({ Name: `${PREFIX}app/db/creds:${V1}`, WithDecryption: true }))).Parameter!;
  assert.deepEqual([byId.Value, byId.Selector], ['ref-first-value', `:${V1}`]);
  const current = (await ssm.send(new GetParameterCommand({ Name: `${PREFIX}app/db/creds:AWSCURRENT`, WithDecryption: true }))).Parameter!;
  assert.equal(current.Value, 'ref-second-value');
  const unknown = await awsError(() => ssm.send(new GetParameterCommand({ Name: `${PREFIX}app/db/creds:NOSUCHSTAGE`, WithDecryption: true })));
  assert.deepEqual([unknown.name, unknown.message], [
    'ParameterNotFound', 'An error occurred (ParameterNotFound) when referencing Secrets Manager: Secret aws/reference/secretsmanager/app/db/creds:NOSUCHSTAGE not found.',
  ]);
});

test('errors: no WithDecryption, malformed selectors, a missing secret, a secret scheduled for deletion — AWS texts, never a 500', async () => {
  const needs = 'WithDecryption flag must be True for retrieving a Secret Manager secret.';
  for (const input of [{ Name: `${PREFIX}app/db/creds` }, { Name: `${PREFIX}app/db/creds`, WithDecryption: false }, { Name: `${PREFIX}not-there` }]) {
    const e = await awsError(() => ssm.send(new GetParameterCommand(input)));
    assert.deepEqual([e.name, e.message, e.status], ['ValidationException', needs, 400]);
  }
  for (const ref of ['app/db/creds:AWSCURRENT:extra', 'app/db/creds:', ':AWSCURRENT', `arn:aws:secretsmanager:${REGION}:111122223333:secret:app/db/creds`]) {
    const e = await awsError(() => ssm.send(new GetParameterCommand({ Name: PREFIX + ref, WithDecryption: true })));
    assert.deepEqual([e.name, e.message], ['ValidationException', 'Invalid parameter name. Please use correct syntax for referencing a version/label  <name>:<version/label>'], ref);
  }
  const missing = await awsError(() => ssm.send(new GetParameterCommand({ Name: `${PREFIX}not-there`, WithDecryption: true })));
  assert.deepEqual([missing.name, missing.message], [
    'ParameterNotFound', 'An error occurred (ParameterNotFound) when referencing Secrets Manager: Secret aws/reference/secretsmanager/not-therenull not found.',
  ]);
  await sm.send(new CreateSecretCommand({ Name: 'going', SecretString: 'ref-going-value' }));
  await sm.send(new DeleteSecretCommand({ SecretId: 'going', RecoveryWindowInDays: 7 }));
  const deleted = await awsError(() => ssm.send(new GetParameterCommand({ Name: `${PREFIX}going`, WithDecryption: true })));
  assert.deepEqual([deleted.name, deleted.message], ['ValidationException', 'Invalid Request to Secrets Manager']);
  // Raw wire: the same answers with __type and status 400.
  const raw = await rawCall(server.url, 'AmazonSSM.GetParameter', JSON.stringify({ Name: `${PREFIX}not-there`, WithDecryption: true }), { service: 'ssm' });
  assert.deepEqual([raw.status, raw.json.__type], [400, 'ParameterNotFound']);
});

test('a binary secret has no Value; its SourceResult carries SecretBinary', async () => {
  await sm.send(new CreateSecretCommand({ Name: 'bin', SecretBinary: Buffer.from('ref-binary-value-0xc0ffee') }));
  const p = (await ssm.send(new GetParameterCommand({ Name: `${PREFIX}bin`, WithDecryption: true }))).Parameter!;
  assert.equal(p.Type, 'SecureString');
  assert.equal(p.Value, undefined);
  assert.equal((JSON.parse(p.SourceResult!) as { SecretBinary: string }).SecretBinary, Buffer.from('ref-binary-value-0xc0ffee').toString('base64'));
});

test('GetParameters answers references beside parameters and lists what it cannot answer in InvalidParameters', async () => {
  await ssm.send(new PutParameterCommand({ Name: '/plain/p', Value: 'plain', Type: 'String' }));
  const names = [`${PREFIX}app/db/creds`, `${PREFIX}app/db/creds:AWSPREVIOUS`, `${PREFIX}nope`, `${PREFIX}app/db/creds:NOSUCH`, `${PREFIX}app/db/creds:a:b`, '/plain/p'];
  const out = await ssm.send(new GetParametersCommand({ Names: names, WithDecryption: true }));
  assert.deepEqual(out.Parameters!.map((p) => p.Value).sort(), ['plain', 'ref-first-value', 'ref-second-value']);
  assert.deepEqual([...out.InvalidParameters!].sort(), [`${PREFIX}app/db/creds:NOSUCH`, `${PREFIX}app/db/creds:a:b`, `${PREFIX}nope`]);
  const plain = await ssm.send(new GetParametersCommand({ Names: [`${PREFIX}app/db/creds`, '/plain/p'] }));
  assert.deepEqual(plain.Parameters!.map((p) => p.Value), ['plain']);
  assert.deepEqual(plain.InvalidParameters, [`${PREFIX}app/db/creds`]);
});

test('the secret values read through Parameter Store appear in no audit event', async () => {
  await server.app.audit.runOnce();
  const rows = await server.app.storage.read((r) => r.audit.scan(0, 100_000));
  assert.ok(rows.some((r) => r.eventName === 'GetParameter'), 'the reads were audited');
  for (const r of rows) {
    for (const v of ['ref-first-value', 'ref-second-value', 'ref-going-value', Buffer.from('ref-binary-value-0xc0ffee').toString('base64')]) {
      assert.equal(r.record.includes(v), false, `${r.eventName} event holds ${v}`);
    }
  }
});
