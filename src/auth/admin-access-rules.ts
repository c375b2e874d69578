/**
 * What each TrentAdmin operation (the IAM/STS subset, docs/iam.md) is authorized as. Decided in
 * IamService once the principal's ARN is known (identity policies on `arn:aws:iam::<acct>:user/<name>`
 * or `…:role/<name>`; AssumeRole on the role ARN, with its trust policy). The edge's choke point refuses to
 * start when a routed TrentAdmin operation has no rule here. Condition keys beyond the global ones: the
 * named principal's tags (aws:ResourceTag/…, iam:ResourceTag/…), the request's tags (aws:RequestTag/…,
 * aws:TagKeys) and AssumeRole's sts:RoleSessionName. Not supplied: iam:PermissionsBoundary (no permission
 * boundaries), sts:ExternalId, sts:SourceIdentity, sts:TransitiveTagKeys and session tags (AssumeRole
 * takes none of them).
 */
const RESOURCE = ['aws:ResourceTag/*', 'iam:ResourceTag/*'];
const TAGS = ['aws:RequestTag/*', 'aws:TagKeys'];
const onUser = (action: string, conditionKeys: readonly string[] = RESOURCE) => ({ actions: [`iam:${action}`], resource: 'user', conditionKeys });
const onRole = (action: string, conditionKeys: readonly string[] = RESOURCE) => ({ actions: [`iam:${action}`], resource: 'role', conditionKeys });

export const ADMIN_ACCESS_RULES = {
  CreateUser: onUser('CreateUser', TAGS),
  GetUser: onUser('GetUser'),
  ListUsers: onUser('ListUsers', []),
  PutUserPolicy: onUser('PutUserPolicy'),
  DeleteUserPolicy: onUser('DeleteUserPolicy'),
  TagUser: onUser('TagUser', [...RESOURCE, ...TAGS]),
  CreateAccessKey: onUser('CreateAccessKey'),
  UpdateAccessKey: onUser('UpdateAccessKey'),
  CreateRole: onRole('CreateRole', TAGS),
  GetRole: onRole('GetRole'),
  ListRoles: onRole('ListRoles', []),
  PutRolePolicy: onRole('PutRolePolicy'),
  DeleteRolePolicy: onRole('DeleteRolePolicy'),
  TagRole: onRole('TagRole', [...RESOURCE, ...TAGS]),
  AssumeRole: { actions: ['sts:AssumeRole'], resource: 'role', conditionKeys: ['sts:RoleSessionName', 'aws:ResourceTag/*', 'iam:ResourceTag/*'] },
} as const;
