/**
 * Principals and credentials of Trent's account: users and roles (with tags and attached identity
 * policies), access keys for users, and temporary credentials for roles (AssumeRole). Knows nothing
 * of HTTP; every call is authorised through the one choke point with its IAM/STS action name.
 *
 * AWS names and shapes are mirrored where they exist (IAM CreateUser, PutUserPolicy, TagUser; STS
 * AssumeRole). Temporary credentials: an ASIA… access key whose secret is sealed like any other, with
 * the session token stored only as its SHA-256 and an expiry in domain time (the app clock).
 */
import type { Clock } from '../clock.ts';
import { randomBytesBuffer, randomUuid, sha256 } from '../crypto/primitives.ts';
import {
  AccessDeniedException, AlreadyExistsException, ConflictException, LimitExceededException, NotFoundException, ValidationException,
} from '../errors/errors.ts';
import { parsePolicy } from '../policy/index.ts';
import type { PrincipalKind, PrincipalRecord } from '../storage/iam-repos.ts';
import { DuplicateError, type Storage } from '../storage/storage.ts';
import { ADMIN_POLICY_NAME, ADMIN_POLICY_TEXT, type Authorizer, type PrincipalDoc } from './authorizer.ts';
import { type Caller, principalIncarnation } from './caller.ts';
import { newAccessKeyId, type CredentialStore } from './credential-store.ts';
import { DeleteConflictException } from './iam-managed.ts';
import { checkPath, createIamAuthorization, entityArn, iamRequestTags, pathOf } from './iam-authorization.ts';

const NAME = /^[\w+=,.@-]{1,64}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
export const MIN_SESSION_SECONDS = 1;
export const DEFAULT_SESSION_SECONDS = 3600;
export const MAX_SESSION_SECONDS = 43_200;
/** A role's MaxSessionDuration (GetRole shows it; Trent's roles do not change it) and AWS's cap for role chaining. */
export const ROLE_MAX_SESSION_SECONDS = 3600;
/** The trust policy of a role that does not exist: it trusts a service principal no caller can be. */
const NOBODY_TRUSTED = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'nobody.invalid' }, Action: 'sts:AssumeRole' }] });
const MAX_TAGS = 50;

/** The ARN of a user or role (AWS: its path, then its name; `/` gives `…:user/<name>`). */
export function principalArn(accountId: string, kind: PrincipalKind, name: string, path = '/'): string {
  return entityArn(accountId, kind, name, path);
}

/** The session token's stored form: its SHA-256, hex. The token itself is never stored. */
export function sessionTokenHash(token: string): string {
  return sha256(token).toString('hex');
}

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Epoch ms (domain clock). */
  expiration: number;
  assumedRoleArn: string;
}

export type IamService = ReturnType<typeof createIamService>;

/** The trust policy of a role created without one: its own account (delegation to identity policies). */
function ownAccountTrustPolicy(accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }],
  });
}

/**
 * AWS trust policies name no Resource (the role is the resource); the key-policy evaluator ignores a
 * statement without one, so each statement is given `Resource: "*"` before evaluation.
 */
function trustPolicyAsResourcePolicy(text: string): string {
  const doc = JSON.parse(text) as { Statement?: unknown };
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement === undefined ? [] : [doc.Statement];
  const withResource = statements.map((st) =>
    typeof st === 'object' && st !== null && !('Resource' in st) && !('NotResource' in st) ? { ...st, Resource: '*' } : st,
  );
  return JSON.stringify({ ...doc, Statement: withResource });
}

function statementsOf(text: string): unknown[] {
  const st = (JSON.parse(text) as { Statement?: unknown }).Statement;
  return Array.isArray(st) ? st : st === undefined ? [] : [st];
}

