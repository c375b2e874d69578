/** The Secrets Manager service at the edge: X-Amz-Target prefix secretsmanager, SigV4 service `secretsmanager`. */
import type { Authorizer } from '../../auth/authorizer.ts';
import type { Caller } from '../../auth/caller.ts';
import type { RotationRunner } from '../../secrets/rotation.ts';
import { withServiceAccessControl } from '../access-control.ts';
import { createSecretAccess } from './access.ts';
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
  authorizer: Authorizer;
  /** The ARN of the KMS key a KmsKeyId names, unauthorized (secretsmanager:KmsKeyArn); undefined when none. */
  keyArnOf: (caller: Caller, keyId: string) => Promise<string | undefined>;
}

/** The service with every operation authorized (access.ts through the shared choke point, ../access-control.ts). */
export function secretsManagerServiceDefinition({ secrets, rotation, authorizer, keyArnOf }: SecretsManagerServices): ServiceDefinition {
  const { access, authorizeSecret } = createSecretAccess(secrets, authorizer, keyArnOf);
  const authorizeGet = (caller: Caller, secretId: string) => authorizeSecret(caller, 'secretsmanager:GetSecretValue', secretId);
  return withServiceAccessControl({
    targetPrefix: 'secretsmanager',
    signingName: 'secretsmanager',
    eventSource: 'secretsmanager.amazonaws.com',
    internalErrorCode: 'InternalServiceError',
    operations: defineOperations([
      createSecretOperation(secrets),
      getSecretValueOperation(secrets),
      batchGetSecretValueOperation(secrets, authorizeGet),
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
  }, authorizer, access);
}
