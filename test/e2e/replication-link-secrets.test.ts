/**
 * Replicated secrets between two linked deployments (docs/replication.md "What is replicated", docs/secrets.md
 * "Replication"): two real Trent processes, A (us-east-1) and B (eu-central-1, two workers), linked with the
 * real `trent replication link` (test/e2e/linked-deployments.ts). A secret created on A with
 * AddReplicaRegions naming B's region is InProgress, then InSync, and reads on B; every later change
 * reaches B in order; writes on B are refused; a KMS key B lacks fails the replica with its reason; B is
 * SIGKILLed with records pending and applies them once, in order, on restart; a value A cannot open when
 * sending (its key disabled) fails the replica and skips the record; StopReplicationToReplica on
 * B reaches A through the back channel; RemoveRegionsFromReplication deletes the replica on B. Forged and
 * malformed secret records change nothing; the values are in neither store, data dir, log nor audit trail. Each side's
 * audit trail holds what AWS records: B the replication service events of its replicas, both sides a
 * multi-Region key's SynchronizeMultiRegionKey (docs/replication.md "Audit"), and both chains verify.
 *
 * Storage: SQLite in each data dir, or with TRENT_E2E_STORAGE=postgres a schema of its own for each
 * deployment; PostgreSQL unreachable: skipped loudly, or failed when CI is set (linked-deployments.ts).
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand, ReplicateSecretToRegionsCommand, StopReplicationToReplicaCommand, TagResourceCommand,
  UpdateSecretCommand, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { CreateKeyCommand, DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, ReplicateKeyCommand, RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import { wrapForTransport } from '../../src/crypto/replication-transport.ts';
import { SecretBytes } from '../../src/crypto/secret-bytes.ts';
import { DELIVER_PATH, secretValueBoxAad } from '../../src/replication/wire.ts';
import { ACCOUNT_ID, awsError } from './harness.ts';
import { assertSynchronizeMultiRegionKey } from './cloudtrail-shapes.ts';
import {
  assertNowhere, cliEnv, deployment, dispose, drained, internal, kill, linkDeployments, linkStorageReady, linkTest, logged, openExchange, peers, rows, start,
  storeOption, until, type Deployment,
} from './linked-deployments.ts';
import { trentCli } from './tls-support.ts';

const ON_REPLICA = "Operation not permitted on a replica secret. Call must be made in primary secret's region.";
const EU = 'eu-central-1';

let A: Deployment;
let B: Deployment;
let credential = '';
/** Every value the test stores: none may appear in a file, log or audit trail. */
const values: Buffer[] = [];
const value = (label: string): string => {
  const v = `${label}-${randomBytes(12).toString('hex')}`;
  values.push(Buffer.from(v));
  return v;
};

before(async () => {
  if (!(await linkStorageReady('secrets link test'))) return;
  A = await deployment('A', 'us-east-1', 1);
  B = await deployment('B', EU, 2);
  await Promise.all([start(A), start(B)]);
  credential = await linkDeployments(A, B);
});

after(async () => {
  for (const d of [A, B]) await dispose(d);
});

const statusOnA = async (id: string) => (await A.sm.send(new DescribeSecretCommand({ SecretId: id }))).ReplicationStatus;
const inSync = (id: string) => until(`${id} InSync on A`, async () => ((await statusOnA(id))?.[0]?.Status === 'InSync' ? true : undefined));
const onB = (arn: string) => arn.replace(':us-east-1:', `:${EU}:`);
const versionsOf = async (d: Deployment, id: string) =>
  (await d.sm.send(new ListSecretVersionIdsCommand({ SecretId: id, IncludeDeprecated: true }))).Versions!
    .map((v) => ({ id: v.VersionId, stages: [...(v.VersionStages ?? [])].sort() })).sort((a, b) => a.id!.localeCompare(b.id!));

let arn = '';
let first = '';

