import type { KeyService } from '../../kms/key-service.ts';
import type { KeyUseQuota } from '../../kms/operation-common.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';
import { b64, readEncryptionContext, readGrantTokens, readKeyId } from './common.ts';

/** `quota`: the key type's request quota (src/http/quotas.ts), taken once the key is known; absent: none. */
export function encryptOperation(keys: KeyService, quota?: KeyUseQuota): Operation {
  return {
    name: 'Encrypt',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      const plaintext = r.blob('Plaintext', { required: true, min: 1, max: 4096 });
      const encryptionContext = readEncryptionContext(r);
      readGrantTokens(r);
      const encryptionAlgorithm = r.enumValue('EncryptionAlgorithm', ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'] as const);
      const dryRun = r.boolean('DryRun');
      r.done();
      try {
        const out = await keys.encrypt(caller, definedMembers({ keyId, plaintext, dryRun: dryRun ?? false, encryptionContext, encryptionAlgorithm, quota }));
        return { CiphertextBlob: b64(out.ciphertext), KeyId: out.key.arn, EncryptionAlgorithm: out.algorithm };
      } finally {
        plaintext.fill(0);
      }
    },
  };
}
