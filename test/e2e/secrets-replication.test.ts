/**
 * Replicated secrets within one deployment (docs/secrets.md, "Replication"), through the real server with
 * @aws-sdk/client-secrets-manager clients for us-east-1 (primary) and eu-west-1 (replica): replicas read
 * in their region, follow the primary's versions and labels, refuse writes with AWS's error, become
 * standalone on StopReplicationToReplica; every refused transition; the ReplicationStatus/PrimaryRegion
 * shapes and the primary-region filter; the permissions and condition keys replication needs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, ListAliasesCommand } from '@aws-sdk/client-kms';
import {
  CancelRotateSecretCommand, CreateSecretCommand, DeleteResourcePolicyCommand, DeleteSecretCommand, DescribeSecretCommand,
  GetResourcePolicyCommand, GetSecretValueCommand, ListSecretsCommand, ListSecretVersionIdsCommand, PutResourcePolicyCommand,
  PutSecretValueCommand, RemoveRegionsFromReplicationCommand, ReplicateSecretToRegionsCommand, RestoreSecretCommand, RotateSecretCommand,
  SecretsManagerClient, StopReplicationToReplicaCommand, TagResourceCommand, UntagResourceCommand, UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { ACCOUNT_ID, ADMIN, awsError, rawCall } from './harness.ts';
import { assertChainLinks } from './cloudtrail-shapes.ts';
import { type Credentials, allow, principals } from './principals.ts';
import { waitForRotation } from './rotation-wait.ts';
import { startTestRotator, type TestRotator } from './rotator-server.ts';
import { startSecretsServer, type SecretsFixture } from './secrets-fixture.ts';

const PRIMARY = 'us-east-1';
const REPLICA = 'eu-west-1';
const THIRD = 'ap-south-1';
const NOT_SERVED = 'us-west-2';
const ON_REPLICA = "Operation not permitted on a replica secret. Call must be made in primary secret's region.";

let fx: SecretsFixture;
let rotator: TestRotator;
const ROTATOR_SECRET = 'replication-rotator-shared-secret-0123456789';
const ROTATOR_ARN = `arn:aws:lambda:${PRIMARY}:${ACCOUNT_ID}:function:repl-rotator`;
const clients: SecretsManagerClient[] = [];
let use1: SecretsManagerClient;
let euw1: SecretsManagerClient;
let aps1: SecretsManagerClient;

function sm(region: string, credentials: Credentials = ADMIN): SecretsManagerClient {
  const c = new SecretsManagerClient({ endpoint: fx.server.url, region, credentials, maxAttempts: 1 });
  clients.push(c);
  return c;
}

/** DescribeSecret's JSON exactly as the server sends it, in `region`. */
async function describeRaw(region: string, secretId: string): Promise<Record<string, unknown>> {
  const res = await rawCall(fx.server.url, 'secretsmanager.DescribeSecret', JSON.stringify({ SecretId: secretId }), { service: 'secretsmanager', region });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json;
}

const value = async (c: SecretsManagerClient, id: string, extra: { VersionStage?: string } = {}) =>
  (await c.send(new GetSecretValueCommand({ SecretId: id, ...extra }))).SecretString;

async function replicated(name: string, secret = `value of ${name}`): Promise<{ arn: string; replicaArn: string }> {
  const arn = (await use1.send(new CreateSecretCommand({ Name: name, SecretString: secret }))).ARN!;
  const out = await use1.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: REPLICA }] }));
  assert.equal(out.ReplicationStatus?.[0]?.Status, 'InSync', JSON.stringify(out.ReplicationStatus));
  return { arn, replicaArn: arn.replace(`:${PRIMARY}:`, `:${REPLICA}:`) };
}

before(async () => {
  rotator = await startTestRotator(ROTATOR_SECRET);
  const caFile = join(mkdtempSync(join(tmpdir(), 'trent-repl-ca-')), 'ca.pem');
  writeFileSync(caFile, rotator.caPem);
  fx = await startSecretsServer({
    env: {
      TRENT_REGIONS: [PRIMARY, REPLICA, THIRD].join(','),
      TRENT_ROTATORS: JSON.stringify({ 'repl-rotator': { url: rotator.url, secret: ROTATOR_SECRET, caFile } }),
    },
  });
  rotator.trentUrls = [fx.server.url];
  use1 = sm(PRIMARY);
  euw1 = sm(REPLICA);
  aps1 = sm(THIRD);
});
after(async () => {
  for (const c of clients) c.destroy();
  await fx.stop();
  await rotator.close();
});

