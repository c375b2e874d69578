/**
 * Resource-based policies of services other than KMS (Secrets Manager secret policies) and the key
 * policies of AWS-managed keys. Pure: no I/O.
 */
import type { PolicyDocument, Statement } from './policy-document.ts';

/**
 * Condition keys that pin a statement to known principals or accounts. AWS (Secrets Manager
 * "Block public access", IAM Access Analyzer "public access"): a policy is public when it allows a
 * wildcard principal, unless a condition restricts who may call to specific accounts, principals or an
 * organization. Our check is syntactic (AWS uses Zelkova): any positive condition on one of these keys
 * counts as a restriction.
 */
const NARROWING_KEYS: ReadonlySet<string> = new Set([
  'aws:principalaccount', 'aws:principalarn', 'aws:principalorgid', 'aws:principalorgpaths', 'aws:sourceaccount',
  'aws:sourcearn', 'aws:sourceowner', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:userid', 'aws:username',
  'kms:calleraccount', 'aws:sourceip', 'aws:vpcsourceip',
]);

function narrowed(st: Statement): boolean {
  return st.conditions.some((c) => NARROWING_KEYS.has(c.key.toLowerCase()) && !c.base.startsWith('StringNot') && !c.base.startsWith('ArnNot') && !c.base.startsWith('Not'));
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
