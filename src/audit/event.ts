/**
 * One CloudTrail-shaped record per request, built from what the edge learned about it. Pure: no I/O.
 * AWS: the record layout is CloudTrail's "CloudTrail record contents" (eventVersion 1.08-era fields).
 */
import type { Caller } from '../auth/caller.ts';
import { loggedMembers } from './redaction.ts';

export const EVENT_VERSION = '1.09';

/** What the edge knows of a request when it is done (or when it failed, as far as it got). */
export interface RequestFacts {
  readonly requestId: string;
  /** Unique id of the event (CloudTrail eventID). */
  readonly eventId: string;
  /** Epoch ms. */
  readonly eventTime: number;
  /** The service's eventSource, or 'trent' when the request named no known service. */
  readonly eventSource: string;
  readonly eventName: string;
  readonly readOnly: boolean;
  /** The deployment's account and region, used when no verified caller is known. */
  readonly defaultAccountId: string;
  readonly defaultRegion: string;
  readonly caller?: Caller;
  /** From the Authorization header when authentication failed: unverified, recorded as such. */
  readonly unverifiedAccessKeyId?: string;
  readonly unverifiedRegion?: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly input?: Record<string, unknown>;
  readonly output?: Record<string, unknown>;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface AuditResource {
  readonly ARN: string;
  readonly type: string;
  readonly accountId: string;
}

/** The record and the facts LookupEvents filters on (stored in their own columns). */
export interface BuiltEvent {
  readonly record: Record<string, unknown>;
  readonly eventId: string;
  readonly eventTime: number;
  readonly eventName: string;
  readonly eventSource: string;
  readonly accountId: string;
  readonly region: string;
  readonly username: string | null;
  readonly accessKeyId: string | null;
  readonly readOnly: boolean;
  readonly errorCode: string | null;
  readonly resources: readonly AuditResource[];
}

/** userIdentity from the caller's principal ARN (root, IAM user, assumed role); keys in canonical order (buildEvent). */
function userIdentity(f: RequestFacts): { identity: Record<string, unknown>; username: string | null } {
  const c = f.caller;
  if (!c) {
    return {
      identity: { ...(f.unverifiedAccessKeyId ? { accessKeyId: f.unverifiedAccessKeyId } : {}), type: 'Unknown' },
      username: null,
    };
  }
  const arn = c.principalArn;
  // The resource part of the ARN: everything after its fifth colon.
  let at = -1;
  for (let i = 0; i < 5 && (at = arn.indexOf(':', at + 1)) >= 0; i++);
  const resource = at < 0 ? '' : arn.slice(at + 1);
  if (resource === 'root') {
    return { identity: { accessKeyId: c.accessKeyId, accountId: c.accountId, arn, principalId: c.accountId, type: 'Root' }, username: 'root' };
  }
  if (resource.startsWith('assumed-role/')) {
    const [, role = '', session = ''] = resource.split('/');
    const roleArn = c.roleArn ?? `arn:aws:iam::${c.accountId}:role/${role}`;
    return {
      identity: {
        accessKeyId: c.accessKeyId, accountId: c.accountId, arn, principalId: `${role}:${session}`,
        sessionContext: { sessionIssuer: { accountId: c.accountId, arn: roleArn, principalId: role, type: 'Role', userName: role } },
        type: 'AssumedRole',
      },
      username: session,
    };
  }
  const name = resource.split('/').pop() ?? resource;
  return {
    identity: { accessKeyId: c.accessKeyId, accountId: c.accountId, arn, principalId: name, type: resource.startsWith('user/') ? 'IAMUser' : 'Unknown', userName: name },
    username: name,
  };
}

const KEY_ID_MEMBERS = ['KeyId', 'TargetKeyId', 'SourceKeyId', 'DestinationKeyId'];
const OUTPUT_KEY_MEMBERS = ['KeyId', 'SourceKeyId'];

/** The type of resource a KMS key reference (key id, key ARN, alias name or alias ARN) names: an alias or a key. */
function kmsType(id: string): string {
  return (id.startsWith('arn:') ? id.includes(':alias/') : id.startsWith('alias/')) ? 'AWS::KMS::Alias' : 'AWS::KMS::Key';
}

/** A KMS key reference as an ARN. */
function kmsArn(id: string, region: string, accountId: string): string {
  if (id.startsWith('arn:')) return id;
  if (id.startsWith('alias/')) return `arn:aws:kms:${region}:${accountId}:${id}`;
  return `arn:aws:kms:${region}:${accountId}:key/${id}`;
}

/**
 * Adds a resource, or replaces the one already listed with its ARN where it stands (as Map.set does). An
 * array searched in place, not a Map and its copy: an event lists a handful at most, and every KMS call
 * builds one.
 */
function setResource(out: AuditResource[], r: AuditResource): void {
  for (let i = 0; i < out.length; i++) {
    if (out[i]!.ARN === r.ARN) {
      out[i] = r;
      return;
    }
  }
  out.push(r);
}

/** KMS resources: the keys (and aliases) a request names, as ARNs, each once (keys in canonical order). */
function kmsResources(f: RequestFacts, accountId: string, region: string): AuditResource[] {
  // Module functions rather than closures made per event (every KMS call builds one).
  const out: AuditResource[] = [];
  const meta = f.output?.KeyMetadata as Record<string, unknown> | undefined;
  if (typeof meta?.Arn === 'string') setResource(out, { ARN: meta.Arn, accountId, type: 'AWS::KMS::Key' });
  for (const m of OUTPUT_KEY_MEMBERS) {
    const v = f.output?.[m];
    if (typeof v === 'string' && v.startsWith('arn:')) setResource(out, { ARN: v, accountId, type: 'AWS::KMS::Key' });
  }
  const hasResolvedKey = out.length > 0;
  for (const m of KEY_ID_MEMBERS) {
    const v = f.input?.[m];
    if (typeof v !== 'string' || v.length === 0 || v.length > 2048) continue;
    const type = kmsType(v);
    // A key id the output already resolved to its ARN is not listed twice as an alias.
    if (type === 'AWS::KMS::Alias' && hasResolvedKey && m === 'KeyId') continue;
    setResource(out, { ARN: kmsArn(v, region, accountId), accountId, type });
  }
  const alias = f.input?.AliasName;
  if (typeof alias === 'string' && alias.startsWith('alias/') && alias.length <= 256) {
    setResource(out, { ARN: kmsArn(alias, region, accountId), accountId, type: kmsType(alias) });
  }
  return out;
}

let lastSecond = { second: Number.NaN, text: '' };
function isoSeconds(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond.second) lastSecond = { second, text: new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  return lastSecond.text;
}

export function buildEvent(f: RequestFacts): BuiltEvent {
  const accountId = f.caller?.accountId ?? f.defaultAccountId;
  const region = f.caller?.region ?? f.unverifiedRegion ?? f.defaultRegion;
  const { identity, username } = userIdentity(f);
  const { requestParameters, responseElements } = loggedMembers(f.eventSource, f.eventName, f.input, f.error ? undefined : f.output);
  const resources = f.eventSource === 'kms.amazonaws.com' ? kmsResources(f, accountId, region) : [];
  // Keys in canonical (UTF-16) order at every level, so canonicalJson encodes it with JSON.stringify.
  const record: Record<string, unknown> = {
    awsRegion: region,
    ...(f.error ? { errorCode: f.error.code, errorMessage: f.error.message } : {}),
    eventCategory: 'Management',
    eventID: f.eventId,
    eventName: f.eventName,
    eventSource: f.eventSource,
    eventTime: isoSeconds(f.eventTime),
    eventType: 'AwsApiCall',
    eventVersion: EVENT_VERSION,
    managementEvent: true,
    readOnly: f.readOnly,
    recipientAccountId: accountId,
    requestID: f.requestId,
    requestParameters,
    resources,
    responseElements,
    sourceIPAddress: f.caller?.sourceIp ?? f.sourceIp ?? null,
    userAgent: f.caller?.userAgent ?? f.userAgent ?? null,
    userIdentity: identity,
  };
  return {
    record,
    eventId: f.eventId,
    eventTime: f.eventTime,
    eventName: f.eventName,
    eventSource: f.eventSource,
    accountId,
    region,
    username,
    accessKeyId: f.caller?.accessKeyId ?? f.unverifiedAccessKeyId ?? null,
    readOnly: f.readOnly,
    errorCode: f.error?.code ?? null,
    resources,
  };
}

/** The access key id in an Authorization header, unverified (for events of requests that failed auth). */
export function unverifiedCredential(authorization: unknown): { accessKeyId?: string; region?: string } {
  if (typeof authorization !== 'string') return {};
  const m = /Credential=([A-Za-z0-9]{1,128})\/\d{8}\/([a-z0-9-]{1,32})\//.exec(authorization);
  return m ? { accessKeyId: m[1]!, region: m[2]! } : {};
}
