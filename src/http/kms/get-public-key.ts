import type { AsymmetricOperations } from '../../kms/asymmetric-operations.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { b64, readGrantTokens, readKeyId } from './common.ts';

export function getPublicKeyOperation(ops: AsymmetricOperations): Operation {
  return {
    name: 'GetPublicKey',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      readGrantTokens(r);
      r.done();
      const out = await ops.getPublicKey(caller, keyId);
      return {
        KeyId: out.key.arn,
        PublicKey: b64(out.publicKey),
        CustomerMasterKeySpec: out.key.doc.keySpec,
        KeySpec: out.key.doc.keySpec,
        KeyUsage: out.key.doc.keyUsage,
        ...out.algorithms,
      };
    },
  };
}
