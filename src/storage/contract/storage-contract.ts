/**
 * The contract every storage adapter must pass. Each adapter's test file calls runStorageContract with
 * a factory that returns a fresh, migrated, empty store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuplicateError, type KeyRecord, type Storage } from '../storage.ts';

const A = { accountId: '111122223333', region: 'us-east-1' };
const B = { accountId: '111122223333', region: 'eu-west-1' };
const OTHER_ACCOUNT = { accountId: '444455556666', region: 'us-east-1' };

function key(scope: typeof A, keyId: string, extra: Partial<KeyRecord> = {}): KeyRecord {
  return { ...scope, keyId, createdAt: 1000, state: 'Enabled', dueAt: null, revision: 1, doc: { d: keyId }, ...extra };
}

export function runStorageContract(adapter: string, open: () => Promise<Storage>): void {
  const withStore = (name: string, body: (s: Storage) => Promise<void>) =>
    test(`${adapter} contract: ${name}`, async () => {
      const store = await open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });

  withStore('keys are scoped by account and region', async (s) => {
    await s.transaction(async (tx) => {
      await tx.keys.insert(key(A, 'k1'));
      await tx.keys.insert(key(B, 'k1', { doc: { d: 'other region' } }));
    });
    assert.deepEqual((await s.read((r) => r.keys.get(A, 'k1')))?.doc, { d: 'k1' });
    assert.deepEqual((await s.read((r) => r.keys.get(B, 'k1')))?.doc, { d: 'other region' });
    assert.equal(await s.read((r) => r.keys.get(OTHER_ACCOUNT, 'k1')), undefined);
    assert.equal(await s.read((r) => r.keys.count(A)), 1);
  });

  withStore('inserting an existing key id fails with DuplicateError', async (s) => {
    await s.transaction((tx) => tx.keys.insert(key(A, 'dup')));
    await assert.rejects(s.transaction((tx) => tx.keys.insert(key(A, 'dup'))), DuplicateError);
  });

  withStore('read-modify-write through getForUpdate never loses its race: 10 concurrent transactions on one key all land', async (s) => {
    await s.transaction((tx) => tx.keys.insert(key(A, 'hot', { doc: { n: [] } })));
    const lost: number[] = [];
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.transaction(async (tx) => {
      const k = (await tx.keys.getForUpdate(A, 'hot'))!;
      // Hold the row a moment, as a mutating call holds its transaction until its audit event commits.
      await new Promise((r) => setTimeout(r, 5));
      const doc = { n: [...(k.doc as { n: number[] }).n, i] };
      if (!(await tx.keys.update({ ...k, doc }, k.revision))) lost.push(i);
    })));
    assert.deepEqual(lost, []);
    const stored = (await s.read((r) => r.keys.get(A, 'hot')))!;
    assert.deepEqual([...(stored.doc as { n: number[] }).n].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(stored.revision, 11);
  });

  withStore('key update is compare-and-set on revision', async (s) => {
    await s.transaction((tx) => tx.keys.insert(key(A, 'cas')));
    const k = (await s.read((r) => r.keys.get(A, 'cas')))!;
    assert.equal(await s.transaction((tx) => tx.keys.update({ ...k, state: 'Disabled' }, 1)), true);
    assert.equal(await s.transaction((tx) => tx.keys.update({ ...k, state: 'PendingDeletion' }, 1)), false);
    const after = (await s.read((r) => r.keys.get(A, 'cas')))!;
    assert.equal(after.state, 'Disabled');
    assert.equal(after.revision, 2);
  });

  withStore('key listing pages in key id order', async (s) => {
    await s.transaction(async (tx) => {
      for (const id of ['c', 'a', 'e', 'b', 'd']) await tx.keys.insert(key(A, id));
    });
    const p1 = await s.read((r) => r.keys.list(A, undefined, 2));
    assert.deepEqual(p1.items.map((k) => k.keyId), ['a', 'b']);
    assert.equal(p1.next, 'b');
    const p2 = await s.read((r) => r.keys.list(A, p1.next, 2));
    assert.deepEqual(p2.items.map((k) => k.keyId), ['c', 'd']);
    const p3 = await s.read((r) => r.keys.list(A, p2.next, 2));
    assert.deepEqual(p3.items.map((k) => k.keyId), ['e']);
    assert.equal(p3.next, undefined);
  });

  withStore('due keys are listed across scopes, oldest first', async (s) => {
    await s.transaction(async (tx) => {
      await tx.keys.insert(key(A, 'late', { dueAt: 300 }));
      await tx.keys.insert(key(B, 'early', { dueAt: 100 }));
      await tx.keys.insert(key(A, 'never'));
      await tx.keys.insert(key(A, 'future', { dueAt: 10_000 }));
    });
    const due = await s.read((r) => r.keys.listDue(500, 10));
    assert.deepEqual(due.map((k) => k.keyId), ['early', 'late']);
  });

  withStore('a failed transaction leaves nothing behind', async (s) => {
    await assert.rejects(
      s.transaction(async (tx) => {
        await tx.keys.insert(key(A, 'half'));
        await tx.materials.insert({ ...A, keyId: 'half', version: 1, createdAt: 1, sealed: Buffer.from([1]), doc: {} });
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await s.read((r) => r.keys.get(A, 'half')), undefined);
    assert.equal(await s.read((r) => r.materials.get(A, 'half', 1)), undefined);
  });

  withStore('material versions are kept in order and bytes survive intact', async (s) => {
    const bytes = Buffer.from([0, 255, 1, 254, 0, 0, 7]);
    await s.transaction(async (tx) => {
      await tx.materials.insert({ ...A, keyId: 'm', version: 2, createdAt: 2, sealed: Buffer.from([2]), doc: { id: 'two' } });
      await tx.materials.insert({ ...A, keyId: 'm', version: 1, createdAt: 1, sealed: bytes, doc: { id: 'one' } });
    });
    const list = await s.read((r) => r.materials.list(A, 'm'));
    assert.deepEqual(list.map((m) => m.version), [1, 2]);
    assert.deepEqual(Buffer.from(list[0]!.sealed), bytes);
    assert.deepEqual(list[1]!.doc, { id: 'two' });
    await assert.rejects(
      s.transaction((tx) => tx.materials.insert({ ...A, keyId: 'm', version: 2, createdAt: 3, sealed: bytes, doc: {} })),
      DuplicateError,
    );
    await s.transaction((tx) => tx.materials.deleteAll(A, 'm'));
    assert.deepEqual(await s.read((r) => r.materials.list(A, 'm')), []);
  });

  withStore('alias names are unique per scope and can be re-targeted', async (s) => {
    const alias = { ...A, aliasName: 'alias/app', targetKeyId: 'k1', createdAt: 1, updatedAt: 1 };
    await s.transaction((tx) => tx.aliases.insert(alias));
    await s.transaction((tx) => tx.aliases.insert({ ...alias, ...B }));
    await assert.rejects(s.transaction((tx) => tx.aliases.insert({ ...alias, targetKeyId: 'k2' })), DuplicateError);
    assert.equal(await s.transaction((tx) => tx.aliases.update(A, 'alias/app', 'k2', 5)), true);
    const got = await s.read((r) => r.aliases.get(A, 'alias/app'));
    assert.equal(got?.targetKeyId, 'k2');
    assert.equal(got?.updatedAt, 5);
    assert.equal(await s.transaction((tx) => tx.aliases.update(A, 'alias/none', 'k2', 5)), false);
    await s.transaction((tx) => tx.aliases.insert({ ...alias, aliasName: 'alias/b', targetKeyId: 'k2' }));
    await s.transaction((tx) => tx.aliases.insert({ ...alias, aliasName: 'alias/c', targetKeyId: 'k3' }));
    const forK2 = await s.read((r) => r.aliases.list(A, 'k2', undefined, 10));
    assert.deepEqual(forK2.items.map((a) => a.aliasName), ['alias/app', 'alias/b']);
    const paged = await s.read((r) => r.aliases.list(A, undefined, undefined, 2));
    assert.deepEqual(paged.items.map((a) => a.aliasName), ['alias/app', 'alias/b']);
    assert.equal(paged.next, 'alias/b');
    await s.transaction((tx) => tx.aliases.deleteForKey(A, 'k2'));
    assert.deepEqual((await s.read((r) => r.aliases.list(A, undefined, undefined, 10))).items.map((a) => a.aliasName), ['alias/c']);
    assert.equal(await s.transaction((tx) => tx.aliases.delete(A, 'alias/c')), true);
    assert.equal(await s.transaction((tx) => tx.aliases.delete(A, 'alias/c')), false);
  });

  withStore('access keys insert, upsert and count', async (s) => {
    const ak = {
      accessKeyId: 'AKIAEXAMPLE00000001', accountId: A.accountId, principalArn: 'arn:aws:iam::111122223333:root',
      sealedSecret: Buffer.from([9, 9]), status: 'Active' as const, createdAt: 1, expiresAt: null, doc: { admin: true },
    };
    await s.transaction((tx) => tx.accessKeys.insert(ak));
    await assert.rejects(s.transaction((tx) => tx.accessKeys.insert(ak)), DuplicateError);
    await s.transaction((tx) => tx.accessKeys.upsert({ ...ak, status: 'Inactive', expiresAt: 99 }));
    const got = await s.read((r) => r.accessKeys.get(ak.accessKeyId));
    assert.equal(got?.status, 'Inactive');
    assert.equal(got?.expiresAt, 99);
    assert.deepEqual(Buffer.from(got!.sealedSecret), Buffer.from([9, 9]));
    assert.equal(await s.read((r) => r.accessKeys.count()), 1);
    await s.transaction((tx) => tx.accessKeys.insert({ ...ak, accessKeyId: 'AKIAEXAMPLE00000000' }));
    await s.transaction((tx) => tx.accessKeys.insert({ ...ak, accessKeyId: 'AKIAEXAMPLE00000002', principalArn: 'arn:aws:iam::111122223333:user/x' }));
    assert.deepEqual((await s.read((r) => r.accessKeys.listForPrincipal(ak.principalArn))).map((k) => k.accessKeyId), ['AKIAEXAMPLE00000000', 'AKIAEXAMPLE00000001']);
    assert.equal(await s.transaction((tx) => tx.accessKeys.delete(ak.accessKeyId)), true);
    assert.equal(await s.transaction((tx) => tx.accessKeys.delete(ak.accessKeyId)), false);
    assert.equal(await s.read((r) => r.accessKeys.get(ak.accessKeyId)), undefined);
    assert.equal(await s.read((r) => r.accessKeys.count()), 2);
  });

  withStore('principals delete is compare-and-set on revision', async (s) => {
    const p = { arn: 'arn:aws:iam::111122223333:group/g', accountId: A.accountId, kind: 'group' as const, name: 'g', createdAt: 1, revision: 1, doc: {} };
    await s.transaction((tx) => tx.principals.insert(p));
    assert.equal(await s.transaction((tx) => tx.principals.update({ ...p, doc: { x: 1 } }, 1)), true);
    assert.equal(await s.transaction((tx) => tx.principals.delete(p.arn, 1)), false);
    assert.equal(await s.transaction((tx) => tx.principals.delete(p.arn, 2)), true);
    assert.equal(await s.read((r) => r.principals.get(p.arn)), undefined);
    assert.equal(await s.transaction((tx) => tx.principals.delete(p.arn, 2)), false);
  });

  withStore('meta putIfAbsent keeps the first value', async (s) => {
    assert.equal(await s.transaction((tx) => tx.meta.putIfAbsent('root-check', 'first')), 'first');
    assert.equal(await s.transaction((tx) => tx.meta.putIfAbsent('root-check', 'second')), 'first');
    assert.equal(await s.read((r) => r.meta.get('root-check')), 'first');
    assert.equal(await s.read((r) => r.meta.get('absent')), undefined);
  });

  withStore('meta compareAndSet replaces only the expected value', async (s) => {
    await s.transaction((tx) => tx.meta.putIfAbsent('keyring', 'g1'));
    assert.equal(await s.transaction((tx) => tx.meta.compareAndSet('keyring', 'g0', 'g2')), false);
    assert.equal(await s.transaction((tx) => tx.meta.compareAndSet('keyring', 'g1', 'g2')), true);
    assert.equal(await s.transaction((tx) => tx.meta.compareAndSet('keyring', 'g1', 'g3')), false);
    assert.equal(await s.transaction((tx) => tx.meta.compareAndSet('absent', 'x', 'y')), false);
    assert.equal(await s.read((r) => r.meta.get('keyring')), 'g2');
  });

  withStore('concurrent compare-and-set updates: exactly one wins each round', async (s) => {
    await s.transaction((tx) => tx.keys.insert(key(A, 'race')));
    const k = (await s.read((r) => r.keys.get(A, 'race')))!;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => s.transaction((tx) => tx.keys.update({ ...k, doc: { writer: i } }, k.revision))),
    );
    assert.equal(results.filter(Boolean).length, 1);
  });

  withStore('migrate is idempotent', async (s) => {
    await s.migrate();
    await s.migrate();
  });
}
