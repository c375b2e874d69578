/**
 * IAM and STS over the AWS query protocol (protocol.ts), on the one IamService: every call is
 * authorised there with its IAM/STS action name, through the Authorizer. Member names, result shapes and
 * defaults follow the IAM (2010-05-08) and STS (2011-06-15) API references: Path "/", ISO 8601 dates,
 * AssumeRolePolicyDocument URL-encoded in role results, lists as <member> with IsTruncated.
 */
import type { IamManaged, ManagedPolicyDoc } from '../../auth/iam-managed.ts';
import { checkPathPrefix, pathOf } from '../../auth/iam-authorization.ts';
import { type IamService, ROLE_MAX_SESSION_SECONDS } from '../../auth/iam-service.ts';
import type { PolicySimulator } from '../../auth/iam-simulate.ts';
import { sha256 } from '../../crypto/primitives.ts';
import { NotFoundException, ValidationException } from '../../errors/errors.ts';
import type { PrincipalKind, PrincipalRecord } from '../../storage/iam-repos.ts';
import { definedMembers } from '../members.ts';
import { defineOperations, type Operation } from '../operation.ts';
import { checkPaging, paginate } from './iam-pagination.ts';
import { queryOperation as op, type QueryInput, type QueryServiceDefinition } from './protocol.ts';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** AWS unique ids (AIDA… users, AROA… roles): 21 characters; here derived from the ARN, stable across nodes. */
export function uniqueId(prefix: 'AIDA' | 'AROA' | 'AGPA' | 'ANPA', arn: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const h = sha256(arn);
  let id = prefix;
  for (let i = 0; id.length < 21; i++) id += alphabet[h[i]! % 32];
  return id;
}

