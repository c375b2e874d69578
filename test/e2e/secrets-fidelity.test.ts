/**
 * Secrets Manager answers as AWS does, through the real server: raw JSON members where the point is
 * presence or absence, exact error codes and texts. Source of each expectation:
 * /work/shared/reference/aws-recorded/test_secretsmanager.snapshot.json ("recorded") or AWS's
 * documentation ("Filter", "Find secrets", PutSecretValue).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  type ListSecretsCommandInput,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { awsError, rawCall } from './harness.ts';
import { describeRaw, type SecretsFixture, startSecretsServer } from './secrets-fixture.ts';

let fx: SecretsFixture;
const TOKEN = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

before(async () => {
  fx = await startSecretsServer();
});
after(async () => {
  await fx.stop();
});

/** A signed Secrets Manager call with a raw JSON body; the raw JSON answer. */
const raw = (op: string, body: Record<string, unknown>) =>
  rawCall(fx.server.url, `secretsmanager.${op}`, JSON.stringify(body), { service: 'secretsmanager' });

test('error bodies carry Message, as recorded ({"__type": "InvalidRequestException", "Message": …}), and no lowercase message', async () => {
  const res = await raw('CreateSecret', { Name: 'fid/no-token', SecretString: 'x' });
  assert.equal(res.status, 400);
  assert.deepEqual(res.json, { __type: 'InvalidRequestException', Message: 'You must provide a ClientRequestToken value. We recommend a UUID-type value.' });
  const missing = await raw('DescribeSecret', { SecretId: 'fid/none' });
  assert.deepEqual(missing.json, { __type: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." });
});

test('a raw UpdateSecret, RotateSecret or PutSecretValue without ClientRequestToken is refused before the secret is looked up, with the recorded code and body', async () => {
  const expected = { UpdateSecret: 'InvalidRequestException', RotateSecret: 'InvalidParameterException', PutSecretValue: 'InvalidRequestException' };
  for (const [op, code] of Object.entries(expected)) {
    const res = await raw(op, { SecretId: 'fid/never-created', SecretString: 'thisisthesecret', Description: 'My secret string' });
    assert.equal(res.status, 400, op);
    assert.deepEqual(res.json, { __type: code, Message: 'You must provide a ClientRequestToken value. We recommend a UUID-type value.' }, op);
  }
});

test('KMS errors keep the message member, and one AWS sends without text gets none', async () => {
  const res = await rawCall(fx.server.url, 'TrentService.DescribeKey', JSON.stringify({ KeyId: 'alias/fid-none' }), { service: 'kms' });
  assert.equal(res.json.__type, 'NotFoundException');
  assert.equal(typeof res.json.message, 'string');
  assert.equal('Message' in res.json, false);
  const key = await rawCall(fx.server.url, 'TrentService.CreateKey', JSON.stringify({}), { service: 'kms' });
  const keyId = (key.json.KeyMetadata as { KeyId: string }).KeyId;
  const bad = await rawCall(fx.server.url, 'TrentService.Decrypt', JSON.stringify({ KeyId: keyId, CiphertextBlob: Buffer.alloc(64, 1).toString('base64') }), { service: 'kms' });
  assert.equal(bad.json.__type, 'InvalidCiphertextException');
  assert.deepEqual(Object.keys(bad.json), ['__type'], 'no empty message member');
});

test('DescribeSecret of a secret without a value or tags has exactly the recorded members: no PrimaryRegion, Description, Tags or VersionIdsToStages', async () => {
  await fx.sm.send(new CreateSecretCommand({ Name: 'fid/empty' }));
  const d = await describeRaw(fx.server.url, 'fid/empty');
  assert.deepEqual(Object.keys(d).sort(), ['ARN', 'CreatedDate', 'LastChangedDate', 'Name']);
  // The first version PutSecretValue creates is AWSCURRENT, even when VersionStages names other labels.
  const put = await fx.sm.send(new PutSecretValueCommand({ SecretId: 'fid/empty', SecretString: 'v1', ClientRequestToken: TOKEN(1), VersionStages: ['CUSTOM'] }));
  assert.deepEqual([...put.VersionStages!].sort(), ['AWSCURRENT', 'CUSTOM']);
  const after = await describeRaw(fx.server.url, 'fid/empty');
  assert.deepEqual(Object.keys(after).sort(), ['ARN', 'CreatedDate', 'LastChangedDate', 'Name', 'VersionIdsToStages']);
  // A later version with VersionStages leaves AWSCURRENT where it is (recorded).
  const second = await fx.sm.send(new PutSecretValueCommand({ SecretId: 'fid/empty', SecretString: 'v2', ClientRequestToken: TOKEN(2), VersionStages: ['OTHER'] }));
  assert.deepEqual(second.VersionStages, ['OTHER']);
});

test('an empty Description is left out of DescribeSecret and ListSecrets', async () => {
  await fx.sm.send(new CreateSecretCommand({ Name: 'fid/blank', SecretString: 'x', Description: '' }));
  assert.equal('Description' in (await describeRaw(fx.server.url, 'fid/blank')), false);
  const listed = await raw('ListSecrets', { Filters: [{ Key: 'name', Values: ['fid/blank'] }] });
  const entry = (listed.json.SecretList as Record<string, unknown>[])[0]!;
  assert.deepEqual(Object.keys(entry).sort(), ['ARN', 'CreatedDate', 'LastChangedDate', 'Name', 'SecretVersionsToStages']);
});

test('Tags: absent before any tag; "Tags": [] once the last tag is removed (recorded)', async () => {
  await fx.sm.send(new CreateSecretCommand({ Name: 'fid/tags' }));
  assert.equal('Tags' in (await describeRaw(fx.server.url, 'fid/tags')), false);
  await fx.sm.send(new TagResourceCommand({ SecretId: 'fid/tags', Tags: [{ Key: 'tag1', Value: 'value1' }] }));
  assert.deepEqual((await describeRaw(fx.server.url, 'fid/tags')).Tags, [{ Key: 'tag1', Value: 'value1' }]);
  await fx.sm.send(new UntagResourceCommand({ SecretId: 'fid/tags', TagKeys: ['tag1'] }));
  assert.deepEqual((await describeRaw(fx.server.url, 'fid/tags')).Tags, []);
});

test('secret names: only ASCII letters, digits and /_+=.@- (recorded ValidationException for each invalid name)', async () => {
  for (const name of ['Inv Name', ' Inv Name', ' Inv*Name? ', ' Inv *?!]Name\\-']) {
    const e = await awsError(() => fx.sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' })));
    assert.deepEqual([e.name, e.message], ['ValidationException', 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!'], name);
  }
  const ok = await fx.sm.send(new CreateSecretCommand({ Name: 'Valid/_+=.@-Name', SecretString: 'x' }));
  assert.equal(ok.Name, 'Valid/_+=.@-Name');
});

test('a SecretId with a character no name may hold is ValidationException before any lookup, in every operation (recorded test_invalid_secret_name)', async () => {
  const text = 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!';
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
  for (const id of ['Inv Name', ' Inv*Name? ', ' Inv *?!]Name\\-', 'arn:aws:secretsmanager:us-east-1:111122223333:secret:Inv Name']) {
    const calls: Array<[string, Record<string, unknown>]> = [
      ['DeleteSecret', { SecretId: id, ForceDeleteWithoutRecovery: true }],
      ['DescribeSecret', { SecretId: id }],
      ['GetSecretValue', { SecretId: id }],
      ['ListSecretVersionIds', { SecretId: id, IncludeDeprecated: true }],
      ['PutSecretValue', { SecretId: id, SecretString: 'x', ClientRequestToken: TOKEN(41) }],
      ['TagResource', { SecretId: id, Tags: [{ Key: 'k', Value: 'v' }] }],
      ['UntagResource', { SecretId: id, TagKeys: ['k'] }],
      ['UpdateSecret', { SecretId: id, Description: 'd' }],
      ['ValidateResourcePolicy', { SecretId: id, ResourcePolicy: policy }],
    ];
    for (const [op, body] of calls) {
      const res = await raw(op, body);
      assert.equal(res.status, 400, `${op} ${id}`);
      assert.deepEqual(res.json, { __type: 'ValidationException', Message: text }, `${op} ${id}`);
    }
  }
});

test('a partial ARN ending in - and 6 characters is read as a full ARN: it does not find a secret whose name ends that way (recorded)', async () => {
  const created = await fx.sm.send(new CreateSecretCommand({ Name: 'fid/Invalid-Name-a1b2c3', SecretString: 'x' }));
  const partial = created.ARN!.slice(0, -7);
  assert.ok(partial.endsWith(':secret:fid/Invalid-Name-a1b2c3'));
  const e = await awsError(() => fx.sm.send(new GetSecretValueCommand({ SecretId: partial })));
  assert.deepEqual([e.name, e.message], ['ResourceNotFoundException', "Secrets Manager can't find the specified secret."]);
  assert.equal((await fx.sm.send(new GetSecretValueCommand({ SecretId: 'fid/Invalid-Name-a1b2c3' }))).SecretString, 'x');
  assert.equal((await fx.sm.send(new GetSecretValueCommand({ SecretId: created.ARN }))).SecretString, 'x');
  // A name ending in a hyphen after the 6 characters, or in fewer than 6, is found by its partial ARN.
  for (const name of ['fid/Valid-Name-a1b2c3-', 'fid/Valid-Name-a1b2']) {
    const ok = await fx.sm.send(new CreateSecretCommand({ Name: name, SecretString: 'y' }));
    assert.equal((await fx.sm.send(new GetSecretValueCommand({ SecretId: ok.ARN!.slice(0, -7) }))).SecretString, 'y', name);
  }
});

test('a new AWSCURRENT version takes AWSPENDING off the version that held both; it keeps AWSPREVIOUS only (recorded test_update_secret_version_stages_current_pending)', async () => {
  const name = 'fid/current-pending';
  await fx.sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: TOKEN(51) }));
  await fx.sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2', ClientRequestToken: TOKEN(52), VersionStages: ['AWSPENDING'] }));
  await fx.sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN(52), RemoveFromVersionId: TOKEN(51) }));
  const stages = async () => Object.fromEntries(((await fx.sm.send(new ListSecretVersionIdsCommand({ SecretId: name }))).Versions ?? []).map((v) => [v.VersionId, [...(v.VersionStages ?? [])].sort()]));
  assert.deepEqual(await stages(), { [TOKEN(51)]: ['AWSPREVIOUS'], [TOKEN(52)]: ['AWSCURRENT', 'AWSPENDING'] });
  await fx.sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v3', ClientRequestToken: TOKEN(53) }));
  assert.deepEqual(await stages(), { [TOKEN(52)]: ['AWSPREVIOUS'], [TOKEN(53)]: ['AWSCURRENT'] });
});

