import type { AsymmetricOperations } from '../../kms/asymmetric-operations.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';
import { b64, readGrantTokens, readKeyId } from './common.ts';
import { readSigningInput } from './signing-common.ts';

export function signOperation(ops: AsymmetricOperations): Operation {
  return {
    name: 'Sign',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      const { message, messageType, signingAlgorithm } = readSigningInput(r);
      readGrantTokens(r);
      const dryRun = r.boolean('DryRun');
      r.done();
      try {
        const out = await ops.sign(caller, definedMembers({ keyId, message, signingAlgorithm, dryRun: dryRun ?? false, messageType }));
        return { KeyId: out.key.arn, Signature: b64(out.signature), SigningAlgorithm: signingAlgorithm };
      } finally {
        message.fill(0);
      }
    },
  };
}
