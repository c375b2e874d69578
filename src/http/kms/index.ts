/** The KMS service at the edge: X-Amz-Target prefix TrentService, SigV4 service `kms`. */
import type { AliasService } from '../../kms/alias-service.ts';
import type { KeyLifecycle } from '../../kms/key-lifecycle.ts';
import type { KeyService } from '../../kms/key-service.ts';
import type { KeyUpdateService } from '../../kms/key-updates.ts';
import { defineOperations, type ServiceDefinition } from '../operation.ts';
import { createKeyOperation } from './create-key.ts';
import { decryptOperation } from './decrypt.ts';
import { describeKeyOperation } from './describe-key.ts';
import { encryptOperation } from './encrypt.ts';
import { listKeysOperation } from './list-keys.ts';
import { createAliasOperation } from './create-alias.ts';
import { deleteAliasOperation } from './delete-alias.ts';
import { listAliasesOperation } from './list-aliases.ts';
import { listResourceTagsOperation } from './list-resource-tags.ts';
import { tagResourceOperation } from './tag-resource.ts';
import { untagResourceOperation } from './untag-resource.ts';
import { updateAliasOperation } from './update-alias.ts';
import { updateKeyDescriptionOperation } from './update-key-description.ts';
import { generateDataKeyOperation, generateDataKeyWithoutPlaintextOperation } from './generate-data-key.ts';
import { generateRandomOperation } from './generate-random.ts';
import { keyStateOperations } from './key-state-operations.ts';
import { reEncryptOperation } from './re-encrypt.ts';
import { rotationOperations } from './rotation-operations.ts';

export interface KmsServices {
  keys: KeyService;
  aliases: AliasService;
  keyUpdates: KeyUpdateService;
  lifecycle: KeyLifecycle;
}

export function kmsServiceDefinition({ keys, aliases, keyUpdates, lifecycle }: KmsServices): ServiceDefinition {
  return {
    targetPrefix: 'TrentService',
    signingName: 'kms',
    eventSource: 'kms.amazonaws.com',
    internalErrorCode: 'KMSInternalException',
    operations: defineOperations([
      createKeyOperation(keys),
      describeKeyOperation(keys),
      listKeysOperation(keys),
      encryptOperation(keys),
      decryptOperation(keys),
      reEncryptOperation(keys),
      generateDataKeyOperation(keys),
      generateDataKeyWithoutPlaintextOperation(keys),
      generateRandomOperation(keys),
      ...keyStateOperations(lifecycle),
      ...rotationOperations(lifecycle),
      createAliasOperation(aliases),
      updateAliasOperation(aliases),
      deleteAliasOperation(aliases),
      listAliasesOperation(aliases),
      tagResourceOperation(keyUpdates),
      untagResourceOperation(keyUpdates),
      listResourceTagsOperation(keyUpdates),
      updateKeyDescriptionOperation(keyUpdates),
    ]),
  };
}
