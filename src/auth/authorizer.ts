/**
 * The one authorisation choke point: `authorize(caller, action, resource?)`.
 *
 * Every KMS call passes here with its IAM action name (kms:Encrypt, kms:ReEncryptFrom, …): key-scoped
 * actions from KeyService.resolveKey once the key is resolved, actions without a resource (CreateKey,
 * ListKeys, ListAliases, GenerateRandom, ListRetirableGrants) from the edge's operation table, and the
 * administration API (iam:*, sts:AssumeRole) from the IAM service. Secrets and parameters reuse it.
 *
 * Inputs: the caller (trusted, from SigV4), the principal's stored identity policies and tags, the key's
 * policy (KeyDoc.policy; absent means AWS's default key policy), the grants on the key and the request's
 * condition keys. The decision itself is src/policy (pure); this module only gathers its inputs.
 *
 * Condition keys: the global ones from the caller (baseContext), the key's (kms:KeySpec, aws:ResourceTag/…,
 * kms:ResourceAliases when a policy tests it) and the request's own, which each operation's declared
 * rule names (src/kms/access-rules.ts, src/secrets/access-keys.ts, src/parameters/access-keys.ts,
 * src/auth/admin-access-rules.ts) and its service passes in (`contextKeys`, `requestKeys`).
 */
import type { Clock } from '../clock.ts';
import { AccessDeniedException, MalformedPolicyDocumentException, TrentError } from '../errors/errors.ts';
import type { AuthorizedKey as Key } from './key-resource.ts';
import {
  type AccessResult, type CallerPrincipal, type ContextValue, type Decision, type Grant, type PolicyDocument, type RequestContext,
  LOCKOUT_MESSAGE, accessDeniedError, defaultKeyPolicyText, evaluateIdentityOnly, evaluateKeyAccess, evaluateResourceAccess, lockoutSafetyCheck, parsePolicy,
} from '../policy/index.ts';
import type { GrantRecord, PrincipalRecord } from '../storage/iam-repos.ts';
import type { Storage } from '../storage/storage.ts';
import { type Caller, principalIncarnation } from './caller.ts';

/** What the IAM service keeps in a principal's `doc`. */
export interface PrincipalDoc {
  tags?: Record<string, string>;
  /** Attached identity policies: name → policy JSON text (validated when put). */
  policies?: Record<string, string>;
  /** Role trust policy text (kept for GetRole; AssumeRole is authorised by the caller's identity policy). */
  assumeRolePolicy?: string;
  /** Managed policy ARNs attached (src/auth/iam-managed.ts). */
  attached?: string[];
  /** A user's groups, by name. */
  groups?: string[];
}

/** A key-scoped request: the resolved key and what the request carries that conditions may test. */
export interface KeyResource {
  key: Key;
  encryptionContext?: Readonly<Record<string, string>>;
  /** The alias name (alias/…) when the caller named the key through an alias: kms:RequestAlias. */
  requestAlias?: string;
  /** Evaluate policies only, as if the key had no grants (CreateGrant asks whether a grant is the only path). */
  ignoreGrants?: boolean;
  /**
   * The condition keys the request itself carries (kms:EncryptionAlgorithm, kms:GrantOperations,
   * aws:RequestTag/…), as the operation's access rule declares them (src/kms/access-rules.ts).
   */
  contextKeys?: Readonly<Record<string, ContextValue>>;
}

/**
 * A resource of a service whose resource policy is optional (a secret, a parameter), or '*' for actions
 * with no resource (ListSecrets, DescribeParameters).
 */
export interface ServiceResource {
  /** The ARN policies are evaluated against, or '*'. */
  arn: string;
  /** The account owning the resource (the caller's own for '*'). */
  accountId: string;
  /** The resource-based policy (a secret's), already validated when it was put. */
  policyText?: string;
  /** Condition keys of the resource and request: aws:ResourceTag/…, secretsmanager:SecretId, ssm:Overwrite, … */
  contextKeys?: Readonly<Record<string, ContextValue>>;
  /**
   * The resource as the AccessDeniedException names it, when not the ARN: Secrets Manager names the
   * SecretId as the caller gave it; null leaves "on resource" out (secretsmanager:ListSecrets).
   */
  shownAs?: string | null;
}

export const ADMIN_POLICY_NAME = 'AdministratorAccess';
export const ADMIN_POLICY_TEXT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
});

