import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimScheduled, holdsClaim, renewClaim } from './rotation-claim.ts';
import type { SecretDoc } from './secret-model.ts';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 0, 5, 8, 30); // a Monday

/** The doc the service stores for a secret with one version and rotation configured (createSecret + RotateSecret). */
function doc(rotation: Partial<SecretDoc['rotation']> = {}): SecretDoc {
  return {
    kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/k',
    tags: [],
    versions: { v1: { stages: ['AWSCURRENT'], createdAt: 0, kind: 'string', kmsKeyArn: 'k' } },
    createdAt: 0,
    lastChangedAt: 0,
    rotation: { enabled: true, lambdaArn: 'trent:rotator:postgres', nextRotationAt: NOW - 1, ...rotation },
  };
}
const req = (owner: string, now = NOW) => ({ owner, leaseMs: 30_000, now, newToken: `token-of-${owner}` });

test('a due secret is claimed once: the first claim wins, a live claim makes every other pass skip', () => {
  const d = doc();
  assert.deepEqual(claimScheduled(d, req('a')), { kind: 'claimed', token: 'token-of-a', resumed: false });
  assert.deepEqual(claimScheduled(d, req('b', NOW + 29_999)), { kind: 'none' });
  assert.ok(holdsClaim(d, 'a', 'token-of-a') && !holdsClaim(d, 'b', 'token-of-a'));
});

test('a lapsed claim is taken over with the same token; the old owner can then neither renew nor record', () => {
  const d = doc();
  claimScheduled(d, req('a'));
  assert.ok(renewClaim(d, 'a', 'token-of-a', req('a', NOW + 10_000)));
  assert.deepEqual(claimScheduled(d, req('b', NOW + 39_999)), { kind: 'none' }, 'renewed to NOW + 40 s');
  assert.deepEqual(claimScheduled(d, req('b', NOW + 40_001)), { kind: 'claimed', token: 'token-of-a', resumed: true });
  assert.equal(renewClaim(d, 'a', 'token-of-a', req('a', NOW + 40_002)), false);
  assert.equal(holdsClaim(d, 'a', 'token-of-a'), false);
  assert.ok(holdsClaim(d, 'b', 'token-of-a'));
});

test('not due, disabled or deleted: no claim; a run that left AWSPENDING is reattempted with its version id', () => {
  assert.deepEqual(claimScheduled(doc({ nextRotationAt: NOW + 1 }), req('a')), { kind: 'none' });
  assert.deepEqual(claimScheduled(doc({ enabled: false }), req('a')), { kind: 'none' });
  assert.deepEqual(claimScheduled({ ...doc(), deletedAt: NOW - 5 }, req('a')), { kind: 'none' });
  const d = doc();
  d.versions.v2 = { stages: ['AWSPENDING'], createdAt: 1, kind: 'string', kmsKeyArn: 'k' };
  assert.deepEqual(claimScheduled(d, req('a')), { kind: 'claimed', token: 'v2', resumed: false });
});

test('Duration: within the window the run starts; after it closed it is not started and the next due time is set', () => {
  const due = Date.UTC(2026, 0, 5, 8, 0);
  const rules = { ScheduleExpression: 'cron(0 8 ? * MON *)', Duration: '2h' };
  assert.equal(claimScheduled(doc({ rules, nextRotationAt: due }), req('a', due + 2 * HOUR)).kind, 'claimed');
  const late = doc({ rules, nextRotationAt: due });
  assert.deepEqual(claimScheduled(late, req('a', due + 2 * HOUR + 1)), { kind: 'window-missed', dueAt: due });
  assert.equal(late.rotation.nextRotationAt, Date.UTC(2026, 0, 12, 8, 0));
  assert.equal(late.rotation.claim, undefined);
});
