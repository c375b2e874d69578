/**
 * The secret records of the link's deliver message (docs/replication.md "What is replicated"), beside the
 * key record of wire.ts, told apart by `Kind`:
 *
 *   secret                  { Kind, accountId, name, arn, sourceRegion, region, kmsKeyId?, view, values: [{ versionId, wrapped }] }
 *   secret-replica-deleted  { Kind, accountId, name, arn, sourceRegion, region }
 *   secret-replica-stopped  { Kind, accountId, name, arn, sourceRegion, region }   (the back channel: replica → primary)
 *
 * `arn` is the ARN of the sending side's copy (the primary's, or the promoted replica's for the back
 * channel); each value is an AES-256-GCM box under the delivery's transport key (wire.ts secretValueBoxAad).
 * The answer to a `secret` record adds `Status` (InSync | Failed) and `StatusMessage`.
 */
import { ValidationException } from '../errors/errors.ts';
import type { ReplicaView } from '../secrets/remote-replicas.ts';

export const SECRET_KINDS = ['secret', 'secret-replica-deleted', 'secret-replica-stopped'] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

export interface SecretWireRecord {
  Kind: SecretKind;
  accountId: string;
  name: string;
  arn: string;
  sourceRegion: string;
  region: string;
  /** `secret`: the KmsKeyId the primary's caller gave for the replica's region (absent: aws/secretsmanager there). */
  kmsKeyId?: string;
  /** `secret`: what the replica shows. */
  view?: ReplicaView;
  /** `secret`: every version's value, wrapped. */
  values?: { versionId: string; wrapped: string }[];
}

export const isSecretKind = (k: unknown): k is SecretKind => (SECRET_KINDS as readonly unknown[]).includes(k);
export const isSecretRecord = (r: { Kind?: unknown }): r is SecretWireRecord => isSecretKind(r.Kind);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max = 256): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const int = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const REGION = /^([a-z]+-){2,3}\d+$/;
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const MAX_VERSIONS = 200;
/**
 * A VersionId as Secrets Manager takes one (ClientRequestToken: 32–64 characters). The ids become keys of
 * the replica's version map, so the bound also keeps out `__proto__` and the like.
 */
const versionId = (v: unknown): v is string => typeof v === 'string' && v.length >= 32 && v.length <= 64;

function bad(what: string): never {
  throw new ValidationException(`Malformed replication request: ${what}.`);
}

/** The secret's ARN in `region`, as Secrets Manager makes it (the name and a 6-character suffix), or malformed. */
function checkArn(arn: unknown, accountId: string, region: string, name: string): void {
  const prefix = `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-`;
  if (typeof arn !== 'string' || !arn.startsWith(prefix) || !/^[A-Za-z0-9]{6}$/.test(arn.slice(prefix.length))) bad('Record.arn');
}

function checkView(v: unknown): void {
  if (!isObject(v)) bad('Record.view');
  if (v.description !== undefined && (typeof v.description !== 'string' || v.description.length > 2048)) bad('Record.view.description');
  if (!Array.isArray(v.tags) || v.tags.length > 50 || !v.tags.every((t) => isObject(t) && str(t.Key, 128) && typeof t.Value === 'string' && t.Value.length <= 256)) bad('Record.view.tags');
  if (v.tagged !== undefined && v.tagged !== true) bad('Record.view.tagged');
  if (v.policy !== undefined && !str(v.policy, 20480)) bad('Record.view.policy');
  const r = v.rotation;
  if (!isObject(r) || typeof r.enabled !== 'boolean' || (r.lambdaArn !== undefined && !str(r.lambdaArn, 2048))
    || (r.rules !== undefined && !isObject(r.rules)) || (r.nextRotationAt !== undefined && !int(r.nextRotationAt))) bad('Record.view.rotation');
  if (!int(v.lastChangedAt) || (v.lastRotatedAt !== undefined && !int(v.lastRotatedAt))) bad('Record.view dates');
  if (!isObject(v.versions) || Object.keys(v.versions).length > MAX_VERSIONS) bad('Record.view.versions');
  for (const [id, x] of Object.entries(v.versions)) {
    if (!versionId(id) || !isObject(x) || !int(x.createdAt) || (x.kind !== 'string' && x.kind !== 'binary') || (x.empty !== undefined && x.empty !== true)
      || !Array.isArray(x.stages) || x.stages.length > 20 || !x.stages.every((s) => str(s, 256))) bad('Record.view.versions');
  }
}

/** Checks a secret record's shape (its meaning is checked by the receiver, secret-records.ts). */
export function parseSecretRecord(rec: Record<string, unknown>): SecretWireRecord {
  if (!/^\d{12}$/.test(String(rec.accountId)) || typeof rec.name !== 'string' || !NAME.test(rec.name)
    || !REGION.test(String(rec.sourceRegion)) || !REGION.test(String(rec.region))) bad('Record ids');
  checkArn(rec.arn, String(rec.accountId), String(rec.sourceRegion), rec.name);
  if (rec.Kind !== 'secret') {
    if (rec.view !== undefined || rec.values !== undefined || rec.kmsKeyId !== undefined) bad('Record: no value or view is carried by this kind');
    return rec as unknown as SecretWireRecord;
  }
  if (rec.kmsKeyId !== undefined && !str(rec.kmsKeyId, 2048)) bad('Record.kmsKeyId');
  checkView(rec.view);
  const versions = (rec.view as { versions: Record<string, unknown> }).versions;
  if (!Array.isArray(rec.values) || rec.values.length > MAX_VERSIONS) bad('Record.values');
  const seen = new Set<string>();
  for (const x of rec.values) {
    if (!isObject(x) || !versionId(x.versionId) || !str(x.wrapped, 131072) || !Object.hasOwn(versions, x.versionId) || seen.has(x.versionId)) bad('Record.values');
    seen.add(x.versionId);
  }
  return rec as unknown as SecretWireRecord;
}