const ASSUMED_ROLE = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;

export function grantFromRecord(g: GrantRecord, keyArnOf: (g: GrantRecord) => string): Grant {
  const doc = g.doc as { operations?: string[]; constraints?: Grant['constraints'] };
  return {
    grantId: g.grantId,
    keyArn: keyArnOf(g),
    granteePrincipal: g.granteePrincipal,
    ...(g.retiringPrincipal !== null ? { retiringPrincipal: g.retiringPrincipal } : {}),
    operations: doc.operations ?? [],
    ...(doc.constraints ? { constraints: doc.constraints } : {}),
  };
}

/**
 * A fresh record of `from`'s own keys, for a decision to write its base and key facts into. Copied by a
 * loop, not `{ ...from }`: writing properties into a spread clone cost V8 microseconds per decision
 * (baseContext was a tenth of an authorization's CPU; bench/micro/secret-reads.ts).
 */
function copyKeys(from: Readonly<Record<string, ContextValue>> | undefined): Record<string, ContextValue> {
  const into: Record<string, ContextValue> = {};
  if (from) for (const k in from) if (Object.hasOwn(from, k)) into[k] = from[k];
  return into;
}

export type Authorizer = ReturnType<typeof createAuthorizer>;

export function createAuthorizer(deps: {
  storage: Storage; clock: Clock;
  /**
   * The deployment's own account (TRENT_ACCOUNT_ID): Trent's `trent:*` actions (seal, root key, rekey,
   * backup, replication links, metrics, the audit check) act on the whole deployment, every account's data
   * with it, so only its principals may be allowed them — never another account's administrator.
   */
  operatorAccountId?: string;
}) {
  const { storage, clock } = deps;
  // Parsing is pure and deterministic; policies are re-read from storage on every call (strong consistency).
  // Keyed by the text itself, one map per kind: the texts come from cached records, so V8 hashes each
  // string once, where a `${kind}${text}` key was a new string to build and hash on every call.
  const parsed = { key: new Map<string, PolicyDocument>(), identity: new Map<string, PolicyDocument>() };
  function parseCached(text: string, kind: 'key' | 'identity'): PolicyDocument {
    const cache = parsed[kind];
    let doc = cache.get(text);
    if (!doc) {
      doc = parsePolicy(text, kind);
      if (cache.size > 1000) cache.clear();
      cache.set(text, doc);
    }
    return doc;
  }

  /** The caller as the evaluator sees it, and its identity policies. */
  async function principalOf(caller: Caller): Promise<{ principal: CallerPrincipal; identityPolicies: PolicyDocument[]; sessionPolicies?: PolicyDocument[] }> {
    const arn = caller.principalArn;
    const session = ASSUMED_ROLE.exec(arn);
    let record: PrincipalRecord | undefined;
    let principal: CallerPrincipal;
    if (session) {
      // The role's own ARN, with its path, as the session's credential record keeps it.
      const roleArn = caller.roleArn ?? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`;
      record = await storage.read((r) => r.principals.get(roleArn));
      principal = { arn, accountId: caller.accountId, type: 'AssumedRole', roleArn, userid: `${caller.accessKeyId}:${session[4]}` };
    } else if (arn.endsWith(':root')) {
      principal = { arn, accountId: caller.accountId, type: 'Root' };
    } else {
      record = await storage.read((r) => r.principals.get(arn));
      principal = { arn, accountId: caller.accountId, type: arn.includes(':role/') ? 'Role' : 'User', userid: caller.accessKeyId };
    }
    // Temporary credentials of a user or role since deleted, or deleted and created again under the same
    // name: that is not their principal. Nothing allows them (an empty set of session policies refuses all).
    if (caller.principalIncarnation !== undefined && (!record || principalIncarnation(record) !== caller.principalIncarnation)) {
      return { principal, identityPolicies: [], sessionPolicies: [] };
    }
    const doc = (record?.doc ?? {}) as PrincipalDoc;
    if (doc.tags || caller.sessionTags) {
      const tags = { ...doc.tags, ...caller.sessionTags };
      if (Object.keys(tags).length > 0) principal = { ...principal, tags };
    }
    const texts = Object.values(doc.policies ?? {});
    // Groups (a user's) and attached managed policies (their default versions) count as inline policies do.
    const attached = [...(doc.attached ?? [])];
    if (record?.kind === 'user' && doc.groups?.length) {
      // A group created with a path is not at its path-less ARN: found among the account's entities then.
      let all: PrincipalRecord[] | undefined;
      const groups = await Promise.all(doc.groups.map(async (g) => {
        const direct = await storage.read((r) => r.principals.get(`arn:aws:iam::${caller.accountId}:group/${g}`));
        if (direct) return direct;
        all ??= await storage.read((r) => r.principals.list(caller.accountId));
        return all.find((p) => p.kind === 'group' && p.name === g);
      }));
      for (const g of groups) {
        const gd = (g?.doc ?? {}) as PrincipalDoc;
        texts.push(...Object.values(gd.policies ?? {}));
        attached.push(...(gd.attached ?? []));
      }
    }
    if (attached.length > 0) {
      const policies = await storage.read((r) => Promise.all([...new Set(attached)].map((a) => r.principals.get(a))));
      for (const p of policies) {
        const pd = p?.doc as { versions?: { VersionId: string; Document: string }[]; defaultVersionId?: string } | undefined;
        const text = pd?.versions?.find((v) => v.VersionId === pd.defaultVersionId)?.Document;
        if (text !== undefined) texts.push(text);
      }
    }
    const identityPolicies = texts.map((t) => parseCached(t, 'identity'));
    if (caller.sessionPolicies) return { principal, identityPolicies, sessionPolicies: caller.sessionPolicies.map((t) => parseCached(t, 'identity')) };
    return { principal, identityPolicies };
  }

  /**
   * AWS session policies: what identity (and resource) policies allow, temporary credentials may do only
   * when a session policy allows it too; an explicit Deny in one refuses. No session policy: no limit.
   */
  function withinSession(
    request: RequestContext, sessionPolicies: PolicyDocument[] | undefined, shownAs?: string | null, encryptionContext?: Readonly<Record<string, string>>,
  ): void {
    if (!sessionPolicies) return;
    // The session's policies see every key the key policy and identity policies saw, the encryption context's too.
    const result = evaluateIdentityOnly({ request, identityPolicies: sessionPolicies, ...(encryptionContext ? { encryptionContext } : {}) });
    if (result.decision !== 'Allow') throw accessDeniedError(request, result, shownAs);
  }

  /** aws:CurrentTime of the last millisecond asked for: under load many decisions share one. */
  let lastTime = { ms: Number.NaN, iso: '' };

  /**
   * The request-level global keys (policy/context.ts requestContextKeys: the same keys and values) and
   * aws:RequestedRegion, written over `into`'s members of the same names. Written in place rather than
   * spread into fresh objects: this runs for every decision.
   */
  function baseContext(caller: Caller, into: Record<string, ContextValue> = {}): Record<string, ContextValue> {
    const ms = clock.now();
    if (ms !== lastTime.ms) lastTime = { ms, iso: new Date(ms).toISOString() };
    into['aws:CurrentTime'] = lastTime.iso;
    into['aws:EpochTime'] = Math.floor(ms / 1000);
    if (caller.sourceIp !== undefined) into['aws:SourceIp'] = caller.sourceIp.startsWith('::ffff:') ? caller.sourceIp.slice(7) : caller.sourceIp;
    // Set at the edge (http/secure-transport.ts): TLS Trent terminated, or a trusted proxy's X-Forwarded-Proto.
    into['aws:SecureTransport'] = caller.secureTransport === true;
    if (caller.userAgent !== undefined) into['aws:UserAgent'] = caller.userAgent;
    into['aws:RequestedRegion'] = caller.region;
    return into;
  }

  /** The key's policy text; a key stored without one has AWS's default key policy. */
  function keyPolicyText(key: Key): string {
    return key.doc.policy ?? defaultKeyPolicyText(key.scope.accountId);
  }

  function keyPolicyOf(key: Key): PolicyDocument {
    return parseCached(keyPolicyText(key), 'key');
  }

  /**
   * AWS: kms:ResourceAliases — the aliases of the key (multi-valued). Read only when a policy that takes
   * part tests the key: an alias read on every Encrypt would cost a storage round trip for nothing.
   */
  const mentionsAliases = new WeakMap<PolicyDocument, boolean>();
  function testsResourceAliases(doc: PolicyDocument): boolean {
    let m = mentionsAliases.get(doc);
    if (m === undefined) {
      m = JSON.stringify(doc).toLowerCase().includes('kms:resourcealiases');
      mentionsAliases.set(doc, m);
    }
    return m;
  }
  async function resourceAliasesOf(key: Key): Promise<string[]> {
    const page = await storage.read((r) => r.aliases.list(key.scope, key.keyId, undefined, 100));
    return page.items.map((a) => a.aliasName);
  }

  async function grantsOf(key: Key): Promise<Grant[]> {
    const records = await storage.read((r) => r.grants.listForKey(key.scope, key.keyId));
    return records.map((g) => grantFromRecord(g, () => key.arn));
  }

  /**
   * Throws AccessDeniedException (AWS's message shape) unless the caller may perform `action`.
   * `resource`: a resolved key (key policy + identity policies + grants), a resource ARN evaluated
   * against identity policies alone (iam:*, sts:AssumeRole), or nothing ('*': CreateKey, ListKeys…).
   */
  async function authorize(caller: Caller, action: string, resource?: KeyResource | string, requestKeys?: Readonly<Record<string, ContextValue>>): Promise<void> {
    if (deps.operatorAccountId !== undefined && caller.accountId !== deps.operatorAccountId && action.startsWith('trent:')) {
      throw new AccessDeniedException(
        `User: ${caller.principalArn} is not authorized to perform: ${action} because it acts on the whole deployment, which only its operator account ${deps.operatorAccountId} may do`,
      );
    }
    const { principal, identityPolicies, sessionPolicies } = await principalOf(caller);
    const { request, result } = await decide(principal, identityPolicies, action, resource, baseContext(caller, copyKeys(requestKeys)), caller.viaService);
    if (result.decision !== 'Allow') throw accessDeniedError(request, result);
    withinSession(request, sessionPolicies, undefined, typeof resource === 'object' ? resource.encryptionContext : undefined);
  }

  /**
   * The evaluator's decision for a principal (without its session policies): the identity policies alone
   * for a resource ARN or '*', the key policy, identity policies and grants for a resolved key.
   */
  async function decide(
    principal: CallerPrincipal, identityPolicies: PolicyDocument[], action: string, resource: KeyResource | string | undefined,
    contextKeys: Record<string, ContextValue>, viaService?: string,
  ): Promise<{ request: RequestContext; result: AccessResult }> {
    if (resource === undefined || typeof resource === 'string') {
      const request: RequestContext = { action, resource: resource ?? '*', principal, contextKeys };
      return { request, result: evaluateIdentityOnly({ request, identityPolicies }) };
    }
    const { key } = resource;
    Object.assign(contextKeys, resource.contextKeys);
    contextKeys['kms:KeySpec'] = key.doc.keySpec;
    contextKeys['kms:KeyUsage'] = key.doc.keyUsage;
    contextKeys['kms:KeyOrigin'] = key.doc.origin;
    contextKeys['kms:MultiRegion'] = key.doc.multiRegion;
    // AWS: kms:ViaService is present only when an AWS service calls KMS on the caller's behalf.
    if (viaService !== undefined) contextKeys['kms:ViaService'] = viaService;
    if (resource.requestAlias !== undefined) contextKeys['kms:RequestAlias'] = resource.requestAlias;
    if (key.doc.multiRegion) {
      const primaryRegion = key.doc.multiRegionConfig?.primaryRegion ?? key.scope.region;
      contextKeys['kms:MultiRegionKeyType'] = primaryRegion === key.scope.region ? 'PRIMARY' : 'REPLICA';
    }
    for (const t of key.doc.tags ?? []) contextKeys[`aws:ResourceTag/${t.TagKey}`] = t.TagValue;
    const keyPolicy = keyPolicyOf(key);
    if (testsResourceAliases(keyPolicy) || identityPolicies.some(testsResourceAliases)) {
      contextKeys['kms:ResourceAliases'] = await resourceAliasesOf(key);
    }
    const request: RequestContext = { action, resource: key.arn, principal, contextKeys };
    const result = evaluateKeyAccess({
      request,
      keyPolicy,
      keyAccountId: key.scope.accountId,
      identityPolicies,
      grants: resource.ignoreGrants ? [] : await grantsOf(key),
      ...(resource.encryptionContext ? { encryptionContext: resource.encryptionContext } : {}),
    });
    return { request, result };
  }

  /**
   * IAM SimulatePrincipalPolicy: what the evaluator decides for `principalArn` (a user, role or group of
   * `accountId`, with its inline, group and attached managed policies) doing `action` on `resource`, without
   * a request: no session policies, no grants (AWS's simulator has none), and only the condition keys the
   * principal and the resource carry. Decides nothing about the caller; the IAM service authorizes that.
   */
  async function simulate(principalArn: string, accountId: string, action: string, resource: Key | string): Promise<Decision> {
    const subject: Caller = { accountId, region: '', principalArn, accessKeyId: '' };
    const { principal, identityPolicies } = await principalOf(subject);
    const target = typeof resource === 'string' ? resource : { key: resource, ignoreGrants: true };
    return (await decide(principal, identityPolicies, action, target, {})).result.decision;
  }

  /**
   * Authorizes `action` on a Secrets Manager or Parameter Store resource (evaluateResourceAccess: an
   * identity policy or the resource policy allows in the same account; both must across accounts; an
   * explicit Deny in either wins). Throws ActionDeniedException in AWS's words.
   */
  async function authorizeResource(caller: Caller, action: string, resource: ServiceResource): Promise<void> {
    const { principal, identityPolicies, sessionPolicies } = await principalOf(caller);
    const request: RequestContext = { action, resource: resource.arn, principal, contextKeys: baseContext(caller, copyKeys(resource.contextKeys)) };
    const result = evaluateResourceAccess({
      request,
      ...(resource.policyText !== undefined ? { resourcePolicy: parseCached(resource.policyText, 'key') } : {}),
      resourceAccountId: resource.accountId,
      identityPolicies,
    });
    if (result.decision !== 'Allow') throw accessDeniedError(request, result, resource.shownAs);
    withinSession(request, sessionPolicies, resource.shownAs);
  }

  /**
   * Authorizes `action` on a resource that has its own resource-based policy (a role's trust policy),
   * the way KMS keys are: the resource policy naming the caller allows; naming the caller's account
   * delegates to the caller's identity policies; an explicit Deny anywhere wins.
   */
  async function authorizeWithResourcePolicy(
    caller: Caller, action: string, resource: { arn: string; accountId: string; policyText: string; contextKeys?: Readonly<Record<string, ContextValue>> },
  ): Promise<void> {
    const { principal, identityPolicies, sessionPolicies } = await principalOf(caller);
    const request: RequestContext = { action, resource: resource.arn, principal, contextKeys: baseContext(caller, copyKeys(resource.contextKeys)) };
    const result = evaluateKeyAccess({
      request,
      keyPolicy: parseCached(resource.policyText, 'key'),
      keyAccountId: resource.accountId,
      identityPolicies,
      grants: [],
    });
    if (result.decision !== 'Allow') throw accessDeniedError(request, result);
    withinSession(request, sessionPolicies);
  }

  /** True when `authorize` would allow (for checks that fall back to other rules, e.g. RetireGrant). */
  async function isAllowed(caller: Caller, action: string, resource?: KeyResource | string): Promise<boolean> {
    try {
      await authorize(caller, action, resource);
      return true;
    } catch (err) {
      if (err instanceof TrentError && err.code === 'AccessDeniedException') return false;
      throw err;
    }
  }

  /**
   * AWS: CreateKey/PutKeyPolicy — the policy must parse (MalformedPolicyDocumentException otherwise) and,
   * unless the caller bypasses it, pass the lockout safety check: the caller must still be allowed
   * kms:PutKeyPolicy by the new policy. Returns the text to store.
   */
  async function checkNewKeyPolicy(caller: Caller, text: string, opts: { keyArn: string; bypassLockoutCheck?: boolean }): Promise<string> {
    const doc = parsePolicy(text, 'key');
    if (!opts.bypassLockoutCheck) {
      const { principal } = await principalOf(caller);
      if (!lockoutSafetyCheck(doc, principal, { keyArn: opts.keyArn, contextKeys: baseContext(caller) })) {
        throw new MalformedPolicyDocumentException(LOCKOUT_MESSAGE);
      }
    }
    return text;
  }

  return { authorize, simulate, authorizeResource, authorizeWithResourcePolicy, isAllowed, principalOf, baseContext, keyPolicyText, checkNewKeyPolicy };
}
