import { ValidationException } from '../../errors/errors.ts';
import type { KeyService } from '../../kms/key-service.ts';
import type { KeyUseQuota } from '../../kms/operation-common.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';
import { b64, KEY_ID_BOUNDS, readEncryptionContext, readGrantTokens, readKeyId } from './common.ts';

const ALGORITHMS = ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'] as const;

/** `quota`: the key type's request quota (src/http/quotas.ts), taken once the key is known; absent: none. */
export function reEncryptOperation(keys: KeyService, quota?: KeyUseQuota): Operation {
  return {
    name: 'ReEncrypt',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const ciphertext = r.blob('CiphertextBlob', { min: 1, max: 6144 });
      const sourceEncryptionContext = readEncryptionContext(r, 'SourceEncryptionContext');
      const sourceKeyId = r.string('SourceKeyId', KEY_ID_BOUNDS);
      const destinationKeyId = readKeyId(r, 'DestinationKeyId');
      const destinationEncryptionContext = readEncryptionContext(r, 'DestinationEncryptionContext');
      const sourceEncryptionAlgorithm = r.enumValue('SourceEncryptionAlgorithm', ALGORITHMS);
      const destinationEncryptionAlgorithm = r.enumValue('DestinationEncryptionAlgorithm', ALGORITHMS);
      readGrantTokens(r);
      const dryRun = r.boolean('DryRun');
      r.done();
      if (!ciphertext) {
        throw new ValidationException("1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null");
      }
      const out = await keys.reEncrypt(caller, definedMembers({
        ciphertext,
        destinationKeyId,
        dryRun: dryRun ?? false,
        sourceKeyId,
        sourceEncryptionContext,
        destinationEncryptionContext,
        sourceEncryptionAlgorithm,
        destinationEncryptionAlgorithm,
        quota,
      }));
      return {
        CiphertextBlob: b64(out.ciphertext),
        SourceKeyId: out.sourceKey.arn,
        KeyId: out.destinationKey.arn,
        SourceEncryptionAlgorithm: out.sourceAlgorithm,
        DestinationEncryptionAlgorithm: out.destinationAlgorithm,
      };
    },
  };
}
