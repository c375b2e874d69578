import type { KeyService } from '../../kms/key-service.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { b64 } from './common.ts';

export function generateRandomOperation(keys: KeyService): Operation {
  return {
    name: 'GenerateRandom',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const numberOfBytes = r.integer('NumberOfBytes', { min: 1, max: 1024 });
      const customKeyStoreId = r.string('CustomKeyStoreId', { min: 1, max: 64 });
      r.done();
      const bytes = await keys.generateRandom(caller, numberOfBytes, customKeyStoreId);
      return { Plaintext: b64(bytes) };
    },
  };
}
