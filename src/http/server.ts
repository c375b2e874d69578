/**
 * The HTTP edge: body limit, request ids, SigV4 authentication, X-Amz-Target dispatch and the one
 * error mapper. Every request passes through handle(); operations never see HTTP.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Caller } from '../auth/caller.ts';
import type { CredentialStore } from '../auth/credential-store.ts';
import { parseSigV4, verifySigV4 } from '../auth/sigv4.ts';
import type { Clock } from '../clock.ts';
import {
  ExpiredTokenException,
  RequestEntityTooLargeException,
  SerializationException,
  UnknownOperationException,
  UnrecognizedClientException,
} from '../errors/errors.ts';
import { toWireError } from './error-mapper.ts';
import type { ServiceDefinition } from './operation.ts';

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

export interface EdgeDeps {
  services: readonly ServiceDefinition[];
  credentials: CredentialStore;
  /** Wall-clock time for signature freshness: SigV4 always uses real time, never a test clock. */
  wallClock: Clock;
  logger: Logger;
  maxBodyBytes: number;
  health: () => Record<string, unknown>;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new BodyTooLarge());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
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

export function createEdge(deps: EdgeDeps) {
  const byPrefix = new Map(deps.services.map((s) => [s.targetPrefix, s]));

  function send(res: ServerResponse, status: number, requestId: string, body: unknown): void {
    const payload = body === undefined ? '{}' : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': JSON_CONTENT_TYPE,
      'Content-Length': Buffer.byteLength(payload),
      'x-amzn-RequestId': requestId,
      Date: new Date().toUTCString(),
    });
    res.end(payload);
  }

  async function authenticate(req: IncomingMessage, body: Buffer, service: ServiceDefinition): Promise<Caller> {
    const sigReq = { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body };
    const cred = parseSigV4(sigReq, service.signingName);
    const resolved = await deps.credentials.resolve(cred.accessKeyId);
    if (!resolved || resolved.record.status !== 'Active') {
      throw new UnrecognizedClientException('The security token included in the request is invalid.');
    }
    await verifySigV4(sigReq, cred, resolved.secretAccessKey, new Date(deps.wallClock.now()));
    if (resolved.record.expiresAt !== null && resolved.record.expiresAt <= deps.wallClock.now()) {
      throw new ExpiredTokenException('The security token included in the request is expired');
    }
    return {
      accountId: resolved.record.accountId,
      region: cred.region,
      principalArn: resolved.record.principalArn,
      accessKeyId: cred.accessKeyId,
      ...(req.socket.remoteAddress ? { sourceIp: req.socket.remoteAddress } : {}),
      ...(typeof req.headers['user-agent'] === 'string' ? { userAgent: req.headers['user-agent'] } : {}),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    let service: ServiceDefinition | undefined;
    try {
      if (req.method === 'GET' && (req.url === '/health' || req.url === '/healthz')) {
        req.resume();
        send(res, 200, requestId, deps.health());
        return;
      }
      let body: Buffer;
      try {
        body = await readBody(req, deps.maxBodyBytes);
      } catch (err) {
        if (err instanceof BodyTooLarge) throw new RequestEntityTooLargeException(`Request body exceeds ${deps.maxBodyBytes} bytes`);
        throw err;
      }
      const target = req.headers['x-amz-target'];
      const dot = typeof target === 'string' ? target.lastIndexOf('.') : -1;
      service = dot > 0 ? byPrefix.get((target as string).slice(0, dot)) : undefined;
      if (req.method !== 'POST' || !service) throw new UnknownOperationException('');
      const caller = await authenticate(req, body, service);
      const operation = service.operations.get((target as string).slice(dot + 1));
      if (!operation) throw new UnknownOperationException('');
      const input = parseJsonObject(body);
      const output = await operation.handle(input, { caller, requestId });
      send(res, 200, requestId, output ?? {});
    } catch (err) {
      const wire = toWireError(err, service?.internalErrorCode ?? 'InternalFailure');
      if (wire.internal) deps.logger.error({ err, requestId }, 'request failed');
      if (!res.headersSent) send(res, wire.status, requestId, { __type: wire.code, message: wire.message });
      else res.destroy();
    }
  }

  return { handle };
}
