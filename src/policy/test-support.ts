/**
 * Fixtures for the policy tests: principals, keys, policy builders and a table runner. Imported only by
 * *.test.ts files in this folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CallerPrincipal, ContextValue } from './context.ts';
import { type AccessResult, type Decision, evaluateKeyAccess } from './evaluate.ts';
import type { Grant } from './grants.ts';
import { parsePolicy } from './policy-document.ts';

export const ACCT = '111122223333';
export const OTHER = '444455556666';
export const KEY = `arn:aws:kms:us-east-1:${ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const KEY2 = `arn:aws:kms:us-east-1:${ACCT}:key/0987dcba-09fe-87dc-65ba-ab0987654321`;
export const ROOT_ARN = `arn:aws:iam::${ACCT}:root`;
export const BOB_ARN = `arn:aws:iam::${ACCT}:user/bob`;
export const ALICE_ARN = `arn:aws:iam::${ACCT}:user/alice`;
export const ROLE_ARN = `arn:aws:iam::${ACCT}:role/ops/Admin`;
export const SESSION_ARN = `arn:aws:sts::${ACCT}:assumed-role/Admin/alice-session`;
export const CAROL_ARN = `arn:aws:iam::${OTHER}:user/carol`;
export const OTHER_ROOT_ARN = `arn:aws:iam::${OTHER}:root`;

export const bob: CallerPrincipal = { arn: BOB_ARN, accountId: ACCT, type: 'User', userid: 'AIDABOB', tags: { Team: 'blue' } };
export const alice: CallerPrincipal = { arn: ALICE_ARN, accountId: ACCT, type: 'User' };
export const root: CallerPrincipal = { arn: ROOT_ARN, accountId: ACCT, type: 'Root' };
export const adminSession: CallerPrincipal = { arn: SESSION_ARN, accountId: ACCT, type: 'AssumedRole', roleArn: ROLE_ARN, userid: 'AROAADMIN:alice-session' };
/** The same session with no roleArn: the role is derived from the session ARN (no path). */
export const adminSessionNoRole: CallerPrincipal = { arn: SESSION_ARN, accountId: ACCT, type: 'AssumedRole' };
export const carol: CallerPrincipal = { arn: CAROL_ARN, accountId: OTHER, type: 'User' };
export const otherRoot: CallerPrincipal = { arn: OTHER_ROOT_ARN, accountId: OTHER, type: 'Root' };
export const secretsManager: CallerPrincipal = { arn: 'secretsmanager.amazonaws.com', accountId: '', type: 'Service' };
export const ssm: CallerPrincipal = { arn: 'ssm.amazonaws.com', accountId: '', type: 'Service' };

type Json = Record<string, unknown>;

/** A key policy statement: Allow kms:* on * to bob unless overridden. */
export function S(over: Json = {}): Json {
  return { Effect: 'Allow', Principal: { AWS: BOB_ARN }, Action: 'kms:*', Resource: '*', ...over };
}
/** An identity policy statement: Allow kms:* on * unless overridden. */
export function I(over: Json = {}): Json {
  return { Effect: 'Allow', Action: 'kms:*', Resource: '*', ...over };
}
export function KP(...statements: Json[]): Json {
  return { Version: '2012-10-17', Statement: statements };
}
export const ID = KP;
/** The AWS default key policy shape: delegate everything to the account. */
export const DELEGATE = KP(S({ Sid: 'Enable IAM User Permissions', Principal: { AWS: ROOT_ARN } }));
export const ALLOW_ALL_IDENTITY = ID(I());

export interface Case {
  name: string;
  keyPolicy?: Json;
  identity?: Json[];
  grants?: Grant[];
  principal?: CallerPrincipal;
  action?: string;
  resource?: string;
  context?: Record<string, ContextValue>;
  ec?: Record<string, string>;
  keyAccountId?: string;
  expect: Decision;
  matchedBy?: AccessResult['matchedBy'];
  deniedBy?: AccessResult['deniedBy'];
}

export function evaluateCase(c: Case): AccessResult {
  return evaluateKeyAccess({
    request: { action: c.action ?? 'kms:Encrypt', resource: c.resource ?? KEY, principal: c.principal ?? bob, contextKeys: c.context ?? {} },
    ...(c.keyPolicy ? { keyPolicy: parsePolicy(JSON.stringify(c.keyPolicy), 'key') } : {}),
    ...(c.keyAccountId ? { keyAccountId: c.keyAccountId } : {}),
    identityPolicies: (c.identity ?? []).map((p) => parsePolicy(JSON.stringify(p), 'identity')),
    grants: c.grants ?? [],
    ...(c.ec ? { encryptionContext: c.ec } : {}),
  });
}

/** Registers one named test per case. */
export function runCases(cases: readonly Case[]): void {
  const names = new Set<string>();
  for (const c of cases) {
    assert.ok(!names.has(c.name), `duplicate case name: ${c.name}`);
    names.add(c.name);
    test(c.name, () => {
      const r = evaluateCase(c);
      assert.equal(r.decision, c.expect, r.reason);
      if (c.matchedBy) assert.equal(r.matchedBy, c.matchedBy, r.reason);
      if (c.deniedBy) assert.equal(r.deniedBy, c.deniedBy, r.reason);
    });
  }
}

/** A key policy allowing bob kms:* only under `condition`. */
export function allowIf(name: string, condition: Json, context: Record<string, ContextValue>, expect: 'Allow' | 'ImplicitDeny', extra: Partial<Case> = {}): Case {
  return { name, keyPolicy: KP(S({ Condition: condition })), context, expect, ...extra };
}

/** A key policy allowing bob kms:* but denying it under `condition`. */
export function denyIf(name: string, condition: Json, context: Record<string, ContextValue>, expect: 'Allow' | 'ExplicitDeny', extra: Partial<Case> = {}): Case {
  return { name, keyPolicy: KP(S(), S({ Effect: 'Deny', Principal: '*', Condition: condition })), context, expect, ...extra };
}
