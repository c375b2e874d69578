/**
 * The HTTP edge: body limit, request ids, SigV4 authentication, X-Amz-Target dispatch and the one
 * error mapper. Every request passes through handle(); operations never see HTTP.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Caller } from '../auth/caller.ts';
import type { CredentialStore } from '../auth/credential-store.ts';
import type { Clock } from '../clock.ts';
import { SerializationException, UnknownOperationException } from '../errors/errors.ts';
import { buildEvent, unverifiedCredential, type BuiltEvent, type RequestFacts } from '../audit/event.ts';
import { randomUuid, timeOrderedUuid } from '../crypto/primitives.ts';
import { authenticateSigV4, noteOrigin } from './authenticate.ts';
import { jsonErrorBody, toWireError, type WireError } from './error-mapper.ts';
import { AWS_JSON_CONTENT_TYPE, readBody, sendJson, sendPayload } from './io.ts';
import type { ServiceDefinition } from './operation.ts';
import { isQueryService, queryError, queryResponse, routeQuery, XML_CONTENT_TYPE, type QueryRoute } from './query/protocol.ts';

/** A response: JSON `body`, or the query protocol's `xml`. */
interface Reply {
  status: number;
  body: unknown;
  xml?: string;
}

/**
 * One request while the edge runs it: what its event and its answer will say. The edge's helpers take it
 * as an argument, where closures over the request's variables were three functions made per request.
 */
interface EdgeCall {
  readonly requestId: string;
  readonly facts: { -readonly [K in keyof RequestFacts]: RequestFacts[K] };
  service?: ServiceDefinition;
  query?: QueryRoute;
  reply: Reply;
}

export interface EdgeDeps {
  services: readonly ServiceDefinition[];
  credentials: CredentialStore;
  /** aws:SecureTransport of a request: over TLS, directly or via a trusted proxy (secure-transport.ts). */
  secureTransport: (req: IncomingMessage) => boolean;
  /** Wall-clock time for signature freshness: SigV4 always uses real time, never a test clock. */
  wallClock: Clock;
  logger: Logger;
  maxBodyBytes: number;
  /** The regions served (TRENT_REGIONS); absent: any well-formed region. */
  regions?: ReadonlySet<string>;
  health: () => Record<string, unknown>;
  audit: EdgeAudit;
  /** Request quotas (src/http/quotas.ts); absent: none. */
  quotas?: { take(caller: Caller, targetPrefix: string, operation: string): void };
}

/**
 * The audit choke point (src/audit/audit-log.ts): every request that reaches dispatch is recorded here,
 * once, whatever its outcome; a rejected write turns the response into a 500.
 */
export interface EdgeAudit {
  /** The deployment's account and region, for events of requests without a verified caller. */
  readonly accountId: string;
  readonly region: string;
  /** Time of events (the app's clock). */
  readonly clock: Clock;
  /** Write-ahead intent of a mutating call, durably stored before the call runs. */
  begin(facts: { requestId: string; eventId: string; eventTime: number; event: BuiltEvent }): Promise<string>;
  /** Durably records the event (and clears the intent). */
  record(event: BuiltEvent, intentId?: string): Promise<void>;
  /**
   * Runs a mutating call (`run` returns its event) so that its storage changes, its event and the
   * intent's deletion commit in one transaction; rejects, with none of them visible, if any fails.
   */
  atomically(intentId: string, run: () => Promise<BuiltEvent>): Promise<void>;
  /**
   * Records a call whose atomically() failed with an uncertain outcome, unless its unit committed after
   * all (then its own event is there). Resolves whether it recorded `event`.
   */
  settle(event: BuiltEvent, intentId: string): Promise<boolean>;
}

/** An awsJson1_1 request body as an object: empty is {}, anything but a JSON object is SerializationException. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new SerializationException('Start of structure or map found where not expected.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SerializationException('Start of structure or map found where not expected.');
  }
  return parsed as Record<string, unknown>;
}

/** A call's reply until it has one: replaced, never changed, so one object serves every call. */
const UNANSWERED: Reply = Object.freeze({ status: 500, body: Object.freeze({}) });

