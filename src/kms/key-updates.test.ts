import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import type { KeyRecord, Repos, Storage } from '../storage/storage.ts';
import { KEY_UPDATE_ATTEMPTS, updateKeyDoc } from './key-updates.ts';
import type { KeyDoc } from './key-model.ts';

const dir = mkdtempSync(join(tmpdir(), 'trent-key-updates-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const scope = { accountId: '111122223333', region: 'us-east-1' };

/**
 * Wraps a real adapter so that the next `losses` compare-and-set updates of a key report a lost race,
 * as they do when another node commits first.
 */
function losingRaces(inner: Storage, losses: number): Storage & { lost: () => number } {
  let lost = 0;
  const wrap = (tx: Repos): Repos => ({
    ...tx,
    keys: {
      ...tx.keys,
      update: async (k: KeyRecord, expected: number) => {
        if (lost < losses) {
          lost++;
          return false;
        }
        return tx.keys.update(k, expected);
      },
    },
  });
  return {
    kind: inner.kind,
    migrate: () => inner.migrate(),
    transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))),
    read: (fn) => inner.read(fn),
    unitOfWork: (body, finish) => inner.unitOfWork(body, (tx, result) => finish(wrap(tx), result)),
    writerId: () => inner.writerId(),
    writerAlive: (id) => inner.writerAlive(id),
    close: () => inner.close(),
    lost: () => lost,
  };
}

async function storeWithKey(keyId: string): Promise<SqliteStorage> {
  const store = new SqliteStorage(join(dir, `store-${n++}.db`));
  await store.migrate();
  const doc: KeyDoc = {
    description: '', keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT', origin: 'AWS_KMS', keyManager: 'CUSTOMER',
    state: 'Enabled', currentVersion: 1, currentKeyMaterialId: 'm', multiRegion: false, tags: [],
  };
  await store.transaction((tx) => tx.keys.insert({
    ...scope, keyId, createdAt: 1, state: 'Enabled', dueAt: null, revision: 1, doc: doc as unknown as Record<string, unknown>,
  }));
  return store;
}

test('a lost compare-and-set rolls back the attempt (including its other writes) and retries on a fresh read', async () => {
  const inner = await storeWithKey('k1');
  const store = losingRaces(inner, 2);
  let runs = 0;
  const key = await updateKeyDoc(store, scope, 'k1', async (k, tx) => {
    runs++;
    // Would fail with DuplicateError on the retry if the first attempt's insert had not been rolled back.
    await tx.aliases.insert({ ...scope, aliasName: 'alias/x', targetKeyId: 'k1', createdAt: 1, updatedAt: 1 });
    return { ...k.doc, description: `run ${runs}` };
  });
  assert.equal(runs, 3);
  assert.equal(store.lost(), 2);
  assert.equal(key.revision, 2);
  const stored = await inner.read((r) => r.keys.get(scope, 'k1'));
  assert.equal((stored!.doc as unknown as KeyDoc).description, 'run 3');
  assert.equal(stored!.revision, 2);
  const aliases = await inner.read((r) => r.aliases.list(scope, undefined, undefined, 10));
  assert.equal(aliases.items.length, 1);
  await inner.close();
});

test(`after ${KEY_UPDATE_ATTEMPTS} lost races the change gives up with ConflictException and leaves nothing behind`, async () => {
  const inner = await storeWithKey('k2');
  const store = losingRaces(inner, KEY_UPDATE_ATTEMPTS);
  await assert.rejects(
    updateKeyDoc(store, scope, 'k2', async (k, tx) => {
      await tx.aliases.insert({ ...scope, aliasName: 'alias/y', targetKeyId: 'k2', createdAt: 1, updatedAt: 1 });
      return { ...k.doc, description: 'never' };
    }),
    { code: 'ConflictException' },
  );
  const stored = await inner.read((r) => r.keys.get(scope, 'k2'));
  assert.equal(stored!.revision, 1);
  assert.equal((stored!.doc as unknown as KeyDoc).description, '');
  assert.equal((await inner.read((r) => r.aliases.get(scope, 'alias/y'))), undefined);
  await inner.close();
});

test('an error thrown by the mutation rolls back its writes and is not retried', async () => {
  const inner = await storeWithKey('k3');
  let runs = 0;
  await assert.rejects(
    updateKeyDoc(inner, scope, 'k3', async (_k, tx) => {
      runs++;
      await tx.aliases.insert({ ...scope, aliasName: 'alias/z', targetKeyId: 'k3', createdAt: 1, updatedAt: 1 });
      throw new Error('refused');
    }),
    /refused/,
  );
  assert.equal(runs, 1);
  assert.equal((await inner.read((r) => r.aliases.get(scope, 'alias/z'))), undefined);
  await inner.close();
});

test('an unknown key is NotFoundException with the key ARN', async () => {
  const inner = await storeWithKey('k4');
  await assert.rejects(updateKeyDoc(inner, scope, 'nope', (k) => k.doc), {
    code: 'NotFoundException',
    message: "Key 'arn:aws:kms:us-east-1:111122223333:key/nope' does not exist",
  });
  await inner.close();
});

test('concurrent changes of one key all land (no lost update)', async () => {
  const inner = await storeWithKey('k5');
  await Promise.all(Array.from({ length: 20 }, (_, i) =>
    updateKeyDoc(inner, scope, 'k5', (k) => ({ ...k.doc, tags: [...k.doc.tags, { TagKey: `t${i}`, TagValue: String(i) }] }))));
  const stored = await inner.read((r) => r.keys.get(scope, 'k5'));
  assert.equal((stored!.doc as unknown as KeyDoc).tags.length, 20);
  assert.equal(stored!.revision, 21);
  await inner.close();
});

test('the mutation may not change the key state (state changes go through the transition table)', async () => {
  const inner = await storeWithKey('k6');
  await assert.rejects(updateKeyDoc(inner, scope, 'k6', (k) => ({ ...k.doc, state: 'Disabled' })), /must not change the key state/);
  await inner.close();
});
