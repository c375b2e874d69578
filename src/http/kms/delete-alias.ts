import type { AliasService } from '../../kms/alias-service.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readAliasName } from './create-alias.ts';

export function deleteAliasOperation(aliases: AliasService): Operation {
  return {
    name: 'DeleteAlias',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const aliasName = readAliasName(r);
      r.done();
      await aliases.deleteAlias(caller, aliasName);
      return undefined;
    },
  };
}