test('a secret replicated to eu-west-1 reads there under the same name, with the primary\'s ARN suffix in that region', async () => {
  const arn = (await use1.send(new CreateSecretCommand({ Name: 'app/db', SecretString: 's3cr3t' }))).ARN!;
  const out = await use1.send(new ReplicateSecretToRegionsCommand({ SecretId: 'app/db', AddReplicaRegions: [{ Region: REPLICA }] }));
  assert.equal(out.ARN, arn);
  assert.deepEqual(out.ReplicationStatus, [{ Region: REPLICA, KmsKeyId: 'alias/aws/secretsmanager', Status: 'InSync' }]);

  const replicaArn = arn.replace(`:${PRIMARY}:`, `:${REPLICA}:`);
  assert.equal(await value(euw1, 'app/db'), 's3cr3t');
  const read = await euw1.send(new GetSecretValueCommand({ SecretId: replicaArn }));
  assert.equal(read.ARN, replicaArn);
  assert.equal(read.SecretString, 's3cr3t');
  assert.deepEqual(read.VersionStages, ['AWSCURRENT']);
  // The replica's value is sealed in its own region: the eu-west-1 AWS managed key now exists.
  const aliases = await fx.server.kms({ region: REPLICA }).send(new ListAliasesCommand({}));
  assert.ok(aliases.Aliases?.some((a) => a.AliasName === 'alias/aws/secretsmanager' && a.TargetKeyId));
  // The primary region does not see the replica under its ARN, and the replica region not the primary.
  assert.equal((await awsError(() => use1.send(new DescribeSecretCommand({ SecretId: replicaArn })))).name, 'ResourceNotFoundException');
  assert.equal((await awsError(() => euw1.send(new DescribeSecretCommand({ SecretId: arn })))).name, 'ResourceNotFoundException');
});

test('DescribeSecret shows PrimaryRegion on both sides and ReplicationStatus on the primary, as AWS shapes them; neither on an unreplicated secret', async () => {
  const { arn, replicaArn } = await replicated('shape/one');
  await euw1.send(new GetSecretValueCommand({ SecretId: replicaArn }));
  const primary = await describeRaw(PRIMARY, arn);
  assert.equal(primary.PrimaryRegion, PRIMARY);
  const status = primary.ReplicationStatus as Record<string, unknown>[];
  assert.equal(status.length, 1);
  assert.deepEqual(Object.keys(status[0]!).sort(), ['KmsKeyId', 'LastAccessedDate', 'Region', 'Status']);
  assert.equal(status[0]!.Region, REPLICA);
  assert.equal(status[0]!.KmsKeyId, 'alias/aws/secretsmanager');
  assert.equal(status[0]!.Status, 'InSync');
  assert.equal(typeof status[0]!.LastAccessedDate, 'number', 'the replica\'s own LastAccessedDate, read there');

  const replica = await describeRaw(REPLICA, replicaArn);
  assert.equal(replica.ARN, replicaArn);
  assert.equal(replica.Name, 'shape/one');
  assert.equal(replica.PrimaryRegion, PRIMARY);
  assert.equal(replica.ReplicationStatus, undefined);
  assert.deepEqual(replica.VersionIdsToStages, primary.VersionIdsToStages);

  await use1.send(new CreateSecretCommand({ Name: 'shape/alone', SecretString: 'x' }));
  const alone = await describeRaw(PRIMARY, 'shape/alone');
  assert.equal('PrimaryRegion' in alone, false);
  assert.equal('ReplicationStatus' in alone, false);
});

test('PutSecretValue, label moves, description, tags and resource policy on the primary reach the replica in the same call', async () => {
  const { arn, replicaArn } = await replicated('sync/one', 'v1');
  const v1 = (await use1.send(new GetSecretValueCommand({ SecretId: arn }))).VersionId!;
  const v2 = (await use1.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'v2' }))).VersionId!;
  assert.equal(await value(euw1, replicaArn), 'v2');
  assert.equal(await value(euw1, replicaArn, { VersionStage: 'AWSPREVIOUS' }), 'v1');

  await use1.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: v1, RemoveFromVersionId: v2 }));
  assert.equal(await value(euw1, replicaArn), 'v1');
  await use1.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'blue', MoveToVersionId: v2 }));
  assert.deepEqual((await describeRaw(REPLICA, replicaArn)).VersionIdsToStages, (await describeRaw(PRIMARY, arn)).VersionIdsToStages);
  assert.equal(await value(euw1, replicaArn, { VersionStage: 'blue' }), 'v2');

  await use1.send(new UpdateSecretCommand({ SecretId: arn, Description: 'replicated', SecretString: 'v3' }));
  await use1.send(new TagResourceCommand({ SecretId: arn, Tags: [{ Key: 'team', Value: 'db' }] }));
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
  await use1.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: policy }));
  const replica = await euw1.send(new DescribeSecretCommand({ SecretId: replicaArn }));
  assert.equal(replica.Description, 'replicated');
  assert.deepEqual(replica.Tags, [{ Key: 'team', Value: 'db' }]);
  assert.equal(await value(euw1, replicaArn), 'v3');
  assert.equal((await euw1.send(new GetResourcePolicyCommand({ SecretId: replicaArn }))).ResourcePolicy, policy);
  const ids = (await euw1.send(new ListSecretVersionIdsCommand({ SecretId: replicaArn, IncludeDeprecated: true }))).Versions!.map((v) => v.VersionId).sort();
  const primaryIds = (await use1.send(new ListSecretVersionIdsCommand({ SecretId: arn, IncludeDeprecated: true }))).Versions!.map((v) => v.VersionId).sort();
  assert.deepEqual(ids, primaryIds);
});

