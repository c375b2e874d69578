/**
 * Row → record mapping shared by both adapters: the SQLite and PostgreSQL schemas have the same columns,
 * and the differences of the drivers are absorbed here (PostgreSQL returns BIGINT as a string and
 * booleans as booleans; SQLite returns numbers and stores booleans as 0/1). Documents are JSON text in both.
 */
import type { AuditDigestRow, AuditEventRow } from './audit-repo.ts';
import type { CustomKeyStoreRecord } from './custom-key-store-repo.ts';
import type { GrantRecord, PrincipalRecord } from './iam-repos.ts';
import type { ImportParametersRecord } from './import-repo.ts';
import type { ParameterRecord, ParameterVersionRecord } from './parameter-repo.ts';
import type { SecretRecord, SecretVersionRecord } from './secret-repo.ts';
import type { AccessKeyRecord, AliasRecord, KeyRecord, MaterialRecord, Page } from './storage.ts';

export type Row = Record<string, unknown>;

/** Every integer we store is well inside the safe range; anything else is a corrupt row. */
export function int(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n)) throw new Error('the store returned a non-integer where an integer was stored');
  return n;
}

export function intOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : int(v);
}

export function json(v: unknown): Record<string, unknown> {
  return JSON.parse(v as string) as Record<string, unknown>;
}

/** A stored boolean: PostgreSQL BOOLEAN or SQLite 0/1. */
export function flag(v: unknown): boolean {
  return v === true || Number(v) === 1;
}

/** One page of `limit` items from `limit + 1` rows: the extra row says whether more follow. */
export function page<T>(rows: T[], limit: number, sortKey: (t: T) => string): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, next: sortKey(items[items.length - 1]!) };
}

export function keyFromRow(r: Row): KeyRecord {
  return {
    accountId: r.account_id as string,
    region: r.region as string,
    keyId: r.key_id as string,
    createdAt: int(r.created_at),
    state: r.state as string,
    dueAt: intOrNull(r.due_at),
    revision: int(r.revision),
    doc: json(r.doc),
  };
}

export function materialFromRow(r: Row): MaterialRecord {
  return {
    accountId: r.account_id as string,
    region: r.region as string,
    keyId: r.key_id as string,
    version: int(r.version),
    createdAt: int(r.created_at),
    sealed: r.sealed as Buffer,
    doc: json(r.doc),
  };
}

export function importParametersFromRow(r: Row): ImportParametersRecord {
  return {
    accountId: r.account_id as string,
    region: r.region as string,
    keyId: r.key_id as string,
    tokenId: r.token_id as string,
    createdAt: int(r.created_at),
    expiresAt: int(r.expires_at),
    sealed: r.sealed as Buffer,
    doc: json(r.doc),
  };
}

export function aliasFromRow(r: Row): AliasRecord {
  return {
    accountId: r.account_id as string,
    region: r.region as string,
    aliasName: r.alias_name as string,
    targetKeyId: r.target_key_id as string,
    createdAt: int(r.created_at),
    updatedAt: int(r.updated_at),
  };
}

export function accessKeyFromRow(r: Row): AccessKeyRecord {
  return {
    accessKeyId: r.access_key_id as string,
    accountId: r.account_id as string,
    principalArn: r.principal_arn as string,
    sealedSecret: r.sealed_secret as Buffer,
    status: r.status as 'Active' | 'Inactive',
    createdAt: int(r.created_at),
    expiresAt: intOrNull(r.expires_at),
    doc: json(r.doc),
  };
}

export function auditEventFromRow(r: Row): AuditEventRow {
  return {
    seq: int(r.seq),
    eventId: r.event_id as string,
    eventTime: int(r.event_time),
    eventName: r.event_name as string,
    eventSource: r.event_source as string,
    accountId: r.recipient_account as string,
    region: r.aws_region as string,
    username: (r.username as string | null) ?? null,
    accessKeyId: (r.caller_access_key as string | null) ?? null,
    readOnly: flag(r.read_only),
    errorCode: (r.error_code as string | null) ?? null,
    resourceNames: JSON.parse(r.resource_names as string) as string[],
    resourceTypes: JSON.parse(r.resource_types as string) as string[],
    record: r.record as string,
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
  };
}

