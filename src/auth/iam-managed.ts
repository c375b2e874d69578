/**
 * IAM groups and customer managed policies. Stored beside users and roles (iam_principals, kinds `group`
 * and `policy`); the authorizer's principalOf gathers a caller's groups and attached policies (their
 * default versions) with its inline ones, so they take part in every decision as inline policies do.
 *
 * AWS semantics mirrored (IAM API reference, CreatePolicy/CreatePolicyVersion/SetDefaultPolicyVersion):
 * a policy starts at version v1, the default; CreatePolicyVersion adds v2, v3… (default only with
 * SetAsDefault); at most 5 versions (LimitExceeded); a policy still attached cannot be deleted
 * (DeleteConflict).
 */
import type { Clock } from '../clock.ts';
import { AlreadyExistsException, ConflictException, LimitExceededException, NotFoundException, TrentError, ValidationException } from '../errors/errors.ts';
import { parsePolicy } from '../policy/index.ts';
import type { PrincipalKind, PrincipalRecord } from '../storage/iam-repos.ts';
import { DuplicateError, type Storage } from '../storage/storage.ts';
import type { Authorizer } from './authorizer.ts';
import type { Caller } from './caller.ts';
import { checkPath, createIamAuthorization, entityArn } from './iam-authorization.ts';

const NAME = /^[\w+=,.@-]{1,128}$/;
const MAX_VERSIONS = 5;

export class DeleteConflictException extends TrentError {
  constructor(message: string) {
    super('DeleteConflictException', message, 'client');
  }
}

export interface PolicyVersion { VersionId: string; Document: string; CreateDate: number }
export interface ManagedPolicyDoc { versions: PolicyVersion[]; defaultVersionId: string; nextVersion: number; description?: string }
/** What users, roles and groups keep of attachments and memberships. */
export interface AttachmentDoc { attached?: string[]; groups?: string[]; policies?: Record<string, string> }

export type IamManaged = ReturnType<typeof createIamManaged>;