test('ListSecretVersionIds lists a deprecated version without VersionStages (recorded)', async () => {
  await fx.sm.send(new CreateSecretCommand({ Name: 'fid/versions', SecretString: 'v1', ClientRequestToken: TOKEN(11) }));
  await fx.sm.send(new PutSecretValueCommand({ SecretId: 'fid/versions', SecretString: 'v2', ClientRequestToken: TOKEN(12) }));
  await fx.sm.send(new PutSecretValueCommand({ SecretId: 'fid/versions', SecretString: 'v3', ClientRequestToken: TOKEN(13) }));
  const res = await raw('ListSecretVersionIds', { SecretId: 'fid/versions', IncludeDeprecated: true });
  const byId = Object.fromEntries((res.json.Versions as Record<string, unknown>[]).map((v) => [v.VersionId, v]));
  assert.deepEqual(Object.keys(byId[TOKEN(11)]!).sort(), ['CreatedDate', 'KmsKeyIds', 'VersionId']);
  assert.deepEqual(byId[TOKEN(12)]!.VersionStages, ['AWSPREVIOUS']);
  const plain = await fx.sm.send(new ListSecretVersionIdsCommand({ SecretId: 'fid/versions' }));
  assert.deepEqual(plain.Versions!.map((v) => v.VersionId).sort(), [TOKEN(12), TOKEN(13)]);
});

