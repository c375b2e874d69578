import type { KeyUpdateService } from '../../kms/key-updates.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readKeyId } from './common.ts';

export function untagResourceOperation(updates: KeyUpdateService): Operation {
  return {
    name: 'UntagResource',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      const tagKeys = r.stringList('TagKeys', { required: true, itemMax: 128 });
      r.done();
      await updates.untagResource(caller, keyId, tagKeys);
      return undefined;
    },
  };
}
