import type { KeyService } from '../../kms/key-service.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';

export function listKeysOperation(keys: KeyService): Operation {
  return {
    name: 'ListKeys',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const limit = r.integer('Limit', { min: 1, max: 1000 });
      const marker = r.string('Marker', { min: 1, max: 1024 });
      r.done();
      const page = await keys.listKeys(caller, limit ?? 100, marker);
      return definedMembers({
        Keys: page.keys.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })),
        Truncated: page.nextMarker !== undefined,
        NextMarker: page.nextMarker,
      });
    },
  };
}
