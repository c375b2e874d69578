/**
 * Events of background jobs: the one path by which work that is not an API call (a parameter policy
 * firing, …) enters the audit trail. The edge stays the only recorder of API calls; jobs never build
 * API-call records and routes never write here.
 *
 * AWS: CloudTrail records such actions as `eventType: "AwsServiceEvent"`, with
 * `userIdentity: { accountId, invokedBy: "AWS Internal" }`, sourceIPAddress and userAgent "AWS Internal",
 * no request/response members and the event's facts in `serviceEventDetails` (CloudTrail user guide,
 * "AWS service events", whose example is KMS's automatic RotateKey).
 * The record is chained, signed and queried like any other event (LookupEvents by EventName,
 * EventSource, ResourceName); `readOnly` is false.
 *
 * Contract: details must hold no secret material (callers pass names, types, policy texts — never values).
 */
import type { AuditLog } from './audit-log.ts';
import type { Repos } from '../storage/storage.ts';
import { EVENT_VERSION, type AuditResource, type BuiltEvent } from './event.ts';

export interface ServiceEventFacts {
  /** Unique id (CloudTrail eventID); the audit store refuses a repeated one, so never reuse it. */
  readonly eventId: string;
  /** Epoch ms. */
  readonly eventTime: number;
  /** e.g. `ssm.amazonaws.com`. */
  readonly eventSource: string;
  readonly eventName: string;
  readonly accountId: string;
  readonly region: string;
  readonly resources: readonly AuditResource[];
  readonly details: Record<string, unknown>;
  /**
   * AWS records a few service actions as `AwsApiCall` by "AWS Internal" rather than `AwsServiceEvent`
   * (KMS SynchronizeMultiRegionKey): such a record has `responseElements` and a `requestID` and no
   * `serviceEventDetails` (details are then not recorded). Absent: AwsServiceEvent.
   */
  readonly internalApiCall?: { readonly requestId: string; readonly responseElements: Record<string, unknown> };
}

export function buildServiceEvent(f: ServiceEventFacts): BuiltEvent {
  const record: Record<string, unknown> = {
    eventVersion: EVENT_VERSION,
    userIdentity: { accountId: f.accountId, invokedBy: 'AWS Internal' },
    eventTime: new Date(f.eventTime).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: f.eventSource,
    eventName: f.eventName,
    awsRegion: f.region,
    sourceIPAddress: 'AWS Internal',
    userAgent: 'AWS Internal',
    requestParameters: null,
    responseElements: f.internalApiCall?.responseElements ?? null,
    ...(f.internalApiCall ? { requestID: f.internalApiCall.requestId } : {}),
    eventID: f.eventId,
    readOnly: false,
    resources: f.resources,
    eventType: f.internalApiCall ? 'AwsApiCall' : 'AwsServiceEvent',
    managementEvent: true,
    recipientAccountId: f.accountId,
    ...(f.internalApiCall ? {} : { serviceEventDetails: f.details }),
    eventCategory: 'Management',
  };
  return {
    record,
    eventId: f.eventId,
    eventTime: f.eventTime,
    eventName: f.eventName,
    eventSource: f.eventSource,
    accountId: f.accountId,
    region: f.region,
    username: null,
    accessKeyId: null,
    readOnly: false,
    errorCode: null,
    resources: f.resources,
  };
}

/** What a background job is given to record its events. */
export interface JobEventRecorder {
  /** Resolves once the event is committed (inside a call's unit of work: once it joined the unit). */
  record(facts: ServiceEventFacts): Promise<void>;
  /**
   * Appends the event in `tx`, the transaction of the change it describes: both commit or neither
   * (fail closed). Call it after the change's writes (it takes the chain head lock until the commit).
   */
  recordIn(tx: Repos, facts: ServiceEventFacts): Promise<void>;
}

export function jobEventRecorder(log: Pick<AuditLog, 'record' | 'recordIn'>): JobEventRecorder {
  return {
    record: (facts) => log.record(buildServiceEvent(facts)),
    recordIn: (tx, facts) => log.recordIn(tx, buildServiceEvent(facts)),
  };
}
