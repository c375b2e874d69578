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
 * AWS: every write on a replica secret (and ReplicateSecretToRegions/RemoveRegionsFromReplication naming
 * one), from its region: InvalidParameterException with this text (reported by AWS clients, e.g.
 * gruntwork-io/cloud-nuke#435, lgallard/terraform-aws-secrets-manager#188).
 */
export const notPermittedOnReplica = () =>
  new InvalidParameterException("Operation not permitted on a replica secret. Call must be made in primary secret's region.");

/** AWS: a replica region that is the primary's own (moto's replication tests mirror this text); Trent also for one it does not serve. */
export const invalidReplicaRegion = () => new InvalidParameterException('Invalid replica region.');

/** AWS: DeleteSecret of a primary that still has replicas (text as reported in gruntwork-io/cloud-nuke#435). */
export const primaryHasReplicas = (arn: string, regions: readonly string[]) =>
  new InvalidParameterException(`You can't delete secret ${arn} that still has replica regions [${regions.join(', ')}].`);

/** StopReplicationToReplica on a secret that is no replica (no AWS text found: Trent's own wording). */
export const notAReplica = () => new InvalidParameterException('The secret is not a replica secret: StopReplicationToReplica is called in a replica\'s region.');

/** AWS: GetSecretValue and the writes answer this when KMS refuses the caller (recorded in client reports). */
export const kmsNotAllowed = () => new AccessDeniedException('Access to KMS is not allowed');
