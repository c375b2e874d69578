import type { AsymmetricOperations } from '../../kms/asymmetric-operations.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';
import { b64, readEncryptionContext, readGrantTokens, readKeyId } from './common.ts';

/** AWS DataKeyPairSpec. */
const KEY_PAIR_SPECS = [
  'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'SM2',
  'ECC_NIST_EDWARDS25519',
] as const;

/** GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext: the same checks, one returns the private key. */
function dataKeyPairOperation(ops: AsymmetricOperations, name: 'GenerateDataKeyPair' | 'GenerateDataKeyPairWithoutPlaintext'): Operation {
  return {
    name,
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const encryptionContext = readEncryptionContext(r);
      const keyId = readKeyId(r);
      const keyPairSpec = r.enumValue('KeyPairSpec', KEY_PAIR_SPECS, { required: true });
      readGrantTokens(r);
      const dryRun = r.boolean('DryRun');
      r.done();
      const out = await ops.generateDataKeyPair(
        caller,
        definedMembers({ keyId, keyPairSpec, dryRun: dryRun ?? false, encryptionContext }),
        name,
      );
      try {
        return definedMembers({
          PrivateKeyCiphertextBlob: b64(out.privateKeyCiphertext),
          PrivateKeyPlaintext: name === 'GenerateDataKeyPair' ? b64(out.privateKeyPlaintext.expose()) : undefined,
          PublicKey: b64(out.publicKey),
          KeyId: out.key.arn,
          KeyPairSpec: keyPairSpec,
        });
      } finally {
        out.privateKeyPlaintext.zeroize();
      }
    },
  };
}

export const generateDataKeyPairOperation = (ops: AsymmetricOperations) => dataKeyPairOperation(ops, 'GenerateDataKeyPair');
export const generateDataKeyPairWithoutPlaintextOperation = (ops: AsymmetricOperations) =>
  dataKeyPairOperation(ops, 'GenerateDataKeyPairWithoutPlaintext');
