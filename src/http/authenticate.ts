/**
 * SigV4 authentication of one HTTP request, shared by the service edge and the operator routes: the
 * access key must be known and Active, the signature valid at `now`, and a session token must match its
 * temporary credentials (whose session policies and tags the caller then carries). Returns the verified
 * caller. `secureTransport` is the edge's judgement of the connection (http/secure-transport.ts):
 * aws:SecureTransport.
 */
import type { IncomingMessage } from 'node:http';
import type { Caller } from '../auth/caller.ts';
import type { CredentialStore, ResolvedCredential } from '../auth/credential-store.ts';
import { parseSigV4, verifySigV4, type SigV4Credential, type SigV4Request } from '../auth/sigv4.ts';
import { InvalidSignatureException, UnrecognizedClientException } from '../errors/errors.ts';

/**
 * Authenticates the request. Returns the caller itself when the access key was cached (most requests:
 * no promise, no turn of the event loop), else a promise of it; throws or rejects when it fails.
 */
export function authenticateSigV4(
  req: IncomingMessage, body: Buffer, signingName: string, credentials: CredentialStore, now: Date, secureTransport: boolean,
  regions?: ReadonlySet<string>,
): Caller | Promise<Caller> {
  const sigReq: SigV4Request = { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body };
  const cred = parseSigV4(sigReq, signingName);
  // AWS's answer to a credential scoped to a region the endpoint does not serve (TRENT_REGIONS). IAM is
  // global (always signed for us-east-1), so it is served whatever the list says.
  if (regions && signingName !== 'iam' && !regions.has(cred.region)) {
    throw new InvalidSignatureException(`Credential should be scoped to a valid region, not '${cred.region}'. `);
  }
  const resolved = credentials.resolve(cred.accessKeyId);
  if (resolved instanceof Promise) {
    return resolved.then((r) => verified(req, sigReq, cred, r, signingName, credentials, now, secureTransport));
  }
  return verified(req, sigReq, cred, resolved, signingName, credentials, now, secureTransport);
}

function verified(
  req: IncomingMessage, sigReq: SigV4Request, cred: SigV4Credential, resolved: ResolvedCredential | undefined, signingName: string,
  credentials: CredentialStore, now: Date, secureTransport: boolean,
): Caller {
  if (!resolved || resolved.record.status !== 'Active') {
    throw new UnrecognizedClientException('The security token included in the request is invalid.');
  }
  verifySigV4(sigReq, cred, resolved, now);
  const { record } = resolved;
  const token = req.headers['x-amz-security-token'];
  credentials.checkSession(record, typeof token === 'string' ? token : undefined);
  // IAM GetAccessKeyLastUsed: recorded in the background, at most once a minute per key (credential-store.ts).
  credentials.noteUse(record, signingName, cred.region);
  // Written member by member: the spreads of optional parts built and dropped four objects per request.
  const caller: { -readonly [K in keyof Caller]: Caller[K] } = {
    accountId: record.accountId,
    region: cred.region,
    principalArn: record.principalArn,
    accessKeyId: cred.accessKeyId,
    secureTransport,
  };
  // What temporary credentials carry into every decision (STS session policies and tags, stored with the session).
  const { doc } = record;
  if (typeof doc.roleArn === 'string') caller.roleArn = doc.roleArn;
  if (Array.isArray(doc.sessionPolicies)) caller.sessionPolicies = doc.sessionPolicies as string[];
  if (doc.sessionTags && typeof doc.sessionTags === 'object') caller.sessionTags = doc.sessionTags as Record<string, string>;
  if (typeof doc.principalIncarnation === 'string') caller.principalIncarnation = doc.principalIncarnation;
  // AWS (GetSessionToken): its credentials cannot call IAM without MFA, which Trent does not take; nor
  // Trent's own administration APIs (SigV4 service `trent`).
  if (doc.issuedBy === 'GetSessionToken' && (signingName === 'iam' || signingName === 'trent')) {
    throw new UnrecognizedClientException('The security token included in the request is invalid.');
  }
  noteOrigin(req, caller);
  return caller;
}

/**
 * Where a request came from, as the audit event records it: the peer address and User-Agent, when known,
 * written onto `into` (the caller, the event's facts) rather than into an object made to be spread there.
 */
export function noteOrigin(req: IncomingMessage, into: { sourceIp?: string; userAgent?: string }): void {
  const sourceIp = req.socket.remoteAddress;
  if (sourceIp) into.sourceIp = sourceIp;
  const userAgent = req.headers['user-agent'];
  if (typeof userAgent === 'string') into.userAgent = userAgent;
}
