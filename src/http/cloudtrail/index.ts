/**
 * The CloudTrail service at the edge (awsJson1_1, SigV4 service `cloudtrail`), so that
 * `aws cloudtrail lookup-events --endpoint-url …` reads Trent's audit log. Only LookupEvents.
 */
import type { AuditQueryService } from '../../audit/query.ts';
import type { PaginationMarkers } from '../../kms/markers.ts';
import { defineOperations, type ServiceDefinition } from '../operation.ts';
import { lookupEventsOperation } from './lookup-events.ts';

export function cloudTrailServiceDefinition(query: AuditQueryService, markers: PaginationMarkers): ServiceDefinition {
  return {
    targetPrefix: 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101',
    // AWS SDK for JavaScript v3 (and so the web console) sends `X-Amz-Target: CloudTrail_20131101.LookupEvents`.
    targetPrefixAliases: ['CloudTrail_20131101'],
    signingName: 'cloudtrail',
    eventSource: 'cloudtrail.amazonaws.com',
    internalErrorCode: 'InternalFailure',
    operations: defineOperations([lookupEventsOperation(query, markers)]),
  };
}
