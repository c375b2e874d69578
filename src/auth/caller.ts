/** Who is calling, established by SigV4 at the edge and passed to every service call. */
import type { Scope } from '../storage/storage.ts';

export interface Caller {
  /** The account the caller's credentials belong to. */
  readonly accountId: string;
  /** The region named in the request's SigV4 credential scope: it selects which resources the caller sees. */
  readonly region: string;
  readonly principalArn: string;
  readonly accessKeyId: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  /** The request arrived over TLS (directly or via a trusted proxy): aws:SecureTransport. Absent: false. */
  readonly secureTransport?: boolean;
  /**
   * Set when an AWS-integrated service (Secrets Manager, Parameter Store) calls KMS on the caller's behalf:
   * the service's endpoint name, e.g. `secretsmanager.us-east-1.amazonaws.com`. KMS evaluates it as
   * `kms:ViaService` (AWS: KMS condition keys, kms:ViaService), so key policies can allow use through a
   * service only — as the AWS-managed `alias/aws/<service>` keys do.
   */
  readonly viaService?: string;
  /**
   * Session policies of temporary credentials (STS AssumeRole `Policy`/`PolicyArns`, as stored with the
   * session): the session may do only what both these and the role's identity policies allow (AWS: "Session
   * policies"). Set by the edge from the credential record, never by a request.
   */
  readonly sessionPolicies?: readonly string[];
  /**
   * The role of an assumed-role session, with its path (the session's ARN names the role without it, as
   * AWS's does). Set by the edge from the credential record.
   */
  readonly roleArn?: string;
  /** Session tags (AssumeRole `Tags`): they override the role's tags of the same key as aws:PrincipalTag. */
  readonly sessionTags?: Readonly<Record<string, string>>;
  /**
   * Temporary credentials: which incarnation of the user or role they were issued for (principalIncarnation).
   * A principal deleted and created again under the same name is another principal (AWS: a new unique id),
   * so the session gets nothing from it (authorizer.ts principalOf). Set by the edge from the credential record.
   */
  readonly principalIncarnation?: string;
}

/** AWS: the kms:ViaService value of a service in a region, e.g. `ssm.eu-west-1.amazonaws.com`. */
export function viaServiceName(service: string, region: string): string {
  return `${service}.${region}.amazonaws.com`;
}

/**
 * The caller as an AWS-integrated service calls KMS on its behalf (kms:ViaService `service` in the
 * caller's region). Every member written out, not spread: this runs for every Secrets Manager and
 * Parameter Store request, and `{ ...caller, viaService }` was a slow object clone there. The mapped type
 * makes a member added to Caller a compile error here until it is carried over.
 */
export function callerViaService(caller: Caller, service: string): Caller {
  const via: { readonly [K in keyof Required<Caller>]: Caller[K] } = {
    accountId: caller.accountId,
    region: caller.region,
    principalArn: caller.principalArn,
    accessKeyId: caller.accessKeyId,
    sourceIp: caller.sourceIp,
    userAgent: caller.userAgent,
    secureTransport: caller.secureTransport,
    viaService: viaServiceName(service, caller.region),
    sessionPolicies: caller.sessionPolicies,
    roleArn: caller.roleArn,
    sessionTags: caller.sessionTags,
    principalIncarnation: caller.principalIncarnation,
  };
  return via;
}

export function callerScope(caller: Caller): Scope {
  return { accountId: caller.accountId, region: caller.region };
}

/**
 * Which incarnation of a user or role a record is: the random id it was created with, or, for one created
 * before principals had one, its creation time.
 */
export function principalIncarnation(rec: { createdAt: number; doc: Record<string, unknown> }): string {
  return typeof rec.doc.incarnation === 'string' ? rec.doc.incarnation : `created:${rec.createdAt}`;
}
