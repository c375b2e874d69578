/**
 * Secrets Manager end to end, through the official @aws-sdk/client-secrets-manager: every operation,
 * staging-label transitions, idempotency, the recovery window (ManualClock + jobs.runOnce) and restore,
 * and that no secret value reaches the database files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  BatchGetSecretValueCommand,
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  type ListSecretsCommandInput,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  StopReplicationToReplicaCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
  ValidateResourcePolicyCommand,
} from '@aws-sdk/client-secrets-manager';
import { CreateKeyCommand, DisableKeyCommand } from '@aws-sdk/client-kms';
import { DAY_MS, ManualClock } from '../../src/clock.ts';
import { awsError, E2E_STORAGE, filesUnder, rawCall, REGION, type TestServer } from './harness.ts';
import { type SecretsFixture, stagesOf, startSecretsServer } from './secrets-fixture.ts';

let fixture: SecretsFixture;
let server: TestServer;
let sm: SecretsManagerClient;
const clock = new ManualClock(Date.UTC(2026, 0, 10, 12));
const TOKEN = (n: number) => `${String(n).padStart(8, '0')}-1111-2222-3333-444455556666`;

before(async () => {
  fixture = await startSecretsServer({ clock });
  ({ server, sm } = fixture);
});
after(() => fixture.stop());

test('CreateSecret returns an ARN with a 6-character suffix; GetSecretValue by name, full ARN and partial ARN', async () => {
  const created = await sm.send(new CreateSecretCommand({ Name: 'app/db', SecretString: 's3cr3t-value', Description: 'db', ClientRequestToken: TOKEN(1) }));
  assert.match(created.ARN!, /^arn:aws:secretsmanager:us-east-1:111122223333:secret:app\/db-[A-Za-z0-9]{6}$/);
  assert.equal(created.VersionId, TOKEN(1));
  for (const id of ['app/db', created.ARN!, created.ARN!.slice(0, -7)]) {
    const got = await sm.send(new GetSecretValueCommand({ SecretId: id }));
    assert.equal(got.SecretString, 's3cr3t-value');
    assert.deepEqual(got.VersionStages, ['AWSCURRENT']);
    assert.equal(got.ARN, created.ARN);
  }
  const bin = await sm.send(new CreateSecretCommand({ Name: 'app/bin', SecretBinary: Buffer.from([0, 1, 2, 255]) }));
  const gotBin = await sm.send(new GetSecretValueCommand({ SecretId: bin.ARN }));
  assert.deepEqual(Buffer.from(gotBin.SecretBinary!), Buffer.from([0, 1, 2, 255]));
  const missing = await awsError(() => sm.send(new GetSecretValueCommand({ SecretId: 'nope' })));
  assert.deepEqual([missing.name, missing.message], ['ResourceNotFoundException', "Secrets Manager can't find the specified secret."]);
  const bad = await awsError(() => sm.send(new CreateSecretCommand({ Name: 'bad name!', SecretString: 'x' })));
  assert.equal(bad.name, 'ValidationException');
  const dup = await awsError(() => sm.send(new CreateSecretCommand({ Name: 'app/db', SecretString: 'other' })));
  assert.deepEqual([dup.name, dup.message], ['ResourceExistsException', 'The operation failed because the secret app/db already exists.']);
});

test('a raw CreateSecret with a value but no ClientRequestToken is refused with AWS text', async () => {
  const res = await rawCall(server.url, 'secretsmanager.CreateSecret', JSON.stringify({ Name: 'raw', SecretString: 'x' }), { service: 'secretsmanager' });
  assert.equal(res.status, 400);
  assert.equal(res.json.__type, 'InvalidRequestException');
  assert.equal(res.json.message ?? res.json.Message, 'You must provide a ClientRequestToken value. We recommend a UUID-type value.');
});

test('idempotency: same token + same value changes nothing; same token + other value is ResourceExistsException', async () => {
  await sm.send(new CreateSecretCommand({ Name: 'idem', SecretString: 'v1', ClientRequestToken: TOKEN(10) }));
  const again = await sm.send(new CreateSecretCommand({ Name: 'idem', SecretString: 'v1', ClientRequestToken: TOKEN(10) }));
  assert.equal(again.VersionId, TOKEN(10));
  await sm.send(new PutSecretValueCommand({ SecretId: 'idem', SecretString: 'v2', ClientRequestToken: TOKEN(11) }));
  const same = await sm.send(new PutSecretValueCommand({ SecretId: 'idem', SecretString: 'v2', ClientRequestToken: TOKEN(11) }));
  assert.equal(same.VersionId, TOKEN(11));
  assert.deepEqual(await stagesOf(sm, 'idem'), { [TOKEN(10)]: ['AWSPREVIOUS'], [TOKEN(11)]: ['AWSCURRENT'] });
  const differ = await awsError(() => sm.send(new PutSecretValueCommand({ SecretId: 'idem', SecretString: 'v3', ClientRequestToken: TOKEN(11) })));
  assert.equal(differ.name, 'ResourceExistsException');
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'idem' }))).SecretString, 'v2');
});

test('labels: PutSecretValue moves AWSCURRENT and AWSPREVIOUS follows; custom labels and UpdateSecretVersionStage move exactly as AWS', async () => {
  await sm.send(new CreateSecretCommand({ Name: 'labels', SecretString: 'a', ClientRequestToken: TOKEN(20) }));
  await sm.send(new PutSecretValueCommand({ SecretId: 'labels', SecretString: 'b', ClientRequestToken: TOKEN(21) }));
  await sm.send(new PutSecretValueCommand({ SecretId: 'labels', SecretString: 'c', ClientRequestToken: TOKEN(22) }));
  assert.deepEqual(await stagesOf(sm, 'labels'), { [TOKEN(21)]: ['AWSPREVIOUS'], [TOKEN(22)]: ['AWSCURRENT'] });
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'labels', VersionStage: 'AWSPREVIOUS' }))).SecretString, 'b');

  // A version put with only a custom label leaves AWSCURRENT where it is.
  const put = await sm.send(new PutSecretValueCommand({ SecretId: 'labels', SecretString: 'd', ClientRequestToken: TOKEN(23), VersionStages: ['blue'] }));
  assert.deepEqual(put.VersionStages, ['blue']);
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'labels' }))).SecretString, 'c');

  const needRemove = await awsError(() => sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'labels', VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN(23) })));
  assert.equal(needRemove.name, 'InvalidParameterException');
  const wrongFrom = await awsError(() => sm.send(new UpdateSecretVersionStageCommand({
    SecretId: 'labels', VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN(23), RemoveFromVersionId: TOKEN(21),
  })));
  assert.deepEqual([wrongFrom.name, wrongFrom.message], ['InvalidRequestException', 'You provided a VersionStage that is not associated to the provided VersionId.']);
  await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'labels', VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN(23), RemoveFromVersionId: TOKEN(22) }));
  assert.deepEqual(await stagesOf(sm, 'labels'), { [TOKEN(22)]: ['AWSPREVIOUS'], [TOKEN(23)]: ['blue', 'AWSCURRENT'] });
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'labels' }))).SecretString, 'd');

  // Custom label moved to another version with RemoveFromVersionId; removed entirely.
  await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'labels', VersionStage: 'blue', MoveToVersionId: TOKEN(20), RemoveFromVersionId: TOKEN(23) }));
  await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'labels', VersionStage: 'blue', RemoveFromVersionId: TOKEN(20) }));
  assert.deepEqual(await stagesOf(sm, 'labels'), { [TOKEN(22)]: ['AWSPREVIOUS'], [TOKEN(23)]: ['AWSCURRENT'] });

  // Deprecated versions are listed only with IncludeDeprecated; ARN is returned.
  const labelled = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'labels' }));
  assert.deepEqual(labelled.Versions!.map((v) => v.VersionId).sort(), [TOKEN(22), TOKEN(23)]);
  assert.match(labelled.ARN!, /:secret:labels-/);
  const all = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'labels', IncludeDeprecated: true }));
  assert.equal(all.Versions!.length, 4);
  const page1 = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'labels', IncludeDeprecated: true, MaxResults: 3 }));
  const page2 = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'labels', IncludeDeprecated: true, MaxResults: 3, NextToken: page1.NextToken }));
  assert.deepEqual([page1.Versions!.length, page2.Versions!.length, page2.NextToken], [3, 1, undefined]);

  const both = await awsError(() => sm.send(new GetSecretValueCommand({ SecretId: 'labels', VersionId: TOKEN(22), VersionStage: 'AWSCURRENT' })));
  assert.equal(both.name, 'InvalidRequestException');
  const noPrev = await awsError(() => sm.send(new GetSecretValueCommand({ SecretId: 'idem-none', VersionStage: 'AWSPREVIOUS' })));
  assert.equal(noPrev.name, 'ResourceNotFoundException');
});

test('labels: PutSecretValue with VersionStages [AWSCURRENT, custom] moves AWSCURRENT (AWSPREVIOUS follows); CancelRotateSecret removes AWSPENDING from a pending version', async () => {
  await sm.send(new CreateSecretCommand({ Name: 'labels2', SecretString: 'a', ClientRequestToken: TOKEN(40) }));
  const put = await sm.send(new PutSecretValueCommand({ SecretId: 'labels2', SecretString: 'b', ClientRequestToken: TOKEN(41), VersionStages: ['AWSCURRENT', 'green'] }));
  assert.deepEqual(put.VersionStages, ['AWSCURRENT', 'green']);
  assert.deepEqual(await stagesOf(sm, 'labels2'), { [TOKEN(40)]: ['AWSPREVIOUS'], [TOKEN(41)]: ['AWSCURRENT', 'green'] });
  // A label given to a new version leaves the version that had it (a label is on one version only).
  await sm.send(new PutSecretValueCommand({ SecretId: 'labels2', SecretString: 'c', ClientRequestToken: TOKEN(42), VersionStages: ['green'] }));
  assert.deepEqual(await stagesOf(sm, 'labels2'), { [TOKEN(40)]: ['AWSPREVIOUS'], [TOKEN(41)]: ['AWSCURRENT'], [TOKEN(42)]: ['green'] });
  // AWSCURRENT can be moved but never removed outright.
  const removeCurrent = await awsError(() => sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'labels2', VersionStage: 'AWSCURRENT', RemoveFromVersionId: TOKEN(41) })));
  assert.equal(removeCurrent.name, 'InvalidParameterException');

  // What a rotation's createSecret leaves behind: AWSPENDING on a new version. CancelRotateSecret drops it.
  await sm.send(new PutSecretValueCommand({ SecretId: 'labels2', SecretString: 'd', ClientRequestToken: TOKEN(43), VersionStages: ['AWSPENDING'] }));
  const cancelled = await sm.send(new CancelRotateSecretCommand({ SecretId: 'labels2' }));
  assert.equal(cancelled.VersionId, TOKEN(43));
  const stages = await stagesOf(sm, 'labels2');
  assert.deepEqual([stages[TOKEN(41)], stages[TOKEN(43)]], [['AWSCURRENT'], undefined]);
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'labels2' }))).SecretString, 'b');
});

test('concurrent PutSecretValue calls: every version is kept and exactly one holds AWSCURRENT, one AWSPREVIOUS (compare-and-set)', async () => {
  await sm.send(new CreateSecretCommand({ Name: 'race', SecretString: 'v0', ClientRequestToken: TOKEN(100) }));
  const tokens = Array.from({ length: 20 }, (_, i) => TOKEN(101 + i));
  await Promise.all(tokens.map((t, i) => sm.send(new PutSecretValueCommand({ SecretId: 'race', SecretString: `v${i + 1}`, ClientRequestToken: t }))));
  const all = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'race', IncludeDeprecated: true }));
  assert.equal(all.Versions!.length, 21);
  const labels = all.Versions!.flatMap((v) => v.VersionStages ?? []);
  assert.deepEqual(labels.sort(), ['AWSCURRENT', 'AWSPREVIOUS']);
});

test('UpdateSecret changes description and KMS key, and with a value adds an AWSCURRENT version under the new key', async () => {
  const kms = server.kms();
  const key = await kms.send(new CreateKeyCommand({}));
  await sm.send(new CreateSecretCommand({ Name: 'upd', SecretString: 'one' }));
  const out = await sm.send(new UpdateSecretCommand({ SecretId: 'upd', Description: 'new', KmsKeyId: key.KeyMetadata!.Arn, SecretString: 'two' }));
  assert.ok(out.VersionId);
  const d = await sm.send(new DescribeSecretCommand({ SecretId: 'upd' }));
  assert.deepEqual([d.Description, d.KmsKeyId], ['new', key.KeyMetadata!.Arn]);
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'upd' }))).SecretString, 'two');
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'upd', VersionStage: 'AWSPREVIOUS' }))).SecretString, 'one');
});

test('DescribeSecret keeps LastChangedDate and LastAccessedDate (by day); tags and resource policies round-trip', async () => {
  await sm.send(new CreateSecretCommand({ Name: 'meta', SecretString: 'x', Tags: [{ Key: 'team', Value: 'red' }] }));
  let d = await sm.send(new DescribeSecretCommand({ SecretId: 'meta' }));
  assert.equal(d.LastAccessedDate, undefined);
  assert.equal(d.CreatedDate!.getTime(), clock.now());
  await sm.send(new GetSecretValueCommand({ SecretId: 'meta' }));
  d = await sm.send(new DescribeSecretCommand({ SecretId: 'meta' }));
  assert.equal(d.LastAccessedDate!.getTime(), Date.UTC(2026, 0, 10));
  await sm.send(new TagResourceCommand({ SecretId: 'meta', Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'blue' }] }));
  await sm.send(new UntagResourceCommand({ SecretId: 'meta', TagKeys: ['env'] }));
  d = await sm.send(new DescribeSecretCommand({ SecretId: 'meta' }));
  assert.deepEqual(d.Tags, [{ Key: 'team', Value: 'blue' }]);

  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::111122223333:root` }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
  const valid = await sm.send(new ValidateResourcePolicyCommand({ ResourcePolicy: policy }));
  assert.equal(valid.PolicyValidationPassed, true);
  await sm.send(new PutResourcePolicyCommand({ SecretId: 'meta', ResourcePolicy: policy }));
  assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: 'meta' }))).ResourcePolicy, policy);
  await sm.send(new DeleteResourcePolicyCommand({ SecretId: 'meta' }));
  assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: 'meta' }))).ResourcePolicy, undefined);
  const malformed = await awsError(() => sm.send(new PutResourcePolicyCommand({ SecretId: 'meta', ResourcePolicy: '{not json' })));
  assert.equal(malformed.name, 'MalformedPolicyDocumentException');
});

test('ListSecrets: filters (prefix, negation, tags), sort (oldest first by default), pagination; BatchGetSecretValue by ids and by filter', async () => {
  for (const n of ['list/a', 'list/b', 'list/c']) {
    await sm.send(new CreateSecretCommand({ Name: n, SecretString: `v-${n}`, Tags: [{ Key: 'grp', Value: n === 'list/b' ? 'odd' : 'even' }] }));
    clock.advance(1000);
  }
  const names = async (input: ListSecretsCommandInput) =>
    ((await sm.send(new ListSecretsCommand(input))).SecretList ?? []).map((s) => s.Name);
  assert.deepEqual(await names({ Filters: [{ Key: 'name', Values: ['list/'] }], SortBy: 'name', SortOrder: 'asc' }), ['list/a', 'list/b', 'list/c']);
  // AWS: the name filter is case-sensitive; without SortOrder, oldest first.
  assert.deepEqual(await names({ Filters: [{ Key: 'name', Values: ['list/'] }, { Key: 'tag-value', Values: ['!odd'] }], SortBy: 'name', SortOrder: 'desc' }), ['list/c', 'list/a']);
  assert.deepEqual(await names({ Filters: [{ Key: 'name', Values: ['LIST/'] }] }), []);
  assert.deepEqual(await names({ Filters: [{ Key: 'name', Values: ['list/'] }] }), ['list/a', 'list/b', 'list/c']);
  assert.deepEqual(await names({ Filters: [{ Key: 'name', Values: ['list/'] }], SortOrder: 'desc' }), ['list/c', 'list/b', 'list/a']);
  const p1 = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['list/'] }], MaxResults: 2, SortBy: 'name', SortOrder: 'asc' }));
  const p2 = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['list/'] }], MaxResults: 2, SortBy: 'name', SortOrder: 'asc', NextToken: p1.NextToken }));
  assert.deepEqual([...p1.SecretList!, ...p2.SecretList!].map((s) => s.Name), ['list/a', 'list/b', 'list/c']);
  assert.ok(p1.SecretList![0]!.SecretVersionsToStages);
  const bad = await awsError(() => sm.send(new ListSecretsCommand({ NextToken: 'garbage' })));
  assert.equal(bad.name, 'InvalidNextTokenException');

  const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['list/a', 'list/zzz'] }));
  assert.deepEqual(batch.SecretValues!.map((v) => v.SecretString), ['v-list/a']);
  assert.deepEqual(batch.Errors!.map((e) => [e.SecretId, e.ErrorCode]), [['list/zzz', 'ResourceNotFoundException']]);
  const byFilter = await sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'tag-value', Values: ['even'] }] }));
  assert.deepEqual(byFilter.SecretValues!.map((v) => v.Name).sort(), ['list/a', 'list/c']);
});

test('DeleteSecret: window 7–30, reads fail with AWS text, RestoreSecret cancels, the job purges when the window ends', async () => {
  await sm.send(new CreateSecretCommand({ Name: 'del', SecretString: 'x' }));
  for (const days of [6, 31]) {
    assert.equal((await awsError(() => sm.send(new DeleteSecretCommand({ SecretId: 'del', RecoveryWindowInDays: days })))).name, 'InvalidParameterException');
  }
  const both = await awsError(() => sm.send(new DeleteSecretCommand({ SecretId: 'del', RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })));
  assert.equal(both.name, 'InvalidParameterException');
  const del = await sm.send(new DeleteSecretCommand({ SecretId: 'del', RecoveryWindowInDays: 7 }));
  assert.equal(del.DeletionDate!.getTime(), clock.now() + 7 * DAY_MS);
  const read = await awsError(() => sm.send(new GetSecretValueCommand({ SecretId: 'del' })));
  assert.deepEqual([read.name, read.message], ['InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion."]);
  const recreate = await awsError(() => sm.send(new CreateSecretCommand({ Name: 'del', SecretString: 'y' })));
  assert.deepEqual([recreate.name, recreate.message], ['InvalidRequestException', "You can't create this secret because a secret with this name is already scheduled for deletion."]);
  assert.ok((await sm.send(new DescribeSecretCommand({ SecretId: 'del' }))).DeletedDate);
  assert.ok(!(await sm.send(new ListSecretsCommand({}))).SecretList!.some((s) => s.Name === 'del'));
  assert.ok((await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true }))).SecretList!.some((s) => s.Name === 'del'));

  await sm.send(new RestoreSecretCommand({ SecretId: 'del' }));
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'del' }))).SecretString, 'x');

  await sm.send(new DeleteSecretCommand({ SecretId: 'del', RecoveryWindowInDays: 7 }));
  clock.advance(7 * DAY_MS - 1000);
  await server.app.jobs.runOnce();
  assert.ok(await sm.send(new DescribeSecretCommand({ SecretId: 'del' })));
  clock.advance(2000);
  await server.app.jobs.runOnce();
  assert.equal((await awsError(() => sm.send(new DescribeSecretCommand({ SecretId: 'del' })))).name, 'ResourceNotFoundException');
  // The name is free again, with a new ARN.
  const again = await sm.send(new CreateSecretCommand({ Name: 'del', SecretString: 'z' }));
  assert.notEqual(again.ARN, del.ARN);

  // Force delete: immediate; a nonexistent secret succeeds as if it existed.
  await sm.send(new DeleteSecretCommand({ SecretId: 'del', ForceDeleteWithoutRecovery: true }));
  assert.equal((await awsError(() => sm.send(new GetSecretValueCommand({ SecretId: 'del' })))).name, 'ResourceNotFoundException');
  const ghost = await sm.send(new DeleteSecretCommand({ SecretId: 'never-existed', ForceDeleteWithoutRecovery: true }));
  assert.equal(ghost.Name, 'never-existed');
});

test('GetRandomPassword: default 32 characters of all types; every parameter is honoured', async () => {
  const def = (await sm.send(new GetRandomPasswordCommand({}))).RandomPassword!;
  assert.equal(def.length, 32);
  assert.match(def, /[A-Z]/);
  assert.match(def, /[a-z]/);
  assert.match(def, /[0-9]/);
  assert.match(def, /[^A-Za-z0-9]/);
  assert.doesNotMatch(def, / /);
  const digits = (await sm.send(new GetRandomPasswordCommand({ PasswordLength: 50, ExcludeUppercase: true, ExcludeLowercase: true, ExcludePunctuation: true }))).RandomPassword!;
  assert.match(digits, /^[0-9]{50}$/);
  const noAbc = (await sm.send(new GetRandomPasswordCommand({ PasswordLength: 200, ExcludeCharacters: 'abc', ExcludeNumbers: true }))).RandomPassword!;
  assert.doesNotMatch(noAbc, /[abc0-9]/);
  const spaced = (await sm.send(new GetRandomPasswordCommand({ PasswordLength: 5, IncludeSpace: true, ExcludeUppercase: true, ExcludeLowercase: true, ExcludeNumbers: true, ExcludePunctuation: true }))).RandomPassword!;
  assert.equal(spaced, '     ');
  const short = await awsError(() => sm.send(new GetRandomPasswordCommand({ PasswordLength: 3 })));
  assert.equal(short.name, 'InvalidParameterException');
  const loose = (await sm.send(new GetRandomPasswordCommand({ PasswordLength: 3, RequireEachIncludedType: false }))).RandomPassword!;
  assert.equal(loose.length, 3);
});

test('RotateSecret without a rotator, with an unknown Lambda ARN, CancelRotateSecret, and replication answer AWS errors', async () => {
  await sm.send(new CreateSecretCommand({ Name: 'norot', SecretString: 'x' }));
  const none = await awsError(() => sm.send(new RotateSecretCommand({ SecretId: 'norot' })));
  assert.deepEqual([none.name, none.message], ['InvalidRequestException', 'No Lambda rotation function ARN is associated with this secret.']);
  const lambda = await awsError(() => sm.send(new RotateSecretCommand({ SecretId: 'norot', RotationLambdaARN: 'arn:aws:lambda:us-east-1:111122223333:function:f' })));
  assert.equal(lambda.name, 'AccessDeniedException');
  await sm.send(new RotateSecretCommand({ SecretId: 'norot', RotationLambdaARN: 'trent:rotator:postgres', RotateImmediately: false, RotationRules: { ScheduleExpression: 'cron(0 4 ? * MON *)' } }));
  const d = await sm.send(new DescribeSecretCommand({ SecretId: 'norot' }));
  assert.equal(d.RotationEnabled, true);
  assert.equal(new Date(d.NextRotationDate!).getUTCDay(), 1);
  assert.equal(new Date(d.NextRotationDate!).getUTCHours(), 4);
  await sm.send(new CancelRotateSecretCommand({ SecretId: 'norot' }));
  assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: 'norot' }))).RotationEnabled, false);
});

// Replication itself is tested in secrets-replication.test.ts.
test('the replication operations look the secret up and check required members as AWS does, changing nothing', async () => {
  await sm.send(new CreateSecretCommand({ Name: 'single-region', SecretString: 'x' }));
  const before = await sm.send(new DescribeSecretCommand({ SecretId: 'single-region' }));
  assert.equal((await awsError(() => sm.send(new StopReplicationToReplicaCommand({ SecretId: 'no-such-secret' })))).name, 'ResourceNotFoundException');
  assert.equal((await awsError(() => sm.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'no-such-secret', RemoveReplicaRegions: ['eu-west-1'] })))).name, 'ResourceNotFoundException');
  const missing = await rawCall(server.url, 'secretsmanager.ReplicateSecretToRegions', JSON.stringify({ SecretId: 'single-region' }), { service: 'secretsmanager' });
  assert.deepEqual([missing.status, missing.json.__type], [400, 'ValidationException']);
  const noRegions = await rawCall(server.url, 'secretsmanager.RemoveRegionsFromReplication', JSON.stringify({ SecretId: 'single-region' }), { service: 'secretsmanager' });
  assert.deepEqual([noRegions.status, noRegions.json.__type], [400, 'ValidationException']);
  const { $metadata: _a, ...afterShape } = await sm.send(new DescribeSecretCommand({ SecretId: 'single-region' }));
  const { $metadata: _b, ...beforeShape } = before;
  assert.deepEqual(afterShape, beforeShape);
});

test('UpdateSecret with a new KmsKeyId re-encrypts AWSCURRENT/AWSPREVIOUS/AWSPENDING under it (AWS); the old key disabled, those still read, older versions do not', async () => {
  const kms = server.kms();
  const oldKey = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
  const newKey = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
  await sm.send(new CreateSecretCommand({ Name: 'rekey', SecretString: 'v1', KmsKeyId: oldKey.KeyId, ClientRequestToken: TOKEN(301) }));
  await sm.send(new PutSecretValueCommand({ SecretId: 'rekey', SecretString: 'v2', ClientRequestToken: TOKEN(302) }));
  await sm.send(new PutSecretValueCommand({ SecretId: 'rekey', SecretString: 'v3', ClientRequestToken: TOKEN(303) }));
  await sm.send(new PutSecretValueCommand({ SecretId: 'rekey', SecretString: 'v4', ClientRequestToken: TOKEN(304), VersionStages: ['AWSPENDING'] }));
  // TOKEN(301) is now deprecated (no label): AWS leaves it under the old key.
  const updated = await sm.send(new UpdateSecretCommand({ SecretId: 'rekey', KmsKeyId: newKey.Arn }));
  assert.equal(updated.VersionId, undefined, 'a key change alone creates no version');
  assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: 'rekey' }))).KmsKeyId, newKey.Arn);

  const scope = { accountId: '111122223333', region: REGION };
  const doc = (await server.app.storage.read((r) => r.secrets.get(scope, 'rekey')))!.doc as { versions: Record<string, { kmsKeyArn: string }> };
  assert.deepEqual(Object.fromEntries(Object.entries(doc.versions).map(([id, v]) => [id, v.kmsKeyArn])), {
    [TOKEN(301)]: oldKey.Arn, [TOKEN(302)]: newKey.Arn, [TOKEN(303)]: newKey.Arn, [TOKEN(304)]: newKey.Arn,
  });

  await kms.send(new DisableKeyCommand({ KeyId: oldKey.KeyId }));
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'rekey' }))).SecretString, 'v3');
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'rekey', VersionStage: 'AWSPREVIOUS' }))).SecretString, 'v2');
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'rekey', VersionStage: 'AWSPENDING' }))).SecretString, 'v4');
  const oldVersion = await awsError(() => sm.send(new GetSecretValueCommand({ SecretId: 'rekey', VersionId: TOKEN(301) })));
  assert.equal(oldVersion.name, 'DecryptionFailure');
  // New writes go under the new key; the old key stays unneeded.
  await sm.send(new PutSecretValueCommand({ SecretId: 'rekey', SecretString: 'v5', ClientRequestToken: TOKEN(305) }));
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'rekey' }))).SecretString, 'v5');
  // Idempotent retries of a version re-sealed under the new key still compare equal.
  await sm.send(new PutSecretValueCommand({ SecretId: 'rekey', SecretString: 'v3', ClientRequestToken: TOKEN(303) }));

  // A version the caller cannot decrypt with the old key is left as it was (AWS: no kms:Decrypt → not re-encrypted).
  const third = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
  await sm.send(new UpdateSecretCommand({ SecretId: 'rekey', KmsKeyId: third.KeyId }));
  assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: 'rekey' }))).KmsKeyId, third.KeyId);
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'rekey' }))).SecretString, 'v5');
});

test('stored rows hold only the encrypted data key and the sealed value, never the secret value (either adapter)', async () => {
  const marker = 'ROW-MARKER-91be2d-never-in-storage';
  const out = await sm.send(new CreateSecretCommand({ Name: 'row-check', SecretString: marker }));
  const scope = { accountId: '111122223333', region: REGION };
  const row = await server.app.storage.read((r) => r.secrets.get(scope, 'row-check'));
  const version = await server.app.storage.read((r) => r.secretVersions.get(out.ARN!, out.VersionId!));
  assert.ok(row && version);
  assert.equal(JSON.stringify(row.doc).includes(marker), false);
  for (const b of [version.sealedValue, version.encryptedDataKey, Buffer.from(JSON.stringify(version.doc))]) {
    assert.equal(Buffer.from(b).includes(Buffer.from(marker)), false);
  }
});

test('no secret value appears in the database files (envelope encryption under KMS)', { skip: E2E_STORAGE !== 'sqlite' && 'PostgreSQL files are not in the data dir' }, async () => {
  const marker = 'PLAINTEXT-MARKER-7f3a9c-should-never-be-stored';
  await sm.send(new CreateSecretCommand({ Name: 'leak-check', SecretString: marker }));
  await sm.send(new PutSecretValueCommand({ SecretId: 'leak-check', SecretBinary: Buffer.from(`${marker}-binary`) }));
  await sm.send(new GetSecretValueCommand({ SecretId: 'leak-check' }));
  const files = filesUnder(server.dataDir);
  assert.ok(files.some((f) => f.endsWith('.db') || f.includes('sqlite')), `expected database files in ${files.join(', ')}`);
  for (const f of files) {
    const bytes = readFileSync(f);
    assert.equal(bytes.includes(Buffer.from(marker)), false, `${f} holds the secret value`);
    assert.equal(bytes.includes(Buffer.from(marker, 'utf16le')), false, `${f} holds the secret value (UTF-16)`);
  }
});

test('versions: deprecated versions beyond 100 are pruned once older than 24 h; within 24 h the 101st is LimitExceededException', async () => {
  await sm.send(new CreateSecretCommand({ Name: 'many', SecretString: 'v0', ClientRequestToken: TOKEN(1000) }));
  for (let i = 1; i < 100; i++) await sm.send(new PutSecretValueCommand({ SecretId: 'many', SecretString: `v${i}`, ClientRequestToken: TOKEN(1000 + i) }));
  const count = async () => (await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'many', IncludeDeprecated: true }))).Versions!.length;
  assert.equal(await count(), 100);
  const full = await awsError(() => sm.send(new PutSecretValueCommand({ SecretId: 'many', SecretString: 'v100', ClientRequestToken: TOKEN(1100) })));
  assert.equal(full.name, 'LimitExceededException');
  assert.equal(await count(), 100, 'nothing written');
  clock.advance(DAY_MS + 1000);
  await sm.send(new PutSecretValueCommand({ SecretId: 'many', SecretString: 'v100', ClientRequestToken: TOKEN(1100) }));
  const ids = (await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'many', IncludeDeprecated: true }))).Versions!.map((v) => v.VersionId);
  assert.equal(ids.length, 100);
  assert.equal(ids.includes(TOKEN(1000)), false, 'the oldest deprecated version was pruned');
  assert.ok(ids.includes(TOKEN(1099)) && ids.includes(TOKEN(1100)));
  assert.equal((await awsError(() => sm.send(new GetSecretValueCommand({ SecretId: 'many', VersionId: TOKEN(1000) })))).name, 'ResourceNotFoundException');
});
