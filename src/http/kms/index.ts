/** The KMS service at the edge: X-Amz-Target prefix TrentService, SigV4 service `kms`. */
import type { KeyService } from '../../kms/key-service.ts';
import { defineOperations, type ServiceDefinition } from '../operation.ts';
import { createKeyOperation } from './create-key.ts';
import { decryptOperation } from './decrypt.ts';
import { describeKeyOperation } from './describe-key.ts';
import { encryptOperation } from './encrypt.ts';
import { listKeysOperation } from './list-keys.ts';

export function kmsServiceDefinition(keys: KeyService): ServiceDefinition {
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
    ]),
  };
}
