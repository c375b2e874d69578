import { KEY_SPECS, KEY_USAGES, ORIGINS, toKeyMetadata } from '../../kms/key-model.ts';
import type { KeyService } from '../../kms/key-service.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';

export function createKeyOperation(keys: KeyService): Operation {
  return {
    name: 'CreateKey',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const policy = r.string('Policy', { min: 1, max: 131072 });
      const description = r.string('Description', { min: 0, max: 8192 });
      const keyUsage = r.enumValue('KeyUsage', KEY_USAGES);
      const keySpec = r.enumValue('KeySpec', KEY_SPECS);
      const legacySpec = r.enumValue('CustomerMasterKeySpec', KEY_SPECS);
      const origin = r.enumValue('Origin', ORIGINS);
      const customKeyStoreId = r.string('CustomKeyStoreId', { min: 1, max: 64 });
      const bypass = r.boolean('BypassPolicyLockoutSafetyCheck');
      const tags = r.tags('Tags');
      const multiRegion = r.boolean('MultiRegion');
      r.done();
      const key = await keys.createKey(caller, definedMembers({
        description,
        keyUsage,
        keySpec: keySpec ?? legacySpec,
        origin,
        customKeyStoreId,
        tags,
        multiRegion,
        policy,
        bypassPolicyLockoutSafetyCheck: bypass || undefined,
      }));
      return { KeyMetadata: toKeyMetadata(key) };
    },
  };
}
