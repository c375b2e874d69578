import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCT, ALICE_ARN, ALLOW_ALL_IDENTITY, BOB_ARN, CAROL_ARN, type Case, DELEGATE, I, ID, KEY, KEY2, KP, OTHER, OTHER_ROOT_ARN,
  ROLE_ARN, ROOT_ARN, S, SESSION_ARN, adminSession, adminSessionNoRole, alice, bob, carol, otherRoot, root, runCases,
  secretsManager, ssm,
} from './test-support.ts';
import {
  accessDeniedError, accessDeniedMessage, defaultKeyPolicy, defaultKeyPolicyText, evaluateIdentityOnly, lockoutSafetyCheck,
} from './evaluate.ts';
import type { Grant } from './grants.ts';
import { mayRetireGrant } from './grants.ts';
import { parsePolicy } from './policy-document.ts';
import { TrentError } from '../errors/errors.ts';

// ---------------------------------------------------------------------------------------------------
// Key policy as the root of access; delegation to identity policies

const keyPolicyCases: Case[] = [
  { name: 'key policy naming the caller allows it with no identity policy', keyPolicy: KP(S()), expect: 'Allow', matchedBy: 'key-policy' },
  { name: 'key policy naming another user gives the caller an implicit deny from the resource policy', keyPolicy: KP(S({ Principal: { AWS: ALICE_ARN } })), expect: 'ImplicitDeny', deniedBy: 'resource-based' },
  { name: 'no key policy at all is an implicit deny even with an allow-all identity policy', identity: [ALLOW_ALL_IDENTITY], expect: 'ImplicitDeny', deniedBy: 'resource-based' },
  { name: 'identity policy alone never opens a key whose policy does not name the account', keyPolicy: KP(S({ Principal: { AWS: ALICE_ARN } })), identity: [ALLOW_ALL_IDENTITY], expect: 'ImplicitDeny', deniedBy: 'resource-based' },
  { name: 'root ARN in the key policy delegates: with an identity allow the call is allowed', keyPolicy: DELEGATE, identity: [ALLOW_ALL_IDENTITY], expect: 'Allow', matchedBy: 'identity-policy' },
  { name: 'root ARN in the key policy delegates: without an identity policy the call is denied by identity', keyPolicy: DELEGATE, expect: 'ImplicitDeny', deniedBy: 'identity-based' },
  { name: 'root ARN in the key policy is not "any principal": an identity policy for another action does not help', keyPolicy: DELEGATE, identity: [ID(I({ Action: 'kms:Decrypt' }))], expect: 'ImplicitDeny', deniedBy: 'identity-based' },
  { name: 'bare account id in the key policy delegates like the root ARN', keyPolicy: KP(S({ Principal: { AWS: ACCT } })), identity: [ALLOW_ALL_IDENTITY], expect: 'Allow', matchedBy: 'identity-policy' },
  { name: 'bare account id in the key policy without identity allow is an identity-based implicit deny', keyPolicy: KP(S({ Principal: { AWS: ACCT } })), expect: 'ImplicitDeny', deniedBy: 'identity-based' },
  { name: 'delegation covers only the actions the key policy statement lists', keyPolicy: KP(S({ Principal: { AWS: ROOT_ARN }, Action: 'kms:Decrypt' })), identity: [ALLOW_ALL_IDENTITY], expect: 'ImplicitDeny', deniedBy: 'resource-based' },
  { name: 'identity policy allowing a different key does not satisfy delegation', keyPolicy: DELEGATE, identity: [ID(I({ Resource: KEY2 }))], expect: 'ImplicitDeny', deniedBy: 'identity-based' },
  { name: 'identity policy allowing the key by ARN satisfies delegation', keyPolicy: DELEGATE, identity: [ID(I({ Resource: KEY }))], expect: 'Allow' },
  { name: 'any one of several identity policies may allow', keyPolicy: DELEGATE, identity: [ID(I({ Action: 'kms:Decrypt' })), ID(I({ Action: 'kms:Encrypt' }))], expect: 'Allow' },
  { name: 'the root user is allowed by a key policy naming the account root, needing no identity policy', principal: root, keyPolicy: DELEGATE, expect: 'Allow', matchedBy: 'key-policy' },
  { name: 'the root user is denied when the key policy does not name the account', principal: root, keyPolicy: KP(S()), expect: 'ImplicitDeny', deniedBy: 'resource-based' },
  { name: 'key policy statement without Action has no effect', keyPolicy: KP({ Effect: 'Allow', Principal: { AWS: BOB_ARN }, Resource: '*' }), expect: 'ImplicitDeny' },
  { name: 'key policy statement without Resource has no effect', keyPolicy: KP({ Effect: 'Allow', Principal: { AWS: BOB_ARN }, Action: 'kms:*' }), expect: 'ImplicitDeny' },
  { name: 'keyAccountId given explicitly decides same-account versus cross-account', keyPolicy: KP(S({ Principal: { AWS: CAROL_ARN } })), principal: carol, keyAccountId: OTHER, expect: 'Allow', matchedBy: 'key-policy' },
  { name: 'a direct key-policy allow wins over a delegation statement that would need IAM', keyPolicy: KP(S({ Principal: { AWS: ROOT_ARN } }), S()), expect: 'Allow', matchedBy: 'key-policy' },
];

// ---------------------------------------------------------------------------------------------------
// Principals

