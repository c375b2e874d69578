/**
 * Resource-based policies of services other than KMS (Secrets Manager secret policies) and the key
 * policies of AWS-managed keys. Pure: no I/O.
 */
import { type ConditionClause, isNegatedOperator } from './conditions.ts';
import type { PolicyDocument, Statement } from './policy-document.ts';

/**
 * Condition keys that pin a statement to known principals, accounts or networks. AWS (Secrets Manager
 * "Block public access", IAM Access Analyzer "public access"): a policy is public when it allows a
 * wildcard principal, unless a condition restricts who may call to specific accounts, principals, an
 * organization or a network. Our check is syntactic (AWS uses Zelkova), so it counts a condition as a
 * restriction only when it must hold and every value it allows is fixed (`narrows`): a positive operator,
 * not …IfExists (true when the key is absent), not Null, not ForAllValues (true when absent), and values
 * without a wildcard where one would reach any account — `aws:PrincipalAccount` "*", an ARN of account
 * "*", an IP range of 0.0.0.0/0 all allow everyone.
 */
const ACCOUNT_KEYS: ReadonlySet<string> = new Set(['aws:principalaccount', 'aws:sourceaccount', 'aws:sourceowner', 'kms:calleraccount']);
const ARN_KEYS: ReadonlySet<string> = new Set(['aws:principalarn', 'aws:sourcearn']);
const ID_KEYS: ReadonlySet<string> = new Set(['aws:principalorgid', 'aws:principalorgpaths', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:userid', 'aws:username']);
const NETWORK_KEYS: ReadonlySet<string> = new Set(['aws:sourceip', 'aws:vpcsourceip']);

const hasWildcard = (v: string) => v.includes('*') || v.includes('?');
const isAccountId = (v: string) => /^\d{12}$/.test(v);

/** A CIDR no broader than /8 (IPv4) or /32 (IPv6), as S3's "fixed values" for aws:SourceIp; a bare address is fixed. */
function fixedNetwork(v: string): boolean {
  const [address = '', bits] = v.split('/');
  if (bits === undefined) return address.length > 0;
  const prefix = Number(bits);
  return Number.isInteger(prefix) && prefix >= (address.includes(':') ? 32 : 8);
}

function narrows(c: ConditionClause): boolean {
  if (isNegatedOperator(c.base) || c.ifExists || c.base === 'Null' || c.qualifier === 'ForAllValues' || c.values.length === 0) return false;
  const key = c.key.toLowerCase();
  if (ACCOUNT_KEYS.has(key)) return c.values.every(isAccountId);
  // The account field of each ARN pattern: arn:partition:service:region:ACCOUNT:resource.
  if (ARN_KEYS.has(key)) return c.values.every((v) => isAccountId(v.split(':')[4] ?? ''));
  if (NETWORK_KEYS.has(key)) return c.base === 'IpAddress' && c.values.every(fixedNetwork);
  // An organization path may end in a wildcard below its fixed organization id.
  if (key === 'aws:principalorgpaths') return c.values.every((v) => /^o-[a-z0-9]+\//.test(v) && !hasWildcard(v.split('/')[0]!));
  if (ID_KEYS.has(key)) return c.values.every((v) => v.length > 0 && !hasWildcard(v));
  return false;
}

function narrowed(st: Statement): boolean {
  return st.conditions.some(narrows);
}

/** True when an Allow statement of `doc` reaches principals by wildcard ("*", {"AWS":"*"}, NotPrincipal). */
export function grantsPublicAccess(doc: PolicyDocument): boolean {
  return doc.statements.some((st) => {
    if (st.effect !== 'Allow' || narrowed(st)) return false;
    if (st.notPrincipal) return true;
    return st.principal !== undefined && (st.principal.everyone || st.principal.aws.includes('*'));
  });
}

/**
 * AWS: the key policy of an AWS-managed key `alias/aws/<service>` (e.g. "auto-secretsmanager-2",
 * "auto-ssm-1"): every principal of the account may use the key through the service
 * (kms:ViaService + kms:CallerAccount), and the account may read the key's metadata directly. Nobody
 * may use it directly, and no other account may use it at all.
 */
export function awsManagedKeyPolicyText(accountId: string, region: string, service: string, partition = 'aws'): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: `auto-${service}`,
    Statement: [
      {
        Sid: `Allow access through ${service} for all principals in the account that are authorized to use ${service}`,
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': accountId, 'kms:ViaService': `${service}.${region}.amazonaws.com` } },
      },
      {
        Sid: 'Allow direct access to key metadata to the account',
        Effect: 'Allow',
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'],
        Resource: '*',
      },
    ],
  }, null, 2);
}
