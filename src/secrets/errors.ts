/** Secrets Manager's error codes (AWS model `secretsmanager`), in the one TrentError hierarchy. */
import { AccessDeniedException, clientError } from '../errors/errors.ts';

export const ResourceNotFoundException = clientError('ResourceNotFoundException');
export const ResourceExistsException = clientError('ResourceExistsException');
export const InvalidRequestException = clientError('InvalidRequestException');
export const InvalidParameterException = clientError('InvalidParameterException');
export const InvalidNextTokenException = clientError('InvalidNextTokenException');
export const SecretsLimitExceededException = clientError('LimitExceededException');
export const EncryptionFailure = clientError('EncryptionFailure');
export const DecryptionFailure = clientError('DecryptionFailure');
export const PreconditionNotMetException = clientError('PreconditionNotMetException');
export const PublicPolicyException = clientError('PublicPolicyException');

/** AWS: ResourceNotFoundException for a secret that does not exist (recorded text). */
export const notFound = () => new ResourceNotFoundException("Secrets Manager can't find the specified secret.");
/** AWS: reads and writes of a secret scheduled for deletion (recorded text). */
export const markedForDeletion = () =>
  new InvalidRequestException("You can't perform this operation on the secret because it was marked for deletion.");

/**
 * Trent is single-Region, so multi-Region secrets do not exist. ReplicateSecretToRegions,
 * RemoveRegionsFromReplication, StopReplicationToReplica and CreateSecret with AddReplicaRegions answer
 * this InvalidRequestException (the code AWS uses for an operation a secret's state does not allow) once
 * the input is valid and the secret exists, and change nothing (docs/secrets.md, "Replication").
 */
export const replicationNotSupported = (operation: string) =>
  new InvalidRequestException(
    `${operation} is not supported: Trent does not replicate secrets to other Regions (multi-Region secrets are not implemented).`,
  );

/** AWS: GetSecretValue and the writes answer this when KMS refuses the caller (recorded in client reports). */
export const kmsNotAllowed = () => new AccessDeniedException('Access to KMS is not allowed');
