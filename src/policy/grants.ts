/**
 * Grants: which operations a grant permits, to whom, under which encryption-context constraints.
 *
 * AWS (GrantConstraints, CreateGrant API reference):
 * - A grant permits only its listed operations, only on its key, only to its grantee principal.
 * - Constraints apply only to operations that take an encryption context; for others (DescribeKey,
 *   RetireGrant, Sign, …) they are ignored.
 * - EncryptionContextEquals: the request's context is exactly the constraint (same pairs, no more).
 *   EncryptionContextSubset: every constraint pair is in the request's context (more pairs are fine).
 *   In a constraint the *key* of each pair is case-insensitive and the *value* case-sensitive.
 * - Who may retire a grant: its retiring principal, its grantee if the grant includes RetireGrant, and
 *   the account (root user) the grant was created in.
 */
import type { CallerPrincipal } from './context.ts';
import { type PrincipalMatch, matchPrincipalString } from './matching.ts';

export const GRANT_OPERATIONS = [
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo',
  'Sign', 'Verify', 'GetPublicKey', 'CreateGrant', 'RetireGrant', 'DescribeKey',
  'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'GenerateMac', 'VerifyMac', 'DeriveSharedSecret',
] as const;
export type GrantOperation = (typeof GRANT_OPERATIONS)[number];

/** Operations that take an encryption context, and so are subject to grant constraints. */
const CONTEXT_OPERATIONS: ReadonlySet<string> = new Set([
  'Encrypt', 'Decrypt', 'ReEncryptFrom', 'ReEncryptTo', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext',
  'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext',
]);

export interface GrantConstraints {
  readonly encryptionContextEquals?: Readonly<Record<string, string>>;
  readonly encryptionContextSubset?: Readonly<Record<string, string>>;
}

/** A grant as stored. Trusted: created through CreateGrant, which validated it. */
export interface Grant {
  readonly grantId?: string;
  readonly keyArn: string;
  readonly granteePrincipal: string;
  readonly retiringPrincipal?: string;
  readonly operations: readonly string[];
  readonly constraints?: GrantConstraints;
}

/** 'kms:Encrypt' → 'Encrypt'; undefined for a non-KMS action. */
export function grantOperationOf(action: string): string | undefined {
  const m = /^kms:(.+)$/i.exec(action);
  return m ? m[1] : undefined;
}

export function isGrantOperation(op: string): op is GrantOperation {
  return (GRANT_OPERATIONS as readonly string[]).includes(op);
}

/** Whether the request's encryption context satisfies the grant's constraints for this operation. */
export function constraintsSatisfied(
  operation: string,
  constraints: GrantConstraints | undefined,
  encryptionContext: Readonly<Record<string, string>> | undefined,
): boolean {
  if (!constraints || !CONTEXT_OPERATIONS.has(operation)) return true;
  // AWS: a constraint's keys are matched case-insensitively, its values exactly. A request whose context
  // holds two keys differing only in case must satisfy the pair with every one of them (AWS advises
  // against such contexts; neither may slip past a constraint), and is never "equal" to fewer pairs.
  const pairs = Object.entries(encryptionContext ?? {});
  const request = new Map<string, string[]>();
  for (const [k, v] of pairs) {
    const lower = k.toLowerCase();
    const values = request.get(lower);
    if (values) values.push(v);
    else request.set(lower, [v]);
  }
  const contains = (required: Readonly<Record<string, string>>) =>
    Object.entries(required).every(([k, v]) => request.get(k.toLowerCase())?.every((x) => x === v) === true);
  const { encryptionContextEquals: equals, encryptionContextSubset: subset } = constraints;
  if (equals !== undefined) {
    const size = new Set(Object.keys(equals).map((k) => k.toLowerCase())).size;
    if (request.size !== size || pairs.length !== size || !contains(equals)) return false;
  }
  if (subset !== undefined && !contains(subset)) return false;
  return true;
}

/**
 * How a grant covers this request: 'direct' (the grantee is the caller or its role), 'account' (the
 * grantee is the caller's account; the caller then also needs an identity policy, like key-policy
 * delegation), or 'none' (wrong key, grantee, operation or context).
 */
export function grantCovers(
  grant: Grant,
  request: { action: string; resource: string; principal: CallerPrincipal },
  encryptionContext: Readonly<Record<string, string>> | undefined,
): PrincipalMatch {
  if (grant.keyArn !== request.resource) return 'none';
  const op = grantOperationOf(request.action);
  if (op === undefined || !grant.operations.includes(op)) return 'none';
  const who = matchPrincipalString(grant.granteePrincipal, request.principal);
  if (who === 'none') return 'none';
  return constraintsSatisfied(op, grant.constraints, encryptionContext) ? who : 'none';
}

/** AWS: RetireGrant — the retiring principal, the grantee when RetireGrant is a grant operation, or the key account's root. */
export function mayRetireGrant(grant: Grant, principal: CallerPrincipal, keyAccountId: string): boolean {
  if (grant.retiringPrincipal !== undefined && matchPrincipalString(grant.retiringPrincipal, principal) === 'direct') return true;
  if (grant.operations.includes('RetireGrant') && matchPrincipalString(grant.granteePrincipal, principal) === 'direct') return true;
  return principal.type === 'Root' && principal.accountId === keyAccountId;
}
