import type { AsymmetricOperations } from '../../kms/asymmetric-operations.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readGrantTokens, readKeyId } from './common.ts';
import { readMacInput } from './mac-common.ts';

/** AWS: VerifyMac answers MacValid true or KMSInvalidMacException; never MacValid false. */
export function verifyMacOperation(ops: AsymmetricOperations): Operation {
  return {
    name: 'VerifyMac',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const { message, macAlgorithm } = readMacInput(r);
      const keyId = readKeyId(r);
      const mac = r.blob('Mac', { required: true, min: 1, max: 6144 });
      readGrantTokens(r);
      const dryRun = r.boolean('DryRun');
      r.done();
      try {
        const out = await ops.verifyMac(caller, { keyId, message, macAlgorithm, mac, dryRun: dryRun ?? false });
        return { KeyId: out.key.arn, MacValid: true, MacAlgorithm: macAlgorithm };
      } finally {
        message.fill(0);
      }
    },
  };
}