test('ListSecrets Filters match as AWS recorded: name by case-sensitive prefix, description by words (each word a prefix), negation, AND across filters', async () => {
  const suffix = 'q7';
  const names = { one: `testing1/one-${suffix}`, two: `/testing2/two-${suffix}`, three: `testing3/three-${suffix}`, four: `/testing4/four-${suffix}` };
  await fx.sm.send(new CreateSecretCommand({ Name: names.one, SecretString: 's', Description: 'a secret' }));
  await fx.sm.send(new CreateSecretCommand({ Name: names.two, SecretString: 's', Description: 'an secret' }));
  await fx.sm.send(new CreateSecretCommand({ Name: names.three, SecretString: 's', Description: 'asecret' }));
  await fx.sm.send(new CreateSecretCommand({ Name: names.four, SecretString: 's', Description: 'thesecret' }));
  const ours = new Set(Object.values(names));
  const list = async (Filters: ListSecretsCommandInput['Filters']) =>
    ((await fx.sm.send(new ListSecretsCommand({ Filters }))).SecretList ?? []).map((s) => s.Name!).filter((n) => ours.has(n)).sort();
  assert.deepEqual(await list([{ Key: 'name', Values: ['/'] }]), [names.two, names.four].sort());
  assert.deepEqual(await list([{ Key: 'name', Values: ['!/'] }]), [names.one, names.three].sort());
  assert.deepEqual(await list([{ Key: 'name', Values: ['testing1 one'] }]), []);
  assert.deepEqual(await list([{ Key: 'name', Values: ['Testing1'] }]), [], 'name is case-sensitive');
  assert.deepEqual(await list([{ Key: 'description', Values: ['a'] }]), [names.one, names.two, names.three].sort());
  assert.deepEqual(await list([{ Key: 'description', Values: ['!a'] }]), [names.four]);
  assert.deepEqual(await list([{ Key: 'description', Values: ['A Secret'] }]), [names.one, names.two].sort(), 'description: every word, not case-sensitive');
  assert.deepEqual(await list([{ Key: 'description', Values: ['!c'] }]), Object.values(names).sort());
  assert.deepEqual(await list([{ Key: 'description', Values: ['a'] }, { Key: 'name', Values: ['secret'] }]), []);
  assert.deepEqual(await list([{ Key: 'description', Values: ['a'] }, { Key: 'name', Values: ['an'] }]), []);
  // Several values of one filter are OR'ed.
  assert.deepEqual(await list([{ Key: 'name', Values: ['testing1', 'testing3'] }]), [names.one, names.three].sort());
});