test('every write on a replica is refused with AWS\'s InvalidParameterException and changes nothing', async () => {
  const { replicaArn } = await replicated('ro/one', 'v1');
  const before = await describeRaw(REPLICA, replicaArn);
  const writes: [string, () => Promise<unknown>][] = [
    ['PutSecretValue', () => euw1.send(new PutSecretValueCommand({ SecretId: replicaArn, SecretString: 'x' }))],
    ['UpdateSecret value', () => euw1.send(new UpdateSecretCommand({ SecretId: replicaArn, SecretString: 'x' }))],
    ['UpdateSecret description', () => euw1.send(new UpdateSecretCommand({ SecretId: replicaArn, Description: 'x' }))],
    ['UpdateSecretVersionStage', () => euw1.send(new UpdateSecretVersionStageCommand({ SecretId: replicaArn, VersionStage: 'blue', MoveToVersionId: Object.keys(before.VersionIdsToStages as object)[0] }))],
    ['RotateSecret', () => euw1.send(new RotateSecretCommand({ SecretId: replicaArn, RotationLambdaARN: `arn:aws:lambda:${REPLICA}:${ACCOUNT_ID}:function:rot` }))],
    ['CancelRotateSecret', () => euw1.send(new CancelRotateSecretCommand({ SecretId: replicaArn }))],
    ['DeleteSecret', () => euw1.send(new DeleteSecretCommand({ SecretId: replicaArn }))],
    ['DeleteSecret force', () => euw1.send(new DeleteSecretCommand({ SecretId: replicaArn, ForceDeleteWithoutRecovery: true }))],
    ['RestoreSecret', () => euw1.send(new RestoreSecretCommand({ SecretId: replicaArn }))],
    ['TagResource', () => euw1.send(new TagResourceCommand({ SecretId: replicaArn, Tags: [{ Key: 'k', Value: 'v' }] }))],
    ['UntagResource', () => euw1.send(new UntagResourceCommand({ SecretId: replicaArn, TagKeys: ['k'] }))],
    ['PutResourcePolicy', () => euw1.send(new PutResourcePolicyCommand({ SecretId: replicaArn, ResourcePolicy: '{"Version":"2012-10-17","Statement":[]}' }))],
    ['DeleteResourcePolicy', () => euw1.send(new DeleteResourcePolicyCommand({ SecretId: replicaArn }))],
    ['ReplicateSecretToRegions', () => euw1.send(new ReplicateSecretToRegionsCommand({ SecretId: replicaArn, AddReplicaRegions: [{ Region: THIRD }] }))],
    ['RemoveRegionsFromReplication', () => euw1.send(new RemoveRegionsFromReplicationCommand({ SecretId: replicaArn, RemoveReplicaRegions: [PRIMARY] }))],
  ];
  for (const [what, call] of writes) {
    const err = await awsError(call);
    assert.deepEqual({ what, name: err.name, message: err.message, status: err.status }, { what, name: 'InvalidParameterException', message: ON_REPLICA, status: 400 });
  }
  const afterwards = await describeRaw(REPLICA, replicaArn);
  assert.deepEqual(afterwards, before);
  assert.equal(await value(euw1, replicaArn), 'v1');
  assert.equal((await awsError(() => aps1.send(new DescribeSecretCommand({ SecretId: 'ro/one' })))).name, 'ResourceNotFoundException');
});

