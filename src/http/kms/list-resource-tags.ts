import type { KeyUpdateService } from '../../kms/key-updates.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';
import { readKeyId } from './common.ts';

export function listResourceTagsOperation(updates: KeyUpdateService): Operation {
  return {
    name: 'ListResourceTags',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      const limit = r.integer('Limit', { min: 1, max: 50 });
      const marker = r.string('Marker', { min: 1, max: 1024 });
      r.done();
      const page = await updates.listResourceTags(caller, keyId, limit ?? 50, marker);
      return definedMembers({
        Tags: page.tags.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue })),
        Truncated: page.nextMarker !== undefined,
        NextMarker: page.nextMarker,
      });
    },
  };
}
