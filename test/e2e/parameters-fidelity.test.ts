/**
 * Parameter Store answering as AWS does (issue #21), through @aws-sdk/client-ssm and raw awsJson calls
 * against one real Trent: single-level names with and without their leading slash, DescribeParameters
 * validation, PutParameter's Value / KeyId / DataType rules, policy statuses, and the envelope
 * encryption of large advanced SecureStrings.
 */
import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { after, before, test } from 'node:test';
import { CreateKeyCommand, DecryptCommand } from '@aws-sdk/client-kms';
import {
  AddTagsToResourceCommand, DeleteParameterCommand, DescribeParametersCommand, GetParameterCommand, GetParameterHistoryCommand, GetParametersByPathCommand,
  ListTagsForResourceCommand, PutParameterCommand, SSMClient,
} from '@aws-sdk/client-ssm';
import { ManualClock } from '../../src/clock.ts';
import { ACCOUNT_ID, ADMIN, REGION, awsError, rawCall, startServer, type TestServer } from './harness.ts';
import { type Credentials, principals } from './principals.ts';

let server: TestServer;
let ssm: SSMClient;
const clients: SSMClient[] = [];
const PARAM = `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter`;
const HOUR = 3_600_000;
/** The policy job runs by hand (app.jobs.runOnce) with this clock advanced. */
const clock = new ManualClock(Date.now());

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
  server = await startServer({ clock });
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

test('DescribeParameters: every model violation of the filters is reported together, in AWS\'s words', async () => {
  const two = await raw('DescribeParameters', { ParameterFilters: [{ Key: 'Name', Option: 'over 10 chars', Values: ['x'] }, { Key: 'key', Values: ['x'] }] });
  assert.equal(two.status, 400);
  assert.equal(two.json.__type, 'ValidationException');
  assert.equal(
    two.json.message,
    "2 validation errors detected: Value 'over 10 chars' at 'parameterFilters.1.member.option' failed to satisfy constraint: Member must have length less than or equal to 10; "
      + "Value 'key' at 'parameterFilters.2.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType",
  );
  // A list is printed with its values; a constraint on each item is "Member must satisfy constraint: [...]".
  const many = await awsError(() => ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: Array.from({ length: 51 }, () => 'a') }] })));
  assert.equal(many.name, 'ValidationException');
  assert.equal(many.message, `1 validation error detected: Value '[${Array.from({ length: 51 }, () => 'a').join(', ')}]' at 'parameterFilters.1.member.values' failed to satisfy constraint: Member must have length less than or equal to 50`);
  const long = await awsError(() => ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: ['t'.repeat(1025)] }] })));
  assert.equal(long.message, `1 validation error detected: Value '[${'t'.repeat(1025)}]' at 'parameterFilters.1.member.values' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1]`);
  // Legacy Filters: the key enum in the model's order, and Values required; with a ParameterFilters violation, all together.
  const legacy = await raw('DescribeParameters', { Filters: [{ Key: 'Path' }], ParameterFilters: [{ Key: 'tag:' + 't'.repeat(129), Values: ['x'] }] });
  assert.equal(
    legacy.json.message,
    "3 validation errors detected: Value 'Path' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [Name, Type, KeyId]; "
      + "Value null at 'filters.1.member.values' failed to satisfy constraint: Member must not be null; "
      + `Value 'tag:${'t'.repeat(129)}' at 'parameterFilters.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 132`,
  );
});