const principalCases: Case[] = [
  { name: 'Principal "*" allows every caller directly', keyPolicy: KP(S({ Principal: '*' })), expect: 'Allow', matchedBy: 'key-policy' },
  { name: 'Principal {"AWS":"*"} allows every AWS principal directly', keyPolicy: KP(S({ Principal: { AWS: '*' } })), expect: 'Allow', matchedBy: 'key-policy' },
  { name: 'Principal "*" includes service principals', principal: secretsManager, keyPolicy: KP(S({ Principal: '*' })), expect: 'Allow' },
  { name: 'Principal {"AWS":"*"} does not include service principals', principal: secretsManager, keyPolicy: KP(S({ Principal: { AWS: '*' } })), expect: 'ImplicitDeny' },
  { name: 'a list of principals matches any one of them', keyPolicy: KP(S({ Principal: { AWS: [ALICE_ARN, BOB_ARN] } })), expect: 'Allow' },
  { name: 'user ARN match is exact: a different user name does not match', principal: { ...bob, arn: `arn:aws:iam::${ACCT}:user/bobby` }, keyPolicy: KP(S()), expect: 'ImplicitDeny' },
  { name: 'role ARN (with path) matches an assumed-role session of that role', principal: adminSession, keyPolicy: KP(S({ Principal: { AWS: ROLE_ARN } })), expect: 'Allow', matchedBy: 'key-policy' },
  { name: 'role ARN matches a session by account and role name when the role ARN is not known', principal: adminSessionNoRole, keyPolicy: KP(S({ Principal: { AWS: `arn:aws:iam::${ACCT}:role/Admin` } })), expect: 'Allow' },
  { name: 'role ARN of another role does not match the session', principal: adminSession, keyPolicy: KP(S({ Principal: { AWS: `arn:aws:iam::${ACCT}:role/Reader` } })), expect: 'ImplicitDeny' },
  { name: 'role ARN with the same name but another path does not match when the role ARN is known', principal: adminSession, keyPolicy: KP(S({ Principal: { AWS: `arn:aws:iam::${ACCT}:role/Admin` } })), expect: 'ImplicitDeny' },
  { name: 'role ARN with the same name in another account does not match', principal: adminSessionNoRole, keyPolicy: KP(S({ Principal: { AWS: `arn:aws:iam::${OTHER}:role/Admin` } })), expect: 'ImplicitDeny' },
  { name: 'assumed-role session ARN matches that session exactly', principal: adminSession, keyPolicy: KP(S({ Principal: { AWS: SESSION_ARN } })), expect: 'Allow' },
  { name: 'assumed-role session ARN does not match another session of the same role', principal: { ...adminSession, arn: `arn:aws:sts::${ACCT}:assumed-role/Admin/other` }, keyPolicy: KP(S({ Principal: { AWS: SESSION_ARN } })), expect: 'ImplicitDeny' },
  { name: 'an assumed role under a delegating key policy needs an identity allow', principal: adminSession, keyPolicy: DELEGATE, identity: [ALLOW_ALL_IDENTITY], expect: 'Allow', matchedBy: 'identity-policy' },
  { name: 'service principal named in the key policy is allowed', principal: secretsManager, keyPolicy: KP(S({ Principal: { Service: 'secretsmanager.amazonaws.com' } })), expect: 'Allow', matchedBy: 'key-policy' },
  { name: 'service principal names compare case-insensitively', principal: secretsManager, keyPolicy: KP(S({ Principal: { Service: 'SecretsManager.amazonaws.com' } })), expect: 'Allow' },
  { name: 'a different service principal is not allowed', principal: ssm, keyPolicy: KP(S({ Principal: { Service: 'secretsmanager.amazonaws.com' } })), expect: 'ImplicitDeny' },
  { name: 'service principals are not covered by account delegation', principal: secretsManager, keyPolicy: DELEGATE, identity: [ALLOW_ALL_IDENTITY], expect: 'ImplicitDeny' },
  { name: 'a Service entry does not match an IAM user with a similar name', keyPolicy: KP(S({ Principal: { Service: 'bob.amazonaws.com' } })), expect: 'ImplicitDeny' },
  { name: 'Federated principals match no Trent caller', keyPolicy: KP(S({ Principal: { Federated: 'cognito-identity.amazonaws.com' } })), expect: 'ImplicitDeny' },
  { name: 'mixed AWS and Service principal lists match either kind', principal: ssm, keyPolicy: KP(S({ Principal: { AWS: BOB_ARN, Service: ['ssm.amazonaws.com'] } })), expect: 'Allow' },
];

// ---------------------------------------------------------------------------------------------------
// NotPrincipal

const notPrincipalCases: Case[] = [
  { name: 'Deny with NotPrincipal listing the user and its account exempts that user', keyPolicy: KP(S(), S({ Effect: 'Deny', Principal: undefined, NotPrincipal: { AWS: [BOB_ARN, ROOT_ARN] } })), expect: 'Allow' },
  { name: 'Deny with NotPrincipal denies principals not listed', principal: alice, keyPolicy: KP(S({ Principal: '*' }), S({ Effect: 'Deny', Principal: undefined, NotPrincipal: { AWS: [BOB_ARN, ROOT_ARN] } })), expect: 'ExplicitDeny', deniedBy: 'resource-based' },
  { name: 'Deny with NotPrincipal listing the user but not its account still denies the user (AWS)', keyPolicy: KP(S(), S({ Effect: 'Deny', Principal: undefined, NotPrincipal: { AWS: [BOB_ARN] } })), expect: 'ExplicitDeny' },
  { name: 'Deny with NotPrincipal exempts an assumed role only with session, role and account listed', principal: adminSession, keyPolicy: KP(S({ Principal: '*' }), S({ Effect: 'Deny', Principal: undefined, NotPrincipal: { AWS: [SESSION_ARN, ROLE_ARN, ROOT_ARN] } })), expect: 'Allow' },
  { name: 'Deny with NotPrincipal listing the session and account but not the role denies the session', principal: adminSession, keyPolicy: KP(S({ Principal: '*' }), S({ Effect: 'Deny', Principal: undefined, NotPrincipal: { AWS: [SESSION_ARN, ROOT_ARN] } })), expect: 'ExplicitDeny' },
  { name: 'Deny with NotPrincipal listing only the account exempts the root user', principal: root, keyPolicy: KP(S({ Principal: { AWS: ROOT_ARN } }), S({ Effect: 'Deny', Principal: undefined, NotPrincipal: { AWS: ROOT_ARN } })), expect: 'Allow' },
  { name: 'Deny with NotPrincipal "*" applies to nobody', keyPolicy: KP(S(), S({ Effect: 'Deny', Principal: undefined, NotPrincipal: '*' })), expect: 'Allow' },
  { name: 'Allow with NotPrincipal allows everyone not listed directly', keyPolicy: KP(S({ Principal: undefined, NotPrincipal: { AWS: ALICE_ARN } })), expect: 'Allow', matchedBy: 'key-policy' },
  { name: 'Allow with NotPrincipal does not allow the listed principal chain', principal: alice, keyPolicy: KP(S({ Principal: undefined, NotPrincipal: { AWS: [ALICE_ARN, ROOT_ARN] } })), expect: 'ImplicitDeny' },
  { name: 'Deny with NotPrincipal naming a service exempts that service only', principal: secretsManager, keyPolicy: KP(S({ Principal: '*' }), S({ Effect: 'Deny', Principal: undefined, NotPrincipal: { Service: 'secretsmanager.amazonaws.com' } })), expect: 'Allow' },
  { name: 'Deny with NotPrincipal naming one service denies another service', principal: ssm, keyPolicy: KP(S({ Principal: '*' }), S({ Effect: 'Deny', Principal: undefined, NotPrincipal: { Service: 'secretsmanager.amazonaws.com' } })), expect: 'ExplicitDeny' },
];

