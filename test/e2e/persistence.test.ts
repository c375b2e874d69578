import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { Keyring } from '../../src/seal/keyring.ts';
import { KeyringBarrier } from '../../src/seal/keyring-barrier.ts';
import { loadDevRootKey } from '../../src/seal/root-key-source.ts';
import { materialAad } from '../../src/kms/key-service.ts';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.ts';
import { ACCOUNT_ID, E2E_STORAGE, REGION, filesUnder, startServer } from './harness.ts';

let dataDir: string | undefined;
after(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('after a restart on the same data dir, old ciphertexts still decrypt; the root key file is 0600', async () => {
  const first = await startServer();
  dataDir = first.dataDir;
  const kms = first.kms();
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('survives restarts'), EncryptionContext: { k: 'v' } }));
  await first.stop();

  assert.equal(statSync(join(dataDir, 'root.key')).mode & 0o777, 0o600);
  const second = await startServer({ dataDir });
  try {
    const dec = await second.kms().send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { k: 'v' } }));
    assert.equal(Buffer.from(dec.Plaintext!).toString(), 'survives restarts');
  } finally {
    await second.stop();
  }
});

test('a node started with another root key refuses to start and says why', async () => {
  assert.ok(dataDir);
  await assert.rejects(
    startServer({ dataDir, env: { TRENT_ROOT_KEY: Buffer.alloc(32, 9).toString('base64') } }),
    /root key does not match/,
  );
});

const sqliteOnly = E2E_STORAGE === 'sqlite' ? false : `searches SQLite's files; this run stores in ${E2E_STORAGE}`;

test('searching the data dir (database, WAL and every other file) finds no key material in any encoding', { skip: sqliteOnly }, async () => {
  const server = await startServer();
  const dir = server.dataDir;
  const kms = server.kms();
  const keyIds: string[] = [];
  for (let i = 0; i < 3; i++) keyIds.push((await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!);
  for (const keyId of keyIds) await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
  // Stop without a checkpoint of our own: whatever SQLite left in the WAL is searched too.
  await server.stop();

  // Recover each key's material the only way possible: unseal it with the root key, as Trent does.
  const barrier = new KeyringBarrier(Keyring.withFirst(loadDevRootKey(dir, undefined).key));
  const store = new SqliteStorage(join(dir, 'trent.db'));
  await store.migrate();
  const scope = { accountId: ACCOUNT_ID, region: REGION };
  const needles: { name: string; bytes: Buffer }[] = [];
  const sealedBlobs: Buffer[] = [];
  for (const keyId of keyIds) {
    const m = (await store.read((r) => r.materials.get(scope, keyId, 1)))!;
    sealedBlobs.push(Buffer.from(m.sealed));
    const material = barrier.unseal(m.sealed, materialAad(scope, keyId, 1)).expose();
    needles.push(
      { name: `${keyId} raw`, bytes: Buffer.from(material) },
      { name: `${keyId} hex`, bytes: Buffer.from(material.toString('hex')) },
      { name: `${keyId} base64`, bytes: Buffer.from(material.toString('base64')) },
    );
  }
  await store.close();

  // Every file below the data dir (audit digests and exports included), but the development root key.
  const files = filesUnder(dir).filter((f) => basename(f) !== 'root.key');
  assert.ok(files.includes(join(dir, 'trent.db')));
  const haystack = Buffer.concat(files.map((f) => readFileSync(f)));
  // The search works: the sealed form of the material is there…
  for (const sealed of sealedBlobs) assert.ok(haystack.includes(sealed), 'sealed material should be stored');
  // …and the plaintext form is not, in any encoding.
  for (const n of needles) assert.equal(haystack.includes(n.bytes), false, `found ${n.name} in the data dir`);
  rmSync(dir, { recursive: true, force: true });
});
