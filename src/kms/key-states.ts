/**
 * The one transition table of KMS key states. Every state change goes through transition(): a change
 * not in the table is refused with the error AWS gives for it (key-state page of the AWS KMS guide).
 */
import { DisabledException, KMSInvalidStateException } from '../errors/errors.ts';
import type { Key, KeyState } from './key-model.ts';

export type KeyEvent =
  | 'EnableKey'
  | 'DisableKey'
  | 'ScheduleKeyDeletion'
  /** ScheduleKeyDeletion of a multi-Region primary that still has replicas: its waiting period starts with the last replica's deletion. */
  | 'ScheduleKeyDeletionWithReplicas'
  /** The last replica of a primary PendingReplicaDeletion was deleted: its waiting period starts. */
  | 'LastReplicaDeleted'
  | 'CancelKeyDeletion'
  /** CancelKeyDeletion of an EXTERNAL key that has no imported material (never imported, deleted or expired). */
  | 'CancelKeyDeletionWithoutMaterial'
  | 'ImportKeyMaterial'
  | 'DeleteImportedKeyMaterial'
  | 'ConnectKeyStore'
  | 'DisconnectKeyStore';

/** from → event → to. An event absent for a state is invalid in that state. */
const TABLE: Readonly<Record<KeyState, Partial<Record<KeyEvent, KeyState>>>> = {
  Enabled: {
    EnableKey: 'Enabled',
    DisableKey: 'Disabled',
    ScheduleKeyDeletion: 'PendingDeletion',
    ScheduleKeyDeletionWithReplicas: 'PendingReplicaDeletion',
    DeleteImportedKeyMaterial: 'PendingImport',
    ImportKeyMaterial: 'Enabled',
    DisconnectKeyStore: 'Unavailable',
  },
  Disabled: {
    EnableKey: 'Enabled',
    DisableKey: 'Disabled',
    ScheduleKeyDeletion: 'PendingDeletion',
    ScheduleKeyDeletionWithReplicas: 'PendingReplicaDeletion',
    DeleteImportedKeyMaterial: 'PendingImport',
    ImportKeyMaterial: 'Disabled',
    DisconnectKeyStore: 'Unavailable',
  },
  PendingDeletion: {
    CancelKeyDeletion: 'Disabled',
    // A key without material has nothing to enable: it goes back to waiting for its import.
    CancelKeyDeletionWithoutMaterial: 'PendingImport',
    ScheduleKeyDeletion: 'PendingDeletion',
    DeleteImportedKeyMaterial: 'PendingDeletion',
    DisconnectKeyStore: 'PendingDeletion',
    ConnectKeyStore: 'PendingDeletion',
  },
  PendingImport: {
    ImportKeyMaterial: 'Enabled',
    ScheduleKeyDeletion: 'PendingDeletion',
    ScheduleKeyDeletionWithReplicas: 'PendingReplicaDeletion',
    DeleteImportedKeyMaterial: 'PendingImport',
  },
  Unavailable: {
    ConnectKeyStore: 'Enabled',
    ScheduleKeyDeletion: 'PendingDeletion',
    DisconnectKeyStore: 'Unavailable',
  },
  Creating: {},
  Updating: {},
  // AWS: a primary scheduled for deletion while it has replicas; unusable, and it cannot be replicated.
  PendingReplicaDeletion: {
    CancelKeyDeletion: 'Disabled',
    CancelKeyDeletionWithoutMaterial: 'PendingImport',
    LastReplicaDeleted: 'PendingDeletion',
    DeleteImportedKeyMaterial: 'PendingReplicaDeletion',
  },
};

function describeState(state: KeyState): string {
  switch (state) {
    case 'PendingDeletion': return 'pending deletion';
    case 'PendingImport': return 'pending import';
    case 'PendingReplicaDeletion': return 'pending replica deletion';
    default: return state.toLowerCase();
  }
}

/** Returns the state after `event`, or throws the AWS error for an event invalid in the key's state. */
export function transition(key: Key, event: KeyEvent): KeyState {
  const from = key.doc.state;
  const to = TABLE[from][event];
  if (to !== undefined) return to;
  // AWS: CancelKeyDeletion on a key not pending deletion
  if (event === 'CancelKeyDeletion' || event === 'CancelKeyDeletionWithoutMaterial') throw new KMSInvalidStateException(`${key.arn} is not pending deletion.`);
  throw new KMSInvalidStateException(`${key.arn} is ${describeState(from)}.`);
}

/** The check every cryptographic operation makes first (AWS error mapping of the key-state table). */
export function requireEnabled(key: Key): void {
  const state = key.doc.state;
  if (state === 'Enabled') return;
  if (state === 'Disabled') throw new DisabledException(`${key.arn} is disabled.`);
  throw new KMSInvalidStateException(`${key.arn} is ${describeState(state)}.`);
}
