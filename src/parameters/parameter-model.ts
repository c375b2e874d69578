/**
 * What a parameter is to Parameter Store: its types and limits, the docs stored with its rows
 * (storage/parameter-repo.ts), and the plain objects the service returns. The AWS wire shapes of those
 * objects are built at the edge (src/http/ssm/views.ts).
 */
import type { Scope } from '../storage/storage.ts';
import type { ParameterRecord, ParameterVersionRecord } from '../storage/parameter-repo.ts';
import { parameterArn } from './names.ts';
import { type NotifiedState, type ParameterPolicy, policyTimes } from './policies.ts';

export type ParameterType = 'String' | 'StringList' | 'SecureString';
export type ParameterTier = 'Standard' | 'Advanced';
export type RequestedTier = ParameterTier | 'Intelligent-Tiering';

/** AWS: "100 versions of a parameter are kept". */
export const MAX_VERSIONS = 100;
export const STANDARD_MAX_VALUE_BYTES = 4096;
export const ADVANCED_MAX_VALUE_BYTES = 8192;
export const MAX_TAGS = 50;
export const DEFAULT_KEY_ID = 'alias/aws/ssm';

export interface ParameterTag {
  Key: string;
  Value: string;
}

export interface ParameterFilter {
  Key: string;
  Option?: string;
  Values?: string[];
}

export interface PutParameterInput {
  name: string;
  value: string;
  type?: ParameterType;
  description?: string;
  keyId?: string;
  overwrite?: boolean;
  allowedPattern?: string;
  tags?: ParameterTag[];
  tier?: RequestedTier;
  policies?: string;
  dataType?: string;
}

/** The stored doc of a version (ParameterVersionRecord.doc). */
export interface VersionDoc {
  type: ParameterType;
  tier: ParameterTier;
  dataType: string;
  keyId?: string;
  description?: string;
  allowedPattern?: string;
  policies: ParameterPolicy[];
  lastModifiedUser: string;
  /** How a SecureString value is sealed (values.ts); absent: one KMS ciphertext. */
  encryption?: 'envelope';
}

/** The stored doc of a parameter row (ParameterRecord.doc). */
export interface ParamDoc {
  tags: ParameterTag[];
  /** Policy notifications already sent (policies.ts). */
  notified?: NotifiedState;
}

export const vdoc = (v: ParameterVersionRecord) => v.doc as unknown as VersionDoc;
export const pdoc = (p: ParameterRecord) => p.doc as unknown as ParamDoc;

/** One version of a parameter without its value (DescribeParameters, and the base of the others). */
export interface ParameterVersionInfo extends VersionDoc {
  name: string;
  arn: string;
  version: number;
  /** When the version was written (epoch ms). */
  createdAt: number;
  labels: string[];
}

/**
 * A version with its value: the plaintext when the caller asked WithDecryption, otherwise the value as
 * stored (for a SecureString, the base64 ciphertext, as AWS returns it).
 */
export interface ParameterVersionValue extends ParameterVersionInfo {
  value: string;
}

/** GetParameter(s) and GetParametersByPath: a stored parameter's version, with the selector as asked. */
export interface StoredParameterValue extends ParameterVersionValue {
  source: 'parameter';
  /** The `:version` or `:label` text of the reference, with its colon; absent without one. */
  selector?: string;
}

/** A `/aws/reference/secretsmanager/` read (secret-reference.ts): the secret's version as Secrets Manager returned it. */
export interface SecretReferenceValue {
  source: 'secret-reference';
  /** The reference's name, without the selector. */
  name: string;
  /** The selector as asked, without its colon; absent without one. */
  selector?: string;
  /** The secret's ARN and name. */
  arn: string;
  secretName: string;
  versionId: string;
  stages: string[];
  /** The secret version's creation (epoch ms). */
  createdAt: number;
  value: { kind: 'string'; text: string } | { kind: 'binary'; bytes: Buffer };
}

export type ParameterValue = StoredParameterValue | SecretReferenceValue;

/** Results of the listing operations: a (possibly short) page and the marker of the next one. */
export interface ParameterPage<T> {
  items: T[];
  nextToken?: string;
}

/**
 * AWS: a policy's PolicyStatus is Pending until it fires, then Finished. A notification has fired once
 * the policy job has delivered it (ParamDoc.notified, policy-job.ts): the ExpirationNotification for
 * this Expiration timestamp, the NoChangeNotification for this version. (An Expiration that fires
 * deletes the parameter, so it is never seen Finished.)
 */
function policiesWithStatus(policies: readonly ParameterPolicy[], v: ParameterVersionRecord, notified: NotifiedState | undefined): ParameterPolicy[] {
  if (!notified || policies.length === 0) return [...policies];
  const times = policyTimes(policies, v.createdAt);
  return policies.map((p) => {
    const fired = (p.PolicyType === 'ExpirationNotification' && times.expiresAt !== undefined && notified.expiration === times.expiresAt)
      || (p.PolicyType === 'NoChangeNotification' && notified.noChange === v.version);
    return fired ? { ...p, PolicyStatus: 'Finished' } : p;
  });
}

/** A version's info; `notified` (the parameter row's ParamDoc.notified) gives its policies their status. */
export function versionInfo(scope: Scope, v: ParameterVersionRecord, notified?: NotifiedState): ParameterVersionInfo {
  // Member by member onto a copy of the doc: `{ ...doc, name, arn, … }` left V8's fast path and took 5-6 µs
  // a call (0.5 this way), a tenth of what GetParameter does besides HTTP, SigV4, audit and KMS (bench/README.md).
  const info = Object.assign({}, vdoc(v)) as ParameterVersionInfo;
  info.policies = policiesWithStatus(info.policies, v, notified);
  info.name = v.name;
  info.arn = parameterArn(scope, v.name);
  info.version = v.version;
  info.createdAt = v.createdAt;
  info.labels = v.labels;
  return info;
}
