import type { KeyService } from '../../kms/key-service.ts';
import type { KeyUseQuota } from '../../kms/operation-common.ts';
import { ValidationException } from '../../errors/errors.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';
import { b64, KEY_ID_BOUNDS, readEncryptionContext, readGrantTokens } from './common.ts';

/** `quota`: the key type's request quota (src/http/quotas.ts), taken once the key is known; absent: none. */
export function decryptOperation(keys: KeyService, quota?: KeyUseQuota): Operation {
  return {
    name: 'Decrypt',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const ciphertext = r.blob('CiphertextBlob', { min: 1, max: 6144 });
      const encryptionContext = readEncryptionContext(r);
      readGrantTokens(r);
      const keyId = r.string('KeyId', KEY_ID_BOUNDS);
      const encryptionAlgorithm = r.enumValue('EncryptionAlgorithm', ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'] as const);
      const dryRun = r.boolean('DryRun');
      r.done();
      // AWS: CiphertextBlob is optional in the model only for DryRun with IGNORE_CIPHERTEXT.
      if (!ciphertext) {
        throw new ValidationException("1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null");
      }
      const out = await keys.decrypt(caller, definedMembers({ ciphertext, dryRun: dryRun ?? false, keyId, encryptionContext, encryptionAlgorithm, quota }));
      try {
        // A symmetric ciphertext names its material version; AWS's answer names that material (recorded).
        const materialId = out.materialVersion === undefined ? undefined : keys.keyMaterialIdOf(out.key, out.materialVersion);
        const keyMaterialId = typeof materialId === 'object' ? await materialId : materialId;
        return definedMembers({ KeyId: out.key.arn, Plaintext: b64(out.plaintext), EncryptionAlgorithm: out.algorithm, KeyMaterialId: keyMaterialId || undefined });
      } finally {
        out.plaintext.fill(0);
      }
    },
  };
}
