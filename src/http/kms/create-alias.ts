import type { AliasService } from '../../kms/alias-service.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readKeyId } from './common.ts';

/** AliasNameType in the model: 1–256 characters of ^[a-zA-Z0-9:/_-]+$ (shared by the alias operations). */
export function readAliasName(r: InputReader): string {
  return r.string('AliasName', { required: true, min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/ });
}

export function createAliasOperation(aliases: AliasService): Operation {
  return {
    name: 'CreateAlias',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const aliasName = readAliasName(r);
      const targetKeyId = readKeyId(r, 'TargetKeyId');
      r.done();
      await aliases.createAlias(caller, aliasName, targetKeyId);
      return undefined;
    },
  };
}
