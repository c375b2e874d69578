/**
 * The custom key store repository's contract (storage/custom-key-store-repo.ts), run by every adapter's
 * test file with a factory returning a fresh, migrated, empty store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CustomKeyStoreRecord } from '../custom-key-store-repo.ts';
import { DuplicateError, type Storage } from '../storage.ts';

const A = { accountId: '111122223333', region: 'us-east-1' };
const B = { accountId: '444455556666', region: 'us-east-1' };

function store(scope: typeof A, id: string, name: string, clusterId: string, extra: Partial<CustomKeyStoreRecord> = {}): CustomKeyStoreRecord {
  return {
    ...scope, id, name, clusterId, createdAt: 1000, revision: 1, sealedPassword: Buffer.from([1, 2, 3, 0, 255]),
    doc: { type: 'AWS_CLOUDHSM', desired: 'DISCONNECTED' }, ...extra,
  };
}

export function runCustomKeyStoreContract(adapter: string, open: () => Promise<Storage>): void {
  const withStore = (name: string, body: (s: Storage) => Promise<void>) =>
    test(`${adapter} custom key store contract: ${name}`, async () => {
      const s = await open();
      try {
        await body(s);
      } finally {
        await s.close();
      }
    });

  withStore('insert and read back by id, name and cluster; the sealed password round-trips byte for byte', async (s) => {
    await s.transaction((tx) => tx.customKeyStores.insert(store(A, 'cks-00000000000000001', 'one', 'hsm-a')));
    const byId = await s.read((r) => r.customKeyStores.get(A, 'cks-00000000000000001'));
    assert.deepEqual(byId, store(A, 'cks-00000000000000001', 'one', 'hsm-a'));
    assert.equal((await s.read((r) => r.customKeyStores.getByName(A, 'one')))?.id, 'cks-00000000000000001');
    assert.equal((await s.read((r) => r.customKeyStores.getByCluster('hsm-a')))?.id, 'cks-00000000000000001');
    assert.equal(await s.read((r) => r.customKeyStores.get(B, 'cks-00000000000000001')), undefined);
    assert.equal(await s.read((r) => r.customKeyStores.getByName(B, 'one')), undefined);
  });

  withStore('names are unique per scope, cluster ids and store ids everywhere (DuplicateError)', async (s) => {
    await s.transaction((tx) => tx.customKeyStores.insert(store(A, 'cks-1', 'same', 'hsm-a')));
    await s.transaction((tx) => tx.customKeyStores.insert(store(B, 'cks-2', 'same', 'hsm-b')));
    await assert.rejects(s.transaction((tx) => tx.customKeyStores.insert(store(A, 'cks-3', 'same', 'hsm-c'))), DuplicateError);
    await assert.rejects(s.transaction((tx) => tx.customKeyStores.insert(store(B, 'cks-4', 'other', 'hsm-a'))), DuplicateError);
    await assert.rejects(s.transaction((tx) => tx.customKeyStores.insert(store(B, 'cks-1', 'third', 'hsm-d'))), DuplicateError);
  });

  withStore('list pages a scope in id order', async (s) => {
    await s.transaction(async (tx) => {
      for (const n of [3, 1, 2]) await tx.customKeyStores.insert(store(A, `cks-${n}`, `n${n}`, `hsm-${n}`));
      await tx.customKeyStores.insert(store(B, 'cks-0', 'b', 'hsm-b'));
    });
    const first = await s.read((r) => r.customKeyStores.list(A, undefined, 2));
    assert.deepEqual(first.items.map((x) => x.id), ['cks-1', 'cks-2']);
    assert.equal(first.next, 'cks-2');
    const second = await s.read((r) => r.customKeyStores.list(A, first.next, 2));
    assert.deepEqual(second.items.map((x) => x.id), ['cks-3']);
    assert.equal(second.next, undefined);
  });

  withStore('update is compare-and-set on revision and refuses a taken name; delete needs the current revision', async (s) => {
    await s.transaction(async (tx) => {
      await tx.customKeyStores.insert(store(A, 'cks-1', 'one', 'hsm-1'));
      await tx.customKeyStores.insert(store(A, 'cks-2', 'two', 'hsm-2'));
    });
    const r = (await s.read((x) => x.customKeyStores.get(A, 'cks-1')))!;
    const renamed = { ...r, name: 'uno', sealedPassword: Buffer.from('new'), doc: { desired: 'CONNECTED' } };
    assert.equal(await s.transaction((tx) => tx.customKeyStores.update(renamed, 1)), true);
    assert.equal(await s.transaction((tx) => tx.customKeyStores.update(renamed, 1)), false);
    const after = (await s.read((x) => x.customKeyStores.get(A, 'cks-1')))!;
    assert.equal(after.name, 'uno');
    assert.equal(after.revision, 2);
    assert.deepEqual(after.sealedPassword, Buffer.from('new'));
    assert.deepEqual(after.doc, { desired: 'CONNECTED' });
    await assert.rejects(s.transaction((tx) => tx.customKeyStores.update({ ...after, name: 'two' }, 2)), DuplicateError);
    assert.equal(await s.transaction((tx) => tx.customKeyStores.delete(A, 'cks-1', 1)), false);
    assert.equal(await s.transaction((tx) => tx.customKeyStores.delete(A, 'cks-1', 2)), true);
    assert.equal(await s.read((x) => x.customKeyStores.get(A, 'cks-1')), undefined);
    // The cluster is free again.
    await s.transaction((tx) => tx.customKeyStores.insert(store(B, 'cks-9', 'again', 'hsm-1')));
  });
}
