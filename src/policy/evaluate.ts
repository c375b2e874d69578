/**
 * Authorisation of one KMS call: key policy, identity policies and grants, in AWS's order.
 *
 * AWS (KMS developer guide, "Key policies" and "Determining access"; IAM "Policy evaluation logic"):
 * 1. An explicit Deny in the key policy or in any identity policy of the caller wins over everything,
 *    grants included.
 * 2. Same account as the key: allowed if the key policy allows the caller directly (its ARN, its role,
 *    "*", a service principal), or if the key policy allows the account (root ARN or account id —
 *    delegation to the account's IAM) and an identity policy allows.
 * 3. Another account: the key policy must allow the caller or its account, and an identity policy in the
 *    caller's account must allow too.
 * 4. Otherwise a grant on the key for the caller, covering the operation and its encryption context.
 * 5. Otherwise an implicit deny.
 * The root user needs no identity policy (it has every permission in its own account); service principals
 * have no identity policies, so only a direct key-policy allow or a grant lets them in.
 *
 * Pure and synchronous: every input is passed in; nothing is read from a clock, network or store.
 */
import { ActionDeniedException } from '../errors/errors.ts';
import { evaluateConditions } from './conditions.ts';
import {
  type CallerPrincipal, type ContextValue, RequestKeys, encryptionContextKeys, principalContextKeys,
} from './context.ts';
import { type Grant, grantCovers } from './grants.ts';
import { type PrincipalMatch, actionMatches, matchPrincipal, notPrincipalApplies, resourceMatches } from './matching.ts';
import { type PolicyDocument, type Statement, parsePolicy } from './policy-document.ts';

