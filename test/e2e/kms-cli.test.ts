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