// ---------------------------------------------------------------------------------------------------
// Actions, NotAction

const actionCases: Case[] = [
  { name: 'exact action matches', keyPolicy: KP(S({ Action: 'kms:Encrypt' })), expect: 'Allow' },
  { name: 'exact action does not match another action', keyPolicy: KP(S({ Action: 'kms:Encrypt' })), action: 'kms:Decrypt', expect: 'ImplicitDeny' },
  { name: 'kms:* matches every KMS action', keyPolicy: KP(S({ Action: 'kms:*' })), action: 'kms:ScheduleKeyDeletion', expect: 'Allow' },
  { name: 'Action "*" matches every action', keyPolicy: KP(S({ Action: '*' })), action: 'kms:GetKeyPolicy', expect: 'Allow' },
  { name: 'prefix wildcard kms:ReEncrypt* matches ReEncryptFrom', keyPolicy: KP(S({ Action: 'kms:ReEncrypt*' })), action: 'kms:ReEncryptFrom', expect: 'Allow' },
  { name: 'prefix wildcard kms:ReEncrypt* matches ReEncryptTo', keyPolicy: KP(S({ Action: 'kms:ReEncrypt*' })), action: 'kms:ReEncryptTo', expect: 'Allow' },
  { name: 'kms:GenerateDataKey* matches GenerateDataKeyPairWithoutPlaintext', keyPolicy: KP(S({ Action: 'kms:GenerateDataKey*' })), action: 'kms:GenerateDataKeyPairWithoutPlaintext', expect: 'Allow' },
  { name: 'kms:GenerateDataKey* does not match Encrypt', keyPolicy: KP(S({ Action: 'kms:GenerateDataKey*' })), expect: 'ImplicitDeny' },
  { name: '? matches exactly one character: kms:?ncrypt matches Encrypt', keyPolicy: KP(S({ Action: 'kms:?ncrypt' })), expect: 'Allow' },
  { name: '? matches exactly one character: kms:?ncrypt does not match Decrypt', keyPolicy: KP(S({ Action: 'kms:?ncrypt' })), action: 'kms:Decrypt', expect: 'ImplicitDeny' },
  { name: 'action matching is case-insensitive in service prefix and name', keyPolicy: KP(S({ Action: 'KMS:encrypt' })), expect: 'Allow' },
  { name: 'action list matches any listed action', keyPolicy: KP(S({ Action: ['kms:Decrypt', 'kms:Encrypt'] })), expect: 'Allow' },
  { name: 'another service prefix does not match KMS actions', keyPolicy: KP(S({ Action: 'secretsmanager:*' })), expect: 'ImplicitDeny' },
  { name: 'NotAction allows every action not listed', keyPolicy: KP(S({ Action: undefined, NotAction: 'kms:Decrypt' })), expect: 'Allow' },
  { name: 'NotAction does not allow the listed action', keyPolicy: KP(S({ Action: undefined, NotAction: 'kms:Decrypt' })), action: 'kms:Decrypt', expect: 'ImplicitDeny' },
  { name: 'NotAction with a wildcard excludes every matching action', keyPolicy: KP(S({ Action: undefined, NotAction: 'kms:*Key*' })), action: 'kms:ScheduleKeyDeletion', expect: 'ImplicitDeny' },
  { name: 'Deny with NotAction denies every action outside the list', keyPolicy: KP(S(), S({ Effect: 'Deny', Action: undefined, NotAction: ['kms:Encrypt', 'kms:Decrypt'] })), action: 'kms:DescribeKey', expect: 'ExplicitDeny' },
  { name: 'Deny with NotAction leaves listed actions to the allow', keyPolicy: KP(S(), S({ Effect: 'Deny', Action: undefined, NotAction: ['kms:Encrypt', 'kms:Decrypt'] })), expect: 'Allow' },
  { name: 'Deny on kms:Schedule* overrides an allow on kms:*', keyPolicy: KP(S(), S({ Effect: 'Deny', Action: 'kms:Schedule*' })), action: 'kms:ScheduleKeyDeletion', expect: 'ExplicitDeny' },
];

// ---------------------------------------------------------------------------------------------------
// Resources, NotResource

const resourceCases: Case[] = [
  { name: 'Resource "*" in a key policy means this key', keyPolicy: KP(S({ Resource: '*' })), expect: 'Allow' },
  { name: 'Resource naming the key ARN matches', keyPolicy: KP(S({ Resource: KEY })), expect: 'Allow' },
  { name: 'Resource naming another key does not match', keyPolicy: KP(S({ Resource: KEY2 })), expect: 'ImplicitDeny' },
  { name: 'Resource key/* wildcard matches any key of the account and region', keyPolicy: KP(S({ Resource: `arn:aws:kms:us-east-1:${ACCT}:key/*` })), expect: 'Allow' },
  { name: 'Resource wildcard in the region component matches', keyPolicy: KP(S({ Resource: `arn:aws:kms:us-*:${ACCT}:key/*` })), expect: 'Allow' },
  { name: 'Resource wildcard in the region does not match another account', keyPolicy: KP(S({ Resource: `arn:aws:kms:*:${OTHER}:key/*` })), expect: 'ImplicitDeny' },
  { name: 'Resource matching is case-sensitive', keyPolicy: KP(S({ Resource: KEY.toUpperCase().replace('ARN:AWS:KMS', 'arn:aws:kms') })), expect: 'ImplicitDeny' },
  { name: 'Resource alias ARN does not match a key ARN', keyPolicy: KP(S({ Resource: `arn:aws:kms:us-east-1:${ACCT}:alias/*` })), expect: 'ImplicitDeny' },
  { name: 'NotResource allows keys other than those listed', keyPolicy: KP(S({ Resource: undefined, NotResource: KEY2 })), expect: 'Allow' },
  { name: 'NotResource does not allow the listed key', keyPolicy: KP(S({ Resource: undefined, NotResource: KEY })), expect: 'ImplicitDeny' },
  { name: 'Deny with NotResource denies every key but the listed one', keyPolicy: KP(S(), S({ Effect: 'Deny', Resource: undefined, NotResource: KEY2 })), expect: 'ExplicitDeny' },
  { name: 'identity policy with NotResource excluding the key fails delegation', keyPolicy: DELEGATE, identity: [ID(I({ Resource: undefined, NotResource: KEY }))], expect: 'ImplicitDeny', deniedBy: 'identity-based' },
];

