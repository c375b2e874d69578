import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  GetKeyRotationStatusCommand,
  ListKeyRotationsCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { DAY_MS, ManualClock } from '../../src/clock.ts';
import { awsError, startServer, type TestServer } from './harness.ts';

const clock = new ManualClock(Date.UTC(2026, 0, 1));
let server: TestServer;
let kms: KMSClient;
before(async () => {
  server = await startServer({ clock, env: { TRENT_JOB_INTERVAL_MS: '0' } });
  kms = server.kms();
});
after(() => server.stop(true));

async function newKey(): Promise<{ id: string; arn: string }> {
  const m = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
  return { id: m.KeyId!, arn: m.Arn! };
}

describe('data keys, ReEncrypt and GenerateRandom', () => {
  test('the plaintext data key of GenerateDataKey equals Decrypt of its CiphertextBlob', async () => {
    const key = await newKey();
    for (const [input, length] of [[{ KeySpec: 'AES_256' as const }, 32], [{ KeySpec: 'AES_128' as const }, 16], [{ NumberOfBytes: 64 }, 64]] as const) {
      const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: key.id, EncryptionContext: { env: 'test' }, ...input }));
      assert.equal(dk.KeyId, key.arn);
      assert.equal(dk.Plaintext!.length, length);
      const dec = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { env: 'test' } }));
      assert.deepEqual(Buffer.from(dec.Plaintext!), Buffer.from(dk.Plaintext!));
      const noCtx = await awsError(() => kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob })));
      assert.equal(noCtx.name, 'InvalidCiphertextException');
    }
  });

  test('GenerateDataKeyWithoutPlaintext returns no plaintext, and its blob decrypts', async () => {
    const key = await newKey();
    const dk = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.id, KeySpec: 'AES_256' }));
    assert.equal((dk as { Plaintext?: unknown }).Plaintext, undefined);
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }));
    assert.equal(dec.Plaintext!.length, 32);
  });

  test('GenerateDataKey needs exactly one of KeySpec and NumberOfBytes, 1–1024', async () => {
    const key = await newKey();
    for (const input of [{}, { KeySpec: 'AES_256' as const, NumberOfBytes: 32 }]) {
      const e = await awsError(() => kms.send(new GenerateDataKeyCommand({ KeyId: key.id, ...input })));
      assert.equal(e.name, 'ValidationException');
    }
    const tooMany = await awsError(() => kms.send(new GenerateDataKeyCommand({ KeyId: key.id, NumberOfBytes: 1025 })));
    assert.equal(tooMany.message, "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024");
  });

  test('ReEncrypt moves a ciphertext to another key and context; Decrypt then needs the new ones', async () => {
    const a = await newKey();
    const b = await newKey();
    const enc = await kms.send(new EncryptCommand({ KeyId: a.id, Plaintext: Buffer.from('move me'), EncryptionContext: { from: 'a' } }));
    const re = await kms.send(new ReEncryptCommand({
      CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: { from: 'a' },
      DestinationKeyId: b.arn, DestinationEncryptionContext: { to: 'b' },
    }));
    assert.equal(re.SourceKeyId, a.arn);
    assert.equal(re.KeyId, b.arn);
    assert.equal(re.SourceEncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    assert.equal(re.DestinationEncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: { to: 'b' } }));
    assert.equal(dec.KeyId, b.arn);
    assert.equal(Buffer.from(dec.Plaintext!).toString(), 'move me');
    const wrongSource = await awsError(() => kms.send(new ReEncryptCommand({
      CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: { from: 'a' }, SourceKeyId: b.id, DestinationKeyId: b.id,
    })));
    assert.equal(wrongSource.name, 'IncorrectKeyException');
    const wrongContext = await awsError(() => kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: b.id })));
    assert.equal(wrongContext.name, 'InvalidCiphertextException');
  });

  test('GenerateRandom returns 1–1024 bytes and names the missing or out-of-range count as AWS does', async () => {
    for (const n of [1, 44, 1024]) {
      assert.equal((await kms.send(new GenerateRandomCommand({ NumberOfBytes: n }))).Plaintext!.length, n);
    }
    assert.equal((await awsError(() => kms.send(new GenerateRandomCommand({})))).message, 'NumberOfBytes is required.');
    assert.equal(
      (await awsError(() => kms.send(new GenerateRandomCommand({ NumberOfBytes: 0 })))).message,
      "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
  });

  test('DryRun answers DryRunOperationException after every other check, and does nothing', async () => {
    const key = await newKey();
    const enc = await kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('x') }));
    for (const send of [
      () => kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('x'), DryRun: true })),
      () => kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, DryRun: true })),
      () => kms.send(new GenerateDataKeyCommand({ KeyId: key.id, KeySpec: 'AES_256', DryRun: true })),
      () => kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: key.id, DryRun: true })),
    ]) {
      const e = await awsError(send);
      assert.equal(e.name, 'DryRunOperationException');
      assert.equal(e.message, 'The request would have succeeded, but the DryRun option is set.');
    }
    await kms.send(new DisableKeyCommand({ KeyId: key.id }));
    const disabled = await awsError(() => kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('x'), DryRun: true })));
    assert.equal(disabled.name, 'DisabledException');
  });
});