linkTest('CreateSecret with AddReplicaRegions naming the peer\'s region: InProgress at once, then InSync; the replica reads on B with PrimaryRegion A\'s', async () => {
  first = value('first');
  const out = await A.sm.send(new CreateSecretCommand({ Name: 'linked/one', SecretString: first, AddReplicaRegions: [{ Region: EU }] }));
  arn = out.ARN!;
  assert.deepEqual(out.ReplicationStatus, [{ Region: EU, KmsKeyId: 'alias/aws/secretsmanager', Status: 'InProgress' }]);
  await inSync(arn);
  assert.deepEqual(await statusOnA(arn), [{ Region: EU, KmsKeyId: 'alias/aws/secretsmanager', Status: 'InSync' }]);
  const got = await B.sm.send(new GetSecretValueCommand({ SecretId: 'linked/one' }));
  assert.deepEqual([got.ARN, got.SecretString, got.VersionId, got.VersionStages], [onB(arn), first, out.VersionId, ['AWSCURRENT']]);
  const described = await B.sm.send(new DescribeSecretCommand({ SecretId: onB(arn) }));
  assert.equal(described.PrimaryRegion, 'us-east-1');
  assert.equal(described.ReplicationStatus, undefined);
  // A binary value crosses as its bytes.
  const bytes = randomBytes(48);
  values.push(bytes);
  const bin = await A.sm.send(new CreateSecretCommand({ Name: 'linked/binary', SecretBinary: bytes, AddReplicaRegions: [{ Region: EU }] }));
  await inSync(bin.ARN!);
  assert.deepEqual(Buffer.from((await B.sm.send(new GetSecretValueCommand({ SecretId: 'linked/binary' }))).SecretBinary!), bytes);
});

linkTest('PutSecretValue, label moves, description and tags on A reach B in order; writes on B are refused as AWS refuses them on a replica', async () => {
  const second = value('second');
  const v2 = (await A.sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: second }))).VersionId!;
  await A.sm.send(new UpdateSecretCommand({ SecretId: arn, Description: 'changed on A' }));
  await A.sm.send(new TagResourceCommand({ SecretId: arn, Tags: [{ Key: 'team', Value: 'blue' }] }));
  await A.sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'CUSTOM', MoveToVersionId: v2 }));
  await inSync(arn);
  const d = await B.sm.send(new DescribeSecretCommand({ SecretId: 'linked/one' }));
  assert.equal(d.Description, 'changed on A');
  assert.deepEqual(d.Tags, [{ Key: 'team', Value: 'blue' }]);
  assert.deepEqual(await versionsOf(B, 'linked/one'), await versionsOf(A, arn));
  assert.equal((await B.sm.send(new GetSecretValueCommand({ SecretId: 'linked/one' }))).SecretString, second);
  assert.equal((await B.sm.send(new GetSecretValueCommand({ SecretId: 'linked/one', VersionStage: 'AWSPREVIOUS' }))).SecretString, first);
  for (const write of [
    () => B.sm.send(new PutSecretValueCommand({ SecretId: 'linked/one', SecretString: 'on B' })),
    () => B.sm.send(new UpdateSecretCommand({ SecretId: 'linked/one', Description: 'on B' })),
    () => B.sm.send(new TagResourceCommand({ SecretId: 'linked/one', Tags: [{ Key: 'x', Value: 'y' }] })),
  ]) {
    const err = await awsError(write);
    assert.deepEqual([err.name, err.message], ['InvalidParameterException', ON_REPLICA]);
  }
});

