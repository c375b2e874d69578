import type { AsymmetricOperations } from '../../kms/asymmetric-operations.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { b64, readGrantTokens, readKeyId } from './common.ts';
import { readMacInput } from './mac-common.ts';

export function generateMacOperation(ops: AsymmetricOperations): Operation {
  return {
    name: 'GenerateMac',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const { message, macAlgorithm } = readMacInput(r);
      const keyId = readKeyId(r);
      readGrantTokens(r);
      const dryRun = r.boolean('DryRun');
      r.done();
      try {
        const out = await ops.generateMac(caller, { keyId, message, macAlgorithm, dryRun: dryRun ?? false });
        return { Mac: b64(out.mac), MacAlgorithm: macAlgorithm, KeyId: out.key.arn };
      } finally {
        message.fill(0);
      }
    },
  };
}
