import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createQuotas, DEFAULT_QUOTAS, keyQuotaOf, parseQuotaTable, quotaOf } from './quotas.ts';

const CALLER = { accountId: '111122223333', region: 'us-east-1', principalArn: 'arn:aws:iam::111122223333:user/q', accessKeyId: 'AKIAQUOTA' };

/** A bucket's clock that the test moves by hand (milliseconds). */
function manualClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

function admitted(take: () => void, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    try {
      take();
      ok++;
    } catch (err) {
      assert.equal((err as { name: string }).name, 'ThrottlingException');
    }
  }
  return ok;
}

test('operations count against AWS\'s shared quotas; key-dependent KMS operations are left to the key', () => {
  assert.equal(quotaOf(DEFAULT_QUOTAS, 'TrentService', 'Encrypt'), undefined, 'the key\'s type picks its quota');
  assert.equal(quotaOf(DEFAULT_QUOTAS, 'TrentService', 'Decrypt'), undefined);
  assert.equal(quotaOf(DEFAULT_QUOTAS, 'TrentService', 'ReEncrypt'), undefined);
  assert.equal(quotaOf(DEFAULT_QUOTAS, 'TrentService', 'GenerateDataKey'), 'kms:symmetric');
  assert.equal(quotaOf(DEFAULT_QUOTAS, 'TrentService', 'GenerateMac'), 'kms:symmetric', 'AWS: HMAC keys count as symmetric');
  assert.equal(quotaOf(DEFAULT_QUOTAS, 'TrentService', 'GenerateRandom'), 'kms:symmetric');
  assert.equal(quotaOf(DEFAULT_QUOTAS, 'TrentService', 'CreateKey'), 'kms:CreateKey');
  assert.equal(quotaOf(DEFAULT_QUOTAS, 'TrentService', 'Sign'), undefined);
  assert.equal(quotaOf(DEFAULT_QUOTAS, 'TrentService', 'GenerateDataKeyPair'), undefined);
  assert.equal(quotaOf(DEFAULT_QUOTAS, 'secretsmanager', 'UpdateSecret'), 'secretsmanager:secretValueUpdates');
  assert.equal(quotaOf(DEFAULT_QUOTAS, 'AmazonSSM', 'GetParametersByPath'), 'ssm:parameterReads');
  assert.equal(quotaOf(DEFAULT_QUOTAS, 'AmazonSSM', 'DeleteParameter'), undefined, 'no published default: not limited');
  assert.equal(quotaOf(DEFAULT_QUOTAS, 'IAM', 'CreateUser'), undefined);
});

test('a key\'s family picks the asymmetric quota: RSA, ECC (and SM2), ML-DSA; a key pair spec its own', () => {
  assert.equal(keyQuotaOf(DEFAULT_QUOTAS, 'Sign', 'RSA_3072'), 'kms:rsa');
  assert.equal(keyQuotaOf(DEFAULT_QUOTAS, 'Verify', 'ECC_NIST_P384'), 'kms:ecc');
  assert.equal(keyQuotaOf(DEFAULT_QUOTAS, 'DeriveSharedSecret', 'SM2'), 'kms:ecc');
  assert.equal(keyQuotaOf(DEFAULT_QUOTAS, 'Sign', 'ML_DSA_65'), 'kms:mldsa');
  assert.equal(keyQuotaOf(DEFAULT_QUOTAS, 'Encrypt', 'RSA_2048'), 'kms:rsa', 'Encrypt on an RSA key counts against RSA');
  assert.equal(keyQuotaOf(DEFAULT_QUOTAS, 'Decrypt', 'RSA_4096'), 'kms:rsa');
  assert.equal(keyQuotaOf(DEFAULT_QUOTAS, 'ReEncrypt', 'SM2'), 'kms:ecc', 'SM2 shares the ECC quota');
  assert.equal(keyQuotaOf(DEFAULT_QUOTAS, 'Encrypt', 'SYMMETRIC_DEFAULT'), 'kms:symmetric');
  assert.equal(keyQuotaOf(DEFAULT_QUOTAS, 'Decrypt', 'SYMMETRIC_DEFAULT'), 'kms:symmetric');
  assert.equal(keyQuotaOf(DEFAULT_QUOTAS, 'GenerateDataKeyPairWithoutPlaintext', 'RSA_4096'), 'kms:GenerateDataKeyPair_RSA_4096');
  assert.equal(keyQuotaOf(parseQuotaTable({ 'kms:Sign': 7 }), 'Sign', 'RSA_2048'), 'kms:Sign', 'a file key for the operation takes it out of the family');
});

