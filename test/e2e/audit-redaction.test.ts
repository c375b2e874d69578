/**
 * Redaction keeps what CloudTrail keeps: key policies (PutKeyPolicy, CreateKey), secret resource policies
 * and parameter names are in the events; the values they protect are not (the full search of every
 * store byte and log line is test/e2e/no-secret-leaks.test.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateKeyCommand, GetKeyPolicyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { CreateSecretCommand, PutResourcePolicyCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DeleteParametersCommand, GetParametersByPathCommand, GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ACCOUNT_ID, ADMIN, REGION, startServer, type TestServer } from './harness.ts';

let server: TestServer;
let sm: SecretsManagerClient;
let ssm: SSMClient;
before(async () => {
  server = await startServer();
  sm = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
  ssm = new SSMClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
});
after(async () => {
  sm.destroy();
  ssm.destroy();
  await server.stop(true);
});

/** The one event of `name` whose request id the SDK reported. */
async function eventOf(requestId: string | undefined, name: string): Promise<Record<string, unknown>> {
  const rows = await server.app.storage.read((r) => r.audit.scan(0, 100_000));
  const found = rows.map((r) => JSON.parse(r.record) as Record<string, unknown>).filter((e) => e.requestID === requestId && e.eventName === name);
  assert.equal(found.length, 1, `${name}: ${found.length} events`);
  return found[0]!;
}

const keyPolicy = (sid: string) => JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: sid, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'kms:*', Resource: '*' }],
});

test('PutKeyPolicy and CreateKey record the key policy document, as CloudTrail does', async () => {
  const kms = server.kms();
  const created = await kms.send(new CreateKeyCommand({ Description: 'policy audit', Policy: keyPolicy('at-create') }));
  const createEvent = await eventOf(created.$metadata.requestId, 'CreateKey');
  assert.equal((createEvent.requestParameters as Record<string, unknown>).policy, keyPolicy('at-create'));
  const put = await kms.send(new PutKeyPolicyCommand({ KeyId: created.KeyMetadata!.KeyId, PolicyName: 'default', Policy: keyPolicy('replaced') }));
  const e = await eventOf(put.$metadata.requestId, 'PutKeyPolicy');
  assert.deepEqual(e.requestParameters, { keyId: created.KeyMetadata!.KeyId, policyName: 'default', policy: keyPolicy('replaced') });
  const got = await kms.send(new GetKeyPolicyCommand({ KeyId: created.KeyMetadata!.KeyId, PolicyName: 'default' }));
  const g = await eventOf(got.$metadata.requestId, 'GetKeyPolicy');
  assert.deepEqual(g.requestParameters, { keyId: created.KeyMetadata!.KeyId, policyName: 'default' });
  assert.equal(g.responseElements, null);
});

test('PutResourcePolicy records the secret resource policy; CreateSecret records the name and never the value', async () => {
  const value = 'REDACTION-secret-value-4f1d9a';
  const created = await sm.send(new CreateSecretCommand({ Name: 'audit/redaction', SecretString: value, Description: 'd' }));
  const c = await eventOf(created.$metadata.requestId, 'CreateSecret');
  assert.equal((c.requestParameters as Record<string, unknown>).name, 'audit/redaction');
  assert.ok(!JSON.stringify(c).includes(value));
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
  const put = await sm.send(new PutResourcePolicyCommand({ SecretId: 'audit/redaction', ResourcePolicy: policy }));
  const e = await eventOf(put.$metadata.requestId, 'PutResourcePolicy');
  assert.deepEqual(e.requestParameters, { secretId: 'audit/redaction', resourcePolicy: policy });
});

test('parameter names are recorded (one, several, a path) and SecureString values never are', async () => {
  const value = 'REDACTION-secure-value-8c2e70';
  const put = await ssm.send(new PutParameterCommand({ Name: '/audit/redaction/a', Value: value, Type: 'SecureString' }));
  const p = await eventOf(put.$metadata.requestId, 'PutParameter');
  assert.deepEqual(p.requestParameters, { name: '/audit/redaction/a', type: 'SecureString' });
  assert.ok(!JSON.stringify(p).includes(value));
  await ssm.send(new PutParameterCommand({ Name: '/audit/redaction/b', Value: 'plain', Type: 'String' }));
  const many = await ssm.send(new GetParametersCommand({ Names: ['/audit/redaction/a', '/audit/redaction/b'], WithDecryption: true }));
  assert.deepEqual((await eventOf(many.$metadata.requestId, 'GetParameters')).requestParameters, { names: ['/audit/redaction/a', '/audit/redaction/b'], withDecryption: true });
  const byPath = await ssm.send(new GetParametersByPathCommand({ Path: '/audit/redaction', WithDecryption: true }));
  const b = await eventOf(byPath.$metadata.requestId, 'GetParametersByPath');
  assert.deepEqual(b.requestParameters, { path: '/audit/redaction', withDecryption: true });
  assert.ok(!JSON.stringify(b).includes(value));
  const del = await ssm.send(new DeleteParametersCommand({ Names: ['/audit/redaction/a', '/audit/redaction/missing'] }));
  const d = await eventOf(del.$metadata.requestId, 'DeleteParameters');
  assert.deepEqual(d.requestParameters, { names: ['/audit/redaction/a', '/audit/redaction/missing'] });
  assert.deepEqual(d.responseElements, { deletedParameters: ['/audit/redaction/a'], invalidParameters: ['/audit/redaction/missing'] });
});