// ---------------------------------------------------------------------------------------------------
// Cross-account

const crossAccountCases: Case[] = [
  { name: 'cross-account: key policy allowing the other account plus the caller identity allow is allowed', principal: carol, keyPolicy: KP(S({ Principal: { AWS: OTHER_ROOT_ARN } })), identity: [ALLOW_ALL_IDENTITY], expect: 'Allow', matchedBy: 'identity-policy' },
  { name: 'cross-account: key policy allowing the other account without identity allow is denied', principal: carol, keyPolicy: KP(S({ Principal: { AWS: OTHER_ROOT_ARN } })), expect: 'ImplicitDeny', deniedBy: 'identity-based' },
  { name: 'cross-account: key policy naming the external user still requires the identity allow', principal: carol, keyPolicy: KP(S({ Principal: { AWS: CAROL_ARN } })), expect: 'ImplicitDeny', deniedBy: 'identity-based' },
  { name: 'cross-account: key policy naming the external user plus identity allow is allowed', principal: carol, keyPolicy: KP(S({ Principal: { AWS: CAROL_ARN } })), identity: [ALLOW_ALL_IDENTITY], expect: 'Allow' },
  { name: 'cross-account: identity allow alone is denied by the resource policy', principal: carol, keyPolicy: DELEGATE, identity: [ALLOW_ALL_IDENTITY], expect: 'ImplicitDeny', deniedBy: 'resource-based' },
  { name: 'cross-account: the other account root needs no identity policy', principal: otherRoot, keyPolicy: KP(S({ Principal: { AWS: OTHER } })), expect: 'Allow' },
  { name: 'cross-account: an explicit deny in the caller identity policy wins', principal: carol, keyPolicy: KP(S({ Principal: { AWS: OTHER_ROOT_ARN } })), identity: [ALLOW_ALL_IDENTITY, ID(I({ Effect: 'Deny', Action: 'kms:Encrypt' }))], expect: 'ExplicitDeny', deniedBy: 'identity-based' },
  { name: 'cross-account: Principal "*" still requires the caller identity allow', principal: carol, keyPolicy: KP(S({ Principal: '*' })), expect: 'ImplicitDeny' },
  { name: 'cross-account: Principal "*" with the identity allow is allowed', principal: carol, keyPolicy: KP(S({ Principal: '*' })), identity: [ALLOW_ALL_IDENTITY], expect: 'Allow' },
  { name: 'cross-account: kms:CallerAccount condition limits a "*" principal to the key account', principal: carol, keyPolicy: KP(S({ Principal: '*', Condition: { StringEquals: { 'kms:CallerAccount': ACCT } } })), identity: [ALLOW_ALL_IDENTITY], expect: 'ImplicitDeny' },
];

// ---------------------------------------------------------------------------------------------------
// Explicit deny precedence

const denyCases: Case[] = [
  { name: 'explicit deny in the key policy overrides an allow in the same policy', keyPolicy: KP(S(), S({ Effect: 'Deny', Action: 'kms:Encrypt' })), expect: 'ExplicitDeny', deniedBy: 'resource-based' },
  { name: 'explicit deny order in the key policy does not matter', keyPolicy: KP(S({ Effect: 'Deny', Action: 'kms:Encrypt' }), S()), expect: 'ExplicitDeny' },
  { name: 'explicit deny in an identity policy overrides a direct key-policy allow', keyPolicy: KP(S()), identity: [ID(I({ Effect: 'Deny' }))], expect: 'ExplicitDeny', deniedBy: 'identity-based' },
  { name: 'explicit deny in a second identity policy overrides the first one allow', keyPolicy: DELEGATE, identity: [ALLOW_ALL_IDENTITY, ID(I({ Effect: 'Deny', Action: 'kms:Encrypt' }))], expect: 'ExplicitDeny' },
  { name: 'explicit deny naming the account root denies every principal of the account', keyPolicy: KP(S(), S({ Effect: 'Deny', Principal: { AWS: ROOT_ARN }, Action: 'kms:Encrypt' })), expect: 'ExplicitDeny' },
  { name: 'explicit deny for another principal does not affect the caller', keyPolicy: KP(S(), S({ Effect: 'Deny', Principal: { AWS: ALICE_ARN } })), expect: 'Allow' },
  { name: 'explicit deny for another action does not affect the call', keyPolicy: KP(S(), S({ Effect: 'Deny', Action: 'kms:Decrypt' })), expect: 'Allow' },
  { name: 'explicit deny whose condition does not hold does not apply', keyPolicy: KP(S(), S({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })), context: { 'aws:SecureTransport': true }, expect: 'Allow' },
  { name: 'explicit deny in the key policy is reported before an identity deny', keyPolicy: KP(S(), S({ Effect: 'Deny' })), identity: [ID(I({ Effect: 'Deny' }))], expect: 'ExplicitDeny', deniedBy: 'resource-based' },
];

// ---------------------------------------------------------------------------------------------------
// Grants

const grant = (over: Partial<Grant> = {}): Grant => ({ grantId: 'g-1', keyArn: KEY, granteePrincipal: BOB_ARN, operations: ['Encrypt', 'Decrypt'], ...over });
const NO_ACCESS_KP = KP(S({ Principal: { AWS: ALICE_ARN } }));

