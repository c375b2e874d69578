/**
 * What a refused call reveals: for keys, aliases, secrets and parameters of the caller's own account and
 * of another account (Trent hosts several accounts in one deployment), existing and not, the error code
 * and message are exactly those AWS gives — so a caller learns no more about resources it may not use
 * than AWS would tell it. In particular nobody can probe, across accounts, whether a resource exists.
 *
 * The expected answers are one declared table (EXPECTED), each row with its source. Every row runs through
 * the real server with the AWS SDK v3 clients, as three callers:
 *   admin    — the administrator of the owning account (may do everything): own account;
 *   nobody   — a user of the owning account with no policy at all: own account, refused;
 *   stranger — the administrator of ANOTHER account (identity policy Action "*" on "*"): the resources are
 *              another account's. A name (key id, alias name, secret name, parameter name) always means
 *              the caller's own account, so the stranger reaches the owner's resources by ARN only; its
 *              rows by name show that a name never reaches across.
 *   outsider — a user of that other account with no policy: its refusals must not differ between a
 *              resource that exists and one that does not either (whichever policy is missing, the
 *              answer names the resource-based one, as for a resource that is not there);
 *   forbidden — a user of that other account whose identity policy denies everything: the explicit deny
 *              is what it is told, for a resource that exists and for one that does not alike (AWS
 *              evaluates the caller's own policies whatever the resource; IAM User Guide, "Policy
 *              evaluation logic": an explicit deny in any policy overrides any allow).
 * and for each reference form (key id, key ARN, alias name, alias ARN; secret name, partial ARN, full ARN;
 * parameter name, ARN), on a resource that exists and on one that does not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateAliasCommand, CreateGrantCommand, CreateKeyCommand, DeleteAliasCommand, DescribeKeyCommand, EncryptCommand, GetKeyPolicyCommand,
  KMSClient, TagResourceCommand, UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import {
  BatchGetSecretValueCommand, CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, GetParametersCommand, LabelParameterVersionCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ACCOUNT_ID, ADMIN, REGION, startServer, type TestServer } from './harness.ts';
import { type Credentials, OTHER_ACCOUNT, principals } from './principals.ts';

type Caller = 'admin' | 'nobody' | 'stranger' | 'outsider' | 'forbidden';
const ACCOUNT_OF: Record<Caller, string> = { admin: ACCOUNT_ID, nobody: ACCOUNT_ID, stranger: OTHER_ACCOUNT, outsider: OTHER_ACCOUNT, forbidden: OTHER_ACCOUNT };
const ARN_OF: Record<Caller, string> = {
  admin: `arn:aws:iam::${ACCOUNT_ID}:user/admin`,
  nobody: `arn:aws:iam::${ACCOUNT_ID}:user/nobody`,
  stranger: `arn:aws:iam::${OTHER_ACCOUNT}:user/admin`,
  outsider: `arn:aws:iam::${OTHER_ACCOUNT}:user/outsider`,
  forbidden: `arn:aws:iam::${OTHER_ACCOUNT}:user/forbidden`,
};
const OTHER_ACCOUNT_CALLERS = ['stranger', 'outsider', 'forbidden'] as const;
/** The forbidden user's only identity policy. */
const DENY_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] };