describe('key states', () => {
  test('a disabled key refuses crypto with DisabledException and works again once enabled', async () => {
    const key = await newKey();
    const enc = await kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('state') }));
    await kms.send(new DisableKeyCommand({ KeyId: key.arn }));
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: key.id }))).KeyMetadata!;
    assert.equal(meta.KeyState, 'Disabled');
    assert.equal(meta.Enabled, false);
    for (const send of [
      () => kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('x') })),
      () => kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })),
      () => kms.send(new GenerateDataKeyCommand({ KeyId: key.id, KeySpec: 'AES_256' })),
    ]) {
      const e = await awsError(send);
      assert.equal(e.name, 'DisabledException');
      assert.equal(e.message, `${key.arn} is disabled.`);
    }
    await kms.send(new EnableKeyCommand({ KeyId: key.id }));
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));
    assert.equal(Buffer.from(dec.Plaintext!).toString(), 'state');
  });

  test('key-management calls take a key id or ARN but not an alias', async () => {
    const key = await newKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/lifecycle-only-ids', TargetKeyId: key.id }));
    const e = await awsError(() => kms.send(new DisableKeyCommand({ KeyId: 'alias/lifecycle-only-ids' })));
    assert.equal(e.name, 'NotFoundException');
    const enc = await kms.send(new EncryptCommand({ KeyId: 'alias/lifecycle-only-ids', Plaintext: Buffer.from('by alias') }));
    assert.equal(enc.KeyId, key.arn);
  });

  test('ScheduleKeyDeletion: 7–30 days (default 30), crypto refused, CancelKeyDeletion returns the key to Disabled', async () => {
    const key = await newKey();
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.id }));
    assert.equal(scheduled.KeyId, key.arn);
    assert.equal(scheduled.KeyState, 'PendingDeletion');
    assert.equal(scheduled.PendingWindowInDays, 30);
    assert.equal(scheduled.DeletionDate!.getTime(), clock.now() + 30 * DAY_MS);
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: key.id }))).KeyMetadata!;
    assert.equal(meta.KeyState, 'PendingDeletion');
    assert.equal(meta.PendingDeletionWindowInDays, 30);
    const e = await awsError(() => kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('x') })));
    assert.equal(e.name, 'KMSInvalidStateException');
    assert.equal(e.message, `${key.arn} is pending deletion.`);
    const enable = await awsError(() => kms.send(new EnableKeyCommand({ KeyId: key.id })));
    assert.equal(enable.name, 'KMSInvalidStateException');
    const again = await awsError(() => kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.id, PendingWindowInDays: 7 })));
    assert.equal(again.name, 'KMSInvalidStateException');

    const cancelled = await kms.send(new CancelKeyDeletionCommand({ KeyId: key.id }));
    assert.equal(cancelled.KeyId, key.arn);
    const after = (await kms.send(new DescribeKeyCommand({ KeyId: key.id }))).KeyMetadata!;
    assert.equal(after.KeyState, 'Disabled');
    assert.equal(after.DeletionDate, undefined);
    const notPending = await awsError(() => kms.send(new CancelKeyDeletionCommand({ KeyId: key.id })));
    assert.equal(notPending.message, `${key.arn} is not pending deletion.`);
    for (const days of [6, 31]) {
      const bad = await awsError(() => kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.id, PendingWindowInDays: days })));
      assert.equal(bad.name, 'ValidationException');
    }
  });

  test('a key past its deletion date is destroyed by the job: gone, with its aliases, and its ciphertexts fail for good', async () => {
    const key = await newKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/doomed', TargetKeyId: key.id }));
    const enc = await kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('bye') }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.id, PendingWindowInDays: 7 }));
    clock.advance(6 * DAY_MS);
    await server.app.jobs.runOnce();
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: key.id }))).KeyMetadata!.KeyState, 'PendingDeletion');
    clock.advance(1 * DAY_MS + 1);
    const pass = await server.app.jobs.runOnce();
    assert.ok(pass.deleted >= 1);
    const gone = await awsError(() => kms.send(new DescribeKeyCommand({ KeyId: key.id })));
    assert.equal(gone.name, 'NotFoundException');
    const dec = await awsError(() => kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })));
    assert.equal(dec.name, 'NotFoundException');
    const alias = await awsError(() => kms.send(new EncryptCommand({ KeyId: 'alias/doomed', Plaintext: Buffer.from('x') })));
    assert.equal(alias.name, 'NotFoundException');
    const materials = await server.app.storage.read((r) => r.materials.list({ accountId: '111122223333', region: 'us-east-1' }, key.id));
    assert.deepEqual(materials, []);
  });
});

