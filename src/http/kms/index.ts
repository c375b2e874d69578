/** The KMS service at the edge: X-Amz-Target prefix TrentService, SigV4 service `kms`. */
import type { AuditQueryService } from '../../audit/query.ts';
import type { AliasService } from '../../kms/alias-service.ts';
import type { AsymmetricOperations } from '../../kms/asymmetric-operations.ts';
import type { KeyUseQuota } from '../../kms/operation-common.ts';
import type { KeyImportService } from '../../kms/key-import.ts';
import type { KeyLifecycle } from '../../kms/key-lifecycle.ts';
import type { KeyService } from '../../kms/key-service.ts';
import type { KeyUpdateService } from '../../kms/key-updates.ts';
import type { MultiRegionService } from '../../kms/multi-region.ts';
import { defineOperations, type ServiceDefinition } from '../operation.ts';
import { createKeyOperation } from './create-key.ts';
import { customKeyStoreOperations } from './custom-key-stores.ts';
import type { CustomKeyStoreService } from '../../kms/custom-key-stores.ts';
import { decryptOperation } from './decrypt.ts';
import { describeKeyOperation } from './describe-key.ts';
import { encryptOperation } from './encrypt.ts';
import { listKeysOperation } from './list-keys.ts';
import { createAliasOperation } from './create-alias.ts';
import { deleteAliasOperation } from './delete-alias.ts';
import { listAliasesOperation } from './list-aliases.ts';
import { listResourceTagsOperation } from './list-resource-tags.ts';
import { multiRegionOperations } from './multi-region.ts';
import { tagResourceOperation } from './tag-resource.ts';
import { untagResourceOperation } from './untag-resource.ts';
import { updateAliasOperation } from './update-alias.ts';
import { updateKeyDescriptionOperation } from './update-key-description.ts';
import { generateDataKeyOperation, generateDataKeyWithoutPlaintextOperation } from './generate-data-key.ts';
import { generateRandomOperation } from './generate-random.ts';
import { keyStateOperations } from './key-state-operations.ts';
import { importOperations } from './import-operations.ts';
import { reEncryptOperation } from './re-encrypt.ts';
import { rotationOperations } from './rotation-operations.ts';
import { getKeyLastUsageOperation } from './get-key-last-usage.ts';
import { deriveSharedSecretOperation } from './derive-shared-secret.ts';
import { generateDataKeyPairOperation, generateDataKeyPairWithoutPlaintextOperation } from './generate-data-key-pair.ts';
import { generateMacOperation } from './generate-mac.ts';
import { getPublicKeyOperation } from './get-public-key.ts';
import { signOperation } from './sign.ts';
import { verifyMacOperation } from './verify-mac.ts';
import { verifyOperation } from './verify.ts';

export interface KmsServices {
  keys: KeyService;
  aliases: AliasService;
  keyUpdates: KeyUpdateService;
  lifecycle: KeyLifecycle;
  /** The audit log's query side, for GetKeyLastUsage; trackingStart is when this deployment began recording. */
  audit?: { query: AuditQueryService; trackingStart: number };
  asymmetric: AsymmetricOperations;
  /** The key-type request quotas Encrypt, Decrypt and ReEncrypt take once the key is known (src/http/quotas.ts); absent: none. */
  keyQuota?: KeyUseQuota;
  customKeyStores: CustomKeyStoreService;
  imports: KeyImportService;
  multiRegion: MultiRegionService;
}

export function kmsServiceDefinition({ keys, aliases, keyUpdates, lifecycle, asymmetric, keyQuota, imports, audit, customKeyStores, multiRegion }: KmsServices): ServiceDefinition {
  return {
    targetPrefix: 'TrentService',
    signingName: 'kms',
    eventSource: 'kms.amazonaws.com',
    internalErrorCode: 'KMSInternalException',
    operations: defineOperations([
      createKeyOperation(keys),
      describeKeyOperation(keys),
      listKeysOperation(keys),
      encryptOperation(keys, keyQuota),
      decryptOperation(keys, keyQuota),
      reEncryptOperation(keys, keyQuota),
      generateDataKeyOperation(keys),
      generateDataKeyWithoutPlaintextOperation(keys),
      generateRandomOperation(keys),
      generateDataKeyPairOperation(asymmetric),
      generateDataKeyPairWithoutPlaintextOperation(asymmetric),
      signOperation(asymmetric),
      verifyOperation(asymmetric),
      getPublicKeyOperation(asymmetric),
      generateMacOperation(asymmetric),
      verifyMacOperation(asymmetric),
      deriveSharedSecretOperation(asymmetric),
      ...keyStateOperations(lifecycle),
      ...rotationOperations(lifecycle),
      ...importOperations(imports),
      ...multiRegionOperations(multiRegion),
      createAliasOperation(aliases),
      updateAliasOperation(aliases),
      deleteAliasOperation(aliases),
      listAliasesOperation(aliases),
      tagResourceOperation(keyUpdates),
      untagResourceOperation(keyUpdates),
      listResourceTagsOperation(keyUpdates),
      updateKeyDescriptionOperation(keyUpdates),
      ...customKeyStoreOperations(customKeyStores),
      ...(audit ? [getKeyLastUsageOperation(keys, audit.query, audit.trackingStart)] : []),
    ]),
  };
}