// The owner's resources (account ACCOUNT_ID). Ids of what does not exist are fixed so that messages are.
const MISSING_KEY = '0f0e0d0c-0b0a-4909-8807-060504030201';
const MISSING_SECRET = 'denials/missing';
const MISSING_SECRET_FULL_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${MISSING_SECRET}-AbCdEf`;
const SECRET = 'denials/present';
const PARAMETER = '/denials/present';
const MISSING_PARAMETER = '/denials/missing';
const ALIAS = 'alias/denials-present';
const MISSING_ALIAS = 'alias/denials-missing';
/** An alias of the OTHER account's own, to a key of its own. */
const STRANGER_ALIAS = 'alias/denials-strangers-own';

const keyArnIn = (account: string, id: string) => `arn:aws:kms:${REGION}:${account}:key/${id}`;
const aliasArnIn = (account: string, name: string) => `arn:aws:kms:${REGION}:${account}:${name}`;
const parameterArn = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter${name}`;
const secretPartialArn = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${name}`;

/** What the running test learns at start-up: the ids Trent gave the existing resources. */
interface World { keyId: string; sharedKeyId: string; secretFullArn: string }

/** What a row expects: success, or exactly this error code and message (and HTTP 400). */
type Outcome = { ok: true } | { code: string; message: string };

/**
 * AWS's AccessDeniedException text (IAM User Guide, "Access denied error messages"). For the forbidden
 * caller, "with an explicit deny in an identity-based policy" whatever the resource.
 */
const denied = (caller: Caller, action: string, resource: string, policy: 'identity' | 'resource'): Outcome => ({
  code: 'AccessDeniedException',
  message: caller === 'forbidden'
    ? `User: ${ARN_OF[caller]} is not authorized to perform: ${action} on resource: ${resource} with an explicit deny in an identity-based policy`
    : `User: ${ARN_OF[caller]} is not authorized to perform: ${action} on resource: ${resource} because no ${policy}-based policy allows the ${action} action`,
});

interface Row {
  service: 'kms' | 'secretsmanager' | 'ssm';
  operation: string;
  caller: Caller;
  /** Which reference form, for the test name. */
  form: string;
  exists: boolean;
  /** The identifier as sent. */
  ref: (w: World) => string;
  /** UpdateAlias: the alias it changes (ALIAS unless given). */
  aliasName?: string;
  expect: (w: World, ref: string) => Outcome;
}

// ---------------------------------------------------------------------------------------------------
// The declared table. One block per resource type; each row's source in the comment above it.

const KMS_FORMS = {
  'key id': { present: (w: World) => w.keyId, missing: () => MISSING_KEY },
  'key ARN': { present: (w: World) => keyArnIn(ACCOUNT_ID, w.keyId), missing: () => keyArnIn(ACCOUNT_ID, MISSING_KEY) },
  'alias name': { present: () => ALIAS, missing: () => MISSING_ALIAS },
  'alias ARN': { present: () => aliasArnIn(ACCOUNT_ID, ALIAS), missing: () => aliasArnIn(ACCOUNT_ID, MISSING_ALIAS) },
} as const;
type KmsForm = keyof typeof KMS_FORMS;

/**
 * KMS: DescribeKey (a read), Encrypt (a crypto call), CreateGrant (a write; a key id or key ARN only) —
 * all three "Cross-account use: Yes" — and GetKeyPolicy (a read) and TagResource (a write), "Cross-account
 * use: No" (the KMS API reference of each operation, as carried by @aws-sdk/client-kms's command docs).
 */
function kmsRows(): Row[] {
  const rows: Row[] = [];
  const ops: [string, KmsForm[]][] = [
    ['DescribeKey', ['key id', 'key ARN', 'alias name', 'alias ARN']],
    ['Encrypt', ['key id', 'key ARN', 'alias name', 'alias ARN']],
    ['CreateGrant', ['key id', 'key ARN']],
    ['GetKeyPolicy', ['key id', 'key ARN']],
    ['TagResource', ['key id', 'key ARN']],
  ];
  for (const [operation, forms] of ops) {
    const action = `kms:${operation}`;
    for (const form of forms) {
      const isAlias = form.startsWith('alias');
      for (const exists of [true, false]) {
        const ref = exists ? KMS_FORMS[form].present : KMS_FORMS[form].missing;
        // Own account, the administrator: it works; what does not exist is NotFoundException.
        // Source: shared/reference/aws-recorded/test_kms.snapshot.json, "Key '<key-arn>' does not exist"
        // (DescribeKey/Encrypt of a missing key id or ARN); "Alias <alias-arn> is not found." is the text of
        // localstack services/kms/provider.py and moto kms/responses.py for a missing alias (not recorded).
        const notFound = (): Outcome => isAlias
          ? { code: 'NotFoundException', message: `Alias ${aliasArnIn(ACCOUNT_ID, exists ? ALIAS : MISSING_ALIAS)} is not found.` }
          : { code: 'NotFoundException', message: `Key '${keyArnIn(ACCOUNT_ID, MISSING_KEY)}' does not exist` };
        rows.push({ service: 'kms', operation, caller: 'admin', form, exists, ref, expect: () => (exists ? { ok: true } : notFound()) });
        // Own account, no policy: an existing key is AccessDeniedException naming the key ARN and the
        // identity-based policy; a missing one is NotFoundException as for the administrator — KMS
        // authorizes with the key's own policy, so it finds the key first (issue #18 item 6: "NotFoundException
        // for a key that does not exist in your account"; AWS KMS Developer Guide, "Troubleshooting key access").
        rows.push({
          service: 'kms', operation, caller: 'nobody', form, exists, ref,
          expect: (w) => (exists ? denied('nobody', action, keyArnIn(ACCOUNT_ID, w.keyId), 'identity') : notFound()),
        });
      }
      // Another account's key, by ARN: AccessDeniedException naming the ARN as given and the resource-based
      // (key) policy, whether or not the key exists — existence cannot be probed across accounts.
      // Source: issue #18 item 6 ("AccessDeniedException with the ARN for another account's key whatever its
      // existence"); AWS KMS Developer Guide, "Allowing users in other accounts to use a KMS key" (the key
      // policy must allow the other account). An alias ARN of another account is answered the same way,
      // naming the alias ARN, whether the alias exists or not (AWS: "Aliases are recognized only in the
      // account that created the KMS key", e.g. the CodePipeline EncryptionKey reference).
      if (form === 'key ARN' || form === 'alias ARN') {
        for (const exists of [true, false]) {
          const ref = exists ? KMS_FORMS[form].present : KMS_FORMS[form].missing;
          for (const caller of OTHER_ACCOUNT_CALLERS) rows.push({ service: 'kms', operation, caller, form, exists, ref, expect: (_w, r) => denied(caller, action, r, 'resource') });
        }
      } else {
        // A key id or alias name always names the caller's own account: the stranger's own, where it does
        // not exist. Source: the KeyId member documentation ("To specify a KMS key in a different AWS
        // account, you must use the key ARN or alias ARN") and the recorded NotFound texts above.
        rows.push({
          service: 'kms', operation, caller: 'stranger', form, exists: true, ref: KMS_FORMS[form].present,
          expect: (w) => form === 'key id'
            ? { code: 'NotFoundException', message: `Key '${keyArnIn(OTHER_ACCOUNT, w.keyId)}' does not exist` }
            : { code: 'NotFoundException', message: `Alias ${aliasArnIn(OTHER_ACCOUNT, ALIAS)} is not found.` },
        });
      }
    }
  }
  return rows;
}

/**
 * Aliases: the TargetKeyId of CreateAlias and UpdateAlias (a key id or key ARN), and the AliasName of
 * DeleteAlias (a name: always the caller's own account).
 */
function aliasRows(): Row[] {
  const rows: Row[] = [];
  for (const operation of ['CreateAlias', 'UpdateAlias'] as const) {
    const action = `kms:${operation}`;
    for (const form of ['key id', 'key ARN'] as const) {
      for (const exists of [true, false]) {
        const ref = exists ? KMS_FORMS[form].present : KMS_FORMS[form].missing;
        // Own account: works, or NotFoundException for a missing target (recorded text, as above).
        const notFound: Outcome = { code: 'NotFoundException', message: `Key '${keyArnIn(ACCOUNT_ID, MISSING_KEY)}' does not exist` };
        rows.push({ service: 'kms', operation, caller: 'admin', form, exists, ref, expect: () => (exists ? { ok: true } : notFound) });
        // No policy: AccessDeniedException on the alias, whether the target exists or not. AWS ("Controlling
        // access to aliases"): the alias is a resource of the operation, decided by identity policies; Trent
        // decides it first, so the answer tells nothing of the target key.
        rows.push({
          service: 'kms', operation, caller: 'nobody', form, exists, ref,
          expect: () => denied('nobody', action, aliasArnIn(ACCOUNT_ID, operation === 'CreateAlias' ? `alias/denials-new-${aliasSeq + 1}` : ALIAS), 'identity'),
        });
      }
    }
    // Another account's key as the target: refused whether it exists or not, and whatever that key's
    // policy says — AWS: "The KMS key must be in the same AWS account and Region as the alias"
    // (CreateAlias/UpdateAlias TargetKeyId) and "Cross-account use: No".
    for (const exists of [true, false]) {
      const ref = exists ? KMS_FORMS['key ARN'].present : KMS_FORMS['key ARN'].missing;
      rows.push({
        service: 'kms', operation, caller: 'stranger', form: 'key ARN', exists, ref,
        // UpdateAlias names an alias of the stranger's own account, where it does not exist: the alias is
        // looked up first (the alias, not the key, is what UpdateAlias changes).
        expect: (_w, r) => operation === 'UpdateAlias'
          ? { code: 'NotFoundException', message: `Alias ${aliasArnIn(OTHER_ACCOUNT, ALIAS)} is not found.` }
          : denied('stranger', action, r, 'resource'),
      });
    }
  }
  // A key of the owner's account whose key policy gives the other account every KMS action. AWS KMS
  // Developer Guide, "Allowing users in other accounts to use a KMS key": cross-account use needs the key
  // policy AND the caller's IAM policy — so the stranger may describe it, and the outsider (no IAM policy)
  // is refused by its identity side (the key policy does allow it: naming the key reveals only what its
  // owner chose to share).
  const shared = (w: World) => keyArnIn(ACCOUNT_ID, w.sharedKeyId);
  rows.push({ service: 'kms', operation: 'DescribeKey', caller: 'stranger', form: 'key ARN (shared)', exists: true, ref: shared, expect: () => ({ ok: true }) });
  rows.push({ service: 'kms', operation: 'DescribeKey', caller: 'outsider', form: 'key ARN (shared)', exists: true, ref: shared,
    expect: (_w, r) => denied('outsider', 'kms:DescribeKey', r, 'identity') });
  rows.push({ service: 'kms', operation: 'CreateGrant', caller: 'stranger', form: 'key ARN (shared)', exists: true, ref: shared, expect: () => ({ ok: true }) });
  // But what AWS documents as "Cross-account use: No" is refused whatever the key policy allows — an alias
  // never points across accounts (CreateAlias/UpdateAlias: "The KMS key must be in the same AWS account and
  // Region as the alias"), another account reads no key policy and sets no tag. AWS's words for this case
  // are not recorded: the stranger gets those it gets for another account's key that does not exist, so
  // the answer tells nothing of the key or its policy.
  for (const operation of ['GetKeyPolicy', 'TagResource']) {
    rows.push({ service: 'kms', operation, caller: 'stranger', form: 'key ARN (shared)', exists: true, ref: shared,
      expect: (_w, r) => denied('stranger', `kms:${operation}`, r, 'resource') });
  }
  rows.push({ service: 'kms', operation: 'CreateAlias', caller: 'stranger', form: 'key ARN (shared)', exists: true, ref: shared,
    expect: (_w, r) => denied('stranger', 'kms:CreateAlias', r, 'resource') });
  rows.push({ service: 'kms', operation: 'UpdateAlias', caller: 'stranger', form: 'key ARN (shared), its own alias', exists: true, ref: shared, aliasName: STRANGER_ALIAS,
    expect: (_w, r) => denied('stranger', 'kms:UpdateAlias', r, 'resource') });

  // DeleteAlias: own account works or NotFoundException (alias text as above); with no policy, AccessDenied
  // on the alias whether it exists or not (the alias is decided first, as for CreateAlias; then the key it
  // points at: AWS, DeleteAlias needs kms:DeleteAlias on both); the stranger's "alias/…" is its own
  // account's, which does not exist.
  for (const exists of [true, false]) {
    const name = exists ? ALIAS : MISSING_ALIAS;
    const notFound = (account: string): Outcome => ({ code: 'NotFoundException', message: `Alias ${aliasArnIn(account, name)} is not found.` });
    rows.push({ service: 'kms', operation: 'DeleteAlias', caller: 'nobody', form: 'alias name', exists, ref: () => name,
      expect: () => denied('nobody', 'kms:DeleteAlias', aliasArnIn(ACCOUNT_ID, name), 'identity') });
    rows.push({ service: 'kms', operation: 'DeleteAlias', caller: 'stranger', form: 'alias name', exists, ref: () => name, expect: () => notFound(OTHER_ACCOUNT) });
    if (!exists) rows.push({ service: 'kms', operation: 'DeleteAlias', caller: 'admin', form: 'alias name', exists, ref: () => name, expect: () => notFound(ACCOUNT_ID) });
  }
  return rows;
}

const SECRET_FORMS = {
  name: { present: () => SECRET, missing: () => MISSING_SECRET },
  'partial ARN': { present: () => secretPartialArn(SECRET), missing: () => secretPartialArn(MISSING_SECRET) },
  'full ARN': { present: (w: World) => w.secretFullArn, missing: () => MISSING_SECRET_FULL_ARN },
} as const;

/** Secrets Manager: GetSecretValue (a read) and PutSecretValue (a write). */
function secretRows(): Row[] {
  const rows: Row[] = [];
  const notFound: Outcome = { code: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." };
  for (const operation of ['GetSecretValue', 'PutSecretValue']) {
    const action = `secretsmanager:${operation}`;
    for (const form of ['name', 'partial ARN', 'full ARN'] as const) {
      for (const exists of [true, false]) {
        const ref = exists ? SECRET_FORMS[form].present : SECRET_FORMS[form].missing;
        // Own account, allowed: works, or ResourceNotFoundException.
        // Source: aws-recorded/test_secretsmanager.snapshot.json, "Secrets Manager can't find the specified secret."
        rows.push({ service: 'secretsmanager', operation, caller: 'admin', form, exists, ref, expect: () => (exists ? { ok: true } : notFound) });
        // Own account, no policy: AccessDeniedException naming the SecretId as the caller gave it, whether
        // or not the secret exists — Secrets Manager authorizes before it looks the secret up.
        // Source: external-secrets/external-secrets#2685 (a denied GetSecretValue names "appsecret/test/new-test",
        // the SecretId as given); the AccessDenied-before-NotFound order is IAM's (request authorization
        // precedes the service's own answer), as aws-solutions/aws-control-tower-customizations#208 shows for SSM.
        rows.push({ service: 'secretsmanager', operation, caller: 'nobody', form, exists, ref, expect: (_w, r) => denied('nobody', action, r, 'identity') });
        if (form === 'name') {
          // A name is the stranger's own account's: not there. (AWS: another account's secret needs its ARN.)
          if (exists) rows.push({ service: 'secretsmanager', operation, caller: 'stranger', form, exists, ref, expect: () => notFound });
        } else {
          // Another account's secret by ARN: AccessDeniedException naming the ARN as given and the
          // resource-based policy, whether it exists or not. Source: aws/aws-cdk#28537 (a partial ARN of
          // another account: "…on resource: arn:aws:secretsmanager:us-east-1:<account-2>:secret:ct/vpn/samlMetadata
          // because no resource-based policy allows the secretsmanager:GetSecretValue action"); AWS Secrets
          // Manager User Guide, "Access AWS Secrets Manager secrets from a different account".
          for (const caller of OTHER_ACCOUNT_CALLERS) rows.push({ service: 'secretsmanager', operation, caller, form, exists, ref, expect: (_w, r) => denied(caller, action, r, 'resource') });
        }
      }
    }
  }
  // BatchGetSecretValue (a batch read): the caller needs secretsmanager:BatchGetSecretValue, then
  // GetSecretValue on each secret (AWS API reference, BatchGetSecretValue, "Required permissions"); a secret
  // it cannot read is an entry of Errors {SecretId, ErrorCode, Message}. Each entry must say exactly what
  // GetSecretValue says of that secret alone, so a batch tells no more than single reads. The callers with
  // the batch permission: the administrator (own account) and the stranger (the owner's secrets by ARN).
  for (const form of ['name', 'partial ARN', 'full ARN'] as const) {
    for (const exists of [true, false]) {
      const ref = exists ? SECRET_FORMS[form].present : SECRET_FORMS[form].missing;
      rows.push({ service: 'secretsmanager', operation: 'BatchGetSecretValue', caller: 'admin', form, exists, ref, expect: () => (exists ? { ok: true } : notFound) });
      if (form === 'name') continue;
      rows.push({
        service: 'secretsmanager', operation: 'BatchGetSecretValue', caller: 'stranger', form, exists, ref,
        expect: (_w, r) => denied('stranger', 'secretsmanager:GetSecretValue', r, 'resource'),
      });
    }
  }
  return rows;
}

/**
 * Parameter Store: GetParameter (a read; a name or an ARN) and LabelParameterVersion (a write; AWS:
 * "You can't enter the ARN for a parameter, only the parameter name itself").
 */
function parameterRows(): Row[] {
  const rows: Row[] = [];
  for (const [operation, forms] of [['GetParameter', ['name', 'ARN']], ['LabelParameterVersion', ['name']]] as const) {
    const action = `ssm:${operation}`;
    for (const form of forms) {
      for (const exists of [true, false]) {
        const name = exists ? PARAMETER : MISSING_PARAMETER;
        const ref = () => (form === 'ARN' ? parameterArn(name) : name);
        // Own account, allowed: works, or ParameterNotFound. Source: AWS GetParameter answers ParameterNotFound
        // (API reference, Errors); the text is Trent's existing one, checked by test/e2e/parameters.test.ts.
        rows.push({
          service: 'ssm', operation, caller: 'admin', form, exists, ref,
          expect: (_w, r) => (exists ? { ok: true } : { code: 'ParameterNotFound', message: `Parameter ${r} not found.` }),
        });
        // Own account, no policy: AccessDeniedException on the parameter's ARN, whether or not it exists.
        // Source: aws-solutions/aws-control-tower-customizations#208 (a parameter that does not exist:
        // AccessDeniedException "…is not authorized to perform: ssm:GetParameter on resource: … because no
        // identity-based policy allows the ssm:GetParameter action", not ParameterNotFound).
        rows.push({ service: 'ssm', operation, caller: 'nobody', form, exists, ref, expect: () => denied('nobody', action, parameterArn(name), 'identity') });
        if (form === 'ARN') {
          // Another account's parameter by ARN: parameters have no resource policy (only RAM sharing of
          // advanced parameters, which Trent does not offer), so AccessDeniedException naming the ARN and the
          // resource-based policy, whether it exists or not. Source: AWS Systems Manager User Guide,
          // "Working with shared parameters"; same shape as the Secrets Manager rows above.
          for (const caller of OTHER_ACCOUNT_CALLERS) rows.push({ service: 'ssm', operation, caller, form, exists, ref, expect: (_w, r) => denied(caller, action, r, 'resource') });
        } else if (exists) {
          // A name is the stranger's own account's, where it does not exist.
          rows.push({ service: 'ssm', operation, caller: 'stranger', form, exists, ref, expect: (_w, r) => ({ code: 'ParameterNotFound', message: `Parameter ${r} not found.` }) });
        }
      }
    }
  }
  // GetParameters (a batch read): ssm:GetParameters on every name (AWS Service Authorization Reference);
  // a name that does not exist is listed in InvalidParameters of a successful call (AWS API reference,
  // GetParameters) — for a caller allowed to read it. Without permission, or for another account's ARN,
  // the whole call is refused exactly as GetParameter is, existing or not.
  for (const form of ['name', 'ARN'] as const) {
    for (const exists of [true, false]) {
      const name = exists ? PARAMETER : MISSING_PARAMETER;
      const ref = () => (form === 'ARN' ? parameterArn(name) : name);
      rows.push({ service: 'ssm', operation: 'GetParameters', caller: 'admin', form, exists, ref,
        expect: (_w, r) => (exists ? { ok: true } : { code: 'InvalidParameters', message: r }) });
      rows.push({ service: 'ssm', operation: 'GetParameters', caller: 'nobody', form, exists, ref, expect: () => denied('nobody', 'ssm:GetParameters', parameterArn(name), 'identity') });
      if (form === 'ARN') {
        for (const caller of OTHER_ACCOUNT_CALLERS) {
          rows.push({ service: 'ssm', operation: 'GetParameters', caller, form, exists, ref, expect: (_w, r) => denied(caller, 'ssm:GetParameters', r, 'resource') });
        }
      }
    }
  }
  return rows;
}

const EXPECTED: Row[] = [...kmsRows(), ...aliasRows(), ...secretRows(), ...parameterRows()];

// ---------------------------------------------------------------------------------------------------

let server: TestServer;
let world: World;
const kms = {} as Record<Caller, KMSClient>;
const sm = {} as Record<Caller, SecretsManagerClient>;
const ssm = {} as Record<Caller, SSMClient>;
let aliasSeq = 0;

before(async () => {
  server = await startServer();
  const p = principals(server);
  const stranger = await p.otherAccountAdmin();
  const creds: Record<Caller, Credentials> = { admin: ADMIN, nobody: await p.newUser('nobody'), stranger, outsider: await p.newUser('outsider', undefined, stranger),
    forbidden: await p.newUser('forbidden', DENY_ALL, stranger),
  };
  for (const c of Object.keys(creds) as Caller[]) {
    const common = { endpoint: server.url, region: REGION, maxAttempts: 1, credentials: creds[c] };
    kms[c] = new KMSClient(common);
    sm[c] = new SecretsManagerClient(common);
    ssm[c] = new SSMClient(common);
  }
  const keyId = (await kms.admin.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  const sharedPolicy = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'kms:*', Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
    ],
  };
  const sharedKeyId = (await kms.admin.send(new CreateKeyCommand({ Policy: JSON.stringify(sharedPolicy) }))).KeyMetadata!.KeyId!;
  const strangersKey = (await kms.stranger.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  await kms.stranger.send(new CreateAliasCommand({ AliasName: STRANGER_ALIAS, TargetKeyId: strangersKey }));
  await kms.admin.send(new CreateAliasCommand({ AliasName: ALIAS, TargetKeyId: keyId }));
  const secretFullArn = (await sm.admin.send(new CreateSecretCommand({ Name: SECRET, SecretString: 'v' }))).ARN!;
  await ssm.admin.send(new PutParameterCommand({ Name: PARAMETER, Value: 'v', Type: 'String' }));
  world = { keyId, sharedKeyId, secretFullArn };
});
after(async () => {
  for (const c of Object.keys(kms) as Caller[]) {
    kms[c].destroy();
    sm[c].destroy();
    ssm[c].destroy();
  }
  await server.stop(true);
});

/** Sends `operation` on `ref` as `caller`. Writes that succeed leave nothing another row depends on. */
async function send(row: Row, ref: string): Promise<unknown> {
  const c = row.caller;
  switch (row.operation) {
    case 'DescribeKey': return kms[c].send(new DescribeKeyCommand({ KeyId: ref }));
    case 'Encrypt': return kms[c].send(new EncryptCommand({ KeyId: ref, Plaintext: Buffer.from('x') }));
    case 'CreateGrant': return kms[c].send(new CreateGrantCommand({ KeyId: ref, GranteePrincipal: ARN_OF.nobody, Operations: ['Decrypt'] }));
    case 'CreateAlias': {
      const name = `alias/denials-new-${++aliasSeq}`;
      const out = await kms[c].send(new CreateAliasCommand({ AliasName: name, TargetKeyId: ref }));
      await kms.admin.send(new DeleteAliasCommand({ AliasName: name }));
      return out;
    }
    case 'UpdateAlias': {
      // Retargets ALIAS to `ref`, then back to the key it names for every other row.
      const out = await kms[c].send(new UpdateAliasCommand({ AliasName: row.aliasName ?? ALIAS, TargetKeyId: ref }));
      await kms.admin.send(new UpdateAliasCommand({ AliasName: ALIAS, TargetKeyId: world.keyId }));
      return out;
    }
    case 'DeleteAlias': return kms[c].send(new DeleteAliasCommand({ AliasName: ref }));
    case 'GetKeyPolicy': return kms[c].send(new GetKeyPolicyCommand({ KeyId: ref, PolicyName: 'default' }));
    case 'TagResource': return kms[c].send(new TagResourceCommand({ KeyId: ref, Tags: [{ TagKey: 'denials', TagValue: 'x' }] }));
    case 'GetSecretValue': return sm[c].send(new GetSecretValueCommand({ SecretId: ref }));
    case 'PutSecretValue': return sm[c].send(new PutSecretValueCommand({ SecretId: ref, SecretString: 'w' }));
    case 'BatchGetSecretValue': {
      const out = await sm[c].send(new BatchGetSecretValueCommand({ SecretIdList: [ref] }));
      // A per-secret refusal is an Errors entry of a successful (200) call: answered like a single read's.
      const error = out.Errors?.[0];
      if (error) throw Object.assign(new Error(error.Message), { name: error.ErrorCode, $metadata: out.$metadata });
      assert.equal(out.SecretValues?.length, 1);
      return out;
    }
    case 'GetParameter': return ssm[c].send(new GetParameterCommand({ Name: ref }));
    case 'GetParameters': {
      const out = await ssm[c].send(new GetParametersCommand({ Names: [ref] }));
      // A name that is not there is listed, in a 200 answer, not refused.
      if (out.InvalidParameters?.length) throw Object.assign(new Error(out.InvalidParameters.join(',')), { name: 'InvalidParameters', $metadata: out.$metadata });
      assert.equal(out.Parameters?.length, 1);
      return out;
    }
    case 'LabelParameterVersion': return ssm[c].send(new LabelParameterVersionCommand({ Name: ref, Labels: ['denials'] }));
    default: throw new Error(`no sender for ${row.operation}`);
  }
}

const RESOURCE_TYPE: Record<string, string> = {
  DescribeKey: 'keys', Encrypt: 'keys', CreateGrant: 'keys', GetKeyPolicy: 'keys', TagResource: 'keys', CreateAlias: 'aliases', UpdateAlias: 'aliases', DeleteAlias: 'aliases',
  GetSecretValue: 'secrets', PutSecretValue: 'secrets', BatchGetSecretValue: 'secrets', GetParameter: 'parameters', GetParameters: 'parameters', LabelParameterVersion: 'parameters',
};

for (const type of ['keys', 'aliases', 'secrets', 'parameters']) {
  describe(`denials reveal no more than AWS's: ${type}`, () => {
    for (const row of EXPECTED.filter((r) => RESOURCE_TYPE[r.operation] === type)) {
      const whose = ACCOUNT_OF[row.caller] === ACCOUNT_ID ? 'own account' : 'another account';
      test(`${row.operation} by ${row.form}, ${row.exists ? 'existing' : 'missing'}, ${whose}, as ${row.caller}`, async () => {
        const ref = row.ref(world);
        const expected = row.expect(world, ref);
        let got: Outcome & { status?: number };
        try {
          await send(row, ref);
          got = { ok: true };
        } catch (err) {
          const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
          got = { code: e.name, message: e.message, ...(e.$metadata?.httpStatusCode !== undefined ? { status: e.$metadata.httpStatusCode } : {}) };
        }
        if ('ok' in expected) return assert.deepEqual(got, expected);
        const { status, ...answer } = got as { code: string; message: string; status?: number };
        assert.deepEqual(answer, expected);
        // A batch's per-item answer comes in a 200 answer; every other refusal is a client fault, 400.
        assert.equal(status, expected.code === 'InvalidParameters' || row.operation === 'BatchGetSecretValue' ? 200 : 400);
      });
    }
  });
}