export function createIamManaged(deps: { storage: Storage; clock: Clock; authorizer: Authorizer }) {
  const { storage, clock, authorizer } = deps;
  // Actions on an entity carry its tags (users, roles) as AWS's condition keys; list actions have no entity.
  const { authorizeOn, findEntity, nameTaken, arnFor } = createIamAuthorization({ storage, authorizer });

  function checkName(what: string, name: string): string {
    if (!NAME.test(name)) {
      throw new ValidationException(`1 validation error detected: Value '${name}' at '${what}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`);
    }
    return name;
  }

  async function get(arn: string, kind: PrincipalKind, what: string): Promise<PrincipalRecord> {
    const rec = await storage.read((r) => r.principals.get(arn));
    if (!rec || rec.kind !== kind) throw new NotFoundException(what);
    return rec;
  }

  async function update(arn: string, kind: PrincipalKind, what: string, mutate: (doc: Record<string, unknown>) => Record<string, unknown>): Promise<PrincipalRecord> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const rec = await get(arn, kind, what);
      const next = { ...rec, doc: mutate(structuredClone(rec.doc) as Record<string, unknown>) };
      if (await storage.transaction((tx) => tx.principals.update(next, rec.revision))) return { ...next, revision: rec.revision + 1 };
    }
    throw new ConflictException(`${arn} is being changed by another request. Retry.`);
  }

  async function insert(rec: PrincipalRecord, exists: string): Promise<PrincipalRecord> {
    try {
      // AWS: a name is unique in the account whatever the path or case (checked here, not atomically with the insert).
      if (await nameTaken(rec.accountId, rec.kind, rec.name)) throw new DuplicateError(rec.arn);
      await storage.transaction((tx) => tx.principals.insert(rec));
    } catch (err) {
      if (err instanceof DuplicateError) throw new AlreadyExistsException(exists);
      throw err;
    }
    return rec;
  }

  async function createGroup(caller: Caller, name: string, path?: string): Promise<PrincipalRecord> {
    const arn = entityArn(caller.accountId, 'group', checkName('groupName', name), checkPath(path));
    await authorizeOn(caller, 'iam:CreateGroup', arn);
    return insert({ arn, accountId: caller.accountId, kind: 'group', name, createdAt: clock.now(), revision: 1, doc: { policies: {}, attached: [] } },
      `Group with name ${name} already exists.`);
  }

  async function getGroup(caller: Caller, name: string): Promise<{ group: PrincipalRecord; users: PrincipalRecord[] }> {
    const arn = await arnFor(caller.accountId, 'group', checkName('groupName', name));
    await authorizeOn(caller, 'iam:GetGroup', arn);
    const group = await get(arn, 'group', `The group with name ${name} cannot be found.`);
    const users = (await storage.read((r) => r.principals.list(caller.accountId)))
      .filter((p) => p.kind === 'user' && ((p.doc as AttachmentDoc).groups ?? []).includes(name));
    return { group, users };
  }

  async function addUserToGroup(caller: Caller, groupName: string, userName: string, add: boolean): Promise<void> {
    const groupArn = await arnFor(caller.accountId, 'group', checkName('groupName', groupName));
    await authorizeOn(caller, add ? 'iam:AddUserToGroup' : 'iam:RemoveUserFromGroup', groupArn);
    await get(groupArn, 'group', `The group with name ${groupName} cannot be found.`);
    await update(await arnFor(caller.accountId, 'user', checkName('userName', userName)), 'user', `The user with name ${userName} cannot be found.`, (doc) => {
      const groups = ((doc as AttachmentDoc).groups ?? []).filter((g) => g !== groupName);
      return { ...doc, groups: add ? [...groups, groupName] : groups };
    });
  }

  async function putGroupPolicy(caller: Caller, groupName: string, policyName: string, text: string): Promise<void> {
    const arn = await arnFor(caller.accountId, 'group', checkName('groupName', groupName));
    await authorizeOn(caller, 'iam:PutGroupPolicy', arn);
    parsePolicy(text, 'identity');
    await update(arn, 'group', `The group with name ${groupName} cannot be found.`, (doc) => ({
      ...doc, policies: { ...(doc as AttachmentDoc).policies, [checkName('policyName', policyName)]: text },
    }));
  }

  /** GetGroupPolicy/ListGroupPolicies: the group, authorised for `action`. */
  async function readGroup(caller: Caller, groupName: string, action: string): Promise<PrincipalRecord> {
    const arn = await arnFor(caller.accountId, 'group', checkName('groupName', groupName));
    await authorizeOn(caller, action, arn);
    return get(arn, 'group', `The group with name ${groupName} cannot be found.`);
  }

  async function deleteGroupPolicy(caller: Caller, groupName: string, policyName: string): Promise<void> {
    const arn = await arnFor(caller.accountId, 'group', checkName('groupName', groupName));
    await authorizeOn(caller, 'iam:DeleteGroupPolicy', arn);
    await update(arn, 'group', `The group with name ${groupName} cannot be found.`, (doc) => {
      const policies = { ...(doc as AttachmentDoc).policies };
      if (policies[policyName] === undefined) throw new NotFoundException(`The group policy with name ${policyName} cannot be found.`);
      delete policies[policyName];
      return { ...doc, policies };
    });
  }

  /** ListGroups / ListPolicies (Scope Local: this account's customer managed policies). */
  async function listEntities(caller: Caller, kind: 'group' | 'policy'): Promise<PrincipalRecord[]> {
    await authorizer.authorize(caller, kind === 'group' ? 'iam:ListGroups' : 'iam:ListPolicies');
    return (await storage.read((r) => r.principals.list(caller.accountId))).filter((p) => p.kind === kind);
  }

  async function listGroupsForUser(caller: Caller, userName: string): Promise<PrincipalRecord[]> {
    const arn = await arnFor(caller.accountId, 'user', checkName('userName', userName));
    await authorizeOn(caller, 'iam:ListGroupsForUser', arn);
    const u = await get(arn, 'user', `The user with name ${userName} cannot be found.`);
    const names = (u.doc as AttachmentDoc).groups ?? [];
    const groups = await Promise.all(names.map((n) => findEntity(caller.accountId, 'group', n)));
    return groups.filter((g): g is PrincipalRecord => g !== undefined);
  }

  /** IAM DeleteGroup: refused while it has members or policies (DeleteConflict, as AWS). */
  async function deleteGroup(caller: Caller, groupName: string): Promise<void> {
    const { group, users } = await getGroup(caller, groupName);
    await authorizeOn(caller, 'iam:DeleteGroup', group.arn);
    const doc = group.doc as AttachmentDoc;
    if (users.length > 0) throw new DeleteConflictException('Cannot delete entity, must remove users from group first.');
    if (Object.keys(doc.policies ?? {}).length > 0) throw new DeleteConflictException('Cannot delete entity, must delete policies first.');
    if ((doc.attached ?? []).length > 0) throw new DeleteConflictException('Cannot delete entity, must detach all policies first.');
    if (!(await storage.transaction((tx) => tx.principals.delete(group.arn, group.revision)))) {
      throw new ConflictException(`${group.arn} is being changed by another request. Retry.`);
    }
  }

  /** IAM DeletePolicy: refused while attached to any user, role or group (DeleteConflict, as AWS). */
  async function deletePolicy(caller: Caller, arn: string): Promise<void> {
    policyName(arn, caller.accountId);
    await authorizeOn(caller, 'iam:DeletePolicy', arn);
    const rec = await get(arn, 'policy', `Policy ${arn} was not found.`);
    const all = await storage.read((r) => r.principals.list(caller.accountId));
    if (all.some((p) => ((p.doc as AttachmentDoc).attached ?? []).includes(arn))) {
      throw new DeleteConflictException('Cannot delete a policy attached to entities.');
    }
    if (!(await storage.transaction((tx) => tx.principals.delete(arn, rec.revision)))) {
      throw new ConflictException(`${arn} is being changed by another request. Retry.`);
    }
  }

  async function createPolicy(caller: Caller, name: string, text: string, description?: string, path?: string): Promise<PrincipalRecord> {
    const arn = entityArn(caller.accountId, 'policy', checkName('policyName', name), checkPath(path));
    await authorizeOn(caller, 'iam:CreatePolicy', arn);
    parsePolicy(text, 'identity');
    const doc: ManagedPolicyDoc = { versions: [{ VersionId: 'v1', Document: text, CreateDate: clock.now() }], defaultVersionId: 'v1', nextVersion: 2, ...(description ? { description } : {}) };
    return insert({ arn, accountId: caller.accountId, kind: 'policy', name, createdAt: clock.now(), revision: 1, doc: { ...doc } },
      `A policy called ${name} already exists. Duplicate names are not allowed.`);
  }

  function policyName(arn: string, accountId: string): string {
    const m = /^arn:aws:iam::(\d{12}):policy\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
    if (!m) throw new ValidationException(`ARN ${arn} is not valid.`);
    if (m[1] !== accountId) throw new NotFoundException(`Policy ${arn} does not exist or is not attachable.`);
    return m[2]!;
  }

  async function getPolicy(caller: Caller, arn: string): Promise<PrincipalRecord> {
    policyName(arn, caller.accountId);
    await authorizeOn(caller, 'iam:GetPolicy', arn);
    return get(arn, 'policy', `Policy ${arn} was not found.`);
  }

  async function createPolicyVersion(caller: Caller, arn: string, text: string, setAsDefault: boolean): Promise<PolicyVersion & { IsDefaultVersion: boolean }> {
    policyName(arn, caller.accountId);
    await authorizeOn(caller, 'iam:CreatePolicyVersion', arn);
    parsePolicy(text, 'identity');
    let created: PolicyVersion | undefined;
    await update(arn, 'policy', `Policy ${arn} was not found.`, (raw) => {
      const doc = raw as unknown as ManagedPolicyDoc;
      if (doc.versions.length >= MAX_VERSIONS) {
        throw new LimitExceededException(`A managed policy can have up to ${MAX_VERSIONS} versions. Before you create a new version, you must delete an existing version.`);
      }
      created = { VersionId: `v${doc.nextVersion}`, Document: text, CreateDate: clock.now() };
      return { ...doc, versions: [...doc.versions, created], nextVersion: doc.nextVersion + 1, ...(setAsDefault ? { defaultVersionId: created.VersionId } : {}) };
    });
    return { ...created!, IsDefaultVersion: setAsDefault };
  }

  async function getPolicyVersion(caller: Caller, arn: string, versionId: string): Promise<PolicyVersion & { IsDefaultVersion: boolean }> {
    policyName(arn, caller.accountId);
    await authorizeOn(caller, 'iam:GetPolicyVersion', arn);
    const doc = (await get(arn, 'policy', `Policy ${arn} was not found.`)).doc as unknown as ManagedPolicyDoc;
    const v = doc.versions.find((x) => x.VersionId === versionId);
    if (!v) throw new NotFoundException(`Policy ${arn} version ${versionId} does not exist or is not attachable.`);
    return { ...v, IsDefaultVersion: v.VersionId === doc.defaultVersionId };
  }

  /** IAM ListPolicyVersions: every version of a policy, with which one is the default. */
  async function listPolicyVersions(caller: Caller, arn: string): Promise<(PolicyVersion & { IsDefaultVersion: boolean })[]> {
    policyName(arn, caller.accountId);
    await authorizeOn(caller, 'iam:ListPolicyVersions', arn);
    const doc = (await get(arn, 'policy', `Policy ${arn} was not found.`)).doc as unknown as ManagedPolicyDoc;
    return doc.versions.map((v) => ({ ...v, IsDefaultVersion: v.VersionId === doc.defaultVersionId }));
  }

  /** SetDefaultPolicyVersion / DeletePolicyVersion (AWS: the default version cannot be deleted). */
  async function changeVersion(caller: Caller, arn: string, versionId: string, change: 'setDefault' | 'delete'): Promise<void> {
    policyName(arn, caller.accountId);
    await authorizeOn(caller, change === 'setDefault' ? 'iam:SetDefaultPolicyVersion' : 'iam:DeletePolicyVersion', arn);
    await update(arn, 'policy', `Policy ${arn} was not found.`, (raw) => {
      const doc = raw as unknown as ManagedPolicyDoc;
      if (!doc.versions.some((v) => v.VersionId === versionId)) {
        throw new NotFoundException(`Policy ${arn} version ${versionId} does not exist or is not attachable.`);
      }
      if (change === 'setDefault') return { ...doc, defaultVersionId: versionId };
      if (versionId === doc.defaultVersionId) throw new DeleteConflictException('Cannot delete the default version of a policy.');
      return { ...doc, versions: doc.versions.filter((v) => v.VersionId !== versionId) };
    });
  }

  /** Attach/Detach{User,Role,Group}Policy. */
  async function attach(caller: Caller, kind: 'user' | 'role' | 'group', name: string, policyArn: string, attachIt: boolean): Promise<void> {
    const K = kind === 'user' ? 'User' : kind === 'role' ? 'Role' : 'Group';
    const arn = await arnFor(caller.accountId, kind, checkName(`${kind}Name`, name));
    // AWS: iam:PolicyARN is the managed policy the request attaches or detaches.
    await authorizeOn(caller, `iam:${attachIt ? 'Attach' : 'Detach'}${K}Policy`, arn, { 'iam:PolicyARN': policyArn });
    policyName(policyArn, caller.accountId);
    await get(policyArn, 'policy', `Policy ${policyArn} does not exist or is not attachable.`);
    await update(arn, kind, `The ${kind} with name ${name} cannot be found.`, (doc) => {
      const attached = ((doc as AttachmentDoc).attached ?? []).filter((a) => a !== policyArn);
      if (!attachIt && attached.length === ((doc as AttachmentDoc).attached ?? []).length) {
        throw new NotFoundException(`Policy ${policyArn} was not found.`);
      }
      return { ...doc, attached: attachIt ? [...attached, policyArn] : attached };
    });
  }

  async function listAttached(caller: Caller, kind: 'user' | 'role' | 'group', name: string): Promise<{ PolicyName: string; PolicyArn: string }[]> {
    const K = kind === 'user' ? 'User' : kind === 'role' ? 'Role' : 'Group';
    const arn = await arnFor(caller.accountId, kind, checkName(`${kind}Name`, name));
    await authorizeOn(caller, `iam:ListAttached${K}Policies`, arn);
    const rec = await get(arn, kind, `The ${kind} with name ${name} cannot be found.`);
    return ((rec.doc as AttachmentDoc).attached ?? []).map((a) => ({ PolicyName: a.slice(a.lastIndexOf('/') + 1), PolicyArn: a }));
  }

  return { changeVersion, deleteGroup, deletePolicy, readGroup, deleteGroupPolicy, listEntities, listGroupsForUser, createGroup, getGroup, addUserToGroup, putGroupPolicy, createPolicy, getPolicy, createPolicyVersion, getPolicyVersion, listPolicyVersions, attach, listAttached };
}
