import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from './canonical-json.ts';
import { buildEvent, unverifiedCredential } from './event.ts';

const base = {
  requestId: 'r', eventId: 'e', eventTime: 0, eventSource: 'kms.amazonaws.com', readOnly: true,
  defaultAccountId: '111122223333', defaultRegion: 'us-east-1',
};

test('secret members are never logged, even under an operation that is not allow-listed', () => {
  const secret = 'c2VjcmV0LXBsYWludGV4dA==';
  for (const eventName of ['Encrypt', 'Decrypt', 'GenerateDataKey', 'Sign', 'ImportKeyMaterial', 'PutSecretValue', 'NotAnOperation']) {
    const e = buildEvent({
      ...base, eventName,
      input: { KeyId: 'k', Plaintext: secret, Message: secret, SecretString: secret, Value: secret, KeyMaterial: secret, Policy: secret },
      output: { Plaintext: secret, CiphertextBlob: secret, PrivateKeyPlaintext: secret, Signature: secret, Mac: secret, KeyId: 'k' },
    });
    assert.equal(JSON.stringify(e.record).includes(secret), false, eventName);
  }
});

test('Encrypt logs the key id and encryption context in CloudTrail casing, and its resource ARN', () => {
  const e = buildEvent({ ...base, eventName: 'Encrypt', input: { KeyId: 'alias/app', Plaintext: 'eA==', EncryptionContext: { a: 'b' } },
    output: { KeyId: 'arn:aws:kms:us-east-1:111122223333:key/k1', CiphertextBlob: 'eA==' } });
  assert.deepEqual(e.record.requestParameters, { keyId: 'alias/app', encryptionContext: { a: 'b' } });
  assert.equal(e.record.responseElements, null);
  assert.deepEqual(e.resources.map((r) => r.ARN), ['arn:aws:kms:us-east-1:111122223333:key/k1']);
});

test('KMS resources: each ARN once, where it was first listed, typed as a key or an alias', () => {
  const arn = (rest: string) => `arn:aws:kms:us-east-1:111122223333:${rest}`;
  // CreateAlias-like: the alias by name and by AliasName, a target key by id and the same key by ARN in the output.
  const e = buildEvent({ ...base, eventName: 'UpdateAlias',
    input: { AliasName: 'alias/a', TargetKeyId: 'k2', DestinationKeyId: arn('alias/b'), SourceKeyId: arn('key/k1') },
    output: { KeyMetadata: { Arn: arn('key/k1') }, SourceKeyId: arn('key/k1') } });
  assert.deepEqual(e.resources.map((r) => [r.ARN, r.type, r.accountId]), [
    [arn('key/k1'), 'AWS::KMS::Key', '111122223333'],
    [arn('key/k2'), 'AWS::KMS::Key', '111122223333'],
    [arn('alias/b'), 'AWS::KMS::Alias', '111122223333'],
    [arn('alias/a'), 'AWS::KMS::Alias', '111122223333'],
  ]);
  // An alias in KeyId is dropped once the output resolved the key; without an output it is listed.
  const resolved = buildEvent({ ...base, eventName: 'Encrypt', input: { KeyId: 'alias/app' }, output: { KeyId: arn('key/k1') } });
  assert.deepEqual(resolved.resources.map((r) => r.ARN), [arn('key/k1')]);
  const failed = buildEvent({ ...base, eventName: 'Encrypt', input: { KeyId: 'alias/app' } });
  assert.deepEqual(failed.resources.map((r) => [r.ARN, r.type]), [[arn('alias/app'), 'AWS::KMS::Alias']]);
});

test('the unverified access key id and region are read from a SigV4 Authorization header', () => {
  assert.deepEqual(
    unverifiedCredential('AWS4-HMAC-SHA256 Credential=AKIAFORGED0000000001/20261123/eu-west-1/kms/aws4_request, SignedHeaders=host, Signature=00'),
    { accessKeyId: 'AKIAFORGED0000000001', region: 'eu-west-1' },
  );
  assert.deepEqual(unverifiedCredential(undefined), {});
});

test('records are built in canonical key order, so the chain encodes them with JSON.stringify', () => {
  const caller = { accountId: '111122223333', region: 'us-east-1', accessKeyId: 'AKIAEXAMPLE', sourceIp: '10.0.0.1', userAgent: 'ua' };
  const cases = [
    { ...base, eventName: 'Encrypt', caller: { ...caller, principalArn: 'arn:aws:iam::111122223333:user/alice' },
      input: { KeyId: 'alias/app', Plaintext: 'eA==', EncryptionContext: { z: '1', a: '2', B: '3' }, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
      output: { KeyId: 'arn:aws:kms:us-east-1:111122223333:key/k1', CiphertextBlob: 'eA==' } },
    { ...base, eventName: 'Decrypt', caller: { ...caller, principalArn: 'arn:aws:sts::111122223333:assumed-role/app/s1' },
      error: { code: 'AccessDeniedException', message: 'no' }, input: { CiphertextBlob: 'eA==' } },
    { ...base, eventName: 'CreateKey', caller: { ...caller, principalArn: 'arn:aws:iam::111122223333:root' },
      input: { Tags: [{ TagValue: 'v', TagKey: 'k' }], Description: 'd' },
      output: { KeyMetadata: { KeyState: 'Enabled', KeyId: 'k1', Arn: 'arn:aws:kms:us-east-1:111122223333:key/k1', KeySpec: 'SYMMETRIC_DEFAULT' } } },
    { ...base, eventName: 'Encrypt', unverifiedAccessKeyId: 'AKIAFORGED', error: { code: 'UnrecognizedClientException', message: 'x' } },
  ];
  for (const facts of cases) {
    const { record } = buildEvent(facts);
    assert.equal(JSON.stringify(record), canonicalJson(record), facts.eventName);
  }
});
