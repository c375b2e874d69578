/** Input members and response shapes shared by the Secrets Manager operations. */
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import { SerializationException, ValidationException } from '../../errors/errors.ts';
import type { ReplicaRegion, SecretValueMembers } from '../../secrets/requests.ts';
import { checkName } from '../../secrets/secret-lifecycle.ts';
import { parseSecretArn } from '../../secrets/secret-arn.ts';
import { AWSPENDING, primaryRegionOf, type ReplicaState, type SecretDoc } from '../../secrets/secret-model.ts';
import { DEFAULT_REPLICA_KEY } from '../../secrets/replication.ts';
import type { ReplicationStatusEntry, Secret, SecretValue } from '../../secrets/secret-service.ts';

/**
 * A SecretId: an ARN, or a name, which AWS checks before it looks anything up (recorded: every operation
 * on "Inv Name" is a ValidationException, not ResourceNotFoundException).
 */
export function readSecretId(r: InputReader, name = 'SecretId'): string {
  return checkSecretId(r.string(name, { required: true, min: 1, max: 2048 }));
}

/** The same check for an optional SecretId; an ARN's name part is held to the same characters. */
export function checkSecretId<Id extends string | undefined>(id: Id): Id {
  if (id === undefined) return id;
  if (!id.startsWith('arn:')) checkName(id);
  else {
    const parts = parseSecretArn(id);
    if (parts) checkName(parts.partialName);
  }
  return id;
}

/** The input of the operations whose only member is the SecretId. */
export function readSecretIdOnly(input: Record<string, unknown>): { secretId: string } {
  const r = new InputReader(input);
  const secretId = readSecretId(r);
  r.done();
  return { secretId };
}

export function readToken(r: InputReader) {
  return r.string('ClientRequestToken', { min: 32, max: 64 });
}

/** AWS: SecretString 1–65,536 characters or SecretBinary 1–65,536 bytes (not both: the service says so once it has authorized). */
export function readValue(r: InputReader): SecretValueMembers {
  const secretString = r.string('SecretString', { min: 1, max: 65536, sensitive: true });
  const secretBinary = r.blob('SecretBinary', { min: 1, max: 65536 });
  return definedMembers({ secretString, secretBinary });
}

/** Secrets Manager tags are {Key, Value}. */
export function readTags(r: InputReader, name = 'Tags') {
  return r.tags(name, 'Key', 'Value')?.map((t) => ({ Key: t.TagKey, Value: t.TagValue }));
}

/** awsJson timestamps: epoch seconds. */
export function seconds(ms: number): number {
  return ms / 1000;
}

/** The same for a timestamp that may be absent (an absent member stays absent). */
export function optionalSeconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : seconds(ms);
}

export function versionIdsToStages(doc: SecretDoc): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [id, v] of Object.entries(doc.versions)) if (v.stages.length > 0) out[id] = [...v.stages];
  return out;
}

/** `VersionIdsToStages` (DescribeSecret) or `SecretVersionsToStages` (ListSecrets), left out with no labelled version (recorded: a secret created without a value has none). */
export function stagesMember(doc: SecretDoc, member: 'VersionIdsToStages' | 'SecretVersionsToStages'): Record<string, unknown> {
  const stages = versionIdsToStages(doc);
  return Object.keys(stages).length > 0 ? { [member]: stages } : {};
}

/**
 * ReplicationStatus as AWS shapes it: [{Region, KmsKeyId, Status, StatusMessage?, LastAccessedDate?}]
 * (the SDK's ReplicationStatusType).
 */
export function replicationStatusShape(entries: readonly (ReplicaState | ReplicationStatusEntry)[]): Record<string, unknown>[] {
  return entries.map((e) => definedMembers({
    Region: e.region,
    KmsKeyId: e.kmsKeyId ?? DEFAULT_REPLICA_KEY,
    Status: e.status,
    StatusMessage: e.statusMessage,
    LastAccessedDate: 'lastAccessedAt' in e ? optionalSeconds(e.lastAccessedAt) : undefined,
  }));
}

/**
 * DescribeSecret's members (also each ListSecrets entry, with SecretVersionsToStages), as recorded: no
 * empty Description, `Tags` once the secret has had a tag (`[]` after the last is removed).
 * `PrimaryRegion` only for a replicated secret (a primary with replicas, or a replica) and, given
 * `replication` (DescribeSecret of a primary), `ReplicationStatus`: AWS shows neither for others (recorded).
 */
export function describeShape(s: Secret, replication?: readonly ReplicationStatusEntry[]): Record<string, unknown> {
  const d = s.doc;
  const rot = d.rotation;
  return definedMembers({
    ARN: s.arn,
    Name: s.name,
    Description: d.description || undefined,
    KmsKeyId: d.kmsKeyId,
    RotationEnabled: rot.enabled || rot.lambdaArn ? rot.enabled : undefined,
    RotationLambdaARN: rot.lambdaArn || undefined,
    RotationRules: rot.rules,
    LastRotatedDate: optionalSeconds(d.lastRotatedAt),
    LastChangedDate: seconds(d.lastChangedAt),
    LastAccessedDate: optionalSeconds(d.lastAccessedAt),
    DeletedDate: optionalSeconds(d.deletedAt),
    NextRotationDate: rot.enabled ? optionalSeconds(rot.nextRotationAt) : undefined,
    Tags: d.tags.length || d.tagged ? d.tags : undefined,
    CreatedDate: seconds(d.createdAt),
    PrimaryRegion: primaryRegionOf(d, s.scope.region),
    ReplicationStatus: replication?.length ? replicationStatusShape(replication) : undefined,
    // Trent extension (ignored by AWS SDKs): the last failed rotation step, until a rotation succeeds.
    TrentRotationFailure: rot.lastFailure
      ? { Step: rot.lastFailure.step, Message: rot.lastFailure.message, Date: seconds(rot.lastFailure.at), ClientRequestToken: rot.lastFailure.token }
      : undefined,
  });
}

export function pendingVersion(doc: SecretDoc): string | undefined {
  return Object.keys(doc.versions).find((id) => doc.versions[id]!.stages.includes(AWSPENDING));
}

export function valueShape(v: SecretValue): Record<string, unknown> {
  return v.kind === 'string' ? { SecretString: v.text } : { SecretBinary: v.bytes.toString('base64') };
}

/** AddReplicaRegions: [{Region, KmsKeyId}] (AWS model: ReplicaRegionType, Region 1–128, KmsKeyId ≤ 2048). */
export function readReplicaRegions(input: Record<string, unknown>, required: boolean): ReplicaRegion[] | undefined {
  const v = input.AddReplicaRegions;
  if (v === undefined || v === null) {
    if (required) throw new ValidationException("1 validation error detected: Value null at 'addReplicaRegions' failed to satisfy constraint: Member must not be null");
    return undefined;
  }
  const ok = Array.isArray(v) && v.every((x: unknown) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
    const o = x as Record<string, unknown>;
    return (o.Region === undefined || typeof o.Region === 'string') && (o.KmsKeyId === undefined || typeof o.KmsKeyId === 'string');
  });
  if (!ok) throw new SerializationException('Expected a list of {Region, KmsKeyId} for AddReplicaRegions');
  const list = v as { Region?: string; KmsKeyId?: string }[];
  if (list.length < 1) throw new ValidationException("1 validation error detected: Value '[]' at 'addReplicaRegions' failed to satisfy constraint: Member must have length greater than or equal to 1");
  return list.map((x) => definedMembers({ Region: x.Region ?? '', KmsKeyId: x.KmsKeyId }));
}