test('the replica\'s KMS key is its region\'s: a replica sealed under an eu-west-1 key stops reading when that key is disabled, the primary reads on', async () => {
  const kmsEu = fx.server.kms({ region: REPLICA });
  const key = (await kmsEu.send(new CreateKeyCommand({ Description: 'replica key' }))).KeyMetadata!;
  const arn = (await use1.send(new CreateSecretCommand({ Name: 'keyed/one', SecretString: 'k1' }))).ARN!;
  const out = await use1.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: REPLICA, KmsKeyId: key.Arn }] }));
  assert.deepEqual(out.ReplicationStatus, [{ Region: REPLICA, KmsKeyId: key.Arn, Status: 'InSync' }]);
  assert.equal((await euw1.send(new DescribeSecretCommand({ SecretId: 'keyed/one' }))).KmsKeyId, key.Arn);
  assert.equal(await value(euw1, 'keyed/one'), 'k1');

  await kmsEu.send(new DisableKeyCommand({ KeyId: key.KeyId }));
  assert.equal((await awsError(() => value(euw1, 'keyed/one'))).name, 'DecryptionFailure');
  // A new version cannot be sealed for the replica: the primary's write succeeds, the replica shows Failed
  // (AWS replicates asynchronously and reports it the same way) and keeps what it had.
  await use1.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'k2' }));
  assert.equal(await value(use1, arn), 'k2');
  const status = (await use1.send(new DescribeSecretCommand({ SecretId: arn }))).ReplicationStatus!;
  assert.equal(status[0]!.Status, 'Failed');
  assert.match(status[0]!.StatusMessage!, /^Replication failed: /);
  assert.equal(Object.keys((await euw1.send(new DescribeSecretCommand({ SecretId: 'keyed/one' }))).VersionIdsToStages!).length, 1);
});

test('UpdateSecret with KmsKeyId alone is the one write a replica takes: its versions move to the new key', async () => {
  const { arn, replicaArn } = await replicated('rekey/one', 'r1');
  const key = (await fx.server.kms({ region: REPLICA }).send(new CreateKeyCommand({ Description: 'new replica key' }))).KeyMetadata!;
  await euw1.send(new UpdateSecretCommand({ SecretId: replicaArn, KmsKeyId: key.Arn }));
  assert.equal((await euw1.send(new DescribeSecretCommand({ SecretId: replicaArn }))).KmsKeyId, key.Arn);
  assert.equal(await value(euw1, replicaArn), 'r1');
  assert.equal((await use1.send(new DescribeSecretCommand({ SecretId: arn }))).ReplicationStatus![0]!.KmsKeyId, key.Arn);
  await use1.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'r2' }));
  assert.equal(await value(euw1, replicaArn), 'r2');
  assert.equal((await use1.send(new DescribeSecretCommand({ SecretId: arn }))).KmsKeyId, undefined, 'the primary keeps its key');
});

test('StopReplicationToReplica makes the replica a standalone secret: writable there, no longer updated from the primary', async () => {
  const { arn, replicaArn } = await replicated('stop/one', 'p1');
  const notReplica = await awsError(() => use1.send(new StopReplicationToReplicaCommand({ SecretId: arn })));
  assert.equal(notReplica.name, 'InvalidParameterException');

  const out = await euw1.send(new StopReplicationToReplicaCommand({ SecretId: replicaArn }));
  assert.equal(out.ARN, replicaArn);
  const standalone = await describeRaw(REPLICA, replicaArn);
  assert.equal('PrimaryRegion' in standalone, false);
  const primary = await describeRaw(PRIMARY, arn);
  assert.equal('PrimaryRegion' in primary, false);
  assert.equal('ReplicationStatus' in primary, false);

  await euw1.send(new PutSecretValueCommand({ SecretId: replicaArn, SecretString: 'mine' }));
  await use1.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'p2' }));
  assert.equal(await value(euw1, replicaArn), 'mine');
  assert.equal(await value(use1, arn), 'p2');
  // Both are ordinary secrets now: each can be deleted on its own.
  await euw1.send(new DeleteSecretCommand({ SecretId: replicaArn, ForceDeleteWithoutRecovery: true }));
  await use1.send(new DeleteSecretCommand({ SecretId: arn, ForceDeleteWithoutRecovery: true }));
});

test('a primary with replicas cannot be deleted; RemoveRegionsFromReplication deletes the replica, and then it can', async () => {
  const { arn } = await replicated('del/one');
  await use1.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: THIRD }] }));
  for (const input of [{}, { ForceDeleteWithoutRecovery: true }]) {
    const err = await awsError(() => use1.send(new DeleteSecretCommand({ SecretId: arn, ...input })));
    assert.equal(err.name, 'InvalidParameterException');
    assert.equal(err.message, `You can't delete secret ${arn} that still has replica regions [${REPLICA}, ${THIRD}].`);
  }
  const removed = await use1.send(new RemoveRegionsFromReplicationCommand({ SecretId: arn, RemoveReplicaRegions: [REPLICA] }));
  assert.equal(removed.ARN, arn);
  assert.deepEqual(removed.ReplicationStatus?.map((r) => r.Region), [THIRD]);
  assert.equal((await awsError(() => euw1.send(new DescribeSecretCommand({ SecretId: 'del/one' })))).name, 'ResourceNotFoundException');
  assert.equal(await value(aps1, 'del/one'), 'value of del/one');
  // Removing a region that holds no replica changes nothing.
  await use1.send(new RemoveRegionsFromReplicationCommand({ SecretId: arn, RemoveReplicaRegions: [REPLICA, THIRD] }));
  assert.equal((await awsError(() => aps1.send(new DescribeSecretCommand({ SecretId: 'del/one' })))).name, 'ResourceNotFoundException');
  await use1.send(new DeleteSecretCommand({ SecretId: arn, ForceDeleteWithoutRecovery: true }));
  // The name is free in every region again.
  await euw1.send(new CreateSecretCommand({ Name: 'del/one', SecretString: 'new' }));
});