const grantCases: Case[] = [
  { name: 'grant allows its operation to its grantee when no policy does', keyPolicy: NO_ACCESS_KP, grants: [grant()], expect: 'Allow', matchedBy: 'grant' },
  { name: 'grant does not allow an operation it does not list', keyPolicy: NO_ACCESS_KP, grants: [grant()], action: 'kms:ScheduleKeyDeletion', expect: 'ImplicitDeny' },
  { name: 'grant does not allow GenerateDataKey when it lists only Encrypt', keyPolicy: NO_ACCESS_KP, grants: [grant({ operations: ['Encrypt'] })], action: 'kms:GenerateDataKey', expect: 'ImplicitDeny' },
  { name: 'grant for another grantee does not help the caller', keyPolicy: NO_ACCESS_KP, grants: [grant({ granteePrincipal: ALICE_ARN })], expect: 'ImplicitDeny' },
  { name: 'grant on another key does not help the caller', keyPolicy: NO_ACCESS_KP, grants: [grant({ keyArn: KEY2 })], expect: 'ImplicitDeny' },
  { name: 'grant to a role covers sessions of that role', principal: adminSession, keyPolicy: NO_ACCESS_KP, grants: [grant({ granteePrincipal: ROLE_ARN })], expect: 'Allow', matchedBy: 'grant' },
  { name: 'grant with ReEncryptFrom allows kms:ReEncryptFrom', keyPolicy: NO_ACCESS_KP, grants: [grant({ operations: ['ReEncryptFrom'] })], action: 'kms:ReEncryptFrom', expect: 'Allow' },
  { name: 'grant with ReEncryptFrom does not allow kms:ReEncryptTo', keyPolicy: NO_ACCESS_KP, grants: [grant({ operations: ['ReEncryptFrom'] })], action: 'kms:ReEncryptTo', expect: 'ImplicitDeny' },
  { name: 'grant operations are not wildcards', keyPolicy: NO_ACCESS_KP, grants: [grant({ operations: ['*'] })], expect: 'ImplicitDeny' },
  { name: 'grant with no operations allows nothing', keyPolicy: NO_ACCESS_KP, grants: [grant({ operations: [] })], expect: 'ImplicitDeny' },
  { name: 'grant subset constraint holds when every pair is present (extra pairs allowed)', keyPolicy: NO_ACCESS_KP, grants: [grant({ constraints: { encryptionContextSubset: { app: 'billing' } } })], ec: { app: 'billing', env: 'prod' }, expect: 'Allow' },
  { name: 'grant subset constraint fails when a pair is missing', keyPolicy: NO_ACCESS_KP, grants: [grant({ constraints: { encryptionContextSubset: { app: 'billing', env: 'prod' } } })], ec: { app: 'billing' }, expect: 'ImplicitDeny' },
  { name: 'grant subset constraint value is case-sensitive', keyPolicy: NO_ACCESS_KP, grants: [grant({ constraints: { encryptionContextSubset: { app: 'billing' } } })], ec: { app: 'Billing' }, expect: 'ImplicitDeny' },
  { name: 'grant subset constraint key is case-insensitive (AWS)', keyPolicy: NO_ACCESS_KP, grants: [grant({ constraints: { encryptionContextSubset: { App: 'billing' } } })], ec: { app: 'billing' }, expect: 'Allow' },
  { name: 'grant subset constraint fails with no encryption context', keyPolicy: NO_ACCESS_KP, grants: [grant({ constraints: { encryptionContextSubset: { app: 'billing' } } })], expect: 'ImplicitDeny' },
  { name: 'grant equals constraint holds for the exact context', keyPolicy: NO_ACCESS_KP, grants: [grant({ constraints: { encryptionContextEquals: { app: 'billing', env: 'prod' } } })], ec: { env: 'prod', app: 'billing' }, expect: 'Allow' },
  { name: 'grant equals constraint fails with an extra pair', keyPolicy: NO_ACCESS_KP, grants: [grant({ constraints: { encryptionContextEquals: { app: 'billing' } } })], ec: { app: 'billing', env: 'prod' }, expect: 'ImplicitDeny' },
  { name: 'grant equals constraint fails with a missing pair', keyPolicy: NO_ACCESS_KP, grants: [grant({ constraints: { encryptionContextEquals: { app: 'billing', env: 'prod' } } })], ec: { app: 'billing' }, expect: 'ImplicitDeny' },
  { name: 'grant equals constraint fails with a different value', keyPolicy: NO_ACCESS_KP, grants: [grant({ constraints: { encryptionContextEquals: { app: 'billing' } } })], ec: { app: 'payroll' }, expect: 'ImplicitDeny' },
  { name: 'grant equals constraint fails with an extra pair differing only in case', keyPolicy: NO_ACCESS_KP, grants: [grant({ constraints: { encryptionContextEquals: { dept: 'finance' } } })], ec: { DEPT: 'other', dept: 'finance' }, expect: 'ImplicitDeny' },
  { name: 'grant subset constraint holds only if every case variant of its key has its value', keyPolicy: NO_ACCESS_KP, grants: [grant({ constraints: { encryptionContextSubset: { dept: 'finance' } } })], ec: { dept: 'finance', DEPT: 'other' }, expect: 'ImplicitDeny' },
  { name: 'grant with both constraints needs both to hold', keyPolicy: NO_ACCESS_KP, grants: [grant({ constraints: { encryptionContextEquals: { app: 'billing' }, encryptionContextSubset: { env: 'prod' } } })], ec: { app: 'billing' }, expect: 'ImplicitDeny' },
  { name: 'grant constraints are not applied to operations without an encryption context', keyPolicy: NO_ACCESS_KP, grants: [grant({ operations: ['DescribeKey'], constraints: { encryptionContextEquals: { app: 'billing' } } })], action: 'kms:DescribeKey', expect: 'Allow' },
  { name: 'grant constraints apply to GenerateDataKey', keyPolicy: NO_ACCESS_KP, grants: [grant({ operations: ['GenerateDataKey'], constraints: { encryptionContextSubset: { app: 'billing' } } })], action: 'kms:GenerateDataKey', ec: { app: 'other' }, expect: 'ImplicitDeny' },
  { name: 'grant to a service principal allows that service', principal: secretsManager, keyPolicy: NO_ACCESS_KP, grants: [grant({ granteePrincipal: 'secretsmanager.amazonaws.com' })], expect: 'Allow', matchedBy: 'grant' },
  { name: 'grant to another account user allows cross-account use without identity policy', principal: carol, keyPolicy: NO_ACCESS_KP, grants: [grant({ granteePrincipal: CAROL_ARN })], expect: 'Allow', matchedBy: 'grant' },
  { name: 'grant to the account root needs an identity allow like delegation', keyPolicy: NO_ACCESS_KP, grants: [grant({ granteePrincipal: ROOT_ARN })], expect: 'ImplicitDeny' },
  { name: 'grant to the account root with an identity allow is allowed', keyPolicy: NO_ACCESS_KP, identity: [ALLOW_ALL_IDENTITY], grants: [grant({ granteePrincipal: ROOT_ARN })], expect: 'Allow', matchedBy: 'grant' },
  { name: 'explicit deny in the key policy overrides a grant', keyPolicy: KP(S({ Principal: { AWS: ALICE_ARN } }), S({ Effect: 'Deny', Action: 'kms:Encrypt' })), grants: [grant()], expect: 'ExplicitDeny', deniedBy: 'resource-based' },
  { name: 'explicit deny in an identity policy overrides a grant', keyPolicy: NO_ACCESS_KP, identity: [ID(I({ Effect: 'Deny', Action: 'kms:*' }))], grants: [grant()], expect: 'ExplicitDeny', deniedBy: 'identity-based' },
  { name: 'explicit conditional deny on encryption context overrides a grant', keyPolicy: KP(S({ Principal: { AWS: ALICE_ARN } }), S({ Effect: 'Deny', Principal: '*', Condition: { StringNotEquals: { 'kms:EncryptionContext:env': 'prod' } } })), grants: [grant()], ec: { env: 'dev' }, expect: 'ExplicitDeny' },
  { name: 'a later matching grant is used when an earlier one does not cover the call', keyPolicy: NO_ACCESS_KP, grants: [grant({ grantId: 'g-0', operations: ['Decrypt'] }), grant({ grantId: 'g-2' })], expect: 'Allow', matchedBy: 'grant' },
];

