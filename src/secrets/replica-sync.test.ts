import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isReplicaOf, replicaArnOf, replicaDocOf, versionsToCopy } from './replica-sync.ts';
import { dueAtOf, primaryRegionOf, type SecretDoc } from './secret-model.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbCdEf';

function primaryDoc(): SecretDoc {
  return {
    description: 'd', kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/p', tags: [{ Key: 't', Value: 'v' }], tagged: true,
    createdAt: 1, lastChangedAt: 5, lastAccessedAt: 4, lastRotatedAt: 3, policy: '{}',
    rotation: { enabled: true, lambdaArn: 'fn', nextRotationAt: 99, principalArn: 'arn:aws:iam::111122223333:user/admin', claim: { token: 'x', owner: 'n', leaseUntil: 50, startedAt: 40 }, lastFailure: { step: 's', message: 'm', at: 2, token: 'x' } },
    versions: {
      a: { stages: ['AWSPREVIOUS'], createdAt: 1, kind: 'string', kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/p', lastAccessedAt: 4 },
      b: { stages: ['AWSCURRENT'], createdAt: 2, kind: 'binary', kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/p' },
      c: { stages: ['AWSPENDING'], createdAt: 3, kind: 'string', kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/p', empty: true },
    },
    replicas: [{ region: 'eu-west-1', status: 'InSync' }],
  };
}

test('a replica\'s ARN is the primary\'s with the replica region, suffix kept', () => {
  assert.equal(replicaArnOf(ARN, 'eu-west-1'), 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/db-AbCdEf');
});

test('the replica doc copies versions, labels, metadata, tags, policy and rotation configuration, not the primary\'s key, run or dates', () => {
  const key = { kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/r' };
  const r = replicaDocOf(primaryDoc(), 'us-east-1', key, undefined, { a: key.kmsKeyArn, b: key.kmsKeyArn }, 77);
  assert.deepEqual(Object.fromEntries(Object.entries(r.versions).map(([id, v]) => [id, [v.stages, v.kmsKeyArn, v.kind, v.empty ?? false, v.lastAccessedAt]])), {
    a: [['AWSPREVIOUS'], key.kmsKeyArn, 'string', false, undefined],
    b: [['AWSCURRENT'], key.kmsKeyArn, 'binary', false, undefined],
    c: [['AWSPENDING'], key.kmsKeyArn, 'string', true, undefined],
  });
  assert.deepEqual([r.description, r.tags, r.tagged, r.policy, r.lastChangedAt, r.lastRotatedAt], ['d', [{ Key: 't', Value: 'v' }], true, '{}', 5, 3]);
  assert.deepEqual(r.rotation, { enabled: true, lambdaArn: 'fn', nextRotationAt: 99 });
  assert.deepEqual([r.kmsKeyArn, r.kmsKeyId, r.createdAt, r.lastAccessedAt, r.replicas, r.primaryRegion], [key.kmsKeyArn, undefined, 77, undefined, undefined, 'us-east-1']);
  // A replica is never due for a job: the primary rotates, and a replica is not deleted on its own.
  assert.equal(dueAtOf(r), null);
});

test('a later sync keeps what the replica has of its own: creation date, access dates, the key each version was sealed under', () => {
  const key = { kmsKeyId: 'alias/eu', kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/new' };
  const prev = replicaDocOf(primaryDoc(), 'us-east-1', { kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/old' }, undefined, { a: 'old', b: 'old' }, 10);
  prev.lastAccessedAt = 20;
  prev.versions.b!.lastAccessedAt = 20;
  const next = primaryDoc();
  next.versions.d = { stages: ['AWSCURRENT'], createdAt: 6, kind: 'string', kmsKeyArn: 'p' };
  next.versions.b!.stages = ['AWSPREVIOUS'];
  delete next.versions.a;
  assert.deepEqual(versionsToCopy(next, prev), ['d']);
  const r = replicaDocOf(next, 'us-east-1', key, prev, { d: key.kmsKeyArn }, 99);
  assert.deepEqual(Object.keys(r.versions).sort(), ['b', 'c', 'd']);
  assert.deepEqual([r.versions.b!.kmsKeyArn, r.versions.b!.lastAccessedAt, r.versions.d!.kmsKeyArn], ['old', 20, key.kmsKeyArn]);
  assert.deepEqual([r.createdAt, r.lastAccessedAt, r.kmsKeyId], [10, 20, 'alias/eu']);
});

test('versionsToCopy: every version with a value the replica lacks, or holds only empty', () => {
  const d = primaryDoc();
  assert.deepEqual(versionsToCopy(d, undefined), ['a', 'b']);
  const prev = primaryDoc();
  prev.versions.b!.empty = true;
  assert.deepEqual(versionsToCopy(d, prev), ['b']);
});

test('PrimaryRegion: a replica\'s primary, a primary\'s own while it has replicas, else none', () => {
  const d = primaryDoc();
  assert.equal(primaryRegionOf(d, 'us-east-1'), 'us-east-1');
  assert.equal(primaryRegionOf({ ...d, replicas: [] }, 'us-east-1'), undefined);
  const { replicas: _r, ...alone } = d;
  assert.equal(primaryRegionOf(alone, 'us-east-1'), undefined);
  assert.equal(primaryRegionOf({ ...alone, primaryRegion: 'us-east-1' }, 'eu-west-1'), 'us-east-1');
});

test('isReplicaOf: the row in the region must name this primary\'s region and carry its ARN there', () => {
  const primary = { arn: ARN, scope: { accountId: '111122223333', region: 'us-east-1' } };
  const row = (doc: Record<string, unknown>, arn = replicaArnOf(ARN, 'eu-west-1')) => ({
    accountId: '111122223333', region: 'eu-west-1', name: 'app/db', arn, createdAt: 0, dueAt: null, revision: 1, doc,
  });
  assert.equal(isReplicaOf(row({ primaryRegion: 'us-east-1' }), primary), true);
  assert.equal(isReplicaOf(row({}), primary), false, 'a standalone secret of the same name');
  assert.equal(isReplicaOf(row({ primaryRegion: 'us-east-1' }, 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/db-XyZxYz'), primary), false, 'another primary\'s replica');
  assert.equal(isReplicaOf(undefined, primary), false);
});
