import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transition, requireEnabled } from './key-states.ts';
import type { Key, KeyState } from './key-model.ts';

function keyIn(state: KeyState): Key {
  return {
    scope: { accountId: '111122223333', region: 'us-east-1' },
    keyId: 'k',
    arn: 'arn:aws:kms:us-east-1:111122223333:key/k',
    createdAt: 0,
    revision: 1,
    doc: { state } as Key['doc'],
  };
}

test('CancelKeyDeletion returns a pending-deletion key to Disabled, not Enabled', () => {
  assert.equal(transition(keyIn('PendingDeletion'), 'CancelKeyDeletion'), 'Disabled');
});

test('CancelKeyDeletion of a key without imported material returns it to PendingImport; elsewhere it is refused like CancelKeyDeletion', () => {
  assert.equal(transition(keyIn('PendingDeletion'), 'CancelKeyDeletionWithoutMaterial'), 'PendingImport');
  assert.throws(() => transition(keyIn('PendingImport'), 'CancelKeyDeletionWithoutMaterial'), { message: /is not pending deletion\.$/ });
});

test('EnableKey and DisableKey are refused while pending deletion', () => {
  assert.throws(() => transition(keyIn('PendingDeletion'), 'EnableKey'), { code: 'KMSInvalidStateException', message: /is pending deletion\.$/ });
  assert.throws(() => transition(keyIn('PendingDeletion'), 'DisableKey'), { code: 'KMSInvalidStateException' });
});

test('CancelKeyDeletion of a key not pending deletion says so', () => {
  assert.throws(() => transition(keyIn('Enabled'), 'CancelKeyDeletion'), { message: /is not pending deletion\.$/ });
});

test('EnableKey and DisableKey are idempotent', () => {
  assert.equal(transition(keyIn('Enabled'), 'EnableKey'), 'Enabled');
  assert.equal(transition(keyIn('Disabled'), 'DisableKey'), 'Disabled');
});

test('a pending-import key can be scheduled for deletion but not enabled', () => {
  assert.equal(transition(keyIn('PendingImport'), 'ScheduleKeyDeletion'), 'PendingDeletion');
  assert.throws(() => transition(keyIn('PendingImport'), 'EnableKey'), { message: /is pending import\.$/ });
});

test('crypto on a disabled key is DisabledException; on any other non-enabled state KMSInvalidStateException', () => {
  assert.throws(() => requireEnabled(keyIn('Disabled')), { code: 'DisabledException', message: /is disabled\.$/ });
  assert.throws(() => requireEnabled(keyIn('PendingDeletion')), { code: 'KMSInvalidStateException' });
  assert.throws(() => requireEnabled(keyIn('PendingImport')), { code: 'KMSInvalidStateException' });
  assert.throws(() => requireEnabled(keyIn('Unavailable')), { code: 'KMSInvalidStateException' });
  requireEnabled(keyIn('Enabled'));
});

test('a multi-Region primary scheduled with replicas waits in PendingReplicaDeletion: unusable, cancellable, and PendingDeletion once its last replica goes', () => {
  for (const from of ['Enabled', 'Disabled', 'PendingImport'] as const) assert.equal(transition(keyIn(from), 'ScheduleKeyDeletionWithReplicas'), 'PendingReplicaDeletion');
  const waiting = keyIn('PendingReplicaDeletion');
  assert.throws(() => requireEnabled(waiting), { code: 'KMSInvalidStateException', message: /is pending replica deletion\.$/ });
  assert.throws(() => transition(waiting, 'ScheduleKeyDeletionWithReplicas'), { message: /is pending replica deletion\.$/ });
  assert.throws(() => transition(waiting, 'EnableKey'), { code: 'KMSInvalidStateException' });
  assert.equal(transition(waiting, 'CancelKeyDeletion'), 'Disabled');
  assert.equal(transition(waiting, 'LastReplicaDeleted'), 'PendingDeletion');
  assert.throws(() => transition(keyIn('Enabled'), 'LastReplicaDeleted'), { code: 'KMSInvalidStateException' });
});
