/**
 * The secret document stored in `SecretRecord.doc`, and the pure rules of staging labels.
 *
 * Invariants (docs/secrets.md):
 * - a label is attached to at most one version of a secret;
 * - moving AWSCURRENT to another version moves AWSPREVIOUS onto the version it left (AWS: PutSecretValue,
 *   UpdateSecretVersionStage, finishSecret);
 * - a version with no label is deprecated; deprecated versions beyond AWS's limit (100 versions, but
 *   never one created in the last 24 h) are pruned.
 * Every function here mutates a cloned doc; the service writes it back with one compare-and-set.
 */
import { DAY_MS } from '../clock.ts';
import type { RotationClaim } from './rotation-claim.ts';
import type { RotationRules } from './schedule.ts';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const AWSPENDING = 'AWSPENDING';
/** AWS: Secrets Manager keeps at most 100 versions, but keeps every version created in the last 24 hours. */
export const MAX_VERSIONS = 100;

export interface Tag {
  Key: string;
  Value: string;
}

export interface VersionMeta {
  stages: string[];
  createdAt: number;
  /** Epoch ms of the UTC day the version was last read (AWS keeps the date only). */
  lastAccessedAt?: number;
  kind: 'string' | 'binary';
  /** The KMS key ARN that encrypted this version's data key. */
  kmsKeyArn: string;
  /**
   * A version with no value yet: AWS creates the rotation's new version, labelled AWSPENDING, when a
   * rotation starts, and the rotation function's createSecret fills it (PutSecretValue with its token).
   * Reading it is ResourceNotFoundException, as in AWS; no version row is stored until it is filled.
   */
  empty?: true;
}

export interface RotationState {
  enabled: boolean;
  lambdaArn?: string;
  rules?: RotationRules;
  nextRotationAt?: number;
  /** Who configured rotation: scheduled rotations run as this principal. */
  principalArn?: string;
  /** The last failed step, cleared by a successful rotation (Trent extension, shown by DescribeSecret). */
  lastFailure?: { step: string; message: string; at: number; token: string };
  /** The run in progress and who runs it (rotation-claim.ts); absent when no rotation runs. */
  claim?: RotationClaim;
}

export interface SecretDoc {
  description?: string;
  /** KmsKeyId as the caller gave it; absent when the AWS managed key is used (AWS omits it then). */
  kmsKeyId?: string;
  /** The ARN of the KMS key new versions are encrypted under. */
  kmsKeyArn: string;
  tags: Tag[];
  /** Set once the secret has had a tag: AWS lists `Tags` from then on, `[]` once the last is removed (recorded). */
  tagged?: true;
  versions: Record<string, VersionMeta>;
  createdAt: number;
  lastChangedAt: number;
  lastAccessedAt?: number;
  lastRotatedAt?: number;
  /** Set while scheduled for deletion. */
  deletedAt?: number;
  /** When the purge job removes the secret. */
  purgeAt?: number;
  rotation: RotationState;
  policy?: string;
  /**
   * On a primary: the regions it is replicated to (replication.ts), in the order they were added. Absent
   * or empty: not replicated (DescribeSecret then shows neither PrimaryRegion nor ReplicationStatus).
   */
  replicas?: ReplicaState[];
  /** On a replica: the region of its primary (the replica's own region is its scope). Writes are refused. */
  primaryRegion?: string;
}

/** One replica as the primary records it: where, under which key, and how its last synchronisation went. */
export interface ReplicaState {
  region: string;
  /** KmsKeyId as the caller gave it; absent: the replica region's aws/secretsmanager. */
  kmsKeyId?: string;
  /**
   * AWS's ReplicationStatus Status. Within one deployment Trent replicates synchronously, so InProgress is
   * never left behind; a replica in a linked deployment is InProgress until the peer acknowledges.
   */
  status: 'InSync' | 'Failed' | 'InProgress';
  statusMessage?: string;
  /** The replica lives in a linked peer deployment (remote-replicas.ts): its changes travel through the outbox. */
  remote?: true;
  /** Remote: the outbox sequence number of the newest record sent to it; an older acknowledgement does not set the status. */
  seq?: number;
}

