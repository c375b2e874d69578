import type { KeyUpdateService } from '../../kms/key-updates.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readKeyId } from './common.ts';

export function updateKeyDescriptionOperation(updates: KeyUpdateService): Operation {
  return {
    name: 'UpdateKeyDescription',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      const description = r.string('Description', { required: true, min: 0, max: 8192 });
      r.done();
      await updates.updateKeyDescription(caller, keyId, description);
      return undefined;
    },
  };
}
