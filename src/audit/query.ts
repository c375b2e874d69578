/**
 * Reading the audit log: CloudTrail LookupEvents semantics and KMS GetKeyLastUsage, answered from the
 * same stored events. Scoped to the caller's account and region (CloudTrail is regional).
 */
import type { Scope, Storage } from '../storage/storage.ts';
import type { AuditEventRow, AuditQuery } from '../storage/audit-repo.ts';

export const LOOKUP_ATTRIBUTE_KEYS = ['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId'] as const;
export type LookupAttributeKey = (typeof LOOKUP_ATTRIBUTE_KEYS)[number];

export interface LookupInput {
  attribute?: { key: LookupAttributeKey; value: string };
  startTime?: number;
  endTime?: number;
  maxResults: number;
  /** seq to continue below (from NextToken). */
  beforeSeq?: number;
}

/** AWS: the operations GetKeyLastUsage counts as "cryptographic". */
export const CRYPTOGRAPHIC_OPERATIONS = [
  'Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext', 'Sign', 'Verify', 'GenerateMac', 'VerifyMac', 'DeriveSharedSecret',
] as const;

export function createAuditQueryService({ storage }: { storage: Storage }) {
  async function lookupEvents(scope: Scope, input: LookupInput): Promise<{ events: AuditEventRow[]; nextBeforeSeq?: number }> {
    const q: AuditQuery = { accountId: scope.accountId, region: scope.region, limit: input.maxResults + 1 };
    if (input.startTime !== undefined) q.startTime = input.startTime;
    if (input.endTime !== undefined) q.endTime = input.endTime;
    if (input.beforeSeq !== undefined) q.beforeSeq = input.beforeSeq;
    const a = input.attribute;
    if (a) {
      switch (a.key) {
        case 'EventId': q.eventId = a.value; break;
        case 'EventName': q.eventName = a.value; break;
        case 'ReadOnly': q.readOnly = a.value === 'true'; break;
        case 'Username': q.username = a.value; break;
        case 'ResourceType': q.resourceType = a.value; break;
        case 'ResourceName': q.resourceName = a.value; break;
        case 'EventSource': q.eventSource = a.value; break;
        case 'AccessKeyId': q.accessKeyId = a.value; break;
      }
    }
    const rows = await storage.read((r) => r.audit.query(q));
    if (rows.length <= input.maxResults) return { events: rows };
    const events = rows.slice(0, input.maxResults);
    return { events, nextBeforeSeq: events[events.length - 1]!.seq };
  }

  /** The last successful cryptographic operation with the key (by ARN), if any. */
  async function keyLastUsage(scope: Scope, keyArn: string): Promise<AuditEventRow | undefined> {
    const rows = await storage.read((r) =>
      r.audit.query({ ...scope, resourceName: keyArn, succeededOnly: true, eventNames: CRYPTOGRAPHIC_OPERATIONS, limit: 1 }),
    );
    return rows[0];
  }

  return { lookupEvents, keyLastUsage };
}

export type AuditQueryService = ReturnType<typeof createAuditQueryService>;