test('DescribeParameters: a duplicate filter key, Path values under /aws or /ssm or with //, and Tier/Type values are refused', async () => {
  const dup = await awsError(() => ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: ['a'] }, { Key: 'Name', Values: ['b'] }] })));
  assert.equal(dup.name, 'InvalidFilterKey');
  assert.equal(dup.message, 'The following filter is duplicated in the request: Name. A request can contain only one occurrence of a specific filter.');
  for (const path of ['/aws', '/SSM/x', '/awsome']) {
    const reserved = await awsError(() => ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Path', Values: [path] }] })));
    assert.equal(reserved.name, 'ValidationException', path);
    assert.equal(reserved.message, 'Filters for common parameters can\'t be prefixed with "aws" or "ssm" (case-insensitive). When using global parameters, please specify within a global namespace.');
  }
  for (const path of ['//', '/a//b', 'test', '/###']) {
    const bad = await awsError(() => ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Path', Option: 'Recursive', Values: [path] }] })));
    assert.equal(bad.name, 'ValidationException', path);
    assert.equal(
      bad.message,
      'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/". It can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.',
    );
  }
  const tier = await awsError(() => ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Tier', Values: ['Standard', 'test'] }] })));
  assert.equal(tier.name, 'InvalidFilterOption');
  assert.equal(tier.message, 'The following filter value is not valid: test. Valid values include: [Standard, Advanced, Intelligent-Tiering].');
  const type = await awsError(() => ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Type', Values: ['string'] }] })));
  assert.equal(type.name, 'InvalidFilterOption');
  assert.equal(type.message, 'The following filter value is not valid: string. Valid values include: [String, StringList, SecureString].');
  // Valid values still answer.
  assert.ok(Array.isArray((await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Tier', Values: ['Intelligent-Tiering'] }, { Key: 'Path', Values: ['/ok/path'] }] }))).Parameters));
});

test('PutParameter: an empty Value is refused; KeyId on a String/StringList is accepted and ignored; DataType text and aws:ec2:image only', async () => {
  const empty = await raw('PutParameter', { Name: '/put/empty', Value: '', Type: 'String' });
  assert.equal(empty.status, 400);
  assert.equal(empty.json.__type, 'ValidationException');
  assert.equal(empty.json.message, "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1.");

  for (const type of ['String', 'StringList'] as const) {
    const name = `/put/keyid-${type}`;
    assert.equal((await ssm.send(new PutParameterCommand({ Name: name, Value: 'a,b', Type: type, KeyId: 'alias/not-used' }))).Version, 1);
    const meta = ((await raw('DescribeParameters', { ParameterFilters: [{ Key: 'Name', Values: [name] }] })).json.Parameters as Record<string, unknown>[])[0]!;
    assert.equal(meta.Type, type);
    assert.equal('KeyId' in meta, false, 'no KeyId member for a parameter that is not encrypted');
    assert.equal((await ssm.send(new GetParameterCommand({ Name: name }))).Parameter!.Value, 'a,b');
  }

  await ssm.send(new PutParameterCommand({ Name: '/put/ami', Value: 'ami-0123456789abcdef0', Type: 'String', DataType: 'aws:ec2:image' }));
  const ami = (await raw('GetParameter', { Name: '/put/ami' })).json.Parameter as Record<string, unknown>;
  assert.equal(ami.DataType, 'aws:ec2:image');
  assert.equal(ami.Value, 'ami-0123456789abcdef0');
  const notAmi = await awsError(() => ssm.send(new PutParameterCommand({ Name: '/put/ami2', Value: 'not-an-ami', Type: 'String', DataType: 'aws:ec2:image' })));
  assert.equal(notAmi.name, 'ValidationException');
  assert.equal(notAmi.message, 'Parameter value, not-an-ami, is not a valid image ID for data type aws:ec2:image.');
  for (const dataType of ['Text', 'aws:ec2:IMAGE', 'json']) {
    const bad = await awsError(() => ssm.send(new PutParameterCommand({ Name: '/put/dt', Value: 'x', Type: 'String', DataType: dataType })));
    assert.equal(bad.name, 'ValidationException', dataType);
    assert.equal(bad.message, `The following data type is not supported: ${dataType} (Data type names are all lowercase.)`);
  }
  assert.equal((await awsError(() => ssm.send(new GetParameterCommand({ Name: '/put/dt' })))).name, 'ParameterNotFound');
});

test('policies: PolicyStatus moves from Pending to Finished when the policy fires, as DescribeParameters and GetParameterHistory show', async () => {
  const name = '/policy/status';
  const expiresAt = new Date(clock.now() + 48 * HOUR).toISOString();
  const policies = [
    { Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: expiresAt } },
    { Type: 'ExpirationNotification', Version: '1.0', Attributes: { Before: '1', Unit: 'Days' } },
    { Type: 'NoChangeNotification', Version: '1.0', Attributes: { After: '2', Unit: 'Hours' } },
  ];
  await ssm.send(new PutParameterCommand({ Name: name, Value: 'v', Type: 'String', Tier: 'Advanced', Policies: JSON.stringify(policies) }));
  const statuses = async () => {
    const meta = ((await raw('DescribeParameters', { ParameterFilters: [{ Key: 'Name', Values: [name] }] })).json.Parameters as { Policies: Record<string, string>[] }[])[0]!;
    const history = ((await raw('GetParameterHistory', { Name: name })).json.Parameters as { Policies: Record<string, string>[] }[]).at(-1)!;
    assert.deepEqual(history.Policies, meta.Policies, 'the history of the latest version agrees');
    return Object.fromEntries(meta.Policies.map((p) => [p.PolicyType, p.PolicyStatus]));
  };
  assert.deepEqual(await statuses(), { Expiration: 'Pending', ExpirationNotification: 'Pending', NoChangeNotification: 'Pending' });

  clock.advance(2 * HOUR);
  await server.app.jobs.runOnce();
  assert.deepEqual(await statuses(), { Expiration: 'Pending', ExpirationNotification: 'Pending', NoChangeNotification: 'Finished' });

  clock.advance(22 * HOUR);
  await server.app.jobs.runOnce();
  assert.deepEqual(await statuses(), { Expiration: 'Pending', ExpirationNotification: 'Finished', NoChangeNotification: 'Finished' });
  // Each policy keeps its text and type; only the status moved.
  const meta = ((await raw('DescribeParameters', { ParameterFilters: [{ Key: 'Name', Values: [name] }] })).json.Parameters as { Policies: Record<string, string>[] }[])[0]!;
  assert.deepEqual(meta.Policies.map((p) => Object.keys(p)), policies.map(() => ['PolicyText', 'PolicyType', 'PolicyStatus']));
  assert.deepEqual(meta.Policies.map((p) => JSON.parse(p.PolicyText!)), policies);

  // A new version re-arms the NoChangeNotification: Pending again.
  await ssm.send(new PutParameterCommand({ Name: name, Value: 'v2', Overwrite: true }));
  assert.deepEqual(await statuses(), { Expiration: 'Pending', ExpirationNotification: 'Finished', NoChangeNotification: 'Pending' });

  // Expiration deletes the parameter when it fires.
  clock.advance(24 * HOUR);
  await server.app.jobs.runOnce();
  assert.equal((await awsError(() => ssm.send(new GetParameterCommand({ Name: name })))).name, 'ParameterNotFound');
});

test('an advanced SecureString above 4 KB is envelope-encrypted under its KMS key; kms:Decrypt on that key still decides who reads it', async () => {
  const kms = server.kms();
  const keyArn = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  const name = '/envelope/big';
  const arn = `${PARAM}${name}`;
  const value = 'e'.repeat(6000);
  await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString', Tier: 'Advanced', KeyId: keyArn }));
  assert.equal((await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter!.Value, value);

  // The stored blob: u16 length ‖ a 32-byte data key under the parameter's key (PARAMETER_ARN) ‖ AES-256-GCM of the value.
  const blob = Buffer.from((await ssm.send(new GetParameterCommand({ Name: name }))).Parameter!.Value!, 'base64');
  const wrappedLength = blob.readUInt16BE(0);
  const dataKey = await kms.send(new DecryptCommand({ CiphertextBlob: blob.subarray(2, 2 + wrappedLength), EncryptionContext: { PARAMETER_ARN: arn } }));
  assert.equal(dataKey.KeyId, keyArn);
  assert.equal(dataKey.Plaintext!.length, 32);
  const box = blob.subarray(2 + wrappedLength);
  const decipher = createDecipheriv('aes-256-gcm', dataKey.Plaintext!, box.subarray(0, 12));
  decipher.setAAD(Buffer.from(arn, 'utf8'));
  decipher.setAuthTag(box.subarray(box.length - 16));
  assert.equal(Buffer.concat([decipher.update(box.subarray(12, box.length - 16)), decipher.final()]).toString('utf8'), value);

  // Smaller advanced values and standard ones stay one KMS ciphertext, and both read back.
  await ssm.send(new PutParameterCommand({ Name: '/envelope/small', Value: 'small', Type: 'SecureString', Tier: 'Advanced', KeyId: keyArn }));
  const small = Buffer.from((await ssm.send(new GetParameterCommand({ Name: '/envelope/small' }))).Parameter!.Value!, 'base64');
  assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: small, EncryptionContext: { PARAMETER_ARN: `${PARAM}/envelope/small` } }))).Plaintext!).toString(), 'small');
  assert.equal((await ssm.send(new GetParameterCommand({ Name: '/envelope/small', WithDecryption: true }))).Parameter!.Value, 'small');
  // History of a parameter whose versions are sealed both ways.
  await ssm.send(new PutParameterCommand({ Name: name, Value: 'now small', Overwrite: true }));
  const history = (await ssm.send(new GetParameterHistoryCommand({ Name: name, WithDecryption: true }))).Parameters!;
  assert.deepEqual(history.map((h) => h.Value), [value, 'now small']);
  await ssm.send(new PutParameterCommand({ Name: name, Value: value, Overwrite: true }));

  // A caller allowed to read the parameter but denied kms:Decrypt on its key gets the ciphertext, never the value.
  const p = principals(server);
  const reader = client(await p.newUser('envelope-reader', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParameterHistory'], Resource: `${PARAM}/envelope/*` },
      { Effect: 'Deny', Action: 'kms:Decrypt', Resource: keyArn },
    ],
  }));
  assert.deepEqual(Buffer.from((await reader.send(new GetParameterCommand({ Name: name }))).Parameter!.Value!, 'base64').subarray(0, 2), blob.subarray(0, 2));
  const denied = await awsError(() => reader.send(new GetParameterCommand({ Name: name, WithDecryption: true })));
  assert.equal(denied.name, 'AccessDeniedException');
  assert.match(denied.message, new RegExp(`^User: arn:aws:iam::${ACCOUNT_ID}:user/envelope-reader is not authorized to perform: kms:Decrypt on resource: ${keyArn} with an explicit deny in an identity-based policy \\(Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: [0-9a-f-]+; Proxy: null\\)$`));
  assert.equal((await awsError(() => reader.send(new GetParameterHistoryCommand({ Name: name, WithDecryption: true })))).name, 'AccessDeniedException');
});
