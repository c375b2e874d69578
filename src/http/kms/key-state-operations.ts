/** EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion: key-management calls by key id or ARN. */
import { epochSeconds } from '../../kms/key-model.ts';
import type { KeyLifecycle } from '../../kms/key-lifecycle.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readKeyId } from './common.ts';

function keyIdOnly(name: string, run: (caller: Parameters<KeyLifecycle['enableKey']>[0], keyId: string) => Promise<Record<string, unknown> | undefined>): Operation {
  return {
    name,
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      r.done();
      return run(caller, keyId);
    },
  };
}

export function keyStateOperations(lifecycle: KeyLifecycle): Operation[] {
  return [
    keyIdOnly('EnableKey', async (c, k) => void (await lifecycle.enableKey(c, k))),
    keyIdOnly('DisableKey', async (c, k) => void (await lifecycle.disableKey(c, k))),
    keyIdOnly('CancelKeyDeletion', async (c, k) => ({ KeyId: (await lifecycle.cancelKeyDeletion(c, k)).arn })),
    {
      name: 'ScheduleKeyDeletion',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const keyId = readKeyId(r);
        // AWS: the model allows 1–365 but the operation requires 7–30.
        const days = r.integer('PendingWindowInDays', { min: 7, max: 30 });
        r.done();
        const key = await lifecycle.scheduleKeyDeletion(caller, keyId, days);
        // AWS: no DeletionDate for a multi-Region primary that waits for its replicas (PendingReplicaDeletion).
        return {
          KeyId: key.arn,
          ...(key.doc.deletionDate !== undefined ? { DeletionDate: epochSeconds(key.doc.deletionDate) } : {}),
          KeyState: key.doc.state,
          PendingWindowInDays: key.doc.pendingWindowInDays,
        };
      },
    },
  ];
}