// ---------------------------------------------------------------------------------------------------
// Principal-derived condition keys

const derivedKeyCases: Case[] = [
  { name: 'aws:PrincipalTag/<key> comes from the caller tags', keyPolicy: KP(S({ Condition: { StringEquals: { 'aws:PrincipalTag/Team': 'blue' } } })), expect: 'Allow' },
  { name: 'aws:PrincipalTag tag key is case-insensitive', keyPolicy: KP(S({ Condition: { StringEquals: { 'aws:PrincipalTag/team': 'blue' } } })), expect: 'Allow' },
  { name: 'aws:PrincipalTag value is case-sensitive', keyPolicy: KP(S({ Condition: { StringEquals: { 'aws:PrincipalTag/Team': 'Blue' } } })), expect: 'ImplicitDeny' },
  { name: 'aws:username is the IAM user name', keyPolicy: KP(S({ Condition: { StringEquals: { 'aws:username': 'bob' } } })), expect: 'Allow' },
  { name: 'aws:username is absent for an assumed role', principal: adminSession, keyPolicy: KP(S({ Principal: { AWS: ROLE_ARN }, Condition: { StringLike: { 'aws:username': '*' } } })), expect: 'ImplicitDeny' },
  { name: 'aws:userid comes from the caller', keyPolicy: KP(S({ Condition: { StringEquals: { 'aws:userid': 'AIDABOB' } } })), expect: 'Allow' },
  { name: 'aws:PrincipalArn of an assumed role is the role ARN', principal: adminSession, keyPolicy: KP(S({ Principal: '*', Condition: { ArnEquals: { 'aws:PrincipalArn': ROLE_ARN } } })), expect: 'Allow' },
  { name: 'kms:CallerAccount is the caller account', keyPolicy: KP(S({ Principal: '*', Condition: { StringEquals: { 'kms:CallerAccount': ACCT } } })), expect: 'Allow' },
  { name: 'aws:PrincipalType of the root user is Account', principal: root, keyPolicy: KP(S({ Principal: { AWS: ROOT_ARN }, Condition: { StringEquals: { 'aws:PrincipalType': 'Account' } } })), expect: 'Allow' },
  { name: 'caller-supplied context keys take precedence over derived ones', keyPolicy: KP(S({ Condition: { StringEquals: { 'kms:CallerAccount': '999999999999' } } })), context: { 'kms:CallerAccount': '999999999999' }, expect: 'Allow' },
];

// ---------------------------------------------------------------------------------------------------
// Policy variables

