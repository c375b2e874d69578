import { toKeyMetadata } from '../../kms/key-model.ts';
import type { KeyService } from '../../kms/key-service.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readGrantTokens, readKeyId } from './common.ts';

export function describeKeyOperation(keys: KeyService): Operation {
  return {
    name: 'DescribeKey',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      readGrantTokens(r);
      r.done();
      return { KeyMetadata: toKeyMetadata(await keys.describeKey(caller, keyId)) };
    },
  };
}
