/**
 * What each TrentAdmin operation (the IAM/STS subset, docs/iam.md) is authorized as. Decided in
 * IamService once the principal's ARN is known (identity policies on `arn:aws:iam::<acct>:user/<name>`
 * or `…:role/<name>`; AssumeRole on the role ARN, with its trust policy). The edge's choke point refuses to
 * start when a routed TrentAdmin operation has no rule here. Condition keys: the global ones only.
 */
const onUser = (action: string) => ({ actions: [`iam:${action}`], resource: 'user', conditionKeys: [] as readonly string[] });
const onRole = (action: string) => ({ actions: [`iam:${action}`], resource: 'role', conditionKeys: [] as readonly string[] });

export const ADMIN_ACCESS_RULES = {
  CreateUser: onUser('CreateUser'),
  GetUser: onUser('GetUser'),
  ListUsers: onUser('ListUsers'),
  PutUserPolicy: onUser('PutUserPolicy'),
  DeleteUserPolicy: onUser('DeleteUserPolicy'),
  TagUser: onUser('TagUser'),
  CreateAccessKey: onUser('CreateAccessKey'),
  CreateRole: onRole('CreateRole'),
  GetRole: onRole('GetRole'),
  ListRoles: onRole('ListRoles'),
  PutRolePolicy: onRole('PutRolePolicy'),
  DeleteRolePolicy: onRole('DeleteRolePolicy'),
  TagRole: onRole('TagRole'),
  AssumeRole: { actions: ['sts:AssumeRole'], resource: 'role', conditionKeys: [] as readonly string[] },
} as const;
