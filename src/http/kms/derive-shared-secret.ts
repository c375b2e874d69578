import type { AsymmetricOperations } from '../../kms/asymmetric-operations.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { b64, readGrantTokens, readKeyId } from './common.ts';

export function deriveSharedSecretOperation(ops: AsymmetricOperations): Operation {
  return {
    name: 'DeriveSharedSecret',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      const keyAgreementAlgorithm = r.enumValue('KeyAgreementAlgorithm', ['ECDH'] as const, { required: true });
      const publicKey = r.blob('PublicKey', { required: true, min: 1, max: 8192 });
      readGrantTokens(r);
      const dryRun = r.boolean('DryRun');
      // Recipient (Nitro Enclaves attestation documents) is not supported and is ignored.
      r.done();
      const out = await ops.deriveSharedSecret(caller, {
        keyId, keyAgreementAlgorithm, publicKey, dryRun: dryRun ?? false,
      });
      try {
        return { KeyId: out.key.arn, SharedSecret: b64(out.sharedSecret), KeyAgreementAlgorithm: 'ECDH', KeyOrigin: out.key.doc.origin };
      } finally {
        out.sharedSecret.fill(0);
      }
    },
  };
}