export function auditDigestFromRow(r: Row): AuditDigestRow {
  return {
    digestSeq: int(r.digest_seq),
    createdAt: int(r.created_at),
    lastEventSeq: int(r.last_event_seq),
    lastHash: r.last_hash as string,
    record: r.record as string,
    signature: r.signature as string,
  };
}

export function principalFromRow(r: Row): PrincipalRecord {
  return {
    arn: r.arn as string,
    accountId: r.account_id as string,
    kind: r.kind as PrincipalRecord['kind'],
    name: r.name as string,
    createdAt: int(r.created_at),
    revision: int(r.revision),
    doc: json(r.doc),
  };
}

export function grantFromRow(r: Row): GrantRecord {
  return {
    accountId: r.account_id as string,
    region: r.region as string,
    keyId: r.key_id as string,
    grantId: r.grant_id as string,
    granteePrincipal: r.grantee_principal as string,
    retiringPrincipal: (r.retiring_principal as string | null) ?? null,
    name: (r.name as string | null) ?? null,
    createdAt: int(r.created_at),
    doc: json(r.doc),
  };
}

export function parameterFromRow(r: Row): ParameterRecord {
  return {
    accountId: r.account_id as string,
    region: r.region as string,
    name: r.name as string,
    version: int(r.version),
    revision: int(r.revision),
    dueAt: intOrNull(r.due_at),
    createdAt: int(r.created_at),
    doc: json(r.doc),
  };
}

/**
 * A parameter row joined with its latest version's columns, those prefixed `v_` (LATEST_JOIN_COLUMNS);
 * v_version is null when the version row is missing.
 */
export function parameterWithLatestFromRow(r: Row): { parameter: ParameterRecord; latest: ParameterVersionRecord | undefined } {
  const parameter = parameterFromRow(r);
  if (r.v_version === null || r.v_version === undefined) return { parameter, latest: undefined };
  return {
    parameter,
    latest: parameterVersionFromRow({
      account_id: r.account_id, region: r.region, name: r.name, version: r.v_version, created_at: r.v_created_at, value: r.v_value, labels: r.v_labels, doc: r.v_doc,
    }),
  };
}

/** The select list and join of ParameterRepo.getLatest, for both adapters (parameter `p`, version `v`). */
export const PARAMETER_LATEST_SELECT =
  'SELECT p.account_id, p.region, p.name, p.version, p.revision, p.due_at, p.created_at, p.doc, ' +
  'v.version AS v_version, v.created_at AS v_created_at, v.value AS v_value, v.labels AS v_labels, v.doc AS v_doc ' +
  'FROM ssm_parameters p LEFT JOIN ssm_parameter_versions v ' +
  'ON v.account_id = p.account_id AND v.region = p.region AND v.name = p.name AND v.version = p.version';

export function parameterVersionFromRow(r: Row): ParameterVersionRecord {
  return {
    accountId: r.account_id as string,
    region: r.region as string,
    name: r.name as string,
    version: int(r.version),
    createdAt: int(r.created_at),
    value: r.value as string,
    labels: JSON.parse(r.labels as string) as string[],
    doc: json(r.doc),
  };
}

export function secretFromRow(r: Row): SecretRecord {
  return {
    accountId: r.account_id as string,
    region: r.region as string,
    name: r.name as string,
    arn: r.arn as string,
    createdAt: int(r.created_at),
    dueAt: intOrNull(r.due_at),
    revision: int(r.revision),
    doc: json(r.doc),
  };
}

export function secretVersionFromRow(r: Row): SecretVersionRecord {
  return {
    secretArn: r.secret_arn as string,
    versionId: r.version_id as string,
    createdAt: int(r.created_at),
    encryptedDataKey: r.encrypted_data_key as Buffer,
    sealedValue: r.sealed_value as Buffer,
    doc: json(r.doc),
  };
}

export function customKeyStoreFromRow(r: Row): CustomKeyStoreRecord {
  return {
    accountId: r.account_id as string,
    region: r.region as string,
    id: r.id as string,
    name: r.name as string,
    clusterId: r.cluster_id as string,
    createdAt: int(r.created_at),
    revision: int(r.revision),
    sealedPassword: r.sealed_password as Buffer,
    doc: json(r.doc),
  };
}