const variableCases: Case[] = [
  { name: 'policy variable ${aws:username} in a condition value matches the caller (ABAC)', keyPolicy: KP(S({ Principal: '*', Condition: { StringEquals: { 'aws:ResourceTag/owner': '${aws:username}' } } })), context: { 'aws:ResourceTag/owner': 'bob' }, expect: 'Allow' },
  { name: 'policy variable ${aws:username} does not match another owner', keyPolicy: KP(S({ Principal: '*', Condition: { StringEquals: { 'aws:ResourceTag/owner': '${aws:username}' } } })), context: { 'aws:ResourceTag/owner': 'alice' }, expect: 'ImplicitDeny' },
  { name: 'policy variables are literal text under Version 2008-10-17', keyPolicy: { Version: '2008-10-17', Statement: [S({ Principal: '*', Condition: { StringEquals: { 'aws:ResourceTag/owner': '${aws:username}' } } })] }, context: { 'aws:ResourceTag/owner': 'bob' }, expect: 'ImplicitDeny' },
  { name: 'a policy without Version treats variables as literal text', keyPolicy: { Statement: [S({ Principal: '*', Condition: { StringEquals: { 'aws:ResourceTag/owner': '${aws:username}' } } })] }, context: { 'aws:ResourceTag/owner': '${aws:username}' }, expect: 'Allow' },
  { name: 'a variable for a missing key makes the value match nothing', principal: adminSession, keyPolicy: KP(S({ Principal: '*', Condition: { StringEquals: { 'aws:ResourceTag/owner': '${aws:username}' } } })), context: { 'aws:ResourceTag/owner': '' }, expect: 'ImplicitDeny' },
  { name: 'a variable default value is used when the key is missing', principal: alice, keyPolicy: KP(S({ Principal: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': "${aws:PrincipalTag/Team, 'none'}" } } })), context: { 'aws:ResourceTag/team': 'none' }, expect: 'Allow' },
  { name: '${*} is a literal asterisk, not a wildcard', keyPolicy: KP(S({ Condition: { StringLike: { 'kms:EncryptionContext:path': 'a${*}b' } } })), ec: { path: 'axb' }, expect: 'ImplicitDeny' },
  { name: '${*} matches a literal asterisk', keyPolicy: KP(S({ Condition: { StringLike: { 'kms:EncryptionContext:path': 'a${*}b' } } })), ec: { path: 'a*b' }, expect: 'Allow' },
  { name: 'policy variable in an identity policy Resource selects the key', keyPolicy: DELEGATE, identity: [ID(I({ Resource: `arn:aws:kms:us-east-1:${ACCT}:key/\${aws:PrincipalTag/keyid}` }))], principal: { ...bob, tags: { keyid: '1234abcd-12ab-34cd-56ef-1234567890ab' } }, expect: 'Allow' },
  { name: 'policy variable in Resource with the key missing matches nothing', keyPolicy: DELEGATE, identity: [ID(I({ Resource: `arn:aws:kms:us-east-1:${ACCT}:key/\${aws:PrincipalTag/keyid}` }))], expect: 'ImplicitDeny' },
];

runCases([
  ...keyPolicyCases, ...principalCases, ...notPrincipalCases, ...actionCases, ...resourceCases,
  ...crossAccountCases, ...denyCases, ...grantCases, ...derivedKeyCases, ...variableCases,
]);

// ---------------------------------------------------------------------------------------------------
// Identity-only actions (CreateKey, ListKeys, ListAliases)

const idOnly = (identity: object[], over: { principal?: typeof bob; action?: string; context?: Record<string, string | string[]> } = {}) =>
  evaluateIdentityOnly({
    request: { action: over.action ?? 'kms:CreateKey', resource: '*', principal: over.principal ?? bob, contextKeys: over.context ?? {} },
    identityPolicies: identity.map((p) => parsePolicy(JSON.stringify(p), 'identity')),
  }).decision;

test('identity-only: CreateKey is allowed by an identity policy with Resource "*"', () => {
  assert.equal(idOnly([ID(I({ Action: 'kms:CreateKey' }))]), 'Allow');
});
test('identity-only: CreateKey without any identity policy is an implicit deny', () => {
  assert.equal(idOnly([]), 'ImplicitDeny');
});
test('identity-only: a statement scoped to a key ARN does not apply to CreateKey', () => {
  assert.equal(idOnly([ID(I({ Resource: KEY }))]), 'ImplicitDeny');
});
test('identity-only: kms:KeySpec condition denies asymmetric CreateKey and allows symmetric', () => {
  const policy = ID(I(), I({ Effect: 'Deny', Action: 'kms:CreateKey', Condition: { StringNotEquals: { 'kms:KeySpec': 'SYMMETRIC_DEFAULT' } } }));
  assert.equal(idOnly([policy], { context: { 'kms:KeySpec': 'RSA_4096' } }), 'ExplicitDeny');
  assert.equal(idOnly([policy], { context: { 'kms:KeySpec': 'SYMMETRIC_DEFAULT' } }), 'Allow');
});
test('identity-only: kms:KeyUsage and kms:KeyOrigin conditions on CreateKey', () => {
  const policy = ID(I({ Condition: { StringEquals: { 'kms:KeyUsage': 'ENCRYPT_DECRYPT', 'kms:KeyOrigin': 'AWS_KMS' } } }));
  assert.equal(idOnly([policy], { context: { 'kms:KeyUsage': 'ENCRYPT_DECRYPT', 'kms:KeyOrigin': 'AWS_KMS' } }), 'Allow');
  assert.equal(idOnly([policy], { context: { 'kms:KeyUsage': 'SIGN_VERIFY', 'kms:KeyOrigin': 'AWS_KMS' } }), 'ImplicitDeny');
});
test('identity-only: ForAllValues on aws:TagKeys limits the tag keys of CreateKey', () => {
  const policy = ID(I({ Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } } }));
  assert.equal(idOnly([policy], { context: { 'aws:TagKeys': ['env'] } }), 'Allow');
  assert.equal(idOnly([policy], { context: { 'aws:TagKeys': ['env', 'cost'] } }), 'ImplicitDeny');
});
test('identity-only: aws:RequestTag condition on CreateKey', () => {
  const policy = ID(I({ Condition: { StringEquals: { 'aws:RequestTag/env': 'prod' } } }));
  assert.equal(idOnly([policy], { context: { 'aws:RequestTag/env': 'prod' } }), 'Allow');
  assert.equal(idOnly([policy], { context: { 'aws:RequestTag/env': 'dev' } }), 'ImplicitDeny');
});
test('identity-only: the root user is allowed without identity policies', () => {
  assert.equal(idOnly([], { principal: root }), 'Allow');
});
test('identity-only: an explicit deny beats the allow', () => {
  assert.equal(idOnly([ALLOW_ALL_IDENTITY, ID(I({ Effect: 'Deny', Action: 'kms:List*' }))], { action: 'kms:ListAliases' }), 'ExplicitDeny');
});
test('identity-only: service principals have no identity policies', () => {
  assert.equal(idOnly([ALLOW_ALL_IDENTITY], { principal: secretsManager }), 'ImplicitDeny');
});

// ---------------------------------------------------------------------------------------------------
// AccessDeniedException messages

test('access denied message: implicit deny by identity policy names the action twice (AWS shape)', () => {
  assert.equal(
    accessDeniedMessage(BOB_ARN, 'kms:Encrypt', KEY, 'ImplicitDeny', 'identity-based'),
    `User: ${BOB_ARN} is not authorized to perform: kms:Encrypt on resource: ${KEY} because no identity-based policy allows the kms:Encrypt action`,
  );
});
test('access denied message: implicit deny by resource policy', () => {
  assert.equal(
    accessDeniedMessage(BOB_ARN, 'kms:Decrypt', KEY, 'ImplicitDeny', 'resource-based'),
    `User: ${BOB_ARN} is not authorized to perform: kms:Decrypt on resource: ${KEY} because no resource-based policy allows the kms:Decrypt action`,
  );
});
test('access denied message: explicit deny in a resource-based policy', () => {
  assert.equal(
    accessDeniedMessage(SESSION_ARN, 'kms:Encrypt', KEY, 'ExplicitDeny', 'resource-based'),
    `User: ${SESSION_ARN} is not authorized to perform: kms:Encrypt on resource: ${KEY} with an explicit deny in a resource-based policy`,
  );
});
test('access denied message: explicit deny in an identity-based policy', () => {
  assert.equal(
    accessDeniedMessage(BOB_ARN, 'kms:Encrypt', KEY, 'ExplicitDeny', 'identity-based'),
    `User: ${BOB_ARN} is not authorized to perform: kms:Encrypt on resource: ${KEY} with an explicit deny in an identity-based policy`,
  );
});
test('accessDeniedError is an AccessDeniedException TrentError carrying the result kind', () => {
  const request = { action: 'kms:Encrypt', resource: KEY, principal: bob, contextKeys: {} };
  const err = accessDeniedError(request, { decision: 'ImplicitDeny', deniedBy: 'resource-based', reason: '' });
  assert.ok(err instanceof TrentError);
  assert.equal(err.code, 'AccessDeniedException');
  assert.match(err.message, /because no resource-based policy allows the kms:Encrypt action$/);
});

// ---------------------------------------------------------------------------------------------------
// Lockout safety check and the default key policy

const kp = (o: object) => parsePolicy(JSON.stringify(o), 'key');

test('lockout check: the default key policy passes (delegation to the account counts)', () => {
  assert.equal(lockoutSafetyCheck(defaultKeyPolicy(ACCT), bob, { keyArn: KEY }), true);
});
test('lockout check: a policy that names only another user fails', () => {
  assert.equal(lockoutSafetyCheck(kp(KP(S({ Principal: { AWS: ALICE_ARN } }))), bob, { keyArn: KEY }), false);
});
test('lockout check: a policy allowing the caller kms:PutKeyPolicy directly passes', () => {
  assert.equal(lockoutSafetyCheck(kp(KP(S({ Action: 'kms:PutKeyPolicy' }))), bob, { keyArn: KEY }), true);
});
test('lockout check: a policy allowing the caller only kms:Encrypt fails', () => {
  assert.equal(lockoutSafetyCheck(kp(KP(S({ Action: 'kms:Encrypt' }))), bob, { keyArn: KEY }), false);
});
test('lockout check: a Deny of kms:PutKeyPolicy for the caller fails', () => {
  assert.equal(lockoutSafetyCheck(kp(KP(S(), S({ Effect: 'Deny', Action: 'kms:PutKeyPolicy' }))), bob, { keyArn: KEY }), false);
});
test('lockout check: NotAction excluding PutKeyPolicy fails', () => {
  assert.equal(lockoutSafetyCheck(kp(KP(S({ Action: undefined, NotAction: 'kms:Put*' }))), bob, { keyArn: KEY }), false);
});
test('lockout check: a statement naming the key ARN passes only when the key ARN is given', () => {
  const policy = kp(KP(S({ Resource: KEY })));
  assert.equal(lockoutSafetyCheck(policy, bob, { keyArn: KEY }), true);
  assert.equal(lockoutSafetyCheck(policy, bob), false);
});
test('lockout check: an assumed-role caller passes through its role ARN', () => {
  assert.equal(lockoutSafetyCheck(kp(KP(S({ Principal: { AWS: ROLE_ARN } }))), adminSession, { keyArn: KEY }), true);
});
test('lockout check: conditions are evaluated with the current request keys', () => {
  const policy = kp(KP(S({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })));
  assert.equal(lockoutSafetyCheck(policy, bob, { keyArn: KEY, contextKeys: { 'aws:SourceIp': '10.1.2.3' } }), true);
  assert.equal(lockoutSafetyCheck(policy, bob, { keyArn: KEY, contextKeys: { 'aws:SourceIp': '192.0.2.1' } }), false);
});

test('default key policy has the AWS shape: Sid "Enable IAM User Permissions", account root, kms:*, Resource *', () => {
  assert.deepEqual(JSON.parse(defaultKeyPolicyText(ACCT)), {
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: ROOT_ARN }, Action: 'kms:*', Resource: '*' }],
  });
  const doc = defaultKeyPolicy(ACCT);
  assert.equal(doc.kind, 'key');
  assert.equal(doc.statements.length, 1);
});

