/**
 * One JSON line per request (pino; README "Operating"): the request id the client got in
 * `x-amzn-RequestId`, service, operation, the caller's principal ARN, HTTP status, outcome, AWS error
 * code, latency and source address. Nothing else of the request or response is read, so no plaintext,
 * secret value, key material or credential can reach the log (test/e2e/no-secret-leaks.test.ts).
 *
 * Hooked from outside the edge: the principal and error code are taken from the audit event the edge
 * builds for the request (`note`, called where the app hands the event to the audit log), the rest from
 * the request and response when the response has been sent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { BuiltEvent } from '../audit/event.ts';

/** Events noted but not yet logged (their response is still being sent); bounded against leaks. */
const MAX_PENDING = 10_000;

export function createRequestLog(logger: Logger) {
  const pending = new Map<string, { principal: string | null; errorCode: string | null }>();

  // Below info (TRENT_LOG_LEVEL=warn…) there is no request line: nothing is noted or watched.
  const enabled = () => logger.isLevelEnabled('info');

  /** Remembers who called and how it ended, from the request's audit event. */
  function note(event: BuiltEvent): void {
    if (!enabled()) return;
    const requestId = event.record.requestID;
    if (typeof requestId !== 'string') return;
    const identity = event.record.userIdentity as { arn?: unknown } | undefined;
    if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value as string);
    pending.set(requestId, { principal: typeof identity?.arn === 'string' ? identity.arn : null, errorCode: event.errorCode });
  }

  function observe(req: IncomingMessage, res: ServerResponse): void {
    if (!enabled()) return;
    const start = process.hrtime.bigint();
    // The edge passes its headers to writeHead(), where getHeader() does not see them: read them there.
    let sentRequestId: string | undefined;
    const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => ServerResponse;
    res.writeHead = ((...args: unknown[]) => {
      const headers = args.find((a, i) => i > 0 && a !== null && typeof a === 'object' && !Array.isArray(a)) as Record<string, unknown> | undefined;
      // io.ts spells it x-amzn-RequestId; any other spelling is looked for too.
      const known = headers?.['x-amzn-RequestId'];
      if (typeof known === 'string') sentRequestId = known;
      else for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === 'x-amzn-requestid' && typeof v === 'string') sentRequestId = v;
      return writeHead(...args);
    }) as ServerResponse['writeHead'];
    // 'close' follows 'finish' on every response, and comes alone when the connection went first.
    res.once('close', () => {
      const header = res.getHeader('x-amzn-RequestId');
      const id = sentRequestId ?? (typeof header === 'string' ? header : null);
      const facts = id ? pending.get(id) : undefined;
      if (id) pending.delete(id);
      const target = req.headers['x-amz-target'];
      const dot = typeof target === 'string' ? target.lastIndexOf('.') : -1;
      const status = res.headersSent ? res.statusCode : 0;
      const errorCode = facts?.errorCode ?? null;
      const outcome = status === 0 ? 'aborted' : status < 400 ? 'success' : status >= 500 ? 'server_error' : errorCode?.startsWith('AccessDenied') ? 'denied' : 'client_error';
      logger.info({
        requestId: id,
        awsService: dot > 0 ? (target as string).slice(0, dot).slice(0, 128) : null,
        operation: dot > 0 ? (target as string).slice(dot + 1).slice(0, 128) : `${req.method ?? ''} ${(req.url ?? '').split('?')[0]!.slice(0, 128)}`,
        principal: facts?.principal ?? null,
        status,
        outcome,
        errorCode,
        latencyMs: Number(process.hrtime.bigint() - start) / 1e6,
        sourceIp: req.socket.remoteAddress ?? null,
      }, 'request');
    });
  }

  return { note, observe };
}