export function createIamService(deps: { storage: Storage; clock: Clock; authorizer: Authorizer; credentials: CredentialStore }) {
  const { storage, clock, authorizer, credentials } = deps;

  function checkName(what: string, name: unknown): string {
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new ValidationException(`1 validation error detected: Value at '${what}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`);
    }
    return name;
  }

  function checkTags(tags: Record<string, string> | undefined): Record<string, string> {
    const t = tags ?? {};
    if (Object.keys(t).length > MAX_TAGS) throw new LimitExceededException(`Cannot exceed quota for TagsPerPrincipal: ${MAX_TAGS}`);
    return t;
  }

  const { resourceTags, authorizeOn, findEntity, nameTaken, arnFor } = createIamAuthorization({ storage, authorizer });

  async function get(accountId: string, kind: PrincipalKind, name: string): Promise<PrincipalRecord> {
    const rec = await findEntity(accountId, kind, name);
    if (!rec) throw new NotFoundException(`The ${kind} with name ${name} cannot be found.`);
    return rec;
  }

  async function create(caller: Caller, kind: PrincipalKind, name: string, path: string | undefined, doc: PrincipalDoc): Promise<PrincipalRecord> {
    checkName(kind === 'user' ? 'userName' : 'roleName', name);
    const arn = principalArn(caller.accountId, kind, name, checkPath(path));
    await authorizer.authorize(caller, kind === 'user' ? 'iam:CreateUser' : 'iam:CreateRole', arn, iamRequestTags(doc.tags));
    // `incarnation`: this principal and no later one of the same name (principalIncarnation).
    const rec: PrincipalRecord = { arn, accountId: caller.accountId, kind, name, createdAt: clock.now(), revision: 1, doc: { ...doc, incarnation: randomUuid() } };
    try {
      // AWS: a name is unique in the account whatever the path. The ARN's uniqueness (storage) covers the
      // same path; another path is checked here, not atomically with the insert.
      if (await nameTaken(caller.accountId, kind, name)) throw new DuplicateError(arn);
      await storage.transaction((tx) => tx.principals.insert(rec));
    } catch (err) {
      if (err instanceof DuplicateError) throw new AlreadyExistsException(`${kind === 'user' ? 'User' : 'Role'} with name ${name} already exists.`);
      throw err;
    }
    return rec;
  }

  /** Compare-and-set update of a principal's doc, retried on a lost race. */
  async function update(accountId: string, kind: PrincipalKind, name: string, mutate: (doc: PrincipalDoc) => PrincipalDoc): Promise<PrincipalRecord> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const rec = await get(accountId, kind, name);
      const next = { ...rec, doc: { ...mutate(structuredClone(rec.doc) as PrincipalDoc) } };
      if (await storage.transaction((tx) => tx.principals.update(next, rec.revision))) return { ...next, revision: rec.revision + 1 };
    }
    throw new ConflictException(`${kind} ${name} is being changed by another request. Retry.`);
  }

  async function createUser(caller: Caller, input: { userName: string; path?: string; tags?: Record<string, string> }) {
    return create(caller, 'user', input.userName, input.path, { tags: checkTags(input.tags), policies: {} });
  }

  async function createRole(caller: Caller, input: { roleName: string; path?: string; tags?: Record<string, string>; assumeRolePolicyDocument?: string }) {
    if (input.assumeRolePolicyDocument !== undefined) parsePolicy(input.assumeRolePolicyDocument, 'key');
    return create(caller, 'role', input.roleName, input.path, {
      tags: checkTags(input.tags),
      policies: {},
      ...(input.assumeRolePolicyDocument !== undefined ? { assumeRolePolicy: input.assumeRolePolicyDocument } : {}),
    });
  }

  async function getPrincipal(caller: Caller, kind: PrincipalKind, name: string): Promise<PrincipalRecord> {
    await authorizeOn(caller, kind === 'user' ? 'iam:GetUser' : 'iam:GetRole', await arnFor(caller.accountId, kind, checkName('name', name)));
    return get(caller.accountId, kind, name);
  }

  async function listPrincipals(caller: Caller, kind: PrincipalKind): Promise<PrincipalRecord[]> {
    await authorizer.authorize(caller, kind === 'user' ? 'iam:ListUsers' : 'iam:ListRoles');
    return (await storage.read((r) => r.principals.list(caller.accountId))).filter((p) => p.kind === kind);
  }

  /** IAM PutUserPolicy/PutRolePolicy: an inline identity policy, validated (MalformedPolicyDocument). */
  async function putPolicy(caller: Caller, kind: PrincipalKind, input: { name: string; policyName: string; policyDocument: string }) {
    checkName('name', input.name);
    if (!POLICY_NAME.test(input.policyName)) throw new ValidationException("Value at 'policyName' failed to satisfy constraint");
    await authorizeOn(caller, kind === 'user' ? 'iam:PutUserPolicy' : 'iam:PutRolePolicy', await arnFor(caller.accountId, kind, input.name));
    parsePolicy(input.policyDocument, 'identity');
    await update(caller.accountId, kind, input.name, (doc) => ({ ...doc, policies: { ...doc.policies, [input.policyName]: input.policyDocument } }));
  }

  async function deletePolicy(caller: Caller, kind: PrincipalKind, input: { name: string; policyName: string }) {
    checkName('name', input.name);
    await authorizeOn(caller, kind === 'user' ? 'iam:DeleteUserPolicy' : 'iam:DeleteRolePolicy', await arnFor(caller.accountId, kind, input.name));
    await update(caller.accountId, kind, input.name, (doc) => {
      if (!doc.policies?.[input.policyName]) throw new NotFoundException(`The ${kind} policy with name ${input.policyName} cannot be found.`);
      const policies = { ...doc.policies };
      delete policies[input.policyName];
      return { ...doc, policies };
    });
  }

  /** IAM GetUserPolicy/ListUserPolicies/GetRolePolicy/ListRolePolicies…: the principal, authorised for `action`. */
  async function readPrincipal(caller: Caller, kind: PrincipalKind, name: string, action: string): Promise<PrincipalRecord> {
    await authorizeOn(caller, action, await arnFor(caller.accountId, kind, checkName('name', name)));
    return get(caller.accountId, kind, name);
  }

  async function tagPrincipal(caller: Caller, kind: PrincipalKind, input: { name: string; tags: Record<string, string> }) {
    checkName('name', input.name);
    await authorizeOn(caller, kind === 'user' ? 'iam:TagUser' : 'iam:TagRole', await arnFor(caller.accountId, kind, input.name), iamRequestTags(input.tags));
    await update(caller.accountId, kind, input.name, (doc) => ({ ...doc, tags: checkTags({ ...doc.tags, ...input.tags }) }));
  }

  /** IAM ListAccessKeys: the user's long-term keys (never their secrets). */
  async function listAccessKeys(caller: Caller, userName: string) {
    const arn = await arnFor(caller.accountId, 'user', checkName('userName', userName));
    await authorizeOn(caller, 'iam:ListAccessKeys', arn);
    await get(caller.accountId, 'user', userName);
    return credentials.listFor(arn);
  }

  /**
   * IAM GetAccessKeyLastUsed: the key's user and its last use (approximate: credential-store.ts records
   * it at most once a minute). Another account's key, or a temporary one, is not found.
   */
  async function accessKeyLastUsed(caller: Caller, accessKeyId: string) {
    const rec = await storage.read((r) => r.accessKeys.get(accessKeyId));
    if (!rec || rec.accountId !== caller.accountId || rec.expiresAt !== null || !/:user\//.test(rec.principalArn)) {
      await authorizer.authorize(caller, 'iam:GetAccessKeyLastUsed');
      throw new NotFoundException(`The Access Key with id ${accessKeyId} cannot be found.`);
    }
    await authorizeOn(caller, 'iam:GetAccessKeyLastUsed', rec.principalArn);
    return { userName: rec.principalArn.slice(rec.principalArn.lastIndexOf('/') + 1), lastUsed: await credentials.lastUsed(accessKeyId) };
  }

  /** IAM DeleteAccessKey: the key stops working at the next request (this node), within 1 s (every node). */
  async function deleteAccessKey(caller: Caller, input: { userName: string; accessKeyId: string }) {
    const arn = await arnFor(caller.accountId, 'user', checkName('userName', input.userName));
    await authorizeOn(caller, 'iam:DeleteAccessKey', arn);
    await get(caller.accountId, 'user', input.userName);
    if (!(await credentials.remove(input.accessKeyId, arn))) {
      throw new NotFoundException(`The Access Key with id ${input.accessKeyId} cannot be found.`);
    }
  }

  /**
   * IAM DeleteUser/DeleteRole. AWS refuses while anything is still attached (DeleteConflict, "Cannot delete
   * entity, must delete policies first." and the like): inline and managed policies, groups, access keys.
   */
  async function deletePrincipal(caller: Caller, kind: 'user' | 'role', name: string) {
    const arn = await arnFor(caller.accountId, kind, checkName(`${kind}Name`, name));
    await authorizeOn(caller, kind === 'user' ? 'iam:DeleteUser' : 'iam:DeleteRole', arn);
    const rec = await get(caller.accountId, kind, name);
    const doc = rec.doc as PrincipalDoc;
    if ((doc as { administrator?: boolean }).administrator) throw new DeleteConflictException('Cannot delete the administrator.');
    if (Object.keys(doc.policies ?? {}).length > 0) throw new DeleteConflictException('Cannot delete entity, must delete policies first.');
    if ((doc.attached ?? []).length > 0) throw new DeleteConflictException('Cannot delete entity, must detach all policies first.');
    if ((doc.groups ?? []).length > 0) throw new DeleteConflictException('Cannot delete entity, must remove users from group first.');
    if (kind === 'user' && (await credentials.listFor(arn)).length > 0) throw new DeleteConflictException('Cannot delete entity, must delete access keys first.');
    if (!(await storage.transaction((tx) => tx.principals.delete(arn, rec.revision)))) {
      throw new ConflictException(`${kind} ${name} is being changed by another request. Retry.`);
    }
  }

  /**
   * IAM UpdateUser with NewUserName: the user's ARN changes, so the record moves and its access keys follow
   * it, in one transaction (policies naming the old ARN no longer match, as on AWS). Other nodes see the
   * keys' new principal within the credential cache bound.
   */
  async function renameUser(caller: Caller, input: { userName: string; newUserName: string }) {
    const from = await arnFor(caller.accountId, 'user', checkName('userName', input.userName));
    // The user keeps its path (UpdateUser NewPath is not supported).
    const to = principalArn(caller.accountId, 'user', checkName('newUserName', input.newUserName), pathOf(from));
    await authorizeOn(caller, 'iam:UpdateUser', from);
    const rec = await get(caller.accountId, 'user', input.userName);
    if ((rec.doc as { administrator?: boolean }).administrator) throw new DeleteConflictException('Cannot rename the administrator.');
    if (from === to) return;
    try {
      // The user's own name in another case is a rename of it, not a clash.
      if (input.newUserName.toLowerCase() !== input.userName.toLowerCase() && (await nameTaken(caller.accountId, 'user', input.newUserName))) throw new DuplicateError(to);
      const moved = await storage.transaction(async (tx) => {
        if (!(await tx.principals.delete(from, rec.revision))) return false;
        await tx.principals.insert({ ...rec, arn: to, name: input.newUserName, revision: 1, doc: { ...rec.doc } });
        for (const k of await tx.accessKeys.listForPrincipal(from)) {
          await tx.accessKeys.upsert({ ...k, principalArn: to, doc: { ...k.doc, userName: input.newUserName } });
        }
        return true;
      });
      if (!moved) throw new ConflictException(`user ${input.userName} is being changed by another request. Retry.`);
    } catch (err) {
      if (err instanceof DuplicateError) throw new AlreadyExistsException(`User with name ${input.newUserName} already exists.`);
      throw err;
    }
  }

  /** IAM UntagUser/UntagRole: removes the named tag keys (absent ones are ignored, as AWS does). */
  async function untagPrincipal(caller: Caller, kind: PrincipalKind, input: { name: string; tagKeys: readonly string[] }) {
    checkName('name', input.name);
    // AWS: aws:TagKeys is the keys the request removes.
    await authorizeOn(caller, kind === 'user' ? 'iam:UntagUser' : 'iam:UntagRole', await arnFor(caller.accountId, kind, input.name),
      input.tagKeys.length > 0 ? { 'aws:TagKeys': [...input.tagKeys] } : {});
    await update(caller.accountId, kind, input.name, (doc) => {
      const tags = { ...doc.tags };
      for (const k of input.tagKeys) delete tags[k];
      return { ...doc, tags };
    });
  }

  /** IAM UpdateAssumeRolePolicy: replaces a role's trust policy (validated: MalformedPolicyDocument). */
  async function updateAssumeRolePolicy(caller: Caller, input: { roleName: string; policyDocument: string }) {
    checkName('roleName', input.roleName);
    await authorizeOn(caller, 'iam:UpdateAssumeRolePolicy', await arnFor(caller.accountId, 'role', input.roleName));
    parsePolicy(input.policyDocument, 'key');
    await update(caller.accountId, 'role', input.roleName, (doc) => ({ ...doc, assumeRolePolicy: input.policyDocument }));
  }

  /** IAM CreateAccessKey: a long-term key for a user; the secret is returned once. */
  async function createAccessKey(caller: Caller, input: { userName: string }) {
    checkName('userName', input.userName);
    const arn = await arnFor(caller.accountId, 'user', input.userName);
    await authorizeOn(caller, 'iam:CreateAccessKey', arn);
    await get(caller.accountId, 'user', input.userName);
    return credentials.create({ accountId: caller.accountId, principalArn: arn, doc: { userName: input.userName } });
  }

  /**
   * IAM UpdateAccessKey: makes a user's access key Active or Inactive. An inactive key is refused by
   * every node within the credential cache TTL (docs/postgres.md, coherence bound).
   */
  async function updateAccessKey(caller: Caller, input: { userName: string; accessKeyId: string; status: 'Active' | 'Inactive' }) {
    checkName('userName', input.userName);
    const arn = await arnFor(caller.accountId, 'user', input.userName);
    await authorizeOn(caller, 'iam:UpdateAccessKey', arn);
    await get(caller.accountId, 'user', input.userName);
    // AWS IAM: NoSuchEntity, "The Access Key with id … cannot be found." (also for another user's key).
    if (!(await credentials.setStatus(input.accessKeyId, arn, input.status))) {
      throw new NotFoundException(`The Access Key with id ${input.accessKeyId} cannot be found.`);
    }
  }

  /**
   * STS AssumeRole: temporary credentials for a role of this account, expiring after DurationSeconds of
   * domain time. The role's trust policy is evaluated as a resource-based policy: it must allow the caller
   * (directly, or by naming the caller's account, which then needs sts:AssumeRole in an identity policy).
   * A role created without a trust policy trusts its own account, so only identity policies decide.
   */
  async function assumeRole(
    caller: Caller,
    input: {
      roleArn: string; roleSessionName: string; durationSeconds?: number; externalId?: string; sourceIdentity?: string;
      /** Session policies: inline (`Policy`) and managed (`PolicyArns`, their default versions when assumed). */
      policy?: string; policyArns?: readonly string[]; tags?: Record<string, string>;
    },
  ): Promise<TemporaryCredentials> {
    if (!SESSION_NAME.test(input.roleSessionName)) throw new ValidationException("Value at 'roleSessionName' failed to satisfy constraint");
    const duration = input.durationSeconds ?? DEFAULT_SESSION_SECONDS;
    if (!Number.isInteger(duration) || duration < MIN_SESSION_SECONDS || duration > MAX_SESSION_SECONDS) {
      throw new ValidationException(`Value at 'durationSeconds' failed to satisfy constraint: Member must be between ${MIN_SESSION_SECONDS} and ${MAX_SESSION_SECONDS}`);
    }
    // AWS: the role's ARN includes its path; the session's ARN names the role without it.
    const m = /^arn:aws:iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]+)$/.exec(input.roleArn);
    const role = m ? await storage.read((r) => r.principals.get(input.roleArn)) : undefined;
    if (!m || !role || role.kind !== 'role') {
      // AWS: an unknown role is refused like one the caller may not assume (existence is not revealed):
      // decided as a role whose trust policy names nobody, so the words are those of a refusal by trust.
      await authorizer.authorizeWithResourcePolicy(caller, 'sts:AssumeRole', { arn: input.roleArn, accountId: m?.[1] ?? '', policyText: NOBODY_TRUSTED });
      throw new AccessDeniedException(`User: ${caller.principalArn} is not authorized to perform: sts:AssumeRole on resource: ${input.roleArn}`);
    }
    // AWS: DurationSeconds up to the role's MaxSessionDuration (Trent's roles: 3600 s, as GetRole shows),
    // which also holds a session assumed with another role's session (role chaining) to AWS's one hour.
    if (duration > ROLE_MAX_SESSION_SECONDS) throw new ValidationException('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    const trust = trustPolicyAsResourcePolicy((role.doc as PrincipalDoc).assumeRolePolicy ?? ownAccountTrustPolicy(m[1]!));
    // AWS STS condition keys: sts:RoleSessionName, the role's tags as aws:ResourceTag/…, and sts:ExternalId
    // and sts:SourceIdentity when the request carries them.
    // The request's tags are part of its context for both decisions (a Deny on aws:RequestTag fires on either).
    const tagged = input.tags !== undefined && Object.keys(input.tags).length > 0;
    const contextKeys = {
      'sts:RoleSessionName': input.roleSessionName,
      ...(await resourceTags(input.roleArn)),
      ...(input.externalId !== undefined ? { 'sts:ExternalId': input.externalId } : {}),
      ...(input.sourceIdentity !== undefined ? { 'sts:SourceIdentity': input.sourceIdentity } : {}),
      ...(tagged ? iamRequestTags(input.tags!) : {}),
    };
    await authorizer.authorizeWithResourcePolicy(caller, 'sts:AssumeRole', { arn: input.roleArn, accountId: m[1]!, policyText: trust, contextKeys });
    // AWS: passing session tags needs sts:TagSession too, from the same trust policy.
    if (tagged) await authorizer.authorizeWithResourcePolicy(caller, 'sts:TagSession', { arn: input.roleArn, accountId: m[1]!, policyText: trust, contextKeys });
    const sessionPolicies = await sessionPolicyTexts(input.policy, input.policyArns);
    const sessionToken = randomBytesBuffer(48).toString('base64');
    const expiration = clock.now() + duration * 1000;
    const assumedRoleArn = `arn:aws:sts::${m[1]}:assumed-role/${m[2]}/${input.roleSessionName}`;
    const pair = await credentials.create({
      accountId: m[1]!,
      principalArn: assumedRoleArn,
      accessKeyId: newAccessKeyId('ASIA'),
      expiresAt: expiration,
      doc: {
        roleArn: input.roleArn, sessionName: input.roleSessionName, sessionTokenHash: sessionTokenHash(sessionToken), principalIncarnation: principalIncarnation(role),
        ...(sessionPolicies ? { sessionPolicies } : {}),
        ...(input.tags && Object.keys(input.tags).length > 0 ? { sessionTags: checkTags(input.tags) } : {}),
        ...(input.sourceIdentity !== undefined ? { sourceIdentity: input.sourceIdentity } : {}),
      },
    });
    return { ...pair, sessionToken, expiration, assumedRoleArn };
  }

  /** The texts of a session's policies, validated (MalformedPolicyDocument); undefined when none was given. */
  async function sessionPolicyTexts(policy: string | undefined, arns: readonly string[] | undefined): Promise<string[] | undefined> {
    if (policy === undefined && (!arns || arns.length === 0)) return undefined;
    const texts: string[] = [];
    if (policy !== undefined) {
      parsePolicy(policy, 'identity');
      texts.push(policy);
    }
    for (const arn of arns ?? []) {
      const rec = await storage.read((r) => r.principals.get(arn));
      const doc = rec?.kind === 'policy' ? (rec.doc as { versions: { VersionId: string; Document: string }[]; defaultVersionId: string }) : undefined;
      const text = doc?.versions.find((v) => v.VersionId === doc.defaultVersionId)?.Document;
      if (text === undefined) throw new ValidationException(`Policy ${arn} does not exist or is not attachable.`);
      texts.push(text);
    }
    // AWS: the session may do what any one session policy allows (they form one set), within the role's.
    return [JSON.stringify({ Version: '2012-10-17', Statement: texts.flatMap((t) => statementsOf(t)) })];
  }

  /**
   * STS GetSessionToken: temporary credentials of the calling IAM user itself (same ARN, same policies),
   * 900 s – 129 600 s, default 43 200 s. AWS refuses it to callers that already hold temporary credentials.
   */
  async function getSessionToken(caller: Caller, durationSeconds = 43_200): Promise<TemporaryCredentials> {
    if (!/:user\//.test(caller.principalArn) || caller.sessionPolicies || caller.accessKeyId.startsWith('ASIA')) {
      throw new AccessDeniedException('Cannot call GetSessionToken with session credentials');
    }
    const user = await storage.read((r) => r.principals.get(caller.principalArn));
    if (!user) throw new AccessDeniedException('Cannot call GetSessionToken for a user that no longer exists');
    const sessionToken = randomBytesBuffer(48).toString('base64');
    const expiration = clock.now() + durationSeconds * 1000;
    const pair = await credentials.create({
      accountId: caller.accountId, principalArn: caller.principalArn, accessKeyId: newAccessKeyId('ASIA'), expiresAt: expiration,
      doc: { sessionTokenHash: sessionTokenHash(sessionToken), issuedBy: 'GetSessionToken', principalIncarnation: principalIncarnation(user) },
    });
    return { ...pair, sessionToken, expiration, assumedRoleArn: caller.principalArn };
  }

  /**
   * The administrator created at first start holds full rights through an attached identity policy
   * (Action "*", Resource "*"), so it is evaluated like anyone else. Idempotent; safe on every start.
   */
  async function ensureAdministrator(accountId: string): Promise<void> {
    const arn = principalArn(accountId, 'user', 'admin');
    const rec: PrincipalRecord = {
      arn, accountId, kind: 'user', name: 'admin', createdAt: clock.now(), revision: 1,
      doc: { tags: {}, policies: { [ADMIN_POLICY_NAME]: ADMIN_POLICY_TEXT }, administrator: true },
    };
    try {
      await storage.transaction((tx) => tx.principals.insert(rec));
    } catch (err) {
      if (!(err instanceof DuplicateError)) throw err;
    }
  }

  return {
    createUser, createRole, getPrincipal, accessKeyLastUsed, readPrincipal, getSessionToken, renameUser, listAccessKeys, deleteAccessKey, deletePrincipal, untagPrincipal, updateAssumeRolePolicy, listPrincipals, putPolicy, deletePolicy, tagPrincipal, createAccessKey, updateAccessKey, assumeRole,
    ensureAdministrator,
  };
}