// ---------------------------------------------------------------------------------------------------
// Retiring grants

test('RetireGrant: the retiring principal may retire', () => {
  assert.equal(mayRetireGrant({ keyArn: KEY, granteePrincipal: ALICE_ARN, retiringPrincipal: BOB_ARN, operations: ['Encrypt'] }, bob, ACCT), true);
});
test('RetireGrant: the grantee may retire only when the grant includes RetireGrant', () => {
  assert.equal(mayRetireGrant({ keyArn: KEY, granteePrincipal: BOB_ARN, operations: ['Encrypt'] }, bob, ACCT), false);
  assert.equal(mayRetireGrant({ keyArn: KEY, granteePrincipal: BOB_ARN, operations: ['Encrypt', 'RetireGrant'] }, bob, ACCT), true);
});
test('RetireGrant: the key account root may retire; another account root may not', () => {
  const g: Grant = { keyArn: KEY, granteePrincipal: ALICE_ARN, operations: ['Encrypt'] };
  assert.equal(mayRetireGrant(g, root, ACCT), true);
  assert.equal(mayRetireGrant(g, otherRoot, ACCT), false);
  assert.equal(mayRetireGrant(g, carol, ACCT), false);
});

// ---------------------------------------------------------------------------------------------------
// iam:PassRole: accepted and evaluated like any action, though no Trent operation asks for it (docs/iam.md)

test('iam:PassRole: a policy granting it parses, and is evaluated on the role ARN with iam:PassedToService', () => {
  const passRole = ID(I({
    Action: 'iam:PassRole', Resource: `arn:aws:iam::${ACCT}:role/service/*`,
    Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
  }));
  const decide = (resource: string, context: Record<string, string>) => evaluateIdentityOnly({
    request: { action: 'iam:PassRole', resource, principal: bob, contextKeys: context },
    identityPolicies: [parsePolicy(JSON.stringify(passRole), 'identity')],
  }).decision;
  assert.equal(decide(`arn:aws:iam::${ACCT}:role/service/rotator`, { 'iam:PassedToService': 'lambda.amazonaws.com' }), 'Allow');
  assert.equal(decide(`arn:aws:iam::${ACCT}:role/service/rotator`, { 'iam:PassedToService': 'ec2.amazonaws.com' }), 'ImplicitDeny');
  assert.equal(decide(`arn:aws:iam::${ACCT}:role/rotator`, { 'iam:PassedToService': 'lambda.amazonaws.com' }), 'ImplicitDeny');
  assert.equal(idOnly([passRole], { action: 'iam:PassRole' }), 'ImplicitDeny', 'the condition key is absent: no match');
});
