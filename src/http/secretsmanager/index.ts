/** The Secrets Manager service at the edge: X-Amz-Target prefix secretsmanager, SigV4 service `secretsmanager`. */
import type { RotationRunner } from '../../secrets/rotation.ts';
import type { SecretService } from '../../secrets/secret-service.ts';
import { defineOperations, type ServiceDefinition } from '../operation.ts';
import {
  getRandomPasswordOperation,
  listSecretsOperation,
  listSecretVersionIdsOperation,
  tagResourceOperation,
  untagResourceOperation,
  updateSecretVersionStageOperation,
} from './list-operations.ts';
import { cancelRotateSecretOperation, policyOperations, replicationOperations, rotateSecretOperation } from './rotation-operations.ts';
import {
  batchGetSecretValueOperation,
  createSecretOperation,
  deleteSecretOperation,
  describeSecretOperation,
  getSecretValueOperation,
  putSecretValueOperation,
  restoreSecretOperation,
  updateSecretOperation,
} from './secret-operations.ts';

export interface SecretsManagerServices {
  secrets: SecretService;
  rotation: RotationRunner;
}

export function secretsManagerServiceDefinition({ secrets, rotation }: SecretsManagerServices): ServiceDefinition {
  return {
    targetPrefix: 'secretsmanager',
    signingName: 'secretsmanager',
    eventSource: 'secretsmanager.amazonaws.com',
    internalErrorCode: 'InternalServiceError',
    operations: defineOperations([
      createSecretOperation(secrets),
      getSecretValueOperation(secrets),
      batchGetSecretValueOperation(secrets),
      putSecretValueOperation(secrets),
      updateSecretOperation(secrets),
      updateSecretVersionStageOperation(secrets),
      describeSecretOperation(secrets),
      listSecretsOperation(secrets),
      listSecretVersionIdsOperation(secrets),
      deleteSecretOperation(secrets),
      restoreSecretOperation(secrets),
      tagResourceOperation(secrets),
      untagResourceOperation(secrets),
      getRandomPasswordOperation(),
      rotateSecretOperation(rotation),
      cancelRotateSecretOperation(secrets),
      ...policyOperations(secrets),
      ...replicationOperations(secrets),
    ]),
  };
}