test('ListSecrets filters "all" by words (case changes and punctuation break words) and tags by case-sensitive prefix', async () => {
  await fx.sm.send(new CreateSecretCommand({ Name: 'fid/credsDatabase892', SecretString: 's', Tags: [{ Key: 'Team', Value: 'Blue-Sky' }] }));
  const list = async (Key: string, Values: string[]) =>
    ((await fx.sm.send(new ListSecretsCommand({ Filters: [{ Key: Key as 'all', Values }] }))).SecretList ?? []).map((s) => s.Name);
  assert.deepEqual(await list('all', ['database 892']), ['fid/credsDatabase892']);
  assert.deepEqual(await list('all', ['sky']), ['fid/credsDatabase892']);
  assert.deepEqual(await list('all', ['database nothing']), []);
  assert.deepEqual(await list('tag-key', ['Tea']), ['fid/credsDatabase892']);
  assert.deepEqual(await list('tag-key', ['team']), []);
  assert.deepEqual(await list('tag-value', ['Blue-']), ['fid/credsDatabase892']);
});

test('ListSecrets refuses a filter value outside the model pattern, and an unknown filter key, with ValidationException', async () => {
  const bad = await raw('ListSecrets', { Filters: [{ Key: 'name', Values: ['a*b'] }] });
  assert.deepEqual([bad.status, bad.json.__type], [400, 'ValidationException']);
  assert.match(String(bad.json.Message), /Value 'a\*b' at 'filters\.1\.member\.values\.1\.member' failed to satisfy constraint: Member must satisfy regular expression pattern/);
  const key = await raw('ListSecrets', { Filters: [{ Key: 'colour', Values: ['x'] }] });
  assert.deepEqual([key.status, key.json.__type], [400, 'ValidationException']);
  assert.match(String(key.json.Message), /Member must satisfy enum value set: \[description, name, tag-key, tag-value, primary-region, owning-service, all\]/);
});

