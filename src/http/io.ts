/**
 * The edge's two primitives of HTTP I/O, shared by the AWS edge (server.ts), the operator endpoints
 * (operator/sys-routes.ts) and the composition root's sealed answer: read a request body under a size
 * limit, and write a JSON (or query-protocol XML) answer with its request id.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { RequestEntityTooLargeException } from '../errors/errors.ts';

/** awsJson1_1, the content type of the KMS, Secrets Manager and SSM answers. */
export const AWS_JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
/** Plain JSON, the content type of the operator endpoints (/v1/sys/*, /health). */
export const JSON_CONTENT_TYPE = 'application/json';

/**
 * The request body, at most `limit` bytes: a larger declared Content-Length is refused before anything is
 * read, a larger body as soon as it passes the limit (RequestEntityTooLargeException; the rest is drained).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(tooLarge(limit));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(tooLarge(limit));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    // A body that came in one chunk (most do) is that chunk: no copy.
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// A module function, not a closure made for every request body.
function tooLarge(limit: number): Error {
  return new RequestEntityTooLargeException(`Request body exceeds ${limit} bytes`);
}

/** Writes an already serialized answer: Content-Type, Content-Length, x-amzn-RequestId, then `headers`. */
export function sendPayload(res: ServerResponse, status: number, payload: string, contentType: string, requestId: string, headers?: OutgoingHttpHeaders): void {
  const head: OutgoingHttpHeaders = { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload), 'x-amzn-RequestId': requestId };
  // Most answers have no other header: no empty object and no spread made for them.
  if (headers) Object.assign(head, headers);
  res.writeHead(status, head);
  res.end(payload);
}

/** Writes `body` as JSON (`{}` when undefined) with the given content type and request id. */
export function sendJson(res: ServerResponse, status: number, body: unknown, contentType: string, requestId: string, headers?: OutgoingHttpHeaders): void {
  sendPayload(res, status, body === undefined ? '{}' : JSON.stringify(body), contentType, requestId, headers);
}
