/**
 * The CloudTrail record of a multi-Region key's synchronization.
 *
 * AWS (KMS developer guide, "SynchronizeMultiRegionKey" CloudTrail example): when KMS copies a primary's
 * shared properties (new key material after a rotation) to its replicas it records one
 * `SynchronizeMultiRegionKey` in the primary's region, as an `AwsApiCall` by "AWS Internal"
 * (`userIdentity: { accountId, invokedBy: "AWS Internal" }`, sourceIPAddress and userAgent "AWS
 * Internal", `requestParameters: null`, `responseElements: { keyId: <key ARN> }`, `resources`: that key
 * ARN only, readOnly false, managementEvent true). The replicas and their regions are not named.
 *
 * Trent records it once per synchronization, in the transaction that writes the replicas' new material
 * (fail closed). A replica in a linked deployment is synchronized there, when the record arrives: that
 * deployment records the same event in the replica's region, naming the replica (docs/replication.md).
 */
import type { ServiceEventFacts } from '../audit/service-event.ts';
import { randomUuid, timeOrderedUuid } from '../crypto/primitives.ts';
import type { Scope } from '../storage/storage.ts';
import { keyArn } from './arn.ts';

/** The SynchronizeMultiRegionKey record of key `keyId` in `scope` (the primary's, or a remote replica's). */
export function synchronizeMultiRegionKeyEvent(scope: Scope, keyId: string, now: number): ServiceEventFacts {
  const arn = keyArn(scope, keyId);
  return {
    eventId: timeOrderedUuid(), eventTime: now, eventSource: 'kms.amazonaws.com', eventName: 'SynchronizeMultiRegionKey',
    accountId: scope.accountId, region: scope.region,
    resources: [{ accountId: scope.accountId, type: 'AWS::KMS::Key', ARN: arn }],
    details: {},
    internalApiCall: { requestId: randomUuid(), responseElements: { keyId: arn } },
  };
}
