import type { KeyUpdateService } from '../../kms/key-updates.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readKeyId } from './common.ts';

export function tagResourceOperation(updates: KeyUpdateService): Operation {
  return {
    name: 'TagResource',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      const tags = r.tags('Tags');
      // Tags is required; InputReader.tags has no `required`, so an absent member is reported through
      // the string reader, which records the same "Member must not be null" line.
      if (tags === undefined) r.string('Tags', { required: true });
      r.done();
      await updates.tagResource(caller, keyId, tags!);
      return undefined;
    },
  };
}