export interface RequestContext {
  /** The IAM action, e.g. 'kms:Encrypt'. */
  readonly action: string;
  /** The key ARN, or '*' for actions with no resource (CreateKey, ListKeys, ListAliases). */
  readonly resource: string;
  readonly principal: CallerPrincipal;
  /**
   * Condition keys of the request: 'aws:SourceIp', 'aws:CurrentTime', 'kms:KeySpec', 'kms:ViaService',
   * 'aws:ResourceTag/…' and the rest. Keys derived from the principal (aws:PrincipalArn, aws:username,
   * aws:PrincipalTag/…, kms:CallerAccount) and from `encryptionContext` are added when absent here.
   */
  readonly contextKeys: Readonly<Record<string, ContextValue>>;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
export type PolicyKindLabel = 'resource-based' | 'identity-based';

export interface AccessResult {
  readonly decision: Decision;
  /** For logs and audit: which statement or grant decided, in words. Not for clients. */
  readonly reason: string;
  readonly matchedBy?: 'key-policy' | 'identity-policy' | 'grant' | 'resource-policy';
  /** For a deny: which kind of policy to name in the AccessDeniedException message. */
  readonly deniedBy?: PolicyKindLabel;
  readonly grantId?: string;
}

export interface KeyAccessInput {
  readonly request: RequestContext;
  /** The key's policy. A key always has one; if absent nothing is allowed by it. */
  readonly keyPolicy?: PolicyDocument;
  /** Defaults to the account in the resource ARN. */
  readonly keyAccountId?: string;
  /** The caller's identity policies (user, group and role policies alike). */
  readonly identityPolicies: readonly PolicyDocument[];
  /** Grants on the key; those for other keys or principals are ignored. */
  readonly grants: readonly Grant[];
  /** The request's encryption context: feeds grant constraints and kms:EncryptionContext:* keys. */
  readonly encryptionContext?: Readonly<Record<string, string>>;
}

interface StatementRef { readonly index: number; readonly sid?: string }
interface Scan {
  deny?: StatementRef;
  allowDirect?: StatementRef;
  allowAccount?: StatementRef;
}

function label(kind: 'key policy' | 'identity policy' | 'resource policy', ref: StatementRef): string {
  return `${kind} statement ${ref.sid ? `"${ref.sid}"` : `#${ref.index}`}`;
}

/** How a statement names the caller: identity-policy statements always name their owner directly. */
function principalOf(st: Statement, p: CallerPrincipal): PrincipalMatch {
  if (st.principal) return matchPrincipal(st.principal, p);
  if (st.notPrincipal) return notPrincipalApplies(st.notPrincipal, p) ? 'direct' : 'none';
  return 'direct';
}

function statementApplies(st: Statement, doc: PolicyDocument, req: RequestContext, keys: RequestKeys): boolean {
  // AWS: a key policy statement without Action or Resource is accepted but has no effect.
  if (st.action) {
    if (!actionMatches(st.action, req.action)) return false;
  } else if (st.notAction) {
    if (actionMatches(st.notAction, req.action)) return false;
  } else return false;
  const vars = doc.version === '2012-10-17' ? keys : undefined;
  if (st.resource) {
    if (!resourceMatches(st.resource, req.resource, vars)) return false;
  } else if (st.notResource) {
    if (resourceMatches(st.notResource, req.resource, vars)) return false;
  } else return false;
  return evaluateConditions(st.conditions, { keys, variables: doc.version === '2012-10-17' });
}

function scan(doc: PolicyDocument | undefined, req: RequestContext, keys: RequestKeys): Scan {
  const out: Scan = {};
  if (!doc) return out;
  doc.statements.forEach((st, index) => {
    const who = principalOf(st, req.principal);
    if (who === 'none' || !statementApplies(st, doc, req, keys)) return;
    const ref: StatementRef = { index, ...(st.sid ? { sid: st.sid } : {}) };
    // A Deny naming the caller's account denies every principal of it.
    if (st.effect === 'Deny') out.deny ??= ref;
    else if (who === 'direct') out.allowDirect ??= ref;
    else out.allowAccount ??= ref;
  });
  return out;
}

/** The principal's and the encryption context's keys are built only if a lookup gets past the request's own. */
function keysFor(request: RequestContext, encryptionContext?: Readonly<Record<string, string>>): RequestKeys {
  return new RequestKeys(request.contextKeys, () => principalContextKeys(request.principal), () => encryptionContextKeys(encryptionContext));
}

function accountOfArn(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts.length >= 6 && /^\d{12}$/.test(parts[4]!) ? parts[4] : undefined;
}

interface IdentityVerdict { deny?: StatementRef; allow?: StatementRef }

function scanIdentity(policies: readonly PolicyDocument[], req: RequestContext, keys: RequestKeys): IdentityVerdict {
  const out: IdentityVerdict = {};
  for (const doc of policies) {
    const s = scan(doc, req, keys);
    out.deny ??= s.deny;
    out.allow ??= s.allowDirect ?? s.allowAccount;
  }
  return out;
}

/** Decides a call on a KMS key. */
export function evaluateKeyAccess(input: KeyAccessInput): AccessResult {
  const { request: req } = input;
  const p = req.principal;
  const keys = keysFor(req, input.encryptionContext);
  const kp = scan(input.keyPolicy, req, keys);
  const id = scanIdentity(input.identityPolicies, req, keys);

  if (kp.deny) return { decision: 'ExplicitDeny', deniedBy: 'resource-based', reason: `explicit deny in ${label('key policy', kp.deny)}` };
  if (id.deny) return { decision: 'ExplicitDeny', deniedBy: 'identity-based', reason: `explicit deny in ${label('identity policy', id.deny)}` };

  const keyAccount = input.keyAccountId ?? accountOfArn(req.resource);
  const sameAccount = p.type !== 'Service' && keyAccount !== undefined && p.accountId === keyAccount;
  // Root has every permission of its own account; services have no identity policies.
  const identityAllows = p.type === 'Root' || (p.type !== 'Service' && id.allow !== undefined);
  const identityWhy = p.type === 'Root' ? 'the caller is the account root' : id.allow ? label('identity policy', id.allow) : '';

  if (sameAccount || p.type === 'Service') {
    if (kp.allowDirect) return { decision: 'Allow', matchedBy: 'key-policy', reason: `allowed by ${label('key policy', kp.allowDirect)}` };
    if (kp.allowAccount && identityAllows) {
      return { decision: 'Allow', matchedBy: 'identity-policy', reason: `${label('key policy', kp.allowAccount)} delegates to the account; allowed by ${identityWhy}` };
    }
  } else {
    const keyAllow = kp.allowDirect ?? kp.allowAccount;
    if (keyAllow && identityAllows) {
      return { decision: 'Allow', matchedBy: 'identity-policy', reason: `cross-account: allowed by ${label('key policy', keyAllow)} and ${identityWhy}` };
    }
  }

  for (const grant of input.grants) {
    const cover = grantCovers(grant, req, input.encryptionContext);
    if (cover === 'direct' || (cover === 'account' && identityAllows)) {
      return {
        decision: 'Allow', matchedBy: 'grant',
        reason: `allowed by grant${grant.grantId ? ` ${grant.grantId}` : ''}`,
        ...(grant.grantId ? { grantId: grant.grantId } : {}),
      };
    }
  }

  const keyPolicyAllows = kp.allowDirect !== undefined || kp.allowAccount !== undefined;
  if (!keyPolicyAllows) {
    return { decision: 'ImplicitDeny', deniedBy: 'resource-based', reason: 'no key policy statement allows the caller, and no grant applies' };
  }
  return { decision: 'ImplicitDeny', deniedBy: 'identity-based', reason: 'the key policy delegates to the account, but no identity policy allows the action, and no grant applies' };
}

/**
 * Decides a call with no resource policy (CreateKey, ListKeys, ListAliases): identity policies alone. Also a
 * session's policies over a call on a key, which see the same keys, the encryption context's included.
 */
export function evaluateIdentityOnly(input: {
  request: RequestContext; identityPolicies: readonly PolicyDocument[]; encryptionContext?: Readonly<Record<string, string>>;
}): AccessResult {
  const { request: req } = input;
  const keys = keysFor(req, input.encryptionContext);
  const id = scanIdentity(input.identityPolicies, req, keys);
  if (id.deny) return { decision: 'ExplicitDeny', deniedBy: 'identity-based', reason: `explicit deny in ${label('identity policy', id.deny)}` };
  if (req.principal.type === 'Root') return { decision: 'Allow', matchedBy: 'identity-policy', reason: 'the caller is the account root' };
  if (id.allow && req.principal.type !== 'Service') {
    return { decision: 'Allow', matchedBy: 'identity-policy', reason: `allowed by ${label('identity policy', id.allow)}` };
  }
  return { decision: 'ImplicitDeny', deniedBy: 'identity-based', reason: 'no identity policy allows the action' };
}

/**
 * Decides a call on a resource whose resource-based policy is optional: a Secrets Manager secret (its
 * resource policy) or a Parameter Store parameter (none). AWS (IAM "Policy evaluation logic",
 * "Cross-account policy evaluation logic"; Secrets Manager "Determine who has permissions to your secrets"):
 * 1. An explicit Deny in the resource policy or in any identity policy of the caller wins.
 * 2. Same account: an identity policy allowing is enough, and so is a resource-policy statement naming the
 *    caller (its ARN, its role, "*"). Unlike a KMS key policy, the resource policy is not the root of access.
 *    A statement naming only the account delegates to IAM: it adds nothing an identity policy does not.
 * 3. Another account: the resource policy must allow the caller or its account AND an identity policy in
 *    the caller's account must allow. Without a resource policy there is no cross-account access.
 * 4. Otherwise an implicit deny; `deniedBy` says which kind of policy the message names.
 */
export function evaluateResourceAccess(input: {
  request: RequestContext;
  /** The resource's own policy, when it has one. */
  resourcePolicy?: PolicyDocument;
  /** The account owning the resource. */
  resourceAccountId: string;
  identityPolicies: readonly PolicyDocument[];
}): AccessResult {
  const { request: req } = input;
  const p = req.principal;
  const keys = keysFor(req);
  const rp = scan(input.resourcePolicy, req, keys);
  const id = scanIdentity(input.identityPolicies, req, keys);

  if (rp.deny) return { decision: 'ExplicitDeny', deniedBy: 'resource-based', reason: `explicit deny in ${label('resource policy', rp.deny)}` };
  if (id.deny) return { decision: 'ExplicitDeny', deniedBy: 'identity-based', reason: `explicit deny in ${label('identity policy', id.deny)}` };

  const identityAllows = p.type === 'Root' || (p.type !== 'Service' && id.allow !== undefined);
  const identityWhy = p.type === 'Root' ? 'the caller is the account root' : id.allow ? label('identity policy', id.allow) : '';
  const sameAccount = p.type !== 'Service' && p.accountId === input.resourceAccountId;
  if (sameAccount) {
    if (identityAllows) return { decision: 'Allow', matchedBy: 'identity-policy', reason: `allowed by ${identityWhy}` };
    if (rp.allowDirect) return { decision: 'Allow', matchedBy: 'resource-policy', reason: `allowed by ${label('resource policy', rp.allowDirect)}` };
    return { decision: 'ImplicitDeny', deniedBy: 'identity-based', reason: 'no identity policy allows the action, and the resource policy names no such principal' };
  }
  // A service principal has no identity policies: the resource policy naming it is enough.
  if (p.type === 'Service' && rp.allowDirect) {
    return { decision: 'Allow', matchedBy: 'resource-policy', reason: `allowed by ${label('resource policy', rp.allowDirect)}` };
  }
  const resourceAllow = rp.allowDirect ?? rp.allowAccount;
  if (!resourceAllow) return { decision: 'ImplicitDeny', deniedBy: 'resource-based', reason: 'cross-account: no resource policy statement allows the caller' };
  if (identityAllows) {
    return { decision: 'Allow', matchedBy: 'resource-policy', reason: `cross-account: allowed by ${label('resource policy', resourceAllow)} and ${identityWhy}` };
  }
  return { decision: 'ImplicitDeny', deniedBy: 'identity-based', reason: 'cross-account: the resource policy allows, but no identity policy of the caller does' };
}

/**
 * AWS's AccessDeniedException message, e.g.
 * "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: kms:Encrypt on resource:
 * arn:aws:kms:us-east-1:111122223333:key/… because no identity-based policy allows the kms:Encrypt action".
 */
export function accessDeniedMessage(
  principalArn: string,
  action: string,
  resourceArn: string | null,
  decision: Exclude<Decision, 'Allow'>,
  policyKind: PolicyKindLabel,
): string {
  // AWS omits the resource for actions that have none in some services (secretsmanager:ListSecrets).
  const head = `User: ${principalArn} is not authorized to perform: ${action}${resourceArn === null ? '' : ` on resource: ${resourceArn}`}`;
  if (decision === 'ExplicitDeny') {
    return `${head} with an explicit deny in ${policyKind === 'identity-based' ? 'an identity-based' : 'a resource-based'} policy`;
  }
  return `${head} because no ${policyKind} policy allows the ${action} action`;
}

/**
 * The AccessDeniedException for a denied result (throws nothing itself; the caller throws it).
 * `shownResource` is the resource as the message names it when that differs from the evaluated ARN
 * (Secrets Manager names the SecretId as the caller gave it); null leaves the resource out.
 */
export function accessDeniedError(request: RequestContext, result: AccessResult, shownResource?: string | null): ActionDeniedException {
  const decision = result.decision === 'Allow' ? 'ImplicitDeny' : result.decision;
  const resource = shownResource === undefined ? request.resource : shownResource;
  return new ActionDeniedException(accessDeniedMessage(request.principal.arn, request.action, resource, decision, result.deniedBy ?? 'identity-based'), request.action);
}

export const LOCKOUT_MESSAGE = 'The new key policy will not allow you to update the key policy in the future.';

/**
 * AWS: the policy lockout safety check of CreateKey and PutKeyPolicy (skipped when the caller sets
 * BypassPolicyLockoutSafetyCheck). True when `newPolicy` lets `principal` call kms:PutKeyPolicy on the
 * key afterwards: an Allow naming the caller or its account (delegation counts, as with the default
 * policy) and no Deny, evaluated with the current request's condition keys. When false the caller
 * throws MalformedPolicyDocumentException with LOCKOUT_MESSAGE. Pass `keyArn` so that statements naming
 * the key by ARN count; without it only Resource "*" does.
 */
export function lockoutSafetyCheck(
  newPolicy: PolicyDocument,
  principal: CallerPrincipal,
  options: { keyArn?: string; contextKeys?: Readonly<Record<string, ContextValue>> } = {},
): boolean {
  const req: RequestContext = { action: 'kms:PutKeyPolicy', resource: options.keyArn ?? '*', principal, contextKeys: options.contextKeys ?? {} };
  const s = scan(newPolicy, req, keysFor(req));
  return s.deny === undefined && (s.allowDirect !== undefined || s.allowAccount !== undefined);
}

/** AWS: the default key policy of a key created without one (CreateKey), as KMS returns it from GetKeyPolicy. */
export function defaultKeyPolicyText(accountId: string, partition = 'aws'): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [{
      Sid: 'Enable IAM User Permissions',
      Effect: 'Allow',
      Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
      Action: 'kms:*',
      Resource: '*',
    }],
  }, null, 2);
}

export function defaultKeyPolicy(accountId: string, partition = 'aws'): PolicyDocument {
  return parsePolicy(defaultKeyPolicyText(accountId, partition), 'key');
}
