/**
 * The parameter repository's contract (storage/parameter-repo.ts), run by every adapter's test file
 * with a factory returning a fresh, migrated, empty store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ParameterRecord, ParameterVersionRecord } from '../parameter-repo.ts';
import { DuplicateError, type Storage } from '../storage.ts';

const A = { accountId: '111122223333', region: 'us-east-1' };
const B = { accountId: '111122223333', region: 'eu-west-1' };

function param(scope: typeof A, name: string, extra: Partial<ParameterRecord> = {}): ParameterRecord {
  return { ...scope, name, version: 1, revision: 1, dueAt: null, createdAt: 1000, doc: { tags: [] }, ...extra };
}

function version(scope: typeof A, name: string, v: number, extra: Partial<ParameterVersionRecord> = {}): ParameterVersionRecord {
  return { ...scope, name, version: v, createdAt: 1000 + v, value: `value ${v}`, labels: [], doc: { type: 'String' }, ...extra };
}

export function runParameterContract(adapter: string, open: () => Promise<Storage>): void {
  const withStore = (name: string, body: (s: Storage) => Promise<void>) =>
    test(`${adapter} parameter contract: ${name}`, async () => {
      const store = await open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });

  withStore('parameters are scoped by account and region; a duplicate name fails with DuplicateError', async (s) => {
    await s.transaction(async (tx) => {
      await tx.parameters.insert(param(A, '/app/db'));
      await tx.parameters.insert(param(B, '/app/db', { doc: { other: true } }));
    });
    assert.deepEqual((await s.read((r) => r.parameters.get(A, '/app/db')))?.doc, { tags: [] });
    assert.deepEqual((await s.read((r) => r.parameters.get(B, '/app/db')))?.doc, { other: true });
    await assert.rejects(s.transaction((tx) => tx.parameters.insert(param(A, '/app/db'))), DuplicateError);
  });

  withStore('update is compare-and-set on revision: of two writers from one read, one wins', async (s) => {
    await s.transaction((tx) => tx.parameters.insert(param(A, 'p')));
    const p = (await s.read((r) => r.parameters.get(A, 'p')))!;
    assert.equal(await s.transaction((tx) => tx.parameters.update({ ...p, version: 2 }, p.revision)), true);
    assert.equal(await s.transaction((tx) => tx.parameters.update({ ...p, version: 2 }, p.revision)), false);
    const after = (await s.read((r) => r.parameters.get(A, 'p')))!;
    assert.equal(after.version, 2);
    assert.equal(after.revision, 2);
  });

  withStore('versions: insert, get, list ascending, labels, delete; a duplicate version fails', async (s) => {
    await s.transaction(async (tx) => {
      await tx.parameters.insert(param(A, 'v'));
      for (const n of [2, 1, 3]) await tx.parameters.insertVersion(version(A, 'v', n));
    });
    await assert.rejects(s.transaction((tx) => tx.parameters.insertVersion(version(A, 'v', 2))), DuplicateError);
    assert.deepEqual((await s.read((r) => r.parameters.listVersions(A, 'v'))).map((v) => v.version), [1, 2, 3]);
    assert.equal(await s.transaction((tx) => tx.parameters.setLabels(A, 'v', 2, ['prod', 'blue'])), true);
    assert.equal(await s.transaction((tx) => tx.parameters.setLabels(A, 'v', 9, ['x'])), false);
    assert.deepEqual((await s.read((r) => r.parameters.getVersion(A, 'v', 2)))?.labels, ['prod', 'blue']);
    await s.transaction((tx) => tx.parameters.deleteVersion(A, 'v', 1));
    assert.equal(await s.read((r) => r.parameters.getVersion(A, 'v', 1)), undefined);
    assert.equal(await s.read((r) => r.parameters.getVersion(B, 'v', 2)), undefined);
  });

  withStore('getLatest reads the parameter with the version its row names, in its scope; a missing version row is absent', async (s) => {
    await s.transaction(async (tx) => {
      await tx.parameters.insert(param(A, 'l', { version: 2, doc: { tags: ['t'] } }));
      await tx.parameters.insertVersion(version(A, 'l', 1));
      await tx.parameters.insertVersion(version(A, 'l', 2, { labels: ['prod'], doc: { type: 'SecureString' } }));
      await tx.parameters.insert(param(B, 'l', { version: 3 }));
      await tx.parameters.insertVersion(version(B, 'l', 1));
    });
    const a = await s.read((r) => r.parameters.getLatest(A, 'l'));
    assert.deepEqual(a, { parameter: await s.read((r) => r.parameters.get(A, 'l')), latest: await s.read((r) => r.parameters.getVersion(A, 'l', 2)) });
    assert.deepEqual(a?.latest, version(A, 'l', 2, { labels: ['prod'], doc: { type: 'SecureString' } }));
    assert.deepEqual(a?.parameter, param(A, 'l', { version: 2, doc: { tags: ['t'] } }));
    // B's row names version 3, which does not exist.
    assert.deepEqual(await s.read((r) => r.parameters.getLatest(B, 'l')), { parameter: param(B, 'l', { version: 3 }), latest: undefined });
    assert.equal(await s.read((r) => r.parameters.getLatest(A, 'nope')), undefined);
    // Inside a transaction too, where it sees the transaction's own writes.
    const seen = await s.transaction(async (tx) => {
      await tx.parameters.update({ ...param(A, 'l', { version: 3, revision: 1 }) }, 1);
      await tx.parameters.insertVersion(version(A, 'l', 3));
      return tx.parameters.getLatest(A, 'l');
    });
    assert.equal(seen?.latest?.version, 3);
  });

  withStore('delete removes the parameter and all its versions; with a stale revision it deletes nothing', async (s) => {
    await s.transaction(async (tx) => {
      await tx.parameters.insert(param(A, 'd', { revision: 3 }));
      await tx.parameters.insertVersion(version(A, 'd', 1));
    });
    assert.equal(await s.transaction((tx) => tx.parameters.delete(A, 'd', 2)), false);
    assert.ok(await s.read((r) => r.parameters.get(A, 'd')));
    assert.equal(await s.transaction((tx) => tx.parameters.delete(A, 'd', 3)), true);
    assert.equal(await s.read((r) => r.parameters.get(A, 'd')), undefined);
    assert.deepEqual(await s.read((r) => r.parameters.listVersions(A, 'd')), []);
    assert.equal(await s.transaction((tx) => tx.parameters.delete(A, 'd')), false);
  });

  withStore('list pages by prefix in bytewise name order; listDue finds due parameters in any scope', async (s) => {
    await s.transaction(async (tx) => {
      for (const n of ['/a/z', '/a/b', '/a/B', '/ab', '/b/c', 'plain']) await tx.parameters.insert(param(A, n));
      await tx.parameters.insert(param(B, '/a/other'));
      await tx.parameters.insert(param(B, 'due', { dueAt: 500 }));
      await tx.parameters.insert(param(A, '/a/due', { dueAt: 900 }));
    });
    const p1 = await s.read((r) => r.parameters.list(A, '/a/', undefined, 2));
    assert.deepEqual(p1.items.map((p) => p.name), ['/a/B', '/a/b']);
    assert.equal(p1.next, '/a/b');
    const p2 = await s.read((r) => r.parameters.list(A, '/a/', p1.next, 2));
    assert.deepEqual(p2.items.map((p) => p.name), ['/a/due', '/a/z']);
    assert.equal(p2.next, undefined);
    assert.equal((await s.read((r) => r.parameters.list(A, '', undefined, 50))).items.length, 7);
    assert.deepEqual((await s.read((r) => r.parameters.listDue(1000, 10))).map((p) => p.name), ['due', '/a/due']);
    assert.deepEqual((await s.read((r) => r.parameters.listDue(600, 10))).map((p) => p.name), ['due']);
  });
}