test('refused transitions: the primary\'s own region, a region not served, a region named twice — nothing is replicated', async () => {
  const arn = (await use1.send(new CreateSecretCommand({ Name: 'bad/one', SecretString: 'b' }))).ARN!;
  for (const regions of [[{ Region: PRIMARY }], [{ Region: NOT_SERVED }], [{ Region: REPLICA }, { Region: REPLICA }], [{ Region: REPLICA }, { Region: PRIMARY }]]) {
    const err = await awsError(() => use1.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: regions })));
    assert.deepEqual({ name: err.name, message: err.message }, { name: 'InvalidParameterException', message: 'Invalid replica region.' });
  }
  assert.equal('PrimaryRegion' in (await describeRaw(PRIMARY, arn)), false);
  assert.equal((await awsError(() => euw1.send(new DescribeSecretCommand({ SecretId: 'bad/one' })))).name, 'ResourceNotFoundException');

  const created = await awsError(() => use1.send(new CreateSecretCommand({ Name: 'bad/two', SecretString: 'b', AddReplicaRegions: [{ Region: PRIMARY }] })));
  assert.deepEqual({ name: created.name, message: created.message }, { name: 'InvalidParameterException', message: 'Invalid replica region.' });
  assert.equal((await awsError(() => use1.send(new DescribeSecretCommand({ SecretId: 'bad/two' })))).name, 'ResourceNotFoundException');

  const missing = await awsError(() => use1.send(new ReplicateSecretToRegionsCommand({ SecretId: 'bad/none', AddReplicaRegions: [{ Region: REPLICA }] })));
  assert.equal(missing.name, 'ResourceNotFoundException');
  const empty = await awsError(() => use1.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [] })));
  assert.equal(empty.name, 'ValidationException');
});

test('a region that already has a secret of that name fails the replica unless ForceOverwriteReplicaSecret; a KmsKeyId naming no key fails it too', async () => {
  const arn = (await use1.send(new CreateSecretCommand({ Name: 'clash/one', SecretString: 'primary' }))).ARN!;
  const theirs = (await euw1.send(new CreateSecretCommand({ Name: 'clash/one', SecretString: 'theirs' }))).ARN!;
  const failed = await use1.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: REPLICA }] }));
  assert.deepEqual(failed.ReplicationStatus, [{
    Region: REPLICA, KmsKeyId: 'alias/aws/secretsmanager', Status: 'Failed', StatusMessage: `Replication failed: Secret name clash/one already exists in region ${REPLICA}.`,
  }]);
  assert.equal(await value(euw1, theirs), 'theirs');
  assert.equal((await use1.send(new DescribeSecretCommand({ SecretId: arn }))).ReplicationStatus![0]!.Status, 'Failed');

  const forced = await use1.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: REPLICA }], ForceOverwriteReplicaSecret: true }));
  assert.equal(forced.ReplicationStatus![0]!.Status, 'InSync');
  assert.equal((await awsError(() => euw1.send(new DescribeSecretCommand({ SecretId: theirs })))).name, 'ResourceNotFoundException');
  assert.equal(await value(euw1, 'clash/one'), 'primary');
  assert.equal((await euw1.send(new DescribeSecretCommand({ SecretId: 'clash/one' }))).PrimaryRegion, PRIMARY);

  const nokey = await use1.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: THIRD, KmsKeyId: 'alias/none' }] }));
  assert.equal(nokey.ReplicationStatus![0]!.Status, 'Failed');
  assert.match(nokey.ReplicationStatus![0]!.StatusMessage!, /^Replication failed: /);
  assert.equal((await awsError(() => aps1.send(new DescribeSecretCommand({ SecretId: 'clash/one' })))).name, 'ResourceNotFoundException');
  // A failed region is listed until removed, and counts as a replica region for DeleteSecret.
  const regions = (await use1.send(new DescribeSecretCommand({ SecretId: arn }))).ReplicationStatus!.map((r) => `${r.Region}:${r.Status}`);
  assert.deepEqual(regions, [`${REPLICA}:InSync`, `${THIRD}:Failed`]);
});

test('CreateSecret with AddReplicaRegions creates the replicas and answers their ReplicationStatus', async () => {
  const out = await use1.send(new CreateSecretCommand({ Name: 'born/one', SecretString: 'b1', AddReplicaRegions: [{ Region: REPLICA }, { Region: THIRD }] }));
  assert.deepEqual(out.ReplicationStatus?.map((r) => [r.Region, r.Status, r.KmsKeyId]), [[REPLICA, 'InSync', 'alias/aws/secretsmanager'], [THIRD, 'InSync', 'alias/aws/secretsmanager']]);
  assert.equal(await value(euw1, 'born/one'), 'b1');
  assert.equal(await value(aps1, out.ARN!.replace(`:${PRIMARY}:`, `:${THIRD}:`)), 'b1');
});

