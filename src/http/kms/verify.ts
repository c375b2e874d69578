import type { AsymmetricOperations } from '../../kms/asymmetric-operations.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';
import { readGrantTokens, readKeyId } from './common.ts';
import { readSigningInput } from './signing-common.ts';

/** AWS: Verify answers SignatureValid true or KMSInvalidSignatureException; never SignatureValid false. */
export function verifyOperation(ops: AsymmetricOperations): Operation {
  return {
    name: 'Verify',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      const { message, messageType, signingAlgorithm } = readSigningInput(r);
      const signature = r.blob('Signature', { required: true, min: 1, max: 6144 });
      readGrantTokens(r);
      const dryRun = r.boolean('DryRun');
      r.done();
      const out = await ops.verify(caller, definedMembers({ keyId, message, signature, signingAlgorithm, dryRun: dryRun ?? false, messageType }));
      return { KeyId: out.key.arn, SignatureValid: true, SigningAlgorithm: signingAlgorithm };
    },
  };
}
