/**
 * The columns of an audit row beside its record (event name, source, account, region, user, access key,
 * read-only, error code, resources, time): what LookupEvents filters and answers on and GetKeyLastUsage
 * reads. They are not hashed — only the record is — so verifyChain checks each against the record it
 * indexes: a column edited in the store is an edited event, not a quiet change of what queries return.
 *
 * Derived from the record alone, as the builders (event.ts, service-event.ts) write both; index-columns.test.ts
 * holds them to it. The time column keeps milliseconds and the record whole seconds: they must agree to the second.
 */
import type { AuditEventRow } from '../storage/audit-repo.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const stringOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The user LookupEvents' `Username` names: the root, an assumed role's session, or the user's name. */
function usernameOf(identity: unknown): string | null {
  if (!isObject(identity)) return null;
  if (identity.type === 'Root') return 'root';
  if (identity.type === 'AssumedRole') {
    const principalId = stringOrNull(identity.principalId) ?? '';
    const colon = principalId.indexOf(':');
    return colon < 0 ? null : principalId.slice(colon + 1);
  }
  return stringOrNull(identity.userName);
}

/**
 * The first column of `row` that differs from what its record says (its name, for the message), or
 * undefined when all agree. An unparsable record is reported as 'record'.
 */
export function columnDifferingFromRecord(row: AuditEventRow): string | undefined {
  let record: unknown;
  try {
    record = JSON.parse(row.record);
  } catch {
    return 'record';
  }
  if (!isObject(record)) return 'record';
  const resources = Array.isArray(record.resources) ? record.resources.filter(isObject) : [];
  const identity = record.userIdentity;
  const eventTime = typeof record.eventTime === 'string' ? Date.parse(record.eventTime) : Number.NaN;
  const checks: [string, boolean][] = [
    ['eventID', row.eventId === record.eventID],
    ['eventName', row.eventName === record.eventName],
    ['eventSource', row.eventSource === record.eventSource],
    ['recipientAccountId', row.accountId === record.recipientAccountId],
    ['awsRegion', row.region === record.awsRegion],
    ['username', row.username === usernameOf(identity)],
    ['accessKeyId', row.accessKeyId === (isObject(identity) ? stringOrNull(identity.accessKeyId) : null)],
    ['readOnly', row.readOnly === (record.readOnly === true)],
    ['errorCode', row.errorCode === stringOrNull(record.errorCode)],
    ['resources', sameList(row.resourceNames, resources.map((r) => r.ARN)) && sameList(row.resourceTypes, resources.map((r) => r.type))],
    ['eventTime', Math.floor(row.eventTime / 1000) * 1000 === eventTime],
  ];
  return checks.find(([, same]) => !same)?.[0];
}

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