test('ListSecrets shows PrimaryRegion on replicated secrets only, and the primary-region filter matches by it', async () => {
  await replicated('list/replicated');
  await use1.send(new CreateSecretCommand({ Name: 'list/plain', SecretString: 'p' }));
  const all = (await use1.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['list/'] }] }))).SecretList!;
  assert.deepEqual(all.map((s) => [s.Name, s.PrimaryRegion]).sort(), [['list/plain', undefined], ['list/replicated', PRIMARY]]);

  const byPrimary = (await use1.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['list/'] }, { Key: 'primary-region', Values: [PRIMARY] }] }))).SecretList!;
  assert.deepEqual(byPrimary.map((s) => s.Name), ['list/replicated']);
  const inReplica = (await euw1.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['list/'] }, { Key: 'primary-region', Values: [PRIMARY] }] }))).SecretList!;
  assert.deepEqual(inReplica.map((s) => [s.Name, s.PrimaryRegion]), [['list/replicated', PRIMARY]]);
  const notPrimary = (await euw1.send(new ListSecretsCommand({ Filters: [{ Key: 'primary-region', Values: [REPLICA] }] }))).SecretList!;
  assert.deepEqual(notPrimary.filter((s) => s.Name?.startsWith('list/')), []);
});

test('replication needs secretsmanager:ReplicateSecretToRegions, decided with secretsmanager:AddReplicaRegions and ForceOverwriteReplicaSecret', async () => {
  const p = principals(fx.server);
  const base = ['secretsmanager:CreateSecret', 'secretsmanager:DescribeSecret', 'kms:GenerateDataKey', 'kms:Decrypt'];
  const onlyEu = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: base, Resource: '*' },
      {
        Effect: 'Allow', Action: 'secretsmanager:ReplicateSecretToRegions', Resource: '*',
        Condition: { 'ForAllValues:StringEquals': { 'secretsmanager:AddReplicaRegions': [REPLICA] }, Bool: { 'secretsmanager:ForceOverwriteReplicaSecret': 'false' } },
      },
    ],
  };
  const creds = await p.newUser('replicator', onlyEu);
  const c = sm(PRIMARY, creds);
  const arn = (await c.send(new CreateSecretCommand({ Name: 'authz/one', SecretString: 'a' }))).ARN!;
  const denied = await awsError(() => c.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: THIRD }], ForceOverwriteReplicaSecret: false })));
  assert.equal(denied.name, 'AccessDeniedException');
  assert.match(denied.message, /secretsmanager:ReplicateSecretToRegions/);
  const forced = await awsError(() => c.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: REPLICA }], ForceOverwriteReplicaSecret: true })));
  assert.equal(forced.name, 'AccessDeniedException');
  assert.equal((await awsError(() => aps1.send(new DescribeSecretCommand({ SecretId: 'authz/one' })))).name, 'ResourceNotFoundException');
  const ok = await c.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: REPLICA }], ForceOverwriteReplicaSecret: false }));
  assert.equal(ok.ReplicationStatus![0]!.Status, 'InSync');

  // CreateSecret with AddReplicaRegions needs ReplicateSecretToRegions too, and creates nothing without it.
  const creator = sm(PRIMARY, await p.newUser('creator', allow(base)));
  const noReplicate = await awsError(() => creator.send(new CreateSecretCommand({ Name: 'authz/two', SecretString: 'a', AddReplicaRegions: [{ Region: REPLICA }] })));
  assert.equal(noReplicate.name, 'AccessDeniedException');
  assert.match(noReplicate.message, /secretsmanager:ReplicateSecretToRegions/);
  assert.equal((await awsError(() => use1.send(new DescribeSecretCommand({ SecretId: 'authz/two' })))).name, 'ResourceNotFoundException');

  // RemoveRegionsFromReplication is its own action.
  const remover = sm(PRIMARY, await p.newUser('remover', allow(['secretsmanager:DescribeSecret'])));
  const noRemove = await awsError(() => remover.send(new RemoveRegionsFromReplicationCommand({ SecretId: arn, RemoveReplicaRegions: [REPLICA] })));
  assert.equal(noRemove.name, 'AccessDeniedException');
  assert.equal(await value(euw1, 'authz/one'), 'a');
});