describe('rotation', () => {
  test('a ciphertext made before two rotations still decrypts, and ListKeyRotations lists both', async () => {
    const key = await newKey();
    const before = (await kms.send(new DescribeKeyCommand({ KeyId: key.id }))).KeyMetadata!.CurrentKeyMaterialId;
    const old = await kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('from version 1') }));

    await kms.send(new EnableKeyRotationCommand({ KeyId: key.id, RotationPeriodInDays: 90 }));
    const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.arn }));
    assert.equal(status.KeyRotationEnabled, true);
    assert.equal(status.RotationPeriodInDays, 90);
    assert.equal(status.NextRotationDate!.getTime(), clock.now() + 90 * DAY_MS);

    const onDemand = await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.id }));
    assert.equal(onDemand.KeyId, key.arn); // AWS: RotateKeyOnDemand names the key by ARN (recorded)
    const middle = await kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('from version 2') }));
    clock.advance(91 * DAY_MS);
    const pass = await server.app.jobs.runOnce();
    assert.ok(pass.rotated >= 1);
    const after = (await kms.send(new DescribeKeyCommand({ KeyId: key.id }))).KeyMetadata!;
    assert.notEqual(after.CurrentKeyMaterialId, before);
    assert.equal(after.KeyId, key.id);

    for (const [blob, text] of [[old.CiphertextBlob, 'from version 1'], [middle.CiphertextBlob, 'from version 2']] as const) {
      const dec = await kms.send(new DecryptCommand({ CiphertextBlob: blob }));
      assert.equal(Buffer.from(dec.Plaintext!).toString(), text);
    }
    const rotations = await kms.send(new ListKeyRotationsCommand({ KeyId: key.id }));
    assert.deepEqual(rotations.Rotations!.map((r) => r.RotationType), ['ON_DEMAND', 'AUTOMATIC']);
    assert.equal(rotations.Truncated, false);
    assert.equal(rotations.Rotations![1]!.KeyMaterialId, after.CurrentKeyMaterialId);
    const all = await kms.send(new ListKeyRotationsCommand({ KeyId: key.id, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }));
    assert.equal(all.Rotations!.length, 3);
    const paged = await kms.send(new ListKeyRotationsCommand({ KeyId: key.id, Limit: 1 }));
    assert.equal(paged.Truncated, true);
    const rest = await kms.send(new ListKeyRotationsCommand({ KeyId: key.id, Limit: 1, Marker: paged.NextMarker }));
    assert.equal(rest.Rotations![0]!.RotationType, 'AUTOMATIC');
    // The automatic schedule moved one period on from the rotation.
    const later = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.id }));
    assert.equal(later.NextRotationDate!.getTime(), clock.now() + 90 * DAY_MS);
    // A second pass at the same time rotates nothing: each due rotation happens once.
    assert.equal((await server.app.jobs.runOnce()).rotated, 0);
  });

  test('rotation period bounds, disabling rotation, and the state errors', async () => {
    const key = await newKey();
    for (const days of [89, 2561]) {
      const e = await awsError(() => kms.send(new EnableKeyRotationCommand({ KeyId: key.id, RotationPeriodInDays: days })));
      assert.equal(e.name, 'ValidationException');
    }
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.id }));
    assert.equal((await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.id }))).RotationPeriodInDays, 365);
    await kms.send(new DisableKeyRotationCommand({ KeyId: key.id }));
    const off = await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.id }));
    assert.equal(off.KeyRotationEnabled, false);
    assert.equal(off.NextRotationDate, undefined);
    await kms.send(new DisableKeyCommand({ KeyId: key.id }));
    const e = await awsError(() => kms.send(new RotateKeyOnDemandCommand({ KeyId: key.id })));
    assert.equal(e.name, 'DisabledException');
    assert.equal(e.message, `${key.arn} is disabled.`);
    const e2 = await awsError(() => kms.send(new EnableKeyRotationCommand({ KeyId: key.id })));
    assert.equal(e2.name, 'DisabledException');
  });

  test('on-demand rotation is limited to 25 per key', async () => {
    const key = await newKey();
    for (let i = 0; i < 25; i++) await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.id }));
    const e = await awsError(() => kms.send(new RotateKeyOnDemandCommand({ KeyId: key.id })));
    assert.equal(e.name, 'LimitExceededException');
    assert.equal(e.message, `The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: ${key.arn}`);
  });

  test('200 concurrent Encrypt/Decrypt calls with rotations in the middle all succeed and all decrypt', async () => {
    const key = await newKey();
    const jobs: Promise<unknown>[] = [];
    const blobs: { blob: Uint8Array; text: string }[] = [];
    for (let i = 0; i < 200; i++) {
      if (i === 100) jobs.push(kms.send(new RotateKeyOnDemandCommand({ KeyId: key.id })));
      if (i === 150) jobs.push(kms.send(new RotateKeyOnDemandCommand({ KeyId: key.id })));
      const text = `message ${i}`;
      jobs.push(
        kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from(text) })).then(async (enc) => {
          const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));
          assert.equal(Buffer.from(dec.Plaintext!).toString(), text);
          blobs.push({ blob: enc.CiphertextBlob!, text });
        }),
      );
    }
    await Promise.all(jobs);
    assert.equal(blobs.length, 200);
    for (const { blob, text } of blobs.slice(0, 20)) {
      assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), text);
    }
    const rotations = await kms.send(new ListKeyRotationsCommand({ KeyId: key.id }));
    assert.equal(rotations.Rotations!.length, 2);
  });
});
