import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canRetarget, checkAliasName, createAliasService, keyTypeFamily } from './alias-service.ts';
import type { KeySpec, KeyUsage } from './key-model.ts';
import { updateKeyDoc } from './key-updates.ts';
import { awsManagedKeyPolicyText, defaultKeyPolicyText } from '../policy/index.ts';

const key = (keySpec: KeySpec, keyUsage: KeyUsage) => ({ keySpec, keyUsage });

test('an alias name must start with "alias/" (AWS recorded ValidationException text)', () => {
  for (const name of ['my-key', 'aliasx/y', 'Alias/y', 'arn:aws:kms:us-east-1:111122223333:alias/y']) {
    assert.throws(() => checkAliasName(name), {
      code: 'ValidationException',
      message: 'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
    });
  }
});

test('names under alias/aws/ are reserved for AWS managed keys: NotAuthorizedException without a message', () => {
  for (const name of ['alias/aws/s3', 'alias/aws/anything', 'alias/aws/']) {
    assert.throws(() => checkAliasName(name), { code: 'NotAuthorizedException', message: '' });
  }
});

test('alias/aws without the slash, or aws elsewhere in the name, is not reserved', () => {
  for (const name of ['alias/aws', 'alias/awsome', 'alias/team/aws/x']) assert.doesNotThrow(() => checkAliasName(name));
});

test('an alias name may not contain a colon even though the wire pattern admits one', () => {
  assert.throws(() => checkAliasName('alias/a:b'), { code: 'ValidationException', message: 'alias/a:b contains invalid characters for an alias' });
});

test('an alias name needs a name after the prefix', () => {
  assert.throws(() => checkAliasName('alias/'), { code: 'InvalidAliasNameException' });
});

test('ordinary names pass', () => {
  for (const name of ['alias/a', 'alias/My_Key-1', 'alias/team/app/key']) assert.doesNotThrow(() => checkAliasName(name));
});

test('key type families: symmetric, HMAC and the asymmetric rest', () => {
  assert.equal(keyTypeFamily('SYMMETRIC_DEFAULT'), 'SYMMETRIC');
  for (const s of ['HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512'] as const) assert.equal(keyTypeFamily(s), 'HMAC');
  for (const s of ['RSA_2048', 'RSA_4096', 'ECC_NIST_P256', 'ECC_SECG_P256K1', 'SM2', 'ML_DSA_65', 'ECC_NIST_EDWARDS25519'] as const) {
    assert.equal(keyTypeFamily(s), 'ASYMMETRIC');
  }
});

test('UpdateAlias may re-target between keys of the same family and usage', () => {
  assert.ok(canRetarget(key('SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT'), key('SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT')));
  assert.ok(canRetarget(key('RSA_2048', 'SIGN_VERIFY'), key('ECC_NIST_P256', 'SIGN_VERIFY')));
  assert.ok(canRetarget(key('RSA_2048', 'ENCRYPT_DECRYPT'), key('RSA_4096', 'ENCRYPT_DECRYPT')));
  assert.ok(canRetarget(key('HMAC_256', 'GENERATE_VERIFY_MAC'), key('HMAC_512', 'GENERATE_VERIFY_MAC')));
});

test('UpdateAlias may not re-target across families, even with the same usage', () => {
  assert.ok(!canRetarget(key('SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT'), key('RSA_2048', 'ENCRYPT_DECRYPT')));
  assert.ok(!canRetarget(key('RSA_2048', 'ENCRYPT_DECRYPT'), key('SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT')));
  assert.ok(!canRetarget(key('HMAC_256', 'GENERATE_VERIFY_MAC'), key('SYMMETRIC_DEFAULT', 'GENERATE_VERIFY_MAC')));
});

test('UpdateAlias may not re-target to another key usage within a family', () => {
  assert.ok(!canRetarget(key('RSA_2048', 'ENCRYPT_DECRYPT'), key('RSA_2048', 'SIGN_VERIFY')));
  assert.ok(!canRetarget(key('ECC_NIST_P256', 'SIGN_VERIFY'), key('ECC_NIST_P256', 'KEY_AGREEMENT')));
});

test('the AWS-managed key alias/aws/<service> is created once on first use, with KeyManager AWS', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { SqliteStorage } = await import('../storage/sqlite/sqlite-storage.ts');
  const { KeyringBarrier } = await import('../seal/keyring-barrier.ts');
  const { Keyring } = await import('../seal/keyring.ts');
  const { SecretBytes } = await import('../crypto/secret-bytes.ts');
  const { MaterialCache } = await import('./material-cache.ts');
  const { createKeyService } = await import('./key-service.ts');
  const { PaginationMarkers } = await import('./markers.ts');
  const { systemClock } = await import('../clock.ts');
  const dir = mkdtempSync(join(tmpdir(), 'trent-managed-'));
  const storage = new SqliteStorage(join(dir, 'db'));
  await storage.migrate();
  try {
    const barrier = new KeyringBarrier(Keyring.withFirst(SecretBytes.copyOf(Buffer.alloc(32, 3))));
    const markers = new PaginationMarkers(SecretBytes.copyOf(Buffer.alloc(32, 5)));
    const { createAuthorizer } = await import('../auth/authorizer.ts');
    const authorizer = createAuthorizer({ storage, clock: systemClock });
    const { createIamService } = await import('../auth/iam-service.ts');
    await createIamService({ storage, clock: systemClock, authorizer, credentials: undefined as never }).ensureAdministrator('111122223333');
    const keys = createKeyService({
      storage, barrier, clock: systemClock, materialCache: new MaterialCache(10), ciphertextHeaderKey: SecretBytes.copyOf(Buffer.alloc(32, 4)),
      authorizer, markers,
    });
    const aliases = createAliasService({ storage, clock: systemClock, keys, markers, authorizer });
    const caller = { accountId: '111122223333', region: 'us-east-1', principalArn: 'arn:aws:iam::111122223333:user/admin', accessKeyId: 'AKIA' };
    const made = await Promise.all([1, 2, 3, 4].map(() => aliases.awsManagedKey(caller, 'secretsmanager')));
    assert.equal(new Set(made.map((k) => k.keyId)).size, 1);
    assert.equal(made[0]!.doc.keyManager, 'AWS');
    assert.equal(await storage.read((r) => r.keys.count({ accountId: '111122223333', region: 'us-east-1' })), 1);
    const again = await aliases.awsManagedKey(caller, 'secretsmanager');
    assert.equal(again.keyId, made[0]!.keyId);
    const other = await aliases.awsManagedKey({ ...caller, region: 'eu-west-1' }, 'secretsmanager');
    assert.notEqual(other.keyId, made[0]!.keyId);
    // AWS's managed key policy: use through the service only (kms:ViaService of its region).
    assert.equal(made[0]!.doc.policy, awsManagedKeyPolicyText('111122223333', 'us-east-1', 'secretsmanager'));
    // A managed key made before managed policies (the default key policy) gets the managed one on next use.
    await updateKeyDoc(storage, made[0]!.scope, made[0]!.keyId, (k) => ({ ...k.doc, policy: defaultKeyPolicyText('111122223333') }));
    const upgraded = await aliases.awsManagedKey(caller, 'secretsmanager');
    assert.equal(upgraded.doc.policy, awsManagedKeyPolicyText('111122223333', 'us-east-1', 'secretsmanager'));
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