linkTest('a replica whose KmsKeyId names no key on B, or a disabled one, is Failed with the reason; a usable key on B is used there and a later change catches up', async () => {
  const bad = (await A.sm.send(new CreateSecretCommand({ Name: 'linked/badkey', SecretString: value('badkey') }))).ARN!;
  const out = await A.sm.send(new ReplicateSecretToRegionsCommand({ SecretId: bad, AddReplicaRegions: [{ Region: EU, KmsKeyId: 'alias/not-on-b' }] }));
  assert.deepEqual(out.ReplicationStatus, [{ Region: EU, KmsKeyId: 'alias/not-on-b', Status: 'InProgress' }]);
  const failed = await until('Failed on A', async () => {
    const s = (await statusOnA(bad))?.[0];
    return s?.Status === 'Failed' ? s : undefined;
  });
  assert.match(failed.StatusMessage!, /^Replication failed: .*alias\/not-on-b/);
  assert.equal((await awsError(() => B.sm.send(new GetSecretValueCommand({ SecretId: 'linked/badkey' })))).name, 'ResourceNotFoundException');

  const keyOnB = (await B.kms.send(new CreateKeyCommand({ Description: 'for replicas' }))).KeyMetadata!.Arn!;
  const cmkValue = value('cmk');
  const cmk = (await A.sm.send(new CreateSecretCommand({ Name: 'linked/cmk', SecretString: cmkValue, AddReplicaRegions: [{ Region: EU, KmsKeyId: keyOnB }] }))).ARN!;
  await inSync(cmk);
  assert.equal((await B.sm.send(new DescribeSecretCommand({ SecretId: 'linked/cmk' }))).KmsKeyId, keyOnB);
  assert.deepEqual((await statusOnA(cmk))?.map((s) => s.KmsKeyId), [keyOnB]);
  // The replica's key disabled on B: A's next change fails the replica there (B keeps what it had); the
  // change after the key is enabled again catches up every version, as within one deployment.
  await B.kms.send(new DisableKeyCommand({ KeyId: keyOnB }));
  const later = value('later');
  await A.sm.send(new PutSecretValueCommand({ SecretId: cmk, SecretString: later }));
  const disabled = await until('Failed on A', async () => {
    const s = (await statusOnA(cmk))?.[0];
    return s?.Status === 'Failed' ? s : undefined;
  });
  assert.match(disabled.StatusMessage!, /^Replication failed: Secrets Manager can't encrypt the secret value with the KMS key/);
  await B.kms.send(new EnableKeyCommand({ KeyId: keyOnB }));
  assert.equal((await B.sm.send(new GetSecretValueCommand({ SecretId: 'linked/cmk' }))).SecretString, cmkValue);
  await A.sm.send(new UpdateSecretCommand({ SecretId: cmk, Description: 'retry' }));
  await inSync(cmk);
  assert.equal((await B.sm.send(new GetSecretValueCommand({ SecretId: 'linked/cmk' }))).SecretString, later);
});

/** The records of `d`'s audit trail naming `arn` whose eventName matches `name`, oldest first. */
const trailOf = async (d: Deployment, arn: string, name: RegExp) => (await rows(d, 'SELECT record FROM audit_events ORDER BY seq'))
  .map((r) => JSON.parse(String(r.record)) as Record<string, unknown>)
  .filter((e) => name.test(String(e.eventName)) && JSON.stringify(e.resources).includes(arn));
const namesOf = async (d: Deployment, arn: string) => (await trailOf(d, arn, /^Replication/)).map((e) => `${e.eventName}@${e.awsRegion}`);

linkTest('B records AWS\'s replication service events in its region, in the transaction that applies the record: Started and Succeeded or Failed for a replica\'s creation, Failed for a change it cannot apply', async () => {
  const one = await until('linked/one in B\'s trail', async () => {
    const names = await namesOf(B, onB(arn));
    return names.length >= 2 ? names : undefined;
  });
  assert.deepEqual(one, [`ReplicationStarted@${EU}`, `ReplicationSucceeded@${EU}`]);
  const [started] = await trailOf(B, onB(arn), /^ReplicationStarted$/);
  assert.deepEqual([started!.eventType, started!.eventSource, started!.userIdentity, started!.sourceIPAddress], [
    'AwsServiceEvent', 'secretsmanager.amazonaws.com', { accountId: ACCOUNT_ID, invokedBy: 'AWS Internal' }, 'AWS Internal',
  ]);
  assert.deepEqual(started!.resources, [{ ARN: onB(arn), type: 'AWS::SecretsManager::Secret', accountId: ACCOUNT_ID }]);
  assert.deepEqual(started!.serviceEventDetails, { secretId: onB(arn), primarySecretId: arn, primaryRegion: 'us-east-1', replicaRegion: EU, linkedPeer: 'A' });
  // The later changes of linked/one reached a replica in sync: nothing of their own on B; A records none of these events.
  assert.deepEqual(await namesOf(A, arn), []);

  // The key B lacks: the replica is never made — Started and Failed, with the message A shows.
  const bad = (await A.sm.send(new DescribeSecretCommand({ SecretId: 'linked/badkey' })));
  assert.deepEqual(await namesOf(B, onB(bad.ARN!)), [`ReplicationStarted@${EU}`, `ReplicationFailed@${EU}`]);
  assert.equal(((await trailOf(B, onB(bad.ARN!), /^ReplicationFailed$/))[0]!.serviceEventDetails as Record<string, unknown>).statusMessage, bad.ReplicationStatus![0]!.StatusMessage);
  // The replica's key disabled on B for one change: Failed for it; the retry that caught up records nothing (B cannot tell a retry).
  const cmk = (await A.sm.send(new DescribeSecretCommand({ SecretId: 'linked/cmk' }))).ARN!;
  assert.deepEqual(await namesOf(B, onB(cmk)), [`ReplicationStarted@${EU}`, `ReplicationSucceeded@${EU}`, `ReplicationFailed@${EU}`]);
});

linkTest('a value the primary\'s side cannot open when the record is sent (its key disabled on A) fails the replica there; the record is skipped, the next one catches up', async () => {
  const keyOnA = (await A.kms.send(new CreateKeyCommand({ Description: 'primary key' }))).KeyMetadata!.Arn!;
  const v = value('primary under a CMK');
  const primary = (await A.sm.send(new CreateSecretCommand({ Name: 'linked/cmk-on-a', KmsKeyId: keyOnA, SecretString: v, AddReplicaRegions: [{ Region: EU }] }))).ARN!;
  await inSync(primary);
  await A.kms.send(new DisableKeyCommand({ KeyId: keyOnA }));
  await A.sm.send(new UpdateSecretCommand({ SecretId: primary, Description: 'while the key is disabled' }));
  const failed = await until('Failed on A', async () => {
    const st = (await statusOnA(primary))?.[0];
    return st?.Status === 'Failed' ? st : undefined;
  });
  assert.equal(failed.StatusMessage, "Replication failed: Secrets Manager can't decrypt the protected secret text using the provided KMS key.");
  await logged(A, /record skipped/); // logged after the status is written
  await A.kms.send(new EnableKeyCommand({ KeyId: keyOnA }));
  await A.sm.send(new UpdateSecretCommand({ SecretId: primary, Description: 'key enabled again' }));
  await inSync(primary);
  const d = await B.sm.send(new DescribeSecretCommand({ SecretId: 'linked/cmk-on-a' }));
  assert.equal(d.Description, 'key enabled again');
  assert.equal((await B.sm.send(new GetSecretValueCommand({ SecretId: 'linked/cmk-on-a' }))).SecretString, v);
});

linkTest('B killed while secret records are pending: after its restart they are applied once, in order, versions and labels exact', async () => {
  await drained(A); // the last test's record, acknowledged (InSync) before it is marked delivered
  await kill(B);
  const third = value('third');
  const fourth = value('fourth');
  const v3 = (await A.sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: third }))).VersionId!;
  await A.sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: fourth }));
  await A.sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'CUSTOM', MoveToVersionId: v3, RemoveFromVersionId: (await versionsOf(A, arn)).find((v) => v.stages.includes('CUSTOM'))!.id! }));
  const two = (await A.sm.send(new CreateSecretCommand({ Name: 'linked/two', SecretString: value('two'), AddReplicaRegions: [{ Region: EU }] }))).ARN!;
  assert.equal((await statusOnA(arn))?.[0]?.Status, 'InProgress');
  await new Promise((r) => setTimeout(r, 1500)); // the sender tries, fails and backs off
  assert.equal((await peers(A))[0]!.PendingRecords, 4);

  await start(B);
  await drained(A);
  await inSync(arn);
  await inSync(two);
  const sent = (await peers(A))[0]!.DeliveredRecords;
  assert.equal((await peers(B))[0]!.LastAppliedSequence, sent, 'B has applied up to the last record A delivered (a skipped record moves nothing)');
  assert.deepEqual(await versionsOf(B, 'linked/one'), await versionsOf(A, arn));
  assert.equal((await B.sm.send(new GetSecretValueCommand({ SecretId: 'linked/one' }))).SecretString, fourth);
  assert.equal((await B.sm.send(new GetSecretValueCommand({ SecretId: 'linked/one', VersionStage: 'CUSTOM' }))).SecretString, third);
  // Nothing duplicated: one row per secret, one version row per version.
  assert.deepEqual(await rows(B, 'SELECT COUNT(*) AS n FROM sm_secrets WHERE name = ?', 'linked/one'), [{ n: 1 }]);
  assert.deepEqual(await rows(B, 'SELECT COUNT(*) AS n FROM sm_secret_versions WHERE secret_arn = ?', onB(arn)), [{ n: (await versionsOf(A, arn)).length }]);
  assert.equal((await B.sm.send(new GetSecretValueCommand({ SecretId: 'linked/two' }))).ARN, onB(two));
});

