/**
 * Parameter Store answering as AWS does (issue #21), through @aws-sdk/client-ssm and raw awsJson calls
 * against one real Trent: single-level names with and without their leading slash, DescribeParameters
 * validation, PutParameter's Value / KeyId / DataType rules, policy statuses, and the envelope
 * encryption of large advanced SecureStrings.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  AddTagsToResourceCommand, DeleteParameterCommand, DescribeParametersCommand, GetParameterCommand, GetParametersByPathCommand,
  ListTagsForResourceCommand, PutParameterCommand, SSMClient,
} from '@aws-sdk/client-ssm';
import { ACCOUNT_ID, ADMIN, REGION, awsError, rawCall, startServer, type TestServer } from './harness.ts';
import type { Credentials } from './principals.ts';

let server: TestServer;
let ssm: SSMClient;
const clients: SSMClient[] = [];
const PARAM = `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter`;

function client(credentials: Credentials = ADMIN): SSMClient {
  const c = new SSMClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials });
  clients.push(c);
  return c;
}

/** A raw SSM call, for members whose presence in the JSON matters. */
async function raw(op: string, body: Record<string, unknown>) {
  return rawCall(server.url, `AmazonSSM.${op}`, JSON.stringify(body), { service: 'ssm' });
}

before(async () => {
  server = await startServer();
  ssm = client();
});
after(async () => {
  for (const c of clients) c.destroy();
  await server.stop(true);
});

test('`x` and `/x` name one single-level parameter: it keeps the name it was created with', async () => {
  await ssm.send(new PutParameterCommand({ Name: 'flatname', Value: 'v1', Type: 'String' }));
  // AWS (name constraints, "Uniqueness"): /TestParam1 and TestParam1 are not unique.
  const again = await awsError(() => ssm.send(new PutParameterCommand({ Name: '/flatname', Value: 'v2', Type: 'String' })));
  assert.equal(again.name, 'ParameterAlreadyExists');
  assert.equal(again.message, 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
  assert.equal((await ssm.send(new PutParameterCommand({ Name: '/flatname', Value: 'v2', Type: 'String', Overwrite: true }))).Version, 2);

  for (const ref of ['flatname', '/flatname', `${PARAM}/flatname`]) {
    const got = (await raw('GetParameter', { Name: ref })).json.Parameter as Record<string, unknown>;
    assert.equal(got.Name, 'flatname', ref);
    assert.equal(got.Value, 'v2', ref);
    assert.equal(got.Version, 2, ref);
    assert.equal(got.ARN, `${PARAM}/flatname`, ref);
  }
  assert.equal((await ssm.send(new GetParameterCommand({ Name: '/flatname:1' }))).Parameter!.Value, 'v1');

  await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: '/flatname', Tags: [{ Key: 'team', Value: 'blue' }] }));
  assert.deepEqual((await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: 'flatname' }))).TagList, [{ Key: 'team', Value: 'blue' }]);

  // Under `/`: single-level names with and without the slash, as created; the Path filter on `/` agrees.
  await ssm.send(new PutParameterCommand({ Name: '/slashed', Value: 's', Type: 'String' }));
  await ssm.send(new PutParameterCommand({ Name: '/deep/below', Value: 'd', Type: 'String' }));
  const byPath = (await ssm.send(new GetParametersByPathCommand({ Path: '/' }))).Parameters!.map((p) => p.Name);
  assert.ok(byPath.includes('flatname') && byPath.includes('/slashed'), JSON.stringify(byPath));
  assert.ok(!byPath.includes('/deep/below'));
  const recursive = (await ssm.send(new GetParametersByPathCommand({ Path: '/', Recursive: true, MaxResults: 10 }))).Parameters!.map((p) => p.Name);
  assert.ok(recursive.includes('flatname') && recursive.includes('/deep/below'), JSON.stringify(recursive));
  const described = (await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Path', Values: ['/'] }] }))).Parameters!.map((p) => p.Name);
  assert.ok(described.includes('flatname') && described.includes('/slashed') && !described.includes('/deep/below'), JSON.stringify(described));

  await ssm.send(new DeleteParameterCommand({ Name: '/flatname' }));
  const gone = await awsError(() => ssm.send(new GetParameterCommand({ Name: 'flatname' })));
  assert.equal(gone.name, 'ParameterNotFound');
  assert.equal(gone.message, 'Parameter flatname not found.');
  // Created with the slash, found without it.
  assert.equal((await ssm.send(new GetParameterCommand({ Name: 'slashed' }))).Parameter!.Name, '/slashed');
  await ssm.send(new DeleteParameterCommand({ Name: 'slashed' }));
  assert.equal((await awsError(() => ssm.send(new GetParameterCommand({ Name: '/slashed' })))).name, 'ParameterNotFound');
});