test('the TRENT_QUOTAS file is merged over the defaults, quota by quota, and refuses bad entries', () => {
  const t = parseQuotaTable({ 'ssm:PutParameter': 100, 'secretsmanager:PutSecretValue': 2 });
  assert.equal(t['ssm:PutParameter']!.rate, 100);
  assert.equal(t['kms:symmetric']!.rate, 10000, 'an unlisted quota keeps AWS\'s default');
  assert.equal(quotaOf(t, 'secretsmanager', 'PutSecretValue'), 'secretsmanager:PutSecretValue', 'an operation named in the file has its own bucket');
  assert.equal(quotaOf(t, 'secretsmanager', 'UpdateSecret'), 'secretsmanager:secretValueUpdates');
  assert.throws(() => parseQuotaTable({ 'ec2:RunInstances': 1 }), /unknown quota/);
  assert.throws(() => parseQuotaTable({ 'kms:CreateKey': 0 }), /positive/);
  assert.throws(() => parseQuotaTable([]), /JSON object/);
});

test('a bucket holds one second\'s worth and refills at the rate', () => {
  const clock = manualClock();
  const q = createQuotas(parseQuotaTable({ 'kms:CreateKey': 5 }), () => 1, clock.now);
  assert.equal(admitted(() => q.take(CALLER, 'TrentService', 'CreateKey'), 10), 5);
  clock.advance(400);
  assert.equal(admitted(() => q.take(CALLER, 'TrentService', 'CreateKey'), 10), 2);
  assert.equal(admitted(() => q.take({ ...CALLER, region: 'eu-west-1' }, 'TrentService', 'CreateKey'), 10), 5, 'each region has its own bucket');
});

test('a rate below one admits one request every 1/rate seconds', () => {
  const clock = manualClock();
  const q = createQuotas(parseQuotaTable({ 'kms:GetParametersForImport': 0.25 }), () => 1, clock.now);
  const take = () => q.take(CALLER, 'TrentService', 'GetParametersForImport');
  assert.equal(admitted(take, 3), 1);
  clock.advance(3900);
  assert.equal(admitted(take, 1), 0);
  clock.advance(100);
  assert.equal(admitted(take, 3), 1);
});

test('with a share of N each process admits rate / N', () => {
  const clock = manualClock();
  let share = 4;
  const q = createQuotas(parseQuotaTable({ 'kms:symmetric': 40 }), () => share, clock.now);
  assert.equal(admitted(() => q.take(CALLER, 'TrentService', 'GenerateDataKey'), 100), 10);
  clock.advance(1000);
  share = 2;
  assert.equal(admitted(() => q.take(CALLER, 'TrentService', 'GenerateDataKey'), 100), 20, 'a node leaving raises the share within one refill');
});

test('the key port throttles by family, with KMS\'s message', () => {
  const q = createQuotas(parseQuotaTable({ 'kms:rsa': 2 }), () => 1, manualClock().now);
  assert.equal(admitted(() => q.forKey.take(CALLER, 'Sign', 'RSA_2048'), 5), 2);
  assert.equal(admitted(() => q.forKey.take(CALLER, 'Sign', 'ECC_NIST_P256'), 5), 5);
  assert.throws(() => q.forKey.take(CALLER, 'Verify', 'RSA_4096'), { name: 'ThrottlingException', message: /You have exceeded the rate at which you may call KMS/ });
});

test('Encrypt on an RSA key spends kms:rsa, not kms:symmetric, and on a symmetric key kms:symmetric', () => {
  const q = createQuotas(parseQuotaTable({ 'kms:rsa': 2, 'kms:symmetric': 3 }), () => 1, manualClock().now);
  assert.equal(admitted(() => q.forKey.take(CALLER, 'Encrypt', 'RSA_2048'), 5), 2);
  assert.equal(admitted(() => q.forKey.take(CALLER, 'Decrypt', 'RSA_2048'), 5), 0, 'Decrypt shares the spent RSA quota');
  assert.equal(admitted(() => q.forKey.take(CALLER, 'Encrypt', 'SYMMETRIC_DEFAULT'), 5), 3);
  assert.equal(admitted(() => q.take(CALLER, 'TrentService', 'GenerateDataKey'), 5), 0, 'GenerateDataKey shares the spent symmetric quota');
});
