/**
 * What each IAM and STS operation of the query API (src/http/query/iam-sts.ts) is authorized as. Like
 * TrentAdmin's (admin-access-rules.ts), every one is decided in the IAM services (iam-service.ts,
 * iam-managed.ts) once the entity's ARN is known, through iam-authorization.ts; the edge's choke point
 * refuses to start when a routed operation has no rule here.
 *
 * AWS: Service Authorization Reference, "Actions, resources, and condition keys for AWS Identity and Access
 * Management" and "… for AWS Security Token Service". Supplied: a user's or role's tags
 * (aws:ResourceTag/…, iam:ResourceTag/…), the request's tags (aws:RequestTag/…, aws:TagKeys),
 * iam:PolicyARN on Attach/Detach…Policy, and AssumeRole's sts:RoleSessionName, sts:ExternalId and
 * sts:SourceIdentity. Groups and managed policies carry no tags in Trent. Not supplied:
 * iam:PermissionsBoundary (no permission boundaries), iam:PassedToService (no iam:PassRole),
 * iam:OrganizationsPolicyId, sts:TransitiveTagKeys (no role chaining of tags).
 * GetCallerIdentity and GetSessionToken need no permission (AWS: "No permissions are required to perform
 * this operation"): their rule names no action.
 */
const RESOURCE = ['aws:ResourceTag/*', 'iam:ResourceTag/*'];
const TAGS = ['aws:RequestTag/*', 'aws:TagKeys'];
type Kind = 'user' | 'role' | 'group' | 'policy';
const on = (kind: Kind, action: string, conditionKeys: readonly string[] = kind === 'user' || kind === 'role' ? RESOURCE : []) =>
  ({ actions: [`iam:${action}`], resource: kind, conditionKeys });
/** The account-wide lists: on "*", decided in the service with identity policies alone (no entity, no keys). */
const list = (kind: Kind, action: string) => on(kind, action, []);

/** The operations of users and roles, named alike (`Get${K}Policy`, …). */
function principalRules(K: 'User' | 'Role') {
  const kind = K === 'User' ? 'user' : 'role';
  return {
    [`Create${K}`]: on(kind, `Create${K}`, TAGS),
    [`Get${K}`]: on(kind, `Get${K}`),
    [`Delete${K}`]: on(kind, `Delete${K}`),
    [`Put${K}Policy`]: on(kind, `Put${K}Policy`),
    [`Get${K}Policy`]: on(kind, `Get${K}Policy`),
    [`List${K}Policies`]: on(kind, `List${K}Policies`),
    [`Delete${K}Policy`]: on(kind, `Delete${K}Policy`),
    [`Tag${K}`]: on(kind, `Tag${K}`, [...RESOURCE, ...TAGS]),
    [`Untag${K}`]: on(kind, `Untag${K}`, [...RESOURCE, 'aws:TagKeys']),
    [`List${K}Tags`]: on(kind, `List${K}Tags`),
    [`Attach${K}Policy`]: on(kind, `Attach${K}Policy`, [...RESOURCE, 'iam:PolicyARN']),
    [`Detach${K}Policy`]: on(kind, `Detach${K}Policy`, [...RESOURCE, 'iam:PolicyARN']),
    [`ListAttached${K}Policies`]: on(kind, `ListAttached${K}Policies`),
  };
}

export const IAM_ACCESS_RULES = {
  ...principalRules('User'),
  ...principalRules('Role'),
  ListUsers: list('user', 'ListUsers'),
  ListRoles: list('role', 'ListRoles'),
  ListGroups: list('group', 'ListGroups'),
  ListPolicies: list('policy', 'ListPolicies'),
  UpdateUser: on('user', 'UpdateUser'),
  ListGroupsForUser: on('user', 'ListGroupsForUser'),
  CreateAccessKey: on('user', 'CreateAccessKey'),
  UpdateAccessKey: on('user', 'UpdateAccessKey'),
  ListAccessKeys: on('user', 'ListAccessKeys'),
  GetAccessKeyLastUsed: on('user', 'GetAccessKeyLastUsed'),
  DeleteAccessKey: on('user', 'DeleteAccessKey'),
  UpdateAssumeRolePolicy: on('role', 'UpdateAssumeRolePolicy'),
  CreateGroup: on('group', 'CreateGroup'),
  GetGroup: on('group', 'GetGroup'),
  DeleteGroup: on('group', 'DeleteGroup'),
  AddUserToGroup: on('group', 'AddUserToGroup'),
  RemoveUserFromGroup: on('group', 'RemoveUserFromGroup'),
  PutGroupPolicy: on('group', 'PutGroupPolicy'),
  GetGroupPolicy: on('group', 'GetGroupPolicy'),
  ListGroupPolicies: on('group', 'ListGroupPolicies'),
  DeleteGroupPolicy: on('group', 'DeleteGroupPolicy'),
  AttachGroupPolicy: on('group', 'AttachGroupPolicy', ['iam:PolicyARN']),
  DetachGroupPolicy: on('group', 'DetachGroupPolicy', ['iam:PolicyARN']),
  ListAttachedGroupPolicies: on('group', 'ListAttachedGroupPolicies'),
  CreatePolicy: on('policy', 'CreatePolicy'),
  GetPolicy: on('policy', 'GetPolicy'),
  DeletePolicy: on('policy', 'DeletePolicy'),
  CreatePolicyVersion: on('policy', 'CreatePolicyVersion'),
  GetPolicyVersion: on('policy', 'GetPolicyVersion'),
  ListPolicyVersions: on('policy', 'ListPolicyVersions'),
  SetDefaultPolicyVersion: on('policy', 'SetDefaultPolicyVersion'),
  DeletePolicyVersion: on('policy', 'DeletePolicyVersion'),
  // On the simulated user, role or group (its own ARN for a principal simulating itself). Decided with
  // identity policies alone, without the entity's tags (iam-simulate.ts).
  SimulatePrincipalPolicy: on('user', 'SimulatePrincipalPolicy', []),
} as const;

export const STS_ACCESS_RULES = {
  GetCallerIdentity: { actions: [], resource: 'none', conditionKeys: [] as readonly string[] },
  GetSessionToken: { actions: [], resource: 'none', conditionKeys: [] as readonly string[] },
  // sts:TagSession only when the request passes session tags (iam-service.ts assumeRole).
  AssumeRole: {
    actions: ['sts:AssumeRole', 'sts:TagSession'], resource: 'role',
    conditionKeys: ['sts:RoleSessionName', 'sts:ExternalId', 'sts:SourceIdentity', ...RESOURCE, ...TAGS],
  },
} as const;
