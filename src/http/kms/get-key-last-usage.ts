/**
 * AWS: GetKeyLastUsage — the last successful cryptographic operation with a key, answered from the audit
 * log (the same events LookupEvents returns). Alias names are not accepted, as in AWS.
 */
import type { AuditQueryService } from '../../audit/query.ts';
import { callerScope } from '../../auth/caller.ts';
import { NotFoundException } from '../../errors/errors.ts';
import type { KeyService } from '../../kms/key-service.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';
import { readKeyId } from './common.ts';

export function getKeyLastUsageOperation(keys: KeyService, audit: AuditQueryService, trackingStart: number): Operation {
  return {
    name: 'GetKeyLastUsage',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      r.done();
      if (keyId.startsWith('alias/') || keyId.includes(':alias/')) throw new NotFoundException(`Alias names are not supported: ${keyId}`);
      // AWS: its own action, kms:GetKeyLastUsage (src/kms/access-rules.ts).
      const key = await keys.resolveKey(caller, keyId, { allowAlias: false, action: 'GetKeyLastUsage' });
      const last = await audit.keyLastUsage(callerScope(caller), key.arn);
      return definedMembers({
        KeyId: key.keyId,
        KeyLastUsage: last ? { Operation: last.eventName, Timestamp: last.eventTime / 1000, CloudTrailEventId: last.eventId } : undefined,
        TrackingStartDate: Math.max(trackingStart, key.createdAt) / 1000,
        KeyCreationDate: key.createdAt / 1000,
      });
    },
  };
}
