import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsCli, cliSkipReason } from './aws-cli.ts';
import { startServer, type TestServer } from './harness.ts';

const skip = cliSkipReason();
let server: TestServer;
let work: string;
before(async () => {
  server = await startServer();
  work = mkdtempSync(join(tmpdir(), 'trent-cli-'));
});
after(async () => {
  await server.stop(true);
  rmSync(work, { recursive: true, force: true });
});

test('AWS CLI tour: create-key, describe-key, list-keys, encrypt, decrypt (fileb:// in both directions)', { skip }, async () => {
  const created = JSON.parse(await awsCli(server.url, ['kms', 'create-key', '--description', 'from the CLI']));
  const keyId: string = created.KeyMetadata.KeyId;
  assert.equal(created.KeyMetadata.Description, 'from the CLI');
  assert.equal(created.KeyMetadata.KeyState, 'Enabled');

  const described = JSON.parse(await awsCli(server.url, ['kms', 'describe-key', '--key-id', created.KeyMetadata.Arn]));
  assert.equal(described.KeyMetadata.KeyId, keyId);
  const listed = JSON.parse(await awsCli(server.url, ['kms', 'list-keys']));
  assert.ok(listed.Keys.some((k: { KeyId: string }) => k.KeyId === keyId));

  writeFileSync(join(work, 'plain.bin'), 'hello from the AWS CLI');
  const enc = JSON.parse(
    await awsCli(server.url, ['kms', 'encrypt', '--key-id', keyId, '--plaintext', 'fileb://plain.bin', '--encryption-context', 'app=cli'], { cwd: work }),
  );
  assert.match(enc.CiphertextBlob, /^AQICAH/);
  writeFileSync(join(work, 'cipher.bin'), Buffer.from(enc.CiphertextBlob, 'base64'));
  const dec = JSON.parse(
    await awsCli(server.url, ['kms', 'decrypt', '--ciphertext-blob', 'fileb://cipher.bin', '--encryption-context', 'app=cli'], { cwd: work }),
  );
  assert.equal(Buffer.from(dec.Plaintext, 'base64').toString(), 'hello from the AWS CLI');
  assert.equal(dec.KeyId, created.KeyMetadata.Arn);

  await assert.rejects(
    awsCli(server.url, ['kms', 'decrypt', '--ciphertext-blob', 'fileb://cipher.bin', '--encryption-context', 'app=other'], { cwd: work }),
    /InvalidCiphertextException/,
  );
});

test('AWS CLI tour of the symmetric KMS: aliases, data keys, re-encrypt, rotation, states, tags, deletion', { skip }, async () => {
  const cli = (args: string[]) => awsCli(server.url, args, { cwd: work }).then((out) => (out.trim() ? JSON.parse(out) : {}));
  const keyA = (await cli(['kms', 'create-key'])).KeyMetadata;
  const keyB = (await cli(['kms', 'create-key'])).KeyMetadata;
  await cli(['kms', 'create-alias', '--alias-name', 'alias/cli-tour', '--target-key-id', keyA.KeyId]);
  const aliases = await cli(['kms', 'list-aliases', '--key-id', keyA.KeyId]);
  assert.deepEqual(aliases.Aliases.map((a: { AliasName: string }) => a.AliasName), ['alias/cli-tour']);

  const dk = await cli(['kms', 'generate-data-key', '--key-id', 'alias/cli-tour', '--key-spec', 'AES_256']);
  assert.equal(Buffer.from(dk.Plaintext, 'base64').length, 32);
  writeFileSync(join(work, 'dk.bin'), Buffer.from(dk.CiphertextBlob, 'base64'));
  const re = await cli(['kms', 're-encrypt', '--ciphertext-blob', 'fileb://dk.bin', '--destination-key-id', keyB.KeyId]);
  assert.equal(re.SourceKeyId, keyA.Arn);
  assert.equal(re.KeyId, keyB.Arn);
  writeFileSync(join(work, 'dk-b.bin'), Buffer.from(re.CiphertextBlob, 'base64'));
  const dec = await cli(['kms', 'decrypt', '--ciphertext-blob', 'fileb://dk-b.bin']);
  assert.equal(dec.Plaintext, dk.Plaintext);

  await cli(['kms', 'enable-key-rotation', '--key-id', keyB.KeyId, '--rotation-period-in-days', '180']);
  await cli(['kms', 'rotate-key-on-demand', '--key-id', keyB.KeyId]);
  const rotations = await cli(['kms', 'list-key-rotations', '--key-id', keyB.KeyId]);
  assert.equal(rotations.Rotations.length, 1);
  assert.equal((await cli(['kms', 'decrypt', '--ciphertext-blob', 'fileb://dk-b.bin'])).Plaintext, dk.Plaintext);

  await cli(['kms', 'tag-resource', '--key-id', keyB.KeyId, '--tags', 'TagKey=team,TagValue=platform']);
  assert.deepEqual((await cli(['kms', 'list-resource-tags', '--key-id', keyB.KeyId])).Tags, [{ TagKey: 'team', TagValue: 'platform' }]);

  await cli(['kms', 'disable-key', '--key-id', keyB.KeyId]);
  await assert.rejects(cli(['kms', 'decrypt', '--ciphertext-blob', 'fileb://dk-b.bin']), /DisabledException/);
  await cli(['kms', 'enable-key', '--key-id', keyB.KeyId]);
  const scheduled = await cli(['kms', 'schedule-key-deletion', '--key-id', keyB.KeyId, '--pending-window-in-days', '7']);
  assert.equal(scheduled.KeyState, 'PendingDeletion');
  await cli(['kms', 'cancel-key-deletion', '--key-id', keyB.KeyId]);
  assert.equal((await cli(['kms', 'describe-key', '--key-id', keyB.KeyId])).KeyMetadata.KeyState, 'Disabled');
});
