/**
 * SigV4 authentication of one HTTP request, shared by the service edge and the operator routes: the
 * access key must be known and Active, the signature valid at `now`, and a session token must match its
 * temporary credentials (whose session policies and tags the caller then carries). Returns the verified
 * caller. `secureTransport` is the edge's judgement of the connection (http/secure-transport.ts):
 * aws:SecureTransport.
 */
import type { IncomingMessage } from 'node:http';
import type { Caller } from '../auth/caller.ts';
import type { CredentialStore } from '../auth/credential-store.ts';
import { parseSigV4, verifySigV4 } from '../auth/sigv4.ts';
import { InvalidSignatureException, UnrecognizedClientException } from '../errors/errors.ts';
import { definedMembers } from './members.ts';

/** What temporary credentials carry into every decision (STS session policies and tags, stored with the session). */
function sessionOf(doc: Record<string, unknown>): Pick<Caller, 'sessionPolicies' | 'sessionTags' | 'roleArn'> {
  return {
    ...(typeof doc.roleArn === 'string' ? { roleArn: doc.roleArn } : {}),
    ...(Array.isArray(doc.sessionPolicies) ? { sessionPolicies: doc.sessionPolicies as string[] } : {}),
    ...(doc.sessionTags && typeof doc.sessionTags === 'object' ? { sessionTags: doc.sessionTags as Record<string, string> } : {}),
  };
}

export async function authenticateSigV4(
  req: IncomingMessage, body: Buffer, signingName: string, credentials: CredentialStore, now: Date, secureTransport: boolean,
  regions?: ReadonlySet<string>,
): Promise<Caller> {
  const sigReq = { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body };
  const cred = parseSigV4(sigReq, signingName);
  // AWS's answer to a credential scoped to a region the endpoint does not serve (TRENT_REGIONS). IAM is
  // global (always signed for us-east-1), so it is served whatever the list says.
  if (regions && signingName !== 'iam' && !regions.has(cred.region)) {
    throw new InvalidSignatureException(`Credential should be scoped to a valid region, not '${cred.region}'. `);
  }
  const resolved = await credentials.resolve(cred.accessKeyId);
  if (!resolved || resolved.record.status !== 'Active') {
    throw new UnrecognizedClientException('The security token included in the request is invalid.');
  }
  verifySigV4(sigReq, cred, resolved, now);
  const token = req.headers['x-amz-security-token'];
  credentials.checkSession(resolved.record, typeof token === 'string' ? token : undefined);
  // IAM GetAccessKeyLastUsed: recorded in the background, at most once a minute per key (credential-store.ts).
  credentials.noteUse(resolved.record, signingName, cred.region);
  return {
    accountId: resolved.record.accountId,
    region: cred.region,
    principalArn: resolved.record.principalArn,
    accessKeyId: cred.accessKeyId,
    secureTransport,
    ...sessionOf(resolved.record.doc),
    ...requestOrigin(req),
  };
}

/** Where a request came from, as the audit event records it: the peer address and User-Agent, when known. */
export function requestOrigin(req: IncomingMessage): { sourceIp?: string; userAgent?: string } {
  const userAgent = req.headers['user-agent'];
  return definedMembers({ sourceIp: req.socket.remoteAddress || undefined, userAgent: typeof userAgent === 'string' ? userAgent : undefined });
}
