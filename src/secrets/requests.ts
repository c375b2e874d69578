/**
 * The typed request of each Secrets Manager operation: what the edge (src/http/secretsmanager/) reads from
 * the JSON input, once, with the Secrets Manager model's bounds. Its access rule (access-rules.ts) and the
 * service work from it.
 */
import { InvalidParameterException } from './errors.ts';
import type { PasswordOptions } from './password.ts';
import type { RotationRules } from './schedule.ts';
import type { Tag } from './secret-model.ts';
import type { SecretValue } from './secret-context.ts';
import type { ListFilter } from './secret-filters.ts';

/** SecretString and SecretBinary as the request gives them. */
export interface SecretValueMembers {
  secretString?: string;
  secretBinary?: Buffer;
}

/** The value SecretString or SecretBinary gives; AWS refuses both in one request (checked once the caller is authorized). */
export function secretValueOf(members: SecretValueMembers): SecretValue | undefined {
  if (members.secretString !== undefined && members.secretBinary !== undefined) {
    throw new InvalidParameterException("You can't specify both a binary secret value and a string secret value in the same secret.");
  }
  if (members.secretString !== undefined) return { kind: 'string', text: members.secretString };
  if (members.secretBinary !== undefined) return { kind: 'binary', bytes: members.secretBinary };
  return undefined;
}

/** AddReplicaRegions: ReplicaRegionType list. */
export interface ReplicaRegion {
  Region: string;
  KmsKeyId?: string;
}

/** A request naming one secret (a name, a full ARN or a partial ARN). */
interface OnSecret {
  secretId: string;
}

export interface SecretsManagerRequests {
  CreateSecret: SecretValueMembers & {
    name: string; token?: string; description?: string; kmsKeyId?: string; tags?: Tag[]; addReplicaRegions?: ReplicaRegion[]; forceOverwrite?: boolean;
  };
  GetSecretValue: OnSecret & { versionId?: string; versionStage?: string };
  BatchGetSecretValue: { secretIdList?: string[]; filters?: ListFilter[]; maxResults?: number; nextToken?: string };
  PutSecretValue: OnSecret & SecretValueMembers & { token?: string; stages?: string[] };
  UpdateSecret: OnSecret & SecretValueMembers & { token?: string; description?: string; kmsKeyId?: string };
  UpdateSecretVersionStage: OnSecret & { stage: string; removeFrom?: string; moveTo?: string };
  DescribeSecret: OnSecret;
  ListSecrets: {
    filters?: ListFilter[]; includePlannedDeletion?: boolean; maxResults?: number; nextToken?: string; sortBy?: string; sortOrder?: 'asc' | 'desc';
  };
  ListSecretVersionIds: OnSecret & { includeDeprecated?: boolean; maxResults?: number; nextToken?: string };
  DeleteSecret: OnSecret & { recoveryWindowInDays?: number; force?: boolean };
  RestoreSecret: OnSecret;
  TagResource: OnSecret & { tags: Tag[] };
  UntagResource: OnSecret & { tagKeys: string[] };
  GetRandomPassword: PasswordOptions;
  RotateSecret: OnSecret & { token?: string; lambdaArn?: string; rules?: RotationRules; rotateImmediately?: boolean };
  CancelRotateSecret: OnSecret;
  PutResourcePolicy: OnSecret & { policy: string; blockPublicPolicy?: boolean };
  GetResourcePolicy: OnSecret;
  DeleteResourcePolicy: OnSecret;
  ValidateResourcePolicy: { secretId?: string; policy: string };
  ReplicateSecretToRegions: OnSecret & { addReplicaRegions: ReplicaRegion[]; forceOverwrite?: boolean };
  RemoveRegionsFromReplication: OnSecret & { removeReplicaRegions: string[] };
  StopReplicationToReplica: OnSecret;
}
