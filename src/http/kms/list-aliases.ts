import type { AliasService } from '../../kms/alias-service.ts';
import { aliasArn } from '../../kms/arn.ts';
import { epochSeconds } from '../../kms/key-model.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';
import { KEY_ID_BOUNDS } from './common.ts';

export function listAliasesOperation(aliases: AliasService): Operation {
  return {
    name: 'ListAliases',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = r.string('KeyId', KEY_ID_BOUNDS);
      const limit = r.integer('Limit', { min: 1, max: 100 });
      const marker = r.string('Marker', { min: 1, max: 1024 });
      r.done();
      const page = await aliases.listAliases(caller, definedMembers({ limit: limit ?? 50, keyId, marker }));
      return definedMembers({
        Aliases: page.aliases.map((a) => ({
          AliasName: a.aliasName,
          AliasArn: aliasArn(a, a.aliasName),
          TargetKeyId: a.targetKeyId,
          CreationDate: epochSeconds(a.createdAt),
          LastUpdatedDate: epochSeconds(a.updatedAt),
        })),
        Truncated: page.nextMarker !== undefined,
        NextMarker: page.nextMarker,
      });
    },
  };
}
