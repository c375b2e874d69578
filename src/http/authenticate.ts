/**
 * SigV4 authentication of one HTTP request, shared by the service edge and the operator routes: the
 * access key must be known and Active, the signature valid at `now`, and a session token must match its
 * temporary credentials. Returns the verified caller. `secureTransport` is the edge's judgement of the
 * connection (http/secure-transport.ts): aws:SecureTransport.
 */
import type { IncomingMessage } from 'node:http';
import type { Caller } from '../auth/caller.ts';
import type { CredentialStore } from '../auth/credential-store.ts';
import { parseSigV4, verifySigV4 } from '../auth/sigv4.ts';
import { UnrecognizedClientException } from '../errors/errors.ts';

export async function authenticateSigV4(
  req: IncomingMessage, body: Buffer, signingName: string, credentials: CredentialStore, now: Date, secureTransport: boolean,
): Promise<Caller> {
  const sigReq = { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body };
  const cred = parseSigV4(sigReq, signingName);
  const resolved = await credentials.resolve(cred.accessKeyId);
  if (!resolved || resolved.record.status !== 'Active') {
    throw new UnrecognizedClientException('The security token included in the request is invalid.');
  }
  await verifySigV4(sigReq, cred, resolved.secretAccessKey, now);
  const token = req.headers['x-amz-security-token'];
  credentials.checkSession(resolved.record, typeof token === 'string' ? token : undefined);
  return {
    accountId: resolved.record.accountId,
    region: cred.region,
    principalArn: resolved.record.principalArn,
    accessKeyId: cred.accessKeyId,
    secureTransport,
    ...(req.socket.remoteAddress ? { sourceIp: req.socket.remoteAddress } : {}),
    ...(typeof req.headers['user-agent'] === 'string' ? { userAgent: req.headers['user-agent'] } : {}),
  };
}