export function createEdge(deps: EdgeDeps) {
  const byPrefix = new Map(deps.services.filter((s) => !isQueryService(s))
    .flatMap((s) => [s.targetPrefix, ...(s.targetPrefixAliases ?? [])].map((prefix) => [prefix, s] as const)));
  // IAM and STS speak the query protocol (src/http/query/protocol.ts): same authentication, audit and errors.
  const queryServices = deps.services.filter(isQueryService);

  // The Date header is node's own (http.ServerResponse.sendDate): the same text, formatted once a second.
  function send(res: ServerResponse, status: number, requestId: string, body: unknown, xml?: string): void {
    if (xml !== undefined) sendPayload(res, status, xml, XML_CONTENT_TYPE, requestId);
    else sendJson(res, status, body, AWS_JSON_CONTENT_TYPE, requestId);
  }

  function authenticate(req: IncomingMessage, body: Buffer, service: ServiceDefinition): Caller | Promise<Caller> {
    return authenticateSigV4(req, body, service.signingName, deps.credentials, new Date(deps.wallClock.now()), deps.secureTransport(req), deps.regions);
  }

  /** The answer for an error, in the protocol the request spoke (JSON, or the query protocol's XML); the event notes it. */
  function errorReply(call: EdgeCall, wire: Pick<WireError, 'status' | 'code' | 'message'>): Reply {
    if (call.query) {
      const q = queryError(call.query.service, { ...wire, internal: false }, call.requestId);
      call.facts.error = { code: q.code, message: q.message };
      return { status: q.status, body: undefined, xml: q.payload };
    }
    call.facts.error = { code: wire.code, message: wire.message };
    return { status: wire.status, body: jsonErrorBody(wire, call.service?.errorMessageMember) };
  }

  function failed(call: EdgeCall, err: unknown): void {
    const wire = toWireError(err, call.service?.internalErrorCode ?? 'InternalFailure');
    if (wire.internal) deps.logger.error({ err, requestId: call.requestId }, 'request failed');
    call.reply = errorReply(call, wire);
  }

  function succeeded(call: EdgeCall, output: Record<string, unknown> | undefined): void {
    if (output) call.facts.output = output;
    call.reply = call.query
      ? { status: 200, body: undefined, xml: queryResponse(call.query.service, call.query.action, call.requestId, output) }
      : { status: 200, body: output ?? {} };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUuid();
    const call: EdgeCall = {
      requestId,
      // What the audit event will say; filled in as the request gets further.
      facts: {
        requestId,
        // Time-ordered: the audit store's index on event ids then grows at one end (primitives.ts).
        eventId: timeOrderedUuid(),
        eventTime: deps.audit.clock.now(),
        eventSource: 'trent',
        eventName: 'Unknown',
        readOnly: true,
        defaultAccountId: deps.audit.accountId,
        defaultRegion: deps.audit.region,
      },
      reply: UNANSWERED,
    };
    const { facts } = call;
    noteOrigin(req, facts);
    let intentId: string | undefined;
    // Set once the call's event is committed, or deliberately left to intent recovery.
    let recorded = false;
    try {
      if (req.method === 'GET' && (req.url === '/health' || req.url === '/healthz')) {
        req.resume();
        send(res, 200, requestId, deps.health());
        return;
      }
      const body = await readBody(req, deps.maxBodyBytes);
      const query = (call.query = routeQuery(queryServices, req.headers, body));
      const target = query ? `${query.service.targetPrefix}.${query.action}` : req.headers['x-amz-target'];
      const dot = typeof target === 'string' ? target.lastIndexOf('.') : -1;
      const service = (call.service = query?.service ?? (dot > 0 ? byPrefix.get((target as string).slice(0, dot)) : undefined));
      const action = service ? (target as string).slice(dot + 1) : '';
      const operation = service?.operations.get(action);
      if (service) {
        facts.eventSource = service.eventSource;
        facts.eventName = action.slice(0, 128);
      }
      // Known before authentication: a write refused for its signature or throttled is recorded as a write.
      if (operation) facts.readOnly = operation.readOnly;
      if (req.method !== 'POST' || !service) throw new UnknownOperationException('');
      // Awaited only when the access key had to be read: a cached one authenticates without a turn.
      const authenticated = authenticate(req, body, service);
      const caller = authenticated instanceof Promise ? await authenticated : authenticated;
      facts.caller = caller;
      if (!operation) {
        throw new UnknownOperationException(query ? `Could not find operation ${query.action.slice(0, 128)} for version ${(query.service as { version: string }).version}` : '');
      }
      deps.quotas?.take(caller, service.targetPrefix, operation.name);
      const input = query ? query.input : parseJsonObject(body);
      facts.input = input;
      // Write-ahead: a mutating call runs only once its intent is durable (fail closed).
      if (!operation.readOnly) {
        intentId = await deps.audit.begin({ requestId, eventId: facts.eventId, eventTime: facts.eventTime, event: buildEvent(facts) });
      }
      if (operation.readOnly) {
        succeeded(call, await operation.handle(input, { caller, requestId }));
      } else {
        const intent = intentId!;
        try {
          // The call's changes and its event commit in one transaction, or neither does (docs/audit.md).
          await deps.audit.atomically(intent, async () => {
            try {
              succeeded(call, await operation.handle(input, { caller, requestId }));
            } catch (err) {
              failed(call, err);
            }
            return buildEvent(facts);
          });
          recorded = true;
        } catch (err) {
          // Not committed (or, on a 503, not known to be): the call did not succeed.
          delete facts.output;
          call.reply = errorReply(call, auditFailure(err, requestId, service.internalErrorCode ?? 'InternalFailure'));
          if (call.reply.status === 503) {
            // The store went away: the commit may have happened. Settle by the intent (AuditLog.settle);
            // if the store is still away, the intent stays and recovery records the call as outcome unknown.
            recorded = true;
            await deps.audit.settle(buildEvent(facts), intent).catch((e: unknown) => {
              deps.logger.error({ err: e, requestId }, 'audit: could not settle a call of uncertain outcome; its intent stays for recovery');
            });
          }
          // Otherwise the rollback is certain and the call is recorded as failed (below).
        }
      }
    } catch (err) {
      failed(call, err);
    }
    if (!recorded) {
      if (!facts.caller) {
        // Not authenticated: the event names the access key and region the request claimed, as unverified.
        const unverified = unverifiedCredential(req.headers.authorization);
        if (unverified.accessKeyId) facts.unverifiedAccessKeyId = unverified.accessKeyId;
        if (unverified.region) facts.unverifiedRegion = unverified.region;
      }
      try {
        await deps.audit.record(buildEvent(facts), intentId);
      } catch (err) {
        // Fail closed: no event, no success. The intent (if any) stays for recovery.
        call.reply = errorReply(call, auditFailure(err, requestId, call.service?.internalErrorCode ?? 'InternalFailure'));
      }
    }
    const { reply } = call;
    if (!res.headersSent) send(res, reply.status, requestId, reply.body, reply.xml);
    else res.destroy();
  }

  /** The error when a call's event cannot be written: the service's internal error, or 503. */
  function auditFailure(err: unknown, requestId: string, code: string): Pick<WireError, 'status' | 'code' | 'message'> {
    deps.logger.error({ err, requestId }, 'audit write failed: failing the request');
    // A store that cannot be reached stays a retryable 503 (docs/postgres.md); any other failure is ours.
    const wire = toWireError(err, code);
    return wire.status === 503 ? wire : { status: 500, code, message: 'An internal error occurred. Retry the request.' };
  }

  return { handle };
}
