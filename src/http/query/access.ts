/**
 * What each IAM and STS operation needs (AWS Service Authorization Reference, "Actions, resources, and
 * condition keys for AWS Identity and Access Management" and "… for AWS Security Token Service"):
 * `iam:<Operation>` on the entity the request names — `arn:aws:iam::<account>:user|role|group|policy/<name>`
 * (IAM is global: no region) — or on "*" for the account-wide lists. Checked at the edge by the one
 * choke point (withServiceAccessControl) before the operation runs; the IAM service checks again with the
 * same action (it also serves the TrentAdmin API).
 *
 * STS: GetCallerIdentity needs no permission (AWS: "No permissions are required to perform this
 * operation"); AssumeRole and GetSessionToken are decided in the IAM service, because AssumeRole's
 * resource policy is the role's trust policy, read there.
 */
import type { Caller } from '../../auth/caller.ts';
import { ValidationException } from '../../errors/errors.ts';
import { type AccessCheck, type AccessRule, anyResource, type ServiceAccess } from '../access-control.ts';

type Entity = 'user' | 'role' | 'group' | 'policy';

function member(input: Record<string, unknown>, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v === '') {
    throw new ValidationException(`1 validation error detected: Value null at '${name[0]!.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  }
  return v;
}

/** `iam:<action>` on the entity named by `nameMember` (a PolicyArn is the ARN itself). */
function on(entity: Entity, nameMember: string, action: string): AccessRule {
  return async (input, caller) => {
    const name = member(input, nameMember);
    const arn = nameMember === 'PolicyArn' ? name : `arn:aws:iam::${caller.accountId}:${entity}/${name}`;
    return [{ action: `iam:${action}`, resource: { arn, accountId: caller.accountId } }];
  };
}

function anywhere(action: string): AccessRule {
  return async (_input, caller: Caller): Promise<readonly AccessCheck[]> => [{ action: `iam:${action}`, resource: anyResource(caller) }];
}

const same = (entity: Entity, nameMember: string) => (action: string) => on(entity, nameMember, action);
const user = same('user', 'UserName');
const role = same('role', 'RoleName');
const group = same('group', 'GroupName');
const policyArn = same('policy', 'PolicyArn');

export const IAM_RULES: Readonly<Record<string, AccessRule>> = {
  CreateUser: user('CreateUser'),
  // AWS: without UserName, GetUser describes the caller (on the caller's own ARN).
  GetUser: async (input, caller) => (input.UserName === undefined
    ? [{ action: 'iam:GetUser', resource: { arn: caller.principalArn, accountId: caller.accountId } }]
    : user('GetUser')(input, caller)),
  ListUsers: anywhere('ListUsers'),
  CreateAccessKey: user('CreateAccessKey'),
  UpdateAccessKey: user('UpdateAccessKey'),
  ListAccessKeys: user('ListAccessKeys'),
  DeleteAccessKey: user('DeleteAccessKey'),
  DeleteUser: user('DeleteUser'),
  UpdateUser: user('UpdateUser'),
  DeleteRole: role('DeleteRole'),
  DeleteGroup: group('DeleteGroup'),
  DeletePolicy: policyArn('DeletePolicy'),
  PutUserPolicy: user('PutUserPolicy'),
  GetUserPolicy: user('GetUserPolicy'),
  ListUserPolicies: user('ListUserPolicies'),
  DeleteUserPolicy: user('DeleteUserPolicy'),
  TagUser: user('TagUser'),
  UntagUser: user('UntagUser'),
  ListGroupsForUser: user('ListGroupsForUser'),
  ListUserTags: user('ListUserTags'),
  CreateRole: role('CreateRole'),
  GetRole: role('GetRole'),
  ListRoles: anywhere('ListRoles'),
  PutRolePolicy: role('PutRolePolicy'),
  GetRolePolicy: role('GetRolePolicy'),
  ListRolePolicies: role('ListRolePolicies'),
  DeleteRolePolicy: role('DeleteRolePolicy'),
  TagRole: role('TagRole'),
  UntagRole: role('UntagRole'),
  UpdateAssumeRolePolicy: role('UpdateAssumeRolePolicy'),
  ListRoleTags: role('ListRoleTags'),
  CreateGroup: group('CreateGroup'),
  GetGroup: group('GetGroup'),
  AddUserToGroup: group('AddUserToGroup'),
  RemoveUserFromGroup: group('RemoveUserFromGroup'),
  PutGroupPolicy: group('PutGroupPolicy'),
  GetGroupPolicy: group('GetGroupPolicy'),
  ListGroupPolicies: group('ListGroupPolicies'),
  DeleteGroupPolicy: group('DeleteGroupPolicy'),
  ListGroups: anywhere('ListGroups'),
  ListPolicies: anywhere('ListPolicies'),
  CreatePolicy: on('policy', 'PolicyName', 'CreatePolicy'),
  GetPolicy: policyArn('GetPolicy'),
  CreatePolicyVersion: policyArn('CreatePolicyVersion'),
  GetPolicyVersion: policyArn('GetPolicyVersion'),
  SetDefaultPolicyVersion: policyArn('SetDefaultPolicyVersion'),
  DeletePolicyVersion: policyArn('DeletePolicyVersion'),
  AttachUserPolicy: user('AttachUserPolicy'),
  DetachUserPolicy: user('DetachUserPolicy'),
  ListAttachedUserPolicies: user('ListAttachedUserPolicies'),
  AttachRolePolicy: role('AttachRolePolicy'),
  DetachRolePolicy: role('DetachRolePolicy'),
  ListAttachedRolePolicies: role('ListAttachedRolePolicies'),
  AttachGroupPolicy: group('AttachGroupPolicy'),
  DetachGroupPolicy: group('DetachGroupPolicy'),
  ListAttachedGroupPolicies: group('ListAttachedGroupPolicies'),
};

export const STS_RULES: Readonly<Record<string, AccessRule>> = {
  GetCallerIdentity: async () => [],
  AssumeRole: async () => [],
  GetSessionToken: async () => [],
};

/** IAM and STS call no KMS on the caller's behalf; a KMS refusal cannot occur and passes through. */
export function queryServiceAccess(viaService: 'iam' | 'sts', rules: Readonly<Record<string, AccessRule>>): ServiceAccess {
  return { viaService, rules, kmsDenied: (err) => err };
}