linkTest('RemoveRegionsFromReplication on A deletes the replica on B', async () => {
  const two = (await A.sm.send(new DescribeSecretCommand({ SecretId: 'linked/two' }))).ARN!;
  const out = await A.sm.send(new RemoveRegionsFromReplicationCommand({ SecretId: two, RemoveReplicaRegions: [EU] }));
  assert.deepEqual(out.ReplicationStatus, []);
  await until('the replica gone on B', async () => ((await awsError(() => B.sm.send(new GetSecretValueCommand({ SecretId: 'linked/two' })))).name === 'ResourceNotFoundException' ? true : undefined));
  assert.deepEqual(await rows(B, 'SELECT COUNT(*) AS n FROM sm_secret_versions WHERE secret_arn = ?', onB(two)), [{ n: 0 }]);
});

linkTest('StopReplicationToReplica on B makes it standalone there, and A stops listing the region (the back channel)', async () => {
  await B.sm.send(new StopReplicationToReplicaCommand({ SecretId: onB(arn) }));
  const d = await B.sm.send(new DescribeSecretCommand({ SecretId: 'linked/one' }));
  assert.equal(d.PrimaryRegion, undefined);
  const own = value('own on B');
  await B.sm.send(new PutSecretValueCommand({ SecretId: 'linked/one', SecretString: own }));
  await until('A to drop the region', async () => ((await statusOnA(arn)) === undefined ? true : undefined));
  assert.equal((await A.sm.send(new DescribeSecretCommand({ SecretId: arn }))).PrimaryRegion, undefined);
  // A's later changes no longer reach B.
  await A.sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: value('after stop') }));
  await drained(A);
  assert.equal((await B.sm.send(new GetSecretValueCommand({ SecretId: 'linked/one' }))).SecretString, own);
});

