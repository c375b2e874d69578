import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  ListKeysCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { ACCOUNT_ID, awsError, REGION, startServer, type TestServer } from './harness.ts';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop(true));

describe('CreateKey, DescribeKey, ListKeys', () => {
  test('CreateKey returns full KeyMetadata for a symmetric key and DescribeKey agrees', async () => {
    const kms = server.kms();
    const created = await kms.send(new CreateKeyCommand({ Description: 'first key', Tags: [{ TagKey: 'team', TagValue: 'a' }] }));
    const meta = created.KeyMetadata!;
    assert.match(meta.KeyId!, /^[0-9a-f-]{36}$/);
    assert.equal(meta.Arn, `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${meta.KeyId}`);
    assert.equal(meta.AWSAccountId, ACCOUNT_ID);
    assert.equal(meta.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(meta.CustomerMasterKeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(meta.KeyUsage, 'ENCRYPT_DECRYPT');
    assert.equal(meta.KeyState, 'Enabled');
    assert.equal(meta.Enabled, true);
    assert.equal(meta.Origin, 'AWS_KMS');
    assert.equal(meta.KeyManager, 'CUSTOMER');
    assert.equal(meta.MultiRegion, false);
    assert.deepEqual(meta.EncryptionAlgorithms, ['SYMMETRIC_DEFAULT']);
    assert.equal(meta.Description, 'first key');
    assert.ok(meta.CreationDate instanceof Date && Math.abs(meta.CreationDate.getTime() - Date.now()) < 60_000);
    assert.match(meta.CurrentKeyMaterialId!, /^[0-9a-f]{64}$/);

    const byId = await kms.send(new DescribeKeyCommand({ KeyId: meta.KeyId }));
    assert.deepEqual(byId.KeyMetadata, meta);
    const byArn = await kms.send(new DescribeKeyCommand({ KeyId: meta.Arn }));
    assert.deepEqual(byArn.KeyMetadata, meta);
  });

  test('DescribeKey of an unknown or malformed key id is NotFoundException', async () => {
    const kms = server.kms();
    const unknown = '00000000-0000-4000-8000-000000000000';
    const e1 = await awsError(() => kms.send(new DescribeKeyCommand({ KeyId: unknown })));
    assert.equal(e1.name, 'NotFoundException');
    assert.equal(e1.message, `Key 'arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${unknown}' does not exist`);
    assert.equal(e1.status, 400);
    const e2 = await awsError(() => kms.send(new DescribeKeyCommand({ KeyId: 'fake-key-id' })));
    assert.equal(e2.name, 'NotFoundException');
    assert.equal(e2.message, "Invalid keyId 'fake-key-id'");
  });

  test('ListKeys pages with Limit and Marker and lists every key once', async () => {
    const kms = server.kms();
    const made = new Set<string>();
    for (let i = 0; i < 5; i++) made.add((await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!);
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await kms.send(new ListKeysCommand({ Limit: 2, ...(marker ? { Marker: marker } : {}) }));
      assert.ok(page.Keys!.length <= 2);
      for (const k of page.Keys!) {
        assert.equal(k.KeyArn, `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${k.KeyId}`);
        seen.push(k.KeyId!);
      }
      marker = page.Truncated ? page.NextMarker : undefined;
      pages++;
    } while (marker);
    assert.equal(new Set(seen).size, seen.length);
    for (const id of made) assert.ok(seen.includes(id));
    assert.ok(pages >= 3);
    const bad = await awsError(() => kms.send(new ListKeysCommand({ Marker: 'forged-marker' })));
    assert.equal(bad.name, 'InvalidMarkerException');
  });

  test('keys are regional: a key made in one region is not visible from another', async () => {
    const east = server.kms({ region: 'us-east-1' });
    const west = server.kms({ region: 'eu-west-1' });
    const key = (await east.send(new CreateKeyCommand({}))).KeyMetadata!;
    const e = await awsError(() => west.send(new DescribeKeyCommand({ KeyId: key.KeyId })));
    assert.equal(e.name, 'NotFoundException');
    const westKey = (await west.send(new CreateKeyCommand({}))).KeyMetadata!;
    assert.equal(westKey.Arn, `arn:aws:kms:eu-west-1:${ACCOUNT_ID}:key/${westKey.KeyId}`);
    const westList = await west.send(new ListKeysCommand({}));
    assert.deepEqual(westList.Keys!.map((k) => k.KeyId), [westKey.KeyId]);
  });

  test('CreateKey validates enums and tags the AWS way', async () => {
    const kms = server.kms();
    const e1 = await awsError(() => kms.send(new CreateKeyCommand({ KeyUsage: 'RANDOM' as never })));
    assert.equal(e1.name, 'ValidationException');
    assert.match(e1.message, /^1 validation error detected: Value 'RANDOM' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum value set: \[/);
    const e2 = await awsError(() => kms.send(new CreateKeyCommand({ Tags: [{ TagKey: 'aws:x', TagValue: 'y' }] })));
    assert.equal(e2.name, 'TagException');
    assert.equal(e2.message, 'Tags beginning with aws: are reserved');
    const e3 = await awsError(() => kms.send(new CreateKeyCommand({ KeyUsage: 'SIGN_VERIFY' })));
    assert.equal(e3.name, 'ValidationException');
  });
});

describe('Encrypt and Decrypt', () => {
  let keyId: string;
  let keyArn: string;
  before(async () => {
    const meta = (await server.kms().send(new CreateKeyCommand({}))).KeyMetadata!;
    keyId = meta.KeyId!;
    keyArn = meta.Arn!;
  });

  for (const size of [1, 1000, 4096]) {
    test(`a ${size}-byte plaintext round-trips and Decrypt needs no KeyId`, async () => {
      const kms = server.kms();
      const plaintext = new Uint8Array(size).map((_, i) => (i * 7 + size) & 0xff);
      const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: { purpose: 'test' } }));
      assert.equal(enc.KeyId, keyArn);
      assert.equal(enc.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
      assert.equal(Buffer.from(enc.CiphertextBlob!).toString('base64').slice(0, 6), 'AQICAH');
      const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { purpose: 'test' } }));
      assert.equal(dec.KeyId, keyArn);
      assert.deepEqual(Buffer.from(dec.Plaintext!), Buffer.from(plaintext));
    });
  }

  test('a 4097-byte plaintext is a ValidationException', async () => {
    const e = await awsError(() => server.kms().send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(4097) })));
    assert.equal(e.name, 'ValidationException');
    assert.equal(e.message, "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096");
  });

  test('Decrypt with the KeyId as id, ARN or the right key succeeds; another key is IncorrectKeyException', async () => {
    const kms = server.kms();
    const enc = await kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x') }));
    for (const ref of [keyId, keyArn]) {
      const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: ref }));
      assert.equal(Buffer.from(dec.Plaintext!).toString(), 'x');
    }
    const other = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const e = await awsError(() => kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: other })));
    assert.equal(e.name, 'IncorrectKeyException');
    assert.equal(e.message, 'The key ID in the request does not identify a CMK that can perform this operation.');
  });

  test('Decrypt names the KeyMaterialId of the material that decrypted: the current one, or an older one after rotation (recorded)', async () => {
    const kms = server.kms();
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const before = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('one') }));
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }));
    assert.equal(dec.KeyMaterialId, key.CurrentKeyMaterialId);
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
    const rotated = (await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.CurrentKeyMaterialId!;
    assert.notEqual(rotated, key.CurrentKeyMaterialId);
    const after = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('two') }));
    assert.equal((await kms.send(new DecryptCommand({ CiphertextBlob: after.CiphertextBlob }))).KeyMaterialId, rotated);
    assert.equal((await kms.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }))).KeyMaterialId, key.CurrentKeyMaterialId);
  });

  test('ReEncrypt with a SourceKeyId that is not the ciphertext\'s key is IncorrectKeyException, checked before the destination key\'s usage (recorded)', async () => {
    const kms = server.kms();
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
    const hmac = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_224', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!.KeyId!;
    const e = await awsError(() => kms.send(new ReEncryptCommand({
      CiphertextBlob: enc.CiphertextBlob, SourceKeyId: hmac, DestinationKeyId: hmac,
      SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    })));
    assert.deepEqual([e.name, e.message], ['IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.']);
    // With the right source key, the HMAC destination's usage is what is refused.
    const usage = await awsError(() => kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceKeyId: keyId, DestinationKeyId: hmac })));
    assert.equal(usage.name, 'InvalidKeyUsageException');
  });

  test('a tampered or truncated ciphertext is InvalidCiphertextException', async () => {
    const kms = server.kms();
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('tamper me') }));
    const blob = Buffer.from(enc.CiphertextBlob!);
    for (let at = 0; at < blob.length; at++) {
      const bad = Buffer.from(blob);
      bad[at] = bad[at]! ^ 0x01;
      const e = await awsError(() => kms.send(new DecryptCommand({ CiphertextBlob: bad })));
      assert.equal(e.name, 'InvalidCiphertextException', `byte ${at}`);
    }
    for (const bad of [blob.subarray(0, blob.length - 1), blob.subarray(0, 40), Buffer.from('garbage')]) {
      const e = await awsError(() => kms.send(new DecryptCommand({ CiphertextBlob: bad })));
      assert.equal(e.name, 'InvalidCiphertextException');
    }
  });

  test('a missing or different encryption context is InvalidCiphertextException', async () => {
    const kms = server.kms();
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('ctx'), EncryptionContext: { a: '1', b: '2' } }));
    const reordered = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { b: '2', a: '1' } }));
    assert.equal(Buffer.from(reordered.Plaintext!).toString(), 'ctx');
    const contexts: (Record<string, string> | undefined)[] = [undefined, { a: '1' }, { a: '1', b: '3' }, { A: '1', b: '2' }];
    for (const ctx of contexts) {
      const e = await awsError(() => kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, ...(ctx ? { EncryptionContext: ctx } : {}) })));
      assert.equal(e.name, 'InvalidCiphertextException');
      assert.equal(e.status, 400);
    }
  });

  test('the ambiguous-context case: {"a":"b"} and {"ab":""} are not interchangeable', async () => {
    const kms = server.kms();
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('amb'), EncryptionContext: { a: 'b' } }));
    const e = await awsError(() => kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { ab: '' } })));
    assert.equal(e.name, 'InvalidCiphertextException');
    const enc2 = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('amb'), EncryptionContext: { ab: '' } }));
    const e2 = await awsError(() => kms.send(new DecryptCommand({ CiphertextBlob: enc2.CiphertextBlob, EncryptionContext: { a: 'b' } })));
    assert.equal(e2.name, 'InvalidCiphertextException');
  });

  test('Encrypt with an unknown key is NotFoundException', async () => {
    const e = await awsError(() => server.kms().send(new EncryptCommand({ KeyId: '11111111-2222-4333-8444-555555555555', Plaintext: Buffer.from('x') })));
    assert.equal(e.name, 'NotFoundException');
  });
});