test('ListSecrets lists oldest first without SortOrder; SortOrder desc reverses', async () => {
  for (const n of ['fid/sort-a', 'fid/sort-b', 'fid/sort-c']) await fx.sm.send(new CreateSecretCommand({ Name: n, SecretString: 'x' }));
  const names = async (SortOrder?: 'asc' | 'desc') =>
    ((await fx.sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['fid/sort-'] }], ...(SortOrder ? { SortOrder } : {}) }))).SecretList ?? []).map((s) => s.Name);
  assert.deepEqual(await names(), ['fid/sort-a', 'fid/sort-b', 'fid/sort-c']);
  assert.deepEqual(await names('desc'), ['fid/sort-c', 'fid/sort-b', 'fid/sort-a']);
});

test('a reused ClientRequestToken with another value is ResourceExistsException; with the same value it changes nothing', async () => {
  await fx.sm.send(new CreateSecretCommand({ Name: 'fid/token', SecretString: 'v1', ClientRequestToken: TOKEN(21) }));
  const again = await fx.sm.send(new PutSecretValueCommand({ SecretId: 'fid/token', SecretString: 'v1', ClientRequestToken: TOKEN(21) }));
  assert.equal(again.VersionId, TOKEN(21));
  const e = await awsError(() => fx.sm.send(new PutSecretValueCommand({ SecretId: 'fid/token', SecretString: 'v2', ClientRequestToken: TOKEN(21) })));
  assert.deepEqual([e.name, e.message], ['ResourceExistsException', "You can't modify an existing version, you can only create new versions."]);
});

test('a KmsKeyId naming no key is InvalidParameterException; UpdateSecret with KmsKeyId "" goes back to aws/secretsmanager', async () => {
  const e = await awsError(() => fx.sm.send(new CreateSecretCommand({ Name: 'fid/kms', SecretString: 'x', KmsKeyId: 'alias/fid-no-such-key' })));
  assert.equal(e.name, 'InvalidParameterException');
  const e2 = await awsError(() => fx.sm.send(new CreateSecretCommand({ Name: 'fid/kms', SecretString: 'x', KmsKeyId: '11111111-2222-3333-4444-555555555555' })));
  assert.equal(e2.name, 'InvalidParameterException');
  const key = await rawCall(fx.server.url, 'TrentService.CreateKey', JSON.stringify({}), { service: 'kms' });
  const keyArn = (key.json.KeyMetadata as { Arn: string }).Arn;
  await fx.sm.send(new CreateSecretCommand({ Name: 'fid/kms', SecretString: 'x', KmsKeyId: keyArn }));
  assert.equal((await fx.sm.send(new DescribeSecretCommand({ SecretId: 'fid/kms' }))).KmsKeyId, keyArn);
  await fx.sm.send(new UpdateSecretCommand({ SecretId: 'fid/kms', KmsKeyId: '' }));
  assert.equal('KmsKeyId' in (await describeRaw(fx.server.url, 'fid/kms')), false);
});
