import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { TrentError } from '../errors/errors.ts';
import type { Key } from '../kms/key-model.ts';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { awsManagedKeyPolicyText } from '../policy/index.ts';
import { ADMIN_POLICY_NAME, ADMIN_POLICY_TEXT, createAuthorizer } from './authorizer.ts';
import type { Caller } from './caller.ts';

const ACCT = '111122223333';
const dir = mkdtempSync(join(tmpdir(), 'trent-authz-'));
const storage = new SqliteStorage(join(dir, 'db'));
const authorizer = createAuthorizer({ storage, clock: new ManualClock(Date.UTC(2026, 0, 1)) });
const caller = (name: string): Caller => ({ accountId: ACCT, region: 'us-east-1', principalArn: `arn:aws:iam::${ACCT}:user/${name}`, accessKeyId: 'AKIAX' });
const key = (policy?: string): Key => ({
  scope: { accountId: ACCT, region: 'us-east-1' }, keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  arn: `arn:aws:kms:us-east-1:${ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, createdAt: 0, revision: 1,
  doc: {
    description: '', keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT', origin: 'AWS_KMS', keyManager: 'CUSTOMER', state: 'Enabled',
    currentVersion: 1, currentKeyMaterialId: 'm', multiRegion: false, tags: [], ...(policy ? { policy } : {}),
  },
});
const code = (err: unknown) => (err instanceof TrentError ? err.code : String(err));

before(async () => {
  await storage.migrate();
  await storage.transaction(async (tx) => {
    await tx.principals.insert({
      arn: `arn:aws:iam::${ACCT}:user/admin`, accountId: ACCT, kind: 'user', name: 'admin', createdAt: 0, revision: 1,
      doc: { policies: { [ADMIN_POLICY_NAME]: ADMIN_POLICY_TEXT } },
    });
    await tx.principals.insert({ arn: `arn:aws:iam::${ACCT}:user/bob`, accountId: ACCT, kind: 'user', name: 'bob', createdAt: 0, revision: 1, doc: {} });
  });
});
after(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a key stored without a policy has the default key policy: the administrator\'s identity policy is enough', async () => {
  await authorizer.authorize(caller('admin'), 'kms:Encrypt', { key: key() });
  await authorizer.authorize(caller('admin'), 'kms:CreateKey');
});

test('a principal with no identity policy is denied identity-only actions with AWS\'s message', async () => {
  await assert.rejects(authorizer.authorize(caller('bob'), 'kms:ListKeys'), (err: unknown) => {
    assert.equal(code(err), 'AccessDeniedException');
    assert.equal((err as Error).message, `User: arn:aws:iam::${ACCT}:user/bob is not authorized to perform: kms:ListKeys on resource: * because no identity-based policy allows the kms:ListKeys action`);
    return true;
  });
});

test('an unknown principal (no stored record) has no identity policies', async () => {
  assert.equal(await authorizer.isAllowed(caller('ghost'), 'kms:Encrypt', { key: key() }), false);
});

test('a grant on the key allows its grantee, within its constraints', async () => {
  const k = key();
  await storage.transaction((tx) => tx.grants.insert({
    ...k.scope, keyId: k.keyId, grantId: 'g'.repeat(64), granteePrincipal: `arn:aws:iam::${ACCT}:user/bob`, retiringPrincipal: null, name: null,
    createdAt: 0, doc: { operations: ['Encrypt'], constraints: { encryptionContextEquals: { a: '1' } } },
  }));
  try {
    assert.equal(await authorizer.isAllowed(caller('bob'), 'kms:Encrypt', { key: k, encryptionContext: { a: '1' } }), true);
    assert.equal(await authorizer.isAllowed(caller('bob'), 'kms:Encrypt', { key: k, encryptionContext: { a: '2' } }), false);
    assert.equal(await authorizer.isAllowed(caller('bob'), 'kms:Decrypt', { key: k, encryptionContext: { a: '1' } }), false);
  } finally {
    await storage.transaction((tx) => tx.grants.delete('g'.repeat(64)));
  }
});

test('checkNewKeyPolicy: malformed is MalformedPolicyDocumentException; locking the caller out is refused unless bypassed', async () => {
  const k = key();
  await assert.rejects(authorizer.checkNewKeyPolicy(caller('admin'), '{', { keyArn: k.arn }), (e: unknown) => code(e) === 'MalformedPolicyDocumentException');
  const onlyBob = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:user/bob` }, Action: 'kms:*', Resource: '*' }] });
  await assert.rejects(authorizer.checkNewKeyPolicy(caller('admin'), onlyBob, { keyArn: k.arn }), (e: unknown) => code(e) === 'MalformedPolicyDocumentException');
  assert.equal(await authorizer.checkNewKeyPolicy(caller('admin'), onlyBob, { keyArn: k.arn, bypassLockoutCheck: true }), onlyBob);
  assert.equal(await authorizer.isAllowed(caller('admin'), 'kms:Encrypt', { key: key(onlyBob) }), false);
  assert.equal(await authorizer.isAllowed(caller('bob'), 'kms:Encrypt', { key: key(onlyBob) }), true);
});

test('a caller acting through a service carries kms:ViaService to key decisions only', async () => {
  const managed = key(awsManagedKeyPolicyText(ACCT, 'us-east-1', 'ssm'));
  const viaSsm: Caller = { ...caller('bob'), viaService: 'ssm.us-east-1.amazonaws.com' };
  assert.equal(await authorizer.isAllowed(caller('bob'), 'kms:Decrypt', { key: managed }), false, 'not directly');
  assert.equal(await authorizer.isAllowed(viaSsm, 'kms:Decrypt', { key: managed }), true);
  assert.equal(await authorizer.isAllowed({ ...caller('bob'), viaService: 'secretsmanager.us-east-1.amazonaws.com' }, 'kms:Decrypt', { key: managed }), false);
});

test('authorizeResource: the resource policy or an identity policy allows; the message names the resource as shown', async () => {
  const secret = `arn:aws:secretsmanager:us-east-1:${ACCT}:secret:app/db-AbCdEf`;
  await authorizer.authorizeResource(caller('admin'), 'secretsmanager:GetSecretValue', { arn: secret, accountId: ACCT });
  const policyText = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:user/bob` }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
  await authorizer.authorizeResource(caller('bob'), 'secretsmanager:GetSecretValue', { arn: secret, accountId: ACCT, policyText });
  await assert.rejects(authorizer.authorizeResource(caller('bob'), 'secretsmanager:DescribeSecret', { arn: secret, accountId: ACCT, policyText, shownAs: 'app/db' }), (err: unknown) => {
    assert.equal((err as Error).message, `User: arn:aws:iam::${ACCT}:user/bob is not authorized to perform: secretsmanager:DescribeSecret on resource: app/db because no identity-based policy allows the secretsmanager:DescribeSecret action`);
    return true;
  });
});