/** PrimaryRegion as AWS shows it: a replica's primary's, a primary's own while it has replicas, else none. */
export function primaryRegionOf(doc: SecretDoc, ownRegion: string): string | undefined {
  return doc.primaryRegion ?? (doc.replicas?.length ? ownRegion : undefined);
}

export function currentVersion(doc: SecretDoc): string | undefined {
  return versionWithStage(doc, AWSCURRENT);
}

export function versionWithStage(doc: SecretDoc, stage: string): string | undefined {
  return Object.keys(doc.versions).find((id) => doc.versions[id]!.stages.includes(stage));
}

/** Attaches `label` to `versionId`, taking it off whichever version had it. */
export function attachLabel(doc: SecretDoc, versionId: string, label: string): void {
  if (label === AWSCURRENT) {
    makeCurrent(doc, versionId);
    return;
  }
  for (const [id, v] of Object.entries(doc.versions)) {
    if (id !== versionId) v.stages = v.stages.filter((s) => s !== label);
  }
  const target = doc.versions[versionId]!;
  if (!target.stages.includes(label)) target.stages.push(label);
}

export function removeLabel(doc: SecretDoc, versionId: string, label: string): void {
  const v = doc.versions[versionId];
  if (v) v.stages = v.stages.filter((s) => s !== label);
}

/** AWS: AWSCURRENT moves to `versionId`; AWSPREVIOUS moves to the version AWSCURRENT left. */
export function makeCurrent(doc: SecretDoc, versionId: string): void {
  const old = currentVersion(doc);
  if (old === versionId) return;
  if (old !== undefined) {
    removeLabel(doc, old, AWSCURRENT);
    attachLabel(doc, old, AWSPREVIOUS);
  }
  const target = doc.versions[versionId]!;
  target.stages.push(AWSCURRENT);
}

/**
 * AWS: a rotation run starts by creating its version (VersionId = the run's token) with no value, under
 * AWSPENDING; the rotation function's createSecret fills it (AWS's rotation templates check that the
 * token's version holds AWSPENDING before any step). A version that already exists is left as it is.
 */
export function startPendingVersion(doc: SecretDoc, token: string, now: number): void {
  if (doc.versions[token]) return;
  doc.versions[token] = { stages: [], createdAt: now, kind: 'string', kmsKeyArn: doc.kmsKeyArn, empty: true };
  attachLabel(doc, token, AWSPENDING);
}

/** Deprecated versions to delete so that at most MAX_VERSIONS remain (none younger than 24 h). */
export function versionsToPrune(doc: SecretDoc, now: number): string[] {
  const ids = Object.keys(doc.versions);
  let excess = ids.length - MAX_VERSIONS;
  if (excess <= 0) return [];
  const prunable = ids
    .filter((id) => doc.versions[id]!.stages.length === 0 && now - doc.versions[id]!.createdAt > DAY_MS)
    .sort((a, b) => doc.versions[a]!.createdAt - doc.versions[b]!.createdAt);
  const out: string[] = [];
  for (const id of prunable) {
    if (excess-- <= 0) break;
    out.push(id);
  }
  return out;
}

/** Versions, newest first (ListSecretVersionIds order). */
export function versionsNewestFirst(doc: SecretDoc): string[] {
  return Object.keys(doc.versions).sort((a, b) => doc.versions[b]!.createdAt - doc.versions[a]!.createdAt || (a < b ? 1 : -1));
}

/**
 * When a background job must look at the secret: purge date or next rotation, whichever comes first;
 * while a rotation runs, the end of its claim's lease instead of the next rotation (a dead owner's run is
 * taken over then).
 */
export function dueAtOf(doc: SecretDoc): number | null {
  // A replica has no jobs of its own: its primary rotates (and reaches it), and it is never deleted alone.
  if (doc.primaryRegion !== undefined) return null;
  const rotationAt = doc.rotation.claim ? doc.rotation.claim.leaseUntil : doc.rotation.enabled ? doc.rotation.nextRotationAt : undefined;
  const dates = [doc.purgeAt, rotationAt].filter((d): d is number => d !== undefined);
  return dates.length === 0 ? null : Math.min(...dates);
}

export function startOfUtcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}
