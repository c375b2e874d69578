/**
 * Parameter policy events: what Parameter Store sends to EventBridge when a policy acts
 * (AWS: detail-type "Parameter Store Policy Action", source "aws.ssm"). Trent has no EventBridge, so each
 * event goes (1) into the audit trail as a service event of the background job (audit/service-event.ts)
 * and (2), when TRENT_PARAMETER_EVENTS_WEBHOOK is set, as the EventBridge-shaped JSON in a POST to it.
 *
 * Delivery: at least once. The event id is derived from (parameter ARN, policy type, the moment the
 * policy acted for), so a retried event carries the same `id`; receivers de-duplicate on it. A
 * notification counts as sent only when the webhook answered 2xx and the audit event is committed;
 * otherwise the next job pass tries again. An Expiration deletes the parameter (as AWS does, whatever
 * the listeners' state) with its audit event in the deletion's transaction — both commit or neither, so
 * no parameter disappears unrecorded — and then posts it; a failed post is logged, not retried.
 * No parameter value is ever part of an event.
 */
import type { Logger } from 'pino';
import type { JobEventRecorder, ServiceEventFacts } from '../audit/service-event.ts';
import type { Repos } from '../storage/storage.ts';
import { sha256, timeOrderedUuid } from '../crypto/primitives.ts';

export type PolicyEventType = 'Expiration' | 'ExpirationNotification' | 'NoChangeNotification';

export interface ParameterPolicyEvent {
  policyType: PolicyEventType;
  accountId: string;
  region: string;
  arn: string;
  name: string;
  parameterType: string;
  /** The policy's JSON text, as GetParameterHistory shows it. */
  policyText: string;
  /** The moment the policy acted for (expiry, notification time); part of the event id. */
  dueAt: number;
  /** When the job emitted it. */
  time: number;
  reason: string;
}

/** Receives the events of runDue. */
export interface PolicyEventSink {
  /** A notification: posted, then recorded; rejects when either failed (the next pass retries it). */
  publish(e: ParameterPolicyEvent): Promise<void>;
  /** An Expiration's event, appended in `tx`, the transaction that deletes the parameter. */
  recordIn(tx: Repos, e: ParameterPolicyEvent): Promise<void>;
  /** Posts an Expiration once its deletion committed; a failure is logged, never thrown (not retried). */
  deliver(e: ParameterPolicyEvent): Promise<void>;
}

/** A UUID-formatted id that is the same for every attempt to deliver one event. */
export function policyEventId(e: Pick<ParameterPolicyEvent, 'arn' | 'policyType' | 'dueAt'>): string {
  const h = sha256(`trent/ssm-policy-event/v1\0${e.arn}\0${e.policyType}\0${e.dueAt}`).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** AWS: the EventBridge event of a Parameter Store policy action. */
export function eventBridgeShape(e: ParameterPolicyEvent): Record<string, unknown> {
  return {
    version: '0',
    id: policyEventId(e),
    'detail-type': 'Parameter Store Policy Action',
    source: 'aws.ssm',
    account: e.accountId,
    time: isoSeconds(e.time),
    region: e.region,
    resources: [e.arn],
    detail: {
      'parameter-name': e.name,
      'parameter-type': e.parameterType,
      'policy-type': e.policyType,
      'policy-content': e.policyText,
      'action-status': 'Finished',
      'action-reason': e.reason,
    },
  };
}

export interface PolicyEventSinkDeps {
  audit: JobEventRecorder;
  /** http(s) URL to POST each event to, or undefined for the audit trail only. */
  webhookUrl?: string;
  logger: Logger;
  timeoutMs?: number;
}

export function createPolicyEventSink({ audit, webhookUrl, logger, timeoutMs = 10_000 }: PolicyEventSinkDeps): PolicyEventSink {
  async function post(body: Record<string, unknown>): Promise<void> {
    if (webhookUrl === undefined) return;
    let res: Response;
    try {
      res = await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new Error(`the parameter events webhook could not be reached: ${(err as Error).message}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new Error(`the parameter events webhook answered HTTP ${res.status}`);
  }

  /** The audit trail's event: its eventID is unique per stored event; the EventBridge id rides in the details. */
  function auditFacts(e: ParameterPolicyEvent, body = eventBridgeShape(e)): ServiceEventFacts {
    return {
      eventId: timeOrderedUuid(),
      eventTime: e.time,
      eventSource: 'ssm.amazonaws.com',
      eventName: 'ParameterStorePolicyAction',
      accountId: e.accountId,
      region: e.region,
      resources: [{ ARN: e.arn, type: 'AWS::SSM::Parameter', accountId: e.accountId }],
      details: { ...(body.detail as Record<string, unknown>), 'event-id': body.id },
    };
  }

  return {
    async publish(e) {
      const body = eventBridgeShape(e);
      try {
        await post(body);
      } catch (err) {
        logger.warn({ err, parameter: e.arn, policyType: e.policyType }, 'parameter policy event not delivered; the next job pass retries it');
        throw err;
      }
      await audit.record(auditFacts(e, body));
    },
    recordIn: (tx, e) => audit.recordIn(tx, auditFacts(e)),
    async deliver(e) {
      try {
        await post(eventBridgeShape(e));
      } catch (err) {
        logger.warn({ err, parameter: e.arn, policyType: e.policyType }, 'parameter policy event not delivered (the deletion is recorded in the audit trail)');
      }
    },
  };
}
