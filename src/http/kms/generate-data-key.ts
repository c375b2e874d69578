import type { KeyService } from '../../kms/key-service.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';
import { b64, readEncryptionContext, readGrantTokens, readKeyId } from './common.ts';

/** GenerateDataKey and GenerateDataKeyWithoutPlaintext: the same checks, one returns the plaintext. */
function dataKeyOperation(keys: KeyService, name: 'GenerateDataKey' | 'GenerateDataKeyWithoutPlaintext'): Operation {
  return {
    name,
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      const encryptionContext = readEncryptionContext(r);
      const numberOfBytes = r.integer('NumberOfBytes', { min: 1, max: 1024 });
      const keySpec = r.enumValue('KeySpec', ['AES_256', 'AES_128'] as const);
      readGrantTokens(r);
      const dryRun = r.boolean('DryRun');
      r.done();
      const out = await keys.generateDataKey(
        caller,
        definedMembers({ keyId, dryRun: dryRun ?? false, keySpec, numberOfBytes, encryptionContext }),
        name,
      );
      try {
        return definedMembers({
          CiphertextBlob: b64(out.ciphertext),
          Plaintext: name === 'GenerateDataKey' ? b64(out.plaintext) : undefined,
          KeyId: out.key.arn,
        });
      } finally {
        out.plaintext.fill(0);
      }
    },
  };
}

export const generateDataKeyOperation = (keys: KeyService) => dataKeyOperation(keys, 'GenerateDataKey');
export const generateDataKeyWithoutPlaintextOperation = (keys: KeyService) => dataKeyOperation(keys, 'GenerateDataKeyWithoutPlaintext');
