/**
 * Resources whose resource policy is optional (secrets, parameters): evaluateResourceAccess, the public
 * access check of BlockPublicPolicy, and the AWS-managed key policy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACCT, BOB_ARN, CAROL_ARN, I, ID, KP, OTHER, ROOT_ARN, bob, carol, root, secretsManager } from './test-support.ts';
import { type AccessResult, type RequestContext, evaluateKeyAccess, evaluateResourceAccess } from './evaluate.ts';
import { type CallerPrincipal } from './context.ts';
import { parsePolicy } from './policy-document.ts';
import { awsManagedKeyPolicyText, grantsPublicAccess } from './resource-policy.ts';

const SECRET = `arn:aws:secretsmanager:us-east-1:${ACCT}:secret:app/db-AbCdEf`;
type Json = Record<string, unknown>;

function decide(opts: { principal?: CallerPrincipal; resourcePolicy?: Json; identity?: Json[]; action?: string; resource?: string; owner?: string }): AccessResult {
  const request: RequestContext = {
    action: opts.action ?? 'secretsmanager:GetSecretValue',
    resource: opts.resource ?? SECRET,
    principal: opts.principal ?? bob,
    contextKeys: {},
  };
  return evaluateResourceAccess({
    request,
    ...(opts.resourcePolicy ? { resourcePolicy: parsePolicy(JSON.stringify(opts.resourcePolicy), 'key') } : {}),
    resourceAccountId: opts.owner ?? ACCT,
    identityPolicies: (opts.identity ?? []).map((p) => parsePolicy(JSON.stringify(p), 'identity')),
  });
}

const SM = (over: Json = {}) => I({ Action: 'secretsmanager:*', ...over });
const RP = (over: Json = {}) => KP({ Effect: 'Allow', Principal: { AWS: BOB_ARN }, Action: 'secretsmanager:GetSecretValue', Resource: '*', ...over });

test('same account: an identity policy alone allows (the resource policy is not the root of access)', () => {
  assert.equal(decide({ identity: [ID(SM())] }).decision, 'Allow');
});

test('same account: a resource policy naming the caller allows with no identity policy', () => {
  const r = decide({ resourcePolicy: RP() });
  assert.equal(r.decision, 'Allow');
  assert.equal(r.matchedBy, 'resource-policy');
});

test('same account: a resource policy naming only the account delegates to IAM and adds nothing', () => {
  const r = decide({ resourcePolicy: RP({ Principal: { AWS: ROOT_ARN } }) });
  assert.equal(r.decision, 'ImplicitDeny');
  assert.equal(r.deniedBy, 'identity-based');
});

test('same account: nothing allows → implicit deny naming the identity-based policy', () => {
  const r = decide({});
  assert.deepEqual([r.decision, r.deniedBy], ['ImplicitDeny', 'identity-based']);
});

test('an identity policy scoped to other secrets does not allow', () => {
  assert.equal(decide({ identity: [ID(SM({ Resource: `arn:aws:secretsmanager:us-east-1:${ACCT}:secret:other/*` }))] }).decision, 'ImplicitDeny');
  assert.equal(decide({ identity: [ID(SM({ Resource: `arn:aws:secretsmanager:us-east-1:${ACCT}:secret:app/*` }))] }).decision, 'Allow');
});

test('an explicit deny in the resource policy wins over an identity allow', () => {
  const r = decide({ identity: [ID(SM())], resourcePolicy: RP({ Effect: 'Deny' }) });
  assert.deepEqual([r.decision, r.deniedBy], ['ExplicitDeny', 'resource-based']);
});

test('an explicit deny in an identity policy wins over a resource-policy allow', () => {
  const r = decide({ identity: [ID(SM({ Effect: 'Deny' }))], resourcePolicy: RP() });
  assert.deepEqual([r.decision, r.deniedBy], ['ExplicitDeny', 'identity-based']);
});

test('cross-account: the resource policy and the caller\'s identity policy must both allow', () => {
  const rpCarol = RP({ Principal: { AWS: CAROL_ARN } });
  assert.equal(decide({ principal: carol, resourcePolicy: rpCarol, identity: [ID(SM())] }).decision, 'Allow');
  const noIdentity = decide({ principal: carol, resourcePolicy: rpCarol });
  assert.deepEqual([noIdentity.decision, noIdentity.deniedBy], ['ImplicitDeny', 'identity-based']);
  const noResource = decide({ principal: carol, identity: [ID(SM())] });
  assert.deepEqual([noResource.decision, noResource.deniedBy], ['ImplicitDeny', 'resource-based']);
});

test('cross-account: a resource policy naming the other account delegates to that account\'s identity policies', () => {
  const rpAccount = RP({ Principal: { AWS: OTHER } });
  assert.equal(decide({ principal: carol, resourcePolicy: rpAccount, identity: [ID(SM())] }).decision, 'Allow');
  assert.equal(decide({ principal: carol, resourcePolicy: rpAccount }).decision, 'ImplicitDeny');
});

test('cross-account without any resource policy (a parameter) is refused even with an allow-all identity policy', () => {
  const r = decide({ principal: carol, identity: [ID(I({ Action: '*' }))], action: 'ssm:GetParameter', resource: `arn:aws:ssm:us-east-1:${ACCT}:parameter/app/x` });
  assert.deepEqual([r.decision, r.deniedBy], ['ImplicitDeny', 'resource-based']);
});

test('the account root needs no identity policy in its own account', () => {
  assert.equal(decide({ principal: root }).decision, 'Allow');
});

test('a service principal is allowed only by a resource policy naming it', () => {
  assert.equal(decide({ principal: secretsManager }).decision, 'ImplicitDeny');
  assert.equal(decide({ principal: secretsManager, resourcePolicy: RP({ Principal: { Service: 'secretsmanager.amazonaws.com' } }) }).decision, 'Allow');
});

test('public access: a wildcard principal is public unless a condition pins accounts or principals', () => {
  const doc = (st: Json) => parsePolicy(JSON.stringify(KP(st)), 'key');
  const base = { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' };
  assert.equal(grantsPublicAccess(doc({ ...base, Principal: '*' })), true);
  assert.equal(grantsPublicAccess(doc({ ...base, Principal: { AWS: '*' } })), true);
  assert.equal(grantsPublicAccess(doc({ ...base, NotPrincipal: { AWS: BOB_ARN } })), true);
  assert.equal(grantsPublicAccess(doc({ ...base, Principal: { AWS: BOB_ARN } })), false);
  assert.equal(grantsPublicAccess(doc({ ...base, Principal: { AWS: OTHER } })), false);
  assert.equal(grantsPublicAccess(doc({ ...base, Principal: '*', Effect: 'Deny' })), false);
  assert.equal(grantsPublicAccess(doc({ ...base, Principal: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': ACCT } } })), false);
  assert.equal(grantsPublicAccess(doc({ ...base, Principal: '*', Condition: { StringNotEquals: { 'aws:PrincipalAccount': ACCT } } })), true);
});

test('public access: a condition restricts only when it must hold and every value it allows is fixed', () => {
  const doc = (condition: Json) => parsePolicy(JSON.stringify(KP({ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: condition })), 'key');
  const restricting: Json[] = [
    { StringEquals: { 'aws:PrincipalAccount': ACCT } },
    { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${ACCT}:role/app-*` } },
    { ArnEquals: { 'aws:PrincipalArn': BOB_ARN } },
    { StringEquals: { 'kms:CallerAccount': [ACCT, OTHER] } },
    { IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '10.0.0.0/8', '2001:db8::/32'] } },
  ];
  for (const c of restricting) assert.equal(grantsPublicAccess(doc(c)), false, JSON.stringify(c));
  // Each of these holds for a caller of any account: the policy is public. (Keys Trent never supplies —
  // aws:SourceVpc under …IfExists — are refused through the server: test/e2e/secrets-access.test.ts.)
  const open: Json[] = [
    { StringLike: { 'aws:PrincipalAccount': '*' } },
    { StringLike: { 'aws:PrincipalAccount': ['111122223333', '4*'] } },
    { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:*' } },
    { StringEqualsIfExists: { 'aws:PrincipalAccount': ACCT } },
    { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } },
    { IpAddress: { 'aws:SourceIp': ['0.0.0.0/1', '128.0.0.0/1'] } },
    { Null: { 'aws:PrincipalAccount': 'false' } },
    { 'ForAllValues:StringEquals': { 'aws:PrincipalAccount': ACCT } },
    { StringLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/deploy' } },
  ];
  for (const c of open) assert.equal(grantsPublicAccess(doc(c)), true, JSON.stringify(c));
});

test('AWS-managed key policy: principals of the account use it only through its service; no one else', () => {
  const keyArn = `arn:aws:kms:us-east-1:${ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const policy = parsePolicy(awsManagedKeyPolicyText(ACCT, 'us-east-1', 'secretsmanager'), 'key');
  const run = (principal: CallerPrincipal, action: string, viaService?: string) => evaluateKeyAccess({
    request: { action, resource: keyArn, principal, contextKeys: viaService ? { 'kms:ViaService': viaService } : {} },
    keyPolicy: policy,
    identityPolicies: [],
    grants: [],
  }).decision;
  assert.equal(run(bob, 'kms:Decrypt', 'secretsmanager.us-east-1.amazonaws.com'), 'Allow');
  assert.equal(run(bob, 'kms:GenerateDataKey', 'secretsmanager.us-east-1.amazonaws.com'), 'Allow');
  assert.equal(run(bob, 'kms:Decrypt'), 'ImplicitDeny', 'not directly');
  assert.equal(run(bob, 'kms:Decrypt', 'ssm.us-east-1.amazonaws.com'), 'ImplicitDeny', 'not through another service');
  assert.equal(run(carol, 'kms:Decrypt', 'secretsmanager.us-east-1.amazonaws.com'), 'ImplicitDeny', 'not from another account');
  assert.equal(run(bob, 'kms:PutKeyPolicy', 'secretsmanager.us-east-1.amazonaws.com'), 'ImplicitDeny', 'nobody administers it');
});