linkTest('forged and malformed secret records are refused (AccessDenied, Validation) and change nothing on B', async () => {
  const [, linkId, secretText] = credential.split('.');
  const secret = SecretBytes.copyOf(Buffer.from(secretText!, 'base64url'));
  const state = async () => ({
    link: (await peers(B))[0]!.LastAppliedSequence,
    secrets: await rows(B, 'SELECT name, arn, revision FROM sm_secrets ORDER BY arn'),
    versions: await rows(B, 'SELECT secret_arn, version_id FROM sm_secret_versions ORDER BY secret_arn, version_id'),
  });
  const before = await state();
  const name = 'linked/forged';
  const primaryArn = `arn:aws:secretsmanager:us-east-1:${ACCOUNT_ID}:secret:${name}-AbCdEf`;
  const V1 = '1'.repeat(32); // a VersionId as Secrets Manager takes one (32–64 characters)
  const view = { tags: [], rotation: { enabled: false }, versions: { [V1]: { stages: ['AWSCURRENT'], createdAt: 1, kind: 'string' } }, lastChangedAt: 1 };
  /** A delivery of one secret record as a peer's sender builds it (`box(v)`: a value boxed with the AAD of version v). */
  const deliver = async (record: (aad: (versionId: string) => string) => Record<string, unknown>, seq = before.link + 1) => {
    const { transport, ...exchange } = await openExchange(B, secret, linkId!);
    const box = (versionId: string) => wrapForTransport(transport, SecretBytes.copyOf(Buffer.from('forged value')), secretValueBoxAad(linkId!, seq, ACCOUNT_ID, primaryArn, name, versionId, EU)).toString('base64');
    return internal(B, DELIVER_PATH, { ...exchange, Seq: seq, Record: record(box) }, secret, linkId!);
  };
  const ids = { accountId: ACCOUNT_ID, name, arn: primaryArn, sourceRegion: 'us-east-1', region: EU };
  // A box made for another version (its AAD names another id) presented as V1's value.
  const moved = await deliver((box) => ({ Kind: 'secret', ...ids, view, values: [{ versionId: V1, wrapped: box('2'.repeat(32)) }] }));
  assert.deepEqual([moved.status, moved.json.__type], [400, 'AccessDeniedException']);
  // The same box under the right AAD but for another region's record: the receiver serves only its own.
  const elsewhere = await deliver((box) => ({ Kind: 'secret', ...ids, region: 'eu-west-3', view, values: [{ versionId: V1, wrapped: box(V1) }] }));
  assert.deepEqual([elsewhere.status, elsewhere.json.__type], [400, 'ValidationException']);
  // A primary in a region the peer does not serve.
  const foreign = await deliver((box) => ({
    Kind: 'secret', ...ids, sourceRegion: 'ap-south-1', arn: primaryArn.replace('us-east-1', 'ap-south-1'), view, values: [{ versionId: V1, wrapped: box(V1) }],
  }));
  assert.deepEqual([foreign.status, foreign.json.__type], [400, 'ValidationException']);
  for (const malformed of [
    { Kind: 'secret', ...ids, values: [] }, // no view
    { Kind: 'secret-replica-deleted', ...ids, arn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:other-AbCdEf' }, // ARN not of the name
    { Kind: 'no-such-kind', ...ids },
    // Version ids become keys of the replica's version map: `__proto__` (an own key of a parsed body) would set its prototype.
    { Kind: 'secret', ...ids, view: { ...view, versions: JSON.parse(`{"__proto__": ${JSON.stringify(view.versions[V1])}}`) }, values: [{ versionId: '__proto__', wrapped: 'AAAA' }] },
    { Kind: 'secret', ...ids, view: { ...view, versions: { short: view.versions[V1] } }, values: [] }, // not a VersionId's length
    { Kind: 'secret', ...ids, view: { ...view, versions: { [V1]: { ...view.versions[V1]!, kind: 'text' } } }, values: [] },
  ]) {
    const res = await deliver(() => malformed);
    assert.deepEqual([res.status, res.json.__type], [400, 'ValidationException'], JSON.stringify(malformed));
  }
  // A duplicate (the sequence number already applied), well formed: answered with success, nothing changes.
  const cmkArn = (await A.sm.send(new DescribeSecretCommand({ SecretId: 'linked/cmk' }))).ARN!;
  const dup = await deliver(() => ({ Kind: 'secret', ...ids, name: 'linked/cmk', arn: cmkArn, view, values: [] }), before.link);
  assert.deepEqual([dup.status, dup.json.Applied, dup.json.LastAppliedSeq, dup.json.Status], [200, false, before.link, 'InSync']);
  assert.deepEqual(await state(), before);
});

linkTest('a multi-Region key rotated on A: one SynchronizeMultiRegionKey in A\'s region naming the primary, one in B\'s naming the replica (with its CreateKey); both audit chains verify', async () => {
  const key = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true, Description: 'linked mrk' }))).KeyMetadata!;
  await A.kms.send(new ReplicateKeyCommand({ KeyId: key.KeyId!, ReplicaRegion: EU }));
  await until('the replica on B', async () => (await B.kms.send(new DescribeKeyCommand({ KeyId: key.KeyId! }))).KeyMetadata);
  await A.kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId! }));
  const current = (await A.kms.send(new DescribeKeyCommand({ KeyId: key.KeyId! }))).KeyMetadata!.CurrentKeyMaterialId;
  await until('the new material on B', async () => ((await B.kms.send(new DescribeKeyCommand({ KeyId: key.KeyId! }))).KeyMetadata!.CurrentKeyMaterialId === current ? true : undefined));
  const primaryArn = key.Arn!;
  const replicaArn = primaryArn.replace(':us-east-1:', `:${EU}:`);
  const onA = await trailOf(A, key.KeyId!, /^SynchronizeMultiRegionKey$/);
  assert.equal(onA.length, 1);
  assertSynchronizeMultiRegionKey(onA[0]!, primaryArn, 'us-east-1', ACCOUNT_ID);
  const onBSide = await trailOf(B, key.KeyId!, /^SynchronizeMultiRegionKey$/);
  assert.equal(onBSide.length, 1);
  assertSynchronizeMultiRegionKey(onBSide[0]!, replicaArn, EU, ACCOUNT_ID);
  assert.deepEqual((await trailOf(B, key.KeyId!, /^CreateKey$/)).map((e) => [e.eventType, e.awsRegion]), [['AwsServiceEvent', EU]]);
  for (const d of [A, B]) {
    const verified = JSON.parse(await trentCli(['audit', 'verify', ...storeOption(d), '--json'], cliEnv(d))) as Record<string, unknown>;
    assert.equal(verified.ok, true, JSON.stringify(verified));
  }
});

linkTest('no secret value (nor the link secret) appears in either data dir, WAL, log or audit trail', async () => {
  await assertNowhere([A, B], [...values, Buffer.from(credential.split('.')[2]!, 'base64url')]);
});