function required(input: QueryInput, name: string, max = 64): string {
  const v = input[name];
  if (v === undefined || v === '') {
    throw new ValidationException(`1 validation error detected: Value null at '${name[0]!.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  }
  if (v.length > max) {
    throw new ValidationException(`1 validation error detected: Value at '${name[0]!.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
  }
  return v;
}

/** `Tags.member.N.Key/Value` → map. */
function tagsOf(input: QueryInput, prefix = 'Tags'): Record<string, string> | undefined {
  const tags: Record<string, string> = {};
  for (let i = 1; input[`${prefix}.member.${i}.Key`] !== undefined; i++) {
    tags[input[`${prefix}.member.${i}.Key`]!] = input[`${prefix}.member.${i}.Value`] ?? '';
  }
  return Object.keys(tags).length > 0 ? tags : undefined;
}

function tagList(rec: PrincipalRecord) {
  const tags = (rec.doc as { tags?: Record<string, string> }).tags ?? {};
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function userView(rec: PrincipalRecord) {
  const tags = tagList(rec);
  return definedMembers({ Path: pathOf(rec.arn), UserName: rec.name, UserId: uniqueId('AIDA', rec.arn), Arn: rec.arn, CreateDate: iso(rec.createdAt), Tags: tags.length ? tags : undefined });
}

function roleView(rec: PrincipalRecord) {
  const tags = tagList(rec);
  const trust = (rec.doc as { assumeRolePolicy?: string }).assumeRolePolicy;
  return definedMembers({
    Path: pathOf(rec.arn), RoleName: rec.name, RoleId: uniqueId('AROA', rec.arn), Arn: rec.arn, CreateDate: iso(rec.createdAt),
    // AWS returns the trust policy URL-encoded (RFC 3986), as it does every policy document.
    AssumeRolePolicyDocument: trust !== undefined ? encodeURIComponent(trust) : undefined,
    MaxSessionDuration: ROLE_MAX_SESSION_SECONDS,
    Tags: tags.length ? tags : undefined,
  });
}

/** The inline-policy operations of users and roles (Put/Get/List/Delete{User,Role}Policy, Tag…). */
function inlinePolicies(kind: PrincipalKind, iam: IamService): Operation[] {
  const K = kind === 'user' ? 'User' : 'Role';
  const nameMember = `${K}Name`;
  return [
    op(`Put${K}Policy`, false, async (input, { caller }) => {
      await iam.putPolicy(caller, kind, {
        name: required(input, nameMember), policyName: required(input, 'PolicyName', 128), policyDocument: required(input, 'PolicyDocument', 131072),
      });
      return undefined;
    }),
    op(`Get${K}Policy`, true, async (input, { caller }) => {
      const name = required(input, nameMember);
      const policyName = required(input, 'PolicyName', 128);
      const rec = await iam.readPrincipal(caller, kind, name, `iam:Get${K}Policy`);
      const text = (rec.doc as { policies?: Record<string, string> }).policies?.[policyName];
      if (text === undefined) {
        throw new NotFoundException(`The ${kind} policy with name ${policyName} cannot be found.`);
      }
      return { [nameMember]: name, PolicyName: policyName, PolicyDocument: encodeURIComponent(text) };
    }),
    op(`List${K}Policies`, true, async (input, { caller }) => {
      checkPaging(input);
      const rec = await iam.readPrincipal(caller, kind, required(input, nameMember), `iam:List${K}Policies`);
      return paginate(input, 'PolicyNames', Object.keys((rec.doc as { policies?: Record<string, string> }).policies ?? {}), (n) => n);
    }),
    op(`Delete${K}Policy`, false, async (input, { caller }) => {
      await iam.deletePolicy(caller, kind, { name: required(input, nameMember), policyName: required(input, 'PolicyName', 128) });
      return undefined;
    }),
    op(`Tag${K}`, false, async (input, { caller }) => {
      await iam.tagPrincipal(caller, kind, { name: required(input, nameMember), tags: tagsOf(input) ?? {} });
      return undefined;
    }),
    op(`Untag${K}`, false, async (input, { caller }) => {
      const keys: string[] = [];
      for (let i = 1; input[`TagKeys.member.${i}`] !== undefined; i++) keys.push(input[`TagKeys.member.${i}`]!);
      await iam.untagPrincipal(caller, kind, { name: required(input, nameMember), tagKeys: keys });
      return undefined;
    }),
    op(`List${K}Tags`, true, async (input, { caller }) => {
      checkPaging(input);
      const rec = await iam.readPrincipal(caller, kind, required(input, nameMember), `iam:List${K}Tags`);
      return paginate(input, 'Tags', tagList(rec), (t) => t.Key);
    }),
  ];
}

/**
 * The IAM query API. Wrapped by the edge's choke point with src/auth/iam-access-rules.ts (app.ts); every
 * operation is decided in the IAM services.
 */
export function iamServiceDefinition(iam: IamService, managed: IamManaged, simulator: PolicySimulator): QueryServiceDefinition {
  return {
    protocol: 'query',
    version: '2010-05-08',
    xmlNamespace: 'https://iam.amazonaws.com/doc/2010-05-08/',
    targetPrefix: 'query:iam',
    signingName: 'iam',
    eventSource: 'iam.amazonaws.com',
    internalErrorCode: 'ServiceFailure',
    operations: defineOperations([
      op('CreateUser', false, async (input, { caller }) => {
        const tags = tagsOf(input);
        return {
          User: userView(await iam.createUser(caller, definedMembers({ userName: required(input, 'UserName'), path: input.Path, tags }))),
        };
      }),
      op('GetUser', true, async (input, { caller }) => {
        // AWS: without UserName, GetUser describes the calling user.
        const name = input.UserName ?? /:user\/(?:.*\/)?([^/]+)$/.exec(caller.principalArn)?.[1];
        if (name === undefined) throw new ValidationException('Must specify userName when calling with non-User credentials');
        return { User: userView(await iam.getPrincipal(caller, 'user', name)) };
      }),
      op('ListUsers', true, async (input, { caller }) => {
        checkPaging(input);
        const prefix = checkPathPrefix(input.PathPrefix);
        return paginate(input, 'Users', (await iam.listPrincipals(caller, 'user')).map(userView).filter((e) => prefix === undefined || e.Path.startsWith(prefix)), (u) => u.Arn);
      }),
      op('CreateRole', false, async (input, { caller }) => {
        const tags = tagsOf(input);
        return {
          Role: roleView(await iam.createRole(caller, definedMembers({
            roleName: required(input, 'RoleName'), path: input.Path, assumeRolePolicyDocument: required(input, 'AssumeRolePolicyDocument', 131072), tags,
          }))),
        };
      }),
      op('UpdateAssumeRolePolicy', false, async (input, { caller }) => {
        await iam.updateAssumeRolePolicy(caller, { roleName: required(input, 'RoleName'), policyDocument: required(input, 'PolicyDocument', 131072) });
        return undefined;
      }),
      op('GetRole', true, async (input, { caller }) => ({ Role: roleView(await iam.getPrincipal(caller, 'role', required(input, 'RoleName'))) })),
      op('ListRoles', true, async (input, { caller }) => {
        checkPaging(input);
        const prefix = checkPathPrefix(input.PathPrefix);
        return paginate(input, 'Roles', (await iam.listPrincipals(caller, 'role')).map(roleView).filter((e) => prefix === undefined || e.Path.startsWith(prefix)), (r) => r.Arn);
      }),
      ...inlinePolicies('user', iam),
      ...inlinePolicies('role', iam),
      op('CreateAccessKey', false, async (input, { caller }) => {
        const userName = required(input, 'UserName');
        const pair = await iam.createAccessKey(caller, { userName });
        return {
          AccessKey: { UserName: userName, AccessKeyId: pair.accessKeyId, Status: 'Active', SecretAccessKey: pair.secretAccessKey, CreateDate: iso(pair.createdAt) },
        };
      }),
      ...managedOperations(managed),
      simulatePrincipalPolicy(simulator),
      op('ListAccessKeys', true, async (input, { caller }) => {
        const userName = required(input, 'UserName');
        checkPaging(input);
        const keys = await iam.listAccessKeys(caller, userName);
        return paginate(input, 'AccessKeyMetadata',
          keys.map((k) => ({ UserName: userName, AccessKeyId: k.accessKeyId, Status: k.status, CreateDate: iso(k.createdAt) })), (k) => k.AccessKeyId);
      }),
      op('GetAccessKeyLastUsed', true, async (input, { caller }) => {
        const { userName, lastUsed } = await iam.accessKeyLastUsed(caller, required(input, 'AccessKeyId', 128));
        // AWS: before the first use, ServiceName and Region are "N/A" and LastUsedDate is absent.
        return {
          UserName: userName,
          AccessKeyLastUsed: lastUsed
            ? { LastUsedDate: iso(lastUsed.date), ServiceName: lastUsed.service, Region: lastUsed.region }
            : { ServiceName: 'N/A', Region: 'N/A' },
        };
      }),
      op('DeleteAccessKey', false, async (input, { caller }) => {
        await iam.deleteAccessKey(caller, { userName: required(input, 'UserName'), accessKeyId: required(input, 'AccessKeyId', 128) });
        return undefined;
      }),
      op('UpdateUser', false, async (input, { caller }) => {
        // Trent keeps every path "/": NewPath is accepted only as "/".
        if (input.NewPath !== undefined && input.NewPath !== '/') throw new ValidationException('Trent supports only the path "/".');
        const userName = required(input, 'UserName');
        if (input.NewUserName !== undefined) await iam.renameUser(caller, { userName, newUserName: required(input, 'NewUserName') });
        // Nothing to change is still iam:UpdateUser on an existing user, decided like the rest.
        else await iam.readPrincipal(caller, 'user', userName, 'iam:UpdateUser');
        return undefined;
      }),
      op('DeleteUser', false, async (input, { caller }) => {
        await iam.deletePrincipal(caller, 'user', required(input, 'UserName'));
        return undefined;
      }),
      op('DeleteRole', false, async (input, { caller }) => {
        await iam.deletePrincipal(caller, 'role', required(input, 'RoleName'));
        return undefined;
      }),
      op('UpdateAccessKey', false, async (input, { caller }) => {
        const status = required(input, 'Status');
        if (status !== 'Active' && status !== 'Inactive') {
          throw new ValidationException(`1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]`);
        }
        await iam.updateAccessKey(caller, { userName: required(input, 'UserName'), accessKeyId: required(input, 'AccessKeyId', 128), status });
        return undefined;
      }),
    ]),
  };
}

function policyView(rec: PrincipalRecord) {
  const doc = rec.doc as unknown as ManagedPolicyDoc;
  return definedMembers({
    PolicyName: rec.name, PolicyId: uniqueId('ANPA', rec.arn), Arn: rec.arn, Path: pathOf(rec.arn), DefaultVersionId: doc.defaultVersionId,
    AttachmentCount: undefined, IsAttachable: true, Description: doc.description || undefined,
    CreateDate: iso(rec.createdAt), UpdateDate: iso(Math.max(...doc.versions.map((v) => v.CreateDate))),
  });
}

function groupView(g: PrincipalRecord) {
  return { Path: pathOf(g.arn), GroupName: g.name, GroupId: uniqueId('AGPA', g.arn), Arn: g.arn, CreateDate: iso(g.createdAt) };
}

function versionView(v: { VersionId: string; Document: string; CreateDate: number; IsDefaultVersion: boolean }) {
  return { Document: encodeURIComponent(v.Document), VersionId: v.VersionId, IsDefaultVersion: v.IsDefaultVersion, CreateDate: iso(v.CreateDate) };
}

/** `Name.member.1`, `Name.member.2`, … in order. */
function listOf(input: QueryInput, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; input[`${name}.member.${i}`] !== undefined; i++) out.push(input[`${name}.member.${i}`]!);
  return out;
}

/** Members of SimulatePrincipalPolicy Trent's simulator does not take (src/auth/iam-simulate.ts says what it covers). */
const UNSUPPORTED_SIMULATION_INPUTS = ['ContextEntries', 'PolicyInputList', 'PermissionsBoundaryPolicyInputList', 'ResourcePolicy', 'ResourceOwner', 'CallerArn'];

/**
 * IAM SimulatePrincipalPolicy. AWS: one EvaluationResult per action, EvalDecision the most restrictive over
 * the resources, each resource's in ResourceSpecificResults; MatchedStatements is not returned.
 */
function simulatePrincipalPolicy(simulator: PolicySimulator): Operation {
  return op('SimulatePrincipalPolicy', true, async (input, { caller }) => {
    const unsupported = UNSUPPORTED_SIMULATION_INPUTS.find((m) => Object.keys(input).some((k) => k === m || k.startsWith(`${m}.`)));
    if (unsupported !== undefined) throw new ValidationException(`Trent's policy simulator does not support ${unsupported}.`);
    checkPaging(input);
    const results = await simulator.simulatePrincipalPolicy(caller, {
      policySourceArn: required(input, 'PolicySourceArn', 2048), actionNames: listOf(input, 'ActionNames'), resourceArns: listOf(input, 'ResourceArns'),
    });
    const views = results.map((r) => definedMembers({
      EvalActionName: r.action,
      EvalResourceName: r.resources.length === 1 ? r.resources[0]!.arn : '*',
      EvalDecision: r.decision,
      ResourceSpecificResults: r.resources.length === 1 && r.resources[0]!.arn === '*'
        ? undefined
        : r.resources.map((x) => ({ EvalResourceName: x.arn, EvalResourceDecision: x.decision })),
    }));
    // In the order the actions were asked (the marker is the position, not the name).
    const position = new Map(views.map((v, i) => [v, String(i).padStart(4, '0')]));
    return paginate(input, 'EvaluationResults', views, (v) => position.get(v)!);
  });
}

/** Groups and managed policies (src/auth/iam-managed.ts). */
function managedOperations(m: IamManaged): Operation[] {
  const kinds = [['User', 'user'], ['Role', 'role'], ['Group', 'group']] as const;
  return [
    op('CreateGroup', false, async (input, { caller }) => {
      return { Group: groupView(await m.createGroup(caller, required(input, 'GroupName', 128), input.Path)) };
    }),
    op('GetGroup', true, async (input, { caller }) => {
      checkPaging(input);
      const { group: g, users } = await m.getGroup(caller, required(input, 'GroupName', 128));
      return { Group: groupView(g), ...paginate(input, 'Users', users.map(userView), (u) => u.Arn) };
    }),
    op('AddUserToGroup', false, async (input, { caller }) => {
      await m.addUserToGroup(caller, required(input, 'GroupName', 128), required(input, 'UserName'), true);
      return undefined;
    }),
    op('RemoveUserFromGroup', false, async (input, { caller }) => {
      await m.addUserToGroup(caller, required(input, 'GroupName', 128), required(input, 'UserName'), false);
      return undefined;
    }),
    op('DeleteGroup', false, async (input, { caller }) => {
      await m.deleteGroup(caller, required(input, 'GroupName', 128));
      return undefined;
    }),
    op('DeletePolicy', false, async (input, { caller }) => {
      await m.deletePolicy(caller, required(input, 'PolicyArn', 2048));
      return undefined;
    }),
    op('GetGroupPolicy', true, async (input, { caller }) => {
      const groupName = required(input, 'GroupName', 128);
      const policyName = required(input, 'PolicyName', 128);
      const text = ((await m.readGroup(caller, groupName, 'iam:GetGroupPolicy')).doc as { policies?: Record<string, string> }).policies?.[policyName];
      if (text === undefined) throw new NotFoundException(`The group policy with name ${policyName} cannot be found.`);
      return { GroupName: groupName, PolicyName: policyName, PolicyDocument: encodeURIComponent(text) };
    }),
    op('ListGroupPolicies', true, async (input, { caller }) => {
      checkPaging(input);
      const rec = await m.readGroup(caller, required(input, 'GroupName', 128), 'iam:ListGroupPolicies');
      return paginate(input, 'PolicyNames', Object.keys((rec.doc as { policies?: Record<string, string> }).policies ?? {}), (n) => n);
    }),
    op('DeleteGroupPolicy', false, async (input, { caller }) => {
      await m.deleteGroupPolicy(caller, required(input, 'GroupName', 128), required(input, 'PolicyName', 128));
      return undefined;
    }),
    op('ListGroups', true, async (input, { caller }) => {
      checkPaging(input);
      const prefix = checkPathPrefix(input.PathPrefix);
      return paginate(input, 'Groups', (await m.listEntities(caller, 'group')).map(groupView).filter((e) => prefix === undefined || e.Path.startsWith(prefix)), (g) => g.Arn);
    }),
    op('ListGroupsForUser', true, async (input, { caller }) => {
      checkPaging(input);
      return paginate(input, 'Groups', (await m.listGroupsForUser(caller, required(input, 'UserName'))).map(groupView), (g) => g.Arn);
    }),
    op('ListPolicies', true, async (input, { caller }) => {
      checkPaging(input);
      const prefix = checkPathPrefix(input.PathPrefix);
      return paginate(input, 'Policies', (await m.listEntities(caller, 'policy')).map(policyView).filter((e) => prefix === undefined || e.Path.startsWith(prefix)), (p) => p.Arn);
    }),
    op('PutGroupPolicy', false, async (input, { caller }) => {
      await m.putGroupPolicy(caller, required(input, 'GroupName', 128), required(input, 'PolicyName', 128), required(input, 'PolicyDocument', 131072));
      return undefined;
    }),
    op('CreatePolicy', false, async (input, { caller }) => ({
      Policy: policyView(await m.createPolicy(caller, required(input, 'PolicyName', 128), required(input, 'PolicyDocument', 131072), input.Description, input.Path)),
    })),
    op('GetPolicy', true, async (input, { caller }) => ({ Policy: policyView(await m.getPolicy(caller, required(input, 'PolicyArn', 2048))) })),
    op('CreatePolicyVersion', false, async (input, { caller }) => ({
      PolicyVersion: versionView(await m.createPolicyVersion(caller, required(input, 'PolicyArn', 2048), required(input, 'PolicyDocument', 131072), input.SetAsDefault === 'true')),
    })),
    op('SetDefaultPolicyVersion', false, async (input, { caller }) => {
      await m.changeVersion(caller, required(input, 'PolicyArn', 2048), required(input, 'VersionId', 128), 'setDefault');
      return undefined;
    }),
    op('DeletePolicyVersion', false, async (input, { caller }) => {
      await m.changeVersion(caller, required(input, 'PolicyArn', 2048), required(input, 'VersionId', 128), 'delete');
      return undefined;
    }),
    op('ListPolicyVersions', true, async (input, { caller }) => {
      checkPaging(input);
      const versions = await m.listPolicyVersions(caller, required(input, 'PolicyArn', 2048));
      // Ordered by version number (v2 before v10), newest last.
      // AWS: ListPolicyVersions does not return the documents (GetPolicyVersion does).
      const views = versions.map((v) => ({ VersionId: v.VersionId, IsDefaultVersion: v.IsDefaultVersion, CreateDate: iso(v.CreateDate) }));
      return paginate(input, 'Versions', views, (v) => v.VersionId.slice(1).padStart(10, '0'));
    }),
    op('GetPolicyVersion', true, async (input, { caller }) => ({
      PolicyVersion: versionView(await m.getPolicyVersion(caller, required(input, 'PolicyArn', 2048), required(input, 'VersionId', 128))),
    })),
    ...kinds.flatMap(([K, kind]) => [
      op(`Attach${K}Policy`, false, async (input, { caller }) => {
        await m.attach(caller, kind, required(input, `${K}Name`, 128), required(input, 'PolicyArn', 2048), true);
        return undefined;
      }),
      op(`Detach${K}Policy`, false, async (input, { caller }) => {
        await m.attach(caller, kind, required(input, `${K}Name`, 128), required(input, 'PolicyArn', 2048), false);
        return undefined;
      }),
      op(`ListAttached${K}Policies`, true, async (input, { caller }) => {
        checkPaging(input);
        return paginate(input, 'AttachedPolicies', await m.listAttached(caller, kind, required(input, `${K}Name`, 128)), (p) => p.PolicyArn);
      }),
    ]),
  ];
}

/** The STS query API (rules: src/auth/iam-access-rules.ts). */
export function stsServiceDefinition(iam: IamService): QueryServiceDefinition {
  return {
    protocol: 'query',
    version: '2011-06-15',
    xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/',
    targetPrefix: 'query:sts',
    signingName: 'sts',
    eventSource: 'sts.amazonaws.com',
    internalErrorCode: 'InternalFailure',
    operations: defineOperations([
      // AWS: GetCallerIdentity needs no permission; an explicit Deny cannot stop it.
      op('GetCallerIdentity', true, async (_input, { caller }) => {
        const session = /:assumed-role\/([^/]+)\/(.+)$/.exec(caller.principalArn);
        const userId = session
          ? `${uniqueId('AROA', caller.roleArn ?? `arn:aws:iam::${caller.accountId}:role/${session[1]}`)}:${session[2]}`
          : caller.principalArn.endsWith(':root') ? caller.accountId : uniqueId('AIDA', caller.principalArn);
        return { UserId: userId, Account: caller.accountId, Arn: caller.principalArn };
      }),
      op('GetSessionToken', false, async (input, { caller }) => {
        const duration = input.DurationSeconds !== undefined ? Number(input.DurationSeconds) : undefined;
        if (duration !== undefined && (!Number.isInteger(duration) || duration < 900 || duration > 129_600)) {
          throw new ValidationException(`1 validation error detected: Value '${input.DurationSeconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 129600`);
        }
        const c = await iam.getSessionToken(caller, duration);
        return { Credentials: { AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken, Expiration: iso(c.expiration) } };
      }),
      op('AssumeRole', false, async (input, { caller }) => {
        const roleArn = required(input, 'RoleArn', 2048);
        const sessionName = required(input, 'RoleSessionName');
        const duration = input.DurationSeconds !== undefined ? Number(input.DurationSeconds) : undefined;
        if (duration !== undefined && (!Number.isInteger(duration) || duration < 900 || duration > 43200)) {
          throw new ValidationException(`1 validation error detected: Value '${input.DurationSeconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`);
        }
        const policyArns: string[] = [];
        for (let i = 1; input[`PolicyArns.member.${i}.arn`] !== undefined; i++) policyArns.push(input[`PolicyArns.member.${i}.arn`]!);
        const tags = tagsOf(input);
        const c = await iam.assumeRole(caller, definedMembers({
          roleArn,
          roleSessionName: sessionName,
          durationSeconds: duration,
          externalId: input.ExternalId,
          sourceIdentity: input.SourceIdentity,
          policy: input.Policy,
          policyArns: policyArns.length > 0 ? policyArns : undefined,
          tags,
        }));
        return definedMembers({
          Credentials: { AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken, Expiration: iso(c.expiration) },
          AssumedRoleUser: { AssumedRoleId: `${uniqueId('AROA', roleArn)}:${sessionName}`, Arn: c.assumedRoleArn },
          SourceIdentity: input.SourceIdentity,
        });
      }),
    ]),
  };
}