test('rotation runs on the primary only and its new version and label moves reach the replica', async () => {
  const { arn, replicaArn } = await replicated('rot/one', 'v');
  const first = (await use1.send(new GetSecretValueCommand({ SecretId: arn }))).VersionId!;
  const out = await use1.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: ROTATOR_ARN, RotationRules: { AutomaticallyAfterDays: 10 } }));
  assert.equal(await waitForRotation(fx.server.url, arn, out.VersionId!), 'succeeded');
  assert.deepEqual(rotator.requests.filter((r) => r.secretId === replicaArn), [], 'the replica is never rotated itself');
  assert.equal(await value(euw1, replicaArn), 'v+');
  assert.equal(await value(euw1, replicaArn, { VersionStage: 'AWSPREVIOUS' }), 'v');
  const replica = await euw1.send(new DescribeSecretCommand({ SecretId: replicaArn }));
  assert.deepEqual(replica.VersionIdsToStages, { [first]: ['AWSPREVIOUS'], [out.VersionId!]: ['AWSCURRENT'] });
  assert.equal(replica.RotationEnabled, true);
  assert.equal(replica.RotationLambdaARN, ROTATOR_ARN);
  assert.ok(replica.LastRotatedDate);
  assert.equal((await use1.send(new DescribeSecretCommand({ SecretId: arn }))).ReplicationStatus![0]!.Status, 'InSync');

  // Promoted, it keeps the configuration but does not rotate until RotateSecret is called in its region.
  await euw1.send(new StopReplicationToReplicaCommand({ SecretId: replicaArn }));
  const promoted = await euw1.send(new DescribeSecretCommand({ SecretId: replicaArn }));
  assert.deepEqual([promoted.RotationEnabled, promoted.RotationLambdaARN, promoted.NextRotationDate], [false, ROTATOR_ARN, undefined]);
});

test('the replication calls are audited in the calling region with their regions and statuses, never a value', async () => {
  const { auditEventsOf } = principals(fx.server);
  const arn = (await use1.send(new CreateSecretCommand({ Name: 'audit/one', SecretString: 'AUDIT-value-never-logged' }))).ARN!;
  const out = await use1.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: REPLICA }], ForceOverwriteReplicaSecret: false }));
  await fx.server.app.audit.runOnce();
  const [event] = await auditEventsOf(out.$metadata.requestId!);
  assert.equal(event?.eventName, 'ReplicateSecretToRegions');
  assert.equal(event?.awsRegion, PRIMARY);
  assert.deepEqual(event?.requestParameters, { secretId: arn, addReplicaRegions: [{ Region: REPLICA }], forceOverwriteReplicaSecret: false });
  assert.deepEqual(event?.responseElements, { aRN: arn, replicationStatus: [{ Region: REPLICA, KmsKeyId: 'alias/aws/secretsmanager', Status: 'InSync' }] });
  const stop = await euw1.send(new StopReplicationToReplicaCommand({ SecretId: 'audit/one' }));
  await fx.server.app.audit.runOnce();
  const [stopped] = await auditEventsOf(stop.$metadata.requestId!);
  assert.deepEqual([stopped?.eventName, stopped?.awsRegion, stopped?.requestParameters], ['StopReplicationToReplica', REPLICA, { secretId: 'audit/one' }]);
  const rows = await fx.server.app.storage.read((r) => r.audit.scan(0, 1_000_000));
  assert.equal(rows.some((r) => r.record.includes('AUDIT-value-never-logged')), false);
});

