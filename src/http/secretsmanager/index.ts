/** The Secrets Manager service at the edge: X-Amz-Target prefix secretsmanager, SigV4 service `secretsmanager`. */
import type { Authorizer } from '../../auth/authorizer.ts';
import { SECRETS_MANAGER_ACCESS_RULES } from '../../secrets/access-rules.ts';
import { kmsNotAllowed } from '../../secrets/errors.ts';
import type { SecretsManagerRequests } from '../../secrets/requests.ts';
import type { RotationRunner } from '../../secrets/rotation.ts';
import type { SecretService } from '../../secrets/secret-service.ts';
import { withServiceAccessControl } from '../access-control.ts';
import type { ServiceDefinition } from '../operation.ts';
import {
  getRandomPasswordOperation,
  listSecretsOperation,
  listSecretVersionIdsOperation,
  tagResourceOperation,
  untagResourceOperation,
  updateSecretVersionStageOperation,
} from './list-operations.ts';
import { replicationOperations } from './replication-operations.ts';
import { cancelRotateSecretOperation, policyOperations, rotateSecretOperation } from './rotation-operations.ts';
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
}

/**
 * The service with every operation behind its rule (src/secrets/access-rules.ts) at the shared choke point
 * (../access-control.ts): actions on "*" are decided there, actions on a secret by the secret service.
 */
export function secretsManagerServiceDefinition({ secrets, rotation, authorizer }: SecretsManagerServices): ServiceDefinition {
  return withServiceAccessControl<SecretsManagerRequests>({
    targetPrefix: 'secretsmanager',
    signingName: 'secretsmanager',
    eventSource: 'secretsmanager.amazonaws.com',
    internalErrorCode: 'InternalServiceError',
    // AWS: Secrets Manager's error bodies carry `Message` (recorded: {"__type": "InvalidRequestException", "Message": …}).
    errorMessageMember: 'Message',
  }, {
    CreateSecret: createSecretOperation(secrets),
    GetSecretValue: getSecretValueOperation(secrets),
    BatchGetSecretValue: batchGetSecretValueOperation(secrets),
    PutSecretValue: putSecretValueOperation(secrets),
    UpdateSecret: updateSecretOperation(secrets),
    UpdateSecretVersionStage: updateSecretVersionStageOperation(secrets),
    DescribeSecret: describeSecretOperation(secrets),
    ListSecrets: listSecretsOperation(secrets),
    ListSecretVersionIds: listSecretVersionIdsOperation(secrets),
    DeleteSecret: deleteSecretOperation(secrets),
    RestoreSecret: restoreSecretOperation(secrets),
    TagResource: tagResourceOperation(secrets),
    UntagResource: untagResourceOperation(secrets),
    GetRandomPassword: getRandomPasswordOperation(),
    RotateSecret: rotateSecretOperation(rotation),
    CancelRotateSecret: cancelRotateSecretOperation(secrets),
    ...policyOperations(secrets),
    ...replicationOperations(secrets),
  }, authorizer, {
    viaService: 'secretsmanager',
    rules: SECRETS_MANAGER_ACCESS_RULES,
    kmsDenied: () => kmsNotAllowed(),
  });
}
