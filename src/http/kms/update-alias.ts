import type { AliasService } from '../../kms/alias-service.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readKeyId } from './common.ts';
import { readAliasName } from './create-alias.ts';

export function updateAliasOperation(aliases: AliasService): Operation {
  return {
    name: 'UpdateAlias',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const aliasName = readAliasName(r);
      const targetKeyId = readKeyId(r, 'TargetKeyId');
      r.done();
      await aliases.updateAlias(caller, aliasName, targetKeyId);
      return undefined;
    },
  };
}