test('the replica\'s region records AWS\'s replication service events: Started and Succeeded or Failed on creation, Failed when a change cannot reach it, Succeeded when it is back', async () => {
  const trail = async (arn: string) => (await fx.server.app.storage.read((r) => r.audit.scan(0, 1_000_000)))
    .map((r) => JSON.parse(r.record) as Record<string, unknown>)
    .filter((e) => String(e.eventName).startsWith('Replication') && JSON.stringify(e.resources).includes(arn));
  const names = async (arn: string) => (await trail(arn)).map((e) => `${e.eventName}@${e.awsRegion}`);
  const kmsEu = fx.server.kms({ region: REPLICA });
  const key = (await kmsEu.send(new CreateKeyCommand({ Description: 'trail replica key' }))).KeyMetadata!;
  const arn = (await use1.send(new CreateSecretCommand({ Name: 'trail/one', SecretString: 'TRAIL-value-1' }))).ARN!;
  const replicaArn = arn.replace(`:${PRIMARY}:`, `:${REPLICA}:`);
  await use1.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: REPLICA, KmsKeyId: key.Arn }] }));
  assert.deepEqual(await names(replicaArn), [`ReplicationStarted@${REPLICA}`, `ReplicationSucceeded@${REPLICA}`]);
  const [started] = await trail(replicaArn);
  assert.deepEqual(
    [started!.eventType, started!.eventSource, started!.userIdentity, started!.sourceIPAddress, started!.requestParameters, started!.readOnly, started!.managementEvent],
    ['AwsServiceEvent', 'secretsmanager.amazonaws.com', { accountId: ACCOUNT_ID, invokedBy: 'AWS Internal' }, 'AWS Internal', null, false, true],
  );
  assert.deepEqual(started!.resources, [{ ARN: replicaArn, type: 'AWS::SecretsManager::Secret', accountId: ACCOUNT_ID }]);
  assert.deepEqual(started!.serviceEventDetails, { secretId: replicaArn, primarySecretId: arn, primaryRegion: PRIMARY, replicaRegion: REPLICA });

  // A change that cannot reach the replica (its key disabled) is Failed there, with the primary's status message.
  await kmsEu.send(new DisableKeyCommand({ KeyId: key.KeyId }));
  await use1.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'TRAIL-value-2' }));
  const shown = (await use1.send(new DescribeSecretCommand({ SecretId: arn }))).ReplicationStatus![0]!;
  const failedEvent = (await trail(replicaArn)).at(-1)!;
  assert.deepEqual([failedEvent.eventName, failedEvent.awsRegion], ['ReplicationFailed', REPLICA]);
  assert.equal((failedEvent.serviceEventDetails as Record<string, unknown>).statusMessage, shown.StatusMessage);
  // An update that reaches a replica in sync records nothing of its own; one that brings a Failed replica back is Succeeded.
  await kmsEu.send(new EnableKeyCommand({ KeyId: key.KeyId }));
  await use1.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'TRAIL-value-3' }));
  await use1.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'TRAIL-value-4' }));
  assert.deepEqual(await names(replicaArn), [REPLICA, REPLICA, REPLICA, REPLICA].map((r, i) => `${['ReplicationStarted', 'ReplicationSucceeded', 'ReplicationFailed', 'ReplicationSucceeded'][i]}@${r}`));

  // A replica that cannot be made (a secret of that name there) is Started and Failed in that region; the primary records none.
  await aps1.send(new CreateSecretCommand({ Name: 'trail/one', SecretString: 'other' }));
  await use1.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: THIRD }] }));
  assert.deepEqual(await names(arn.replace(`:${PRIMARY}:`, `:${THIRD}:`)), [`ReplicationStarted@${THIRD}`, `ReplicationFailed@${THIRD}`]);
  assert.deepEqual(await names(arn), []);

  const rows = await fx.server.app.storage.read((r) => r.audit.scan(0, 1_000_000));
  assert.equal(rows.some((r) => r.record.includes('TRAIL-value')), false);
  assertChainLinks((await rawCall(fx.server.url, 'TrentOperator.VerifyAuditTrail', '{}', { service: 'trent' })).json);
});

test('concurrent writes on the primary all reach the replica: a lost race re-applies the primary and its replicas together', async () => {
  const { arn, replicaArn } = await replicated('race/one', 'r0');
  await Promise.all(Array.from({ length: 8 }, (_, i) => use1.send(new PutSecretValueCommand({ SecretId: arn, SecretString: `r${i + 1}` }))));
  const primary = await use1.send(new DescribeSecretCommand({ SecretId: arn }));
  const replica = await euw1.send(new DescribeSecretCommand({ SecretId: replicaArn }));
  assert.equal(Object.keys(primary.VersionIdsToStages!).length, 2);
  assert.deepEqual(replica.VersionIdsToStages, primary.VersionIdsToStages);
  const all = (await use1.send(new ListSecretVersionIdsCommand({ SecretId: arn, IncludeDeprecated: true }))).Versions!.map((v) => v.VersionId).sort();
  const there = (await euw1.send(new ListSecretVersionIdsCommand({ SecretId: replicaArn, IncludeDeprecated: true }))).Versions!.map((v) => v.VersionId).sort();
  assert.equal(all.length, 9);
  assert.deepEqual(there, all);
  for (const id of all) {
    const [p, r] = await Promise.all([
      use1.send(new GetSecretValueCommand({ SecretId: arn, VersionId: id })), euw1.send(new GetSecretValueCommand({ SecretId: replicaArn, VersionId: id })),
    ]);
    assert.equal(r.SecretString, p.SecretString);
  }
  assert.equal(primary.ReplicationStatus![0]!.Status, 'InSync');
});

test('secretsmanager:SecretPrimaryRegion on a replica is its primary\'s region', async () => {
  await replicated('spr/replicated', 'from the primary');
  await euw1.send(new CreateSecretCommand({ Name: 'spr/local', SecretString: 'local' }));
  const p = principals(fx.server);
  const reader = sm(REPLICA, await p.newUser('spr-reader', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringEquals: { 'secretsmanager:SecretPrimaryRegion': PRIMARY } } },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' },
    ],
  }));
  assert.equal(await value(reader, 'spr/replicated'), 'from the primary');
  assert.equal((await awsError(() => value(reader, 'spr/local'))).name, 'AccessDeniedException');
});
