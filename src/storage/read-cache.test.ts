import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runIamContract } from './contract/iam-contract.ts';
import { runSecretContract } from './contract/secret-contract.ts';
import { runStorageContract } from './contract/storage-contract.ts';
import { ReadCachingStorage } from './read-cache.ts';
import { RepoDecoratingStorage } from './repo-decorating-storage.ts';
import { SqliteStorage } from './sqlite/sqlite-storage.ts';
import type { KeyRecord, Repos, Storage } from './storage.ts';

const dir = mkdtempSync(join(tmpdir(), 'trent-read-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function sqlite(path = join(dir, `store-${n++}.db`)): Promise<SqliteStorage> {
  const store = new SqliteStorage(path);
  await store.migrate();
  return store;
}

// The decorator must be a faithful Storage: every write it sees is read back at once.
runStorageContract('sqlite behind the read cache', async () => new ReadCachingStorage(await sqlite(), 60_000));
runIamContract('sqlite behind the read cache', async () => new ReadCachingStorage(await sqlite(), 60_000));
runSecretContract('sqlite behind the read cache', async () => new ReadCachingStorage(await sqlite(), 60_000));

const A = { accountId: '111122223333', region: 'us-east-1' };
const key = (revision: number, state: string): KeyRecord => ({
  ...A, keyId: 'k1', createdAt: 1, state, dueAt: null, revision, doc: { state },
});

describe('the read cache', () => {
  async function pair(ttlMs: number): Promise<{ cached: Storage; peer: Storage }> {
    const path = join(dir, `pair-${n++}.db`);
    const base = await sqlite(path);
    return { cached: new ReadCachingStorage(base, ttlMs), peer: await sqlite(path) };
  }

  test('serves a key read again from memory until its TTL runs out, so another node\'s change waits at most that long', async () => {
    const { cached, peer } = await pair(60_000);
    await cached.transaction((tx) => tx.keys.insert(key(1, 'Enabled')));
    assert.equal((await cached.read((r) => r.keys.get(A, 'k1')))?.state, 'Enabled');
    await peer.transaction((tx) => tx.keys.update(key(2, 'Disabled'), 1));
    assert.equal((await cached.read((r) => r.keys.get(A, 'k1')))?.state, 'Enabled');
    // Inside a transaction (compare-and-set) the store is always read.
    assert.equal((await cached.transaction((tx) => tx.keys.get(A, 'k1')))?.state, 'Disabled');

    const fresh = await pair(0);
    await fresh.cached.transaction((tx) => tx.keys.insert(key(1, 'Enabled')));
    await fresh.cached.read((r) => r.keys.get(A, 'k1'));
    await fresh.peer.transaction((tx) => tx.keys.update(key(2, 'Disabled'), 1));
    assert.equal((await fresh.cached.read((r) => r.keys.get(A, 'k1')))?.state, 'Disabled');
  });

  test('a write through the cache is seen by the next read at once (key, grants, principal)', async () => {
    const { cached } = await pair(60_000);
    await cached.transaction((tx) => tx.keys.insert(key(1, 'Enabled')));
    await cached.read((r) => r.keys.get(A, 'k1'));
    await cached.transaction((tx) => tx.keys.update(key(2, 'Disabled'), 1));
    assert.equal((await cached.read((r) => r.keys.get(A, 'k1')))?.state, 'Disabled');

    assert.deepEqual(await cached.read((r) => r.grants.listForKey(A, 'k1')), []);
    const grant = {
      ...A, keyId: 'k1', grantId: 'g1', granteePrincipal: 'arn:aws:iam::111122223333:user/b', retiringPrincipal: null, name: null, createdAt: 1, doc: {},
    };
    await cached.transaction((tx) => tx.grants.insert(grant));
    assert.equal((await cached.read((r) => r.grants.listForKey(A, 'k1'))).length, 1);
    await cached.transaction((tx) => tx.grants.delete('g1'));
    assert.deepEqual(await cached.read((r) => r.grants.listForKey(A, 'k1')), []);

    const arn = 'arn:aws:iam::111122223333:user/b';
    const principal = { arn, accountId: A.accountId, kind: 'user' as const, name: 'b', createdAt: 1, revision: 1, doc: { policies: {} } };
    await cached.transaction((tx) => tx.principals.insert(principal));
    await cached.read((r) => r.principals.get(arn));
    await cached.transaction((tx) => tx.principals.update({ ...principal, doc: { policies: { p: '{}' } } }, 1));
    assert.deepEqual((await cached.read((r) => r.principals.get(arn)))?.doc, { policies: { p: '{}' } });
  });

  test('does not remember a key that is not Enabled, so enabling it on another node counts at once', async () => {
    const { cached, peer } = await pair(60_000);
    await cached.transaction((tx) => tx.keys.insert(key(1, 'Disabled')));
    await cached.read((r) => r.keys.get(A, 'k1'));
    await peer.transaction((tx) => tx.keys.update(key(2, 'Enabled'), 1));
    assert.equal((await cached.read((r) => r.keys.get(A, 'k1')))?.state, 'Enabled');
  });

  test('does not remember a key that was absent, and hands out frozen records', async () => {
    const { cached, peer } = await pair(60_000);
    assert.equal(await cached.read((r) => r.keys.get(A, 'k1')), undefined);
    await peer.transaction((tx) => tx.keys.insert(key(1, 'Enabled')));
    const got = await cached.read((r) => r.keys.get(A, 'k1'));
    assert.equal(got?.state, 'Enabled');
    assert.ok(Object.isFrozen(got) && Object.isFrozen(got.doc));
  });

  /** Counts the key reads (outside transactions) that reach the store, and holds them until opened. */
  class HeldKeyReads extends RepoDecoratingStorage {
    started = 0;
    #open!: () => void;
    #gate = new Promise<void>((r) => (this.#open = r));
    open(): void {
      this.#open();
    }
    protected decorate(repos: Repos, inTransaction: boolean): Repos {
      if (inTransaction) return repos;
      return { ...repos, keys: { ...repos.keys, get: async (s, id) => (this.started++, await this.#gate, repos.keys.get(s, id)) } };
    }
  }

  test('callers arriving while a key is being read share that read instead of each reading the row', async () => {
    const held = new HeldKeyReads(await sqlite());
    const cached = new ReadCachingStorage(held, 60_000);
    await cached.transaction((tx) => tx.keys.insert(key(1, 'Enabled')));
    const reads = Array.from({ length: 20 }, () => cached.read((r) => r.keys.get(A, 'k1')));
    await new Promise((r) => setImmediate(r));
    assert.equal(held.started, 1);
    held.open();
    for (const k of await Promise.all(reads)) assert.equal(k?.state, 'Enabled');
    assert.equal(held.started, 1);
  });

  test('a read in flight is not shared after a write through the cache, nor when it finds a key not Enabled', async () => {
    const held = new HeldKeyReads(await sqlite());
    const cached = new ReadCachingStorage(held, 60_000);
    await cached.transaction((tx) => tx.keys.insert(key(1, 'Enabled')));
    const before = cached.read((r) => r.keys.get(A, 'k1'));
    await new Promise((r) => setImmediate(r));
    await cached.transaction((tx) => tx.keys.update(key(2, 'Disabled'), 1));
    const after = Array.from({ length: 5 }, () => cached.read((r) => r.keys.get(A, 'k1')));
    await new Promise((r) => setImmediate(r));
    // The reads after the write wait for a read of their own (one, shared among them) …
    assert.equal(held.started, 2);
    held.open();
    await before;
    // … which finds the key Disabled: not shareable, so each of the four others reads again.
    for (const k of await Promise.all(after)) assert.equal(k?.state, 'Disabled');
    assert.equal(held.started, 6);
  });

  test('hits hand out the entry\'s one settled promise (no promise made per hit); a write makes a new entry', async () => {
    const { cached } = await pair(60_000);
    await cached.transaction((tx) => tx.keys.insert(key(1, 'Enabled')));
    const first = await cached.read(async (r) => {
      await r.keys.get(A, 'k1');
      const hit = r.keys.get(A, 'k1');
      assert.equal(r.keys.get(A, 'k1'), hit);
      assert.equal((await hit)?.revision, 1);
      // Grants: a miss of a key with none is [], and the hits after it are the cached list's one promise.
      assert.deepEqual(await r.grants.listForKey(A, 'k1'), []);
      const grants = r.grants.listForKey(A, 'k1');
      assert.equal(r.grants.listForKey(A, 'k1'), grants);
      assert.deepEqual(await grants, []);
      return { hit };
    });
    await cached.transaction((tx) => tx.keys.update(key(2, 'Enabled'), 1));
    const next = await cached.read(async (r) => {
      await r.keys.get(A, 'k1');
      return { hit: r.keys.get(A, 'k1') };
    });
    assert.notEqual(next.hit, first.hit);
    assert.equal((await next.hit)?.revision, 2);
  });

  test('serves a secret version from memory until its TTL; a version written or deleted through the cache is seen at once', async () => {
    const { cached, peer } = await pair(60_000);
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:s-AbCdEf';
    const secret = { ...A, name: 's', arn, createdAt: 1, dueAt: null, revision: 1, doc: {} };
    const v = (id: string, sealed: string) => ({
      secretArn: arn, versionId: id, createdAt: 1, encryptedDataKey: Buffer.from('edk'), sealedValue: Buffer.from(sealed), doc: { kind: 'string' },
    });
    await cached.transaction(async (tx) => {
      await tx.secrets.insert(secret);
      await tx.secretVersions.insert(v('v1', 'one'));
    });
    const first = await cached.read((r) => r.secretVersions.get(arn, 'v1'));
    assert.equal(first?.sealedValue.toString(), 'one');
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.doc));
    // Another node's delete is seen within the TTL (here: not yet).
    await peer.transaction((tx) => tx.secretVersions.delete(arn, ['v1']));
    assert.equal((await cached.read((r) => r.secretVersions.get(arn, 'v1')))?.sealedValue.toString(), 'one');
    // Writes through the cache drop the entry: the re-created version is read from the store.
    await cached.transaction((tx) => tx.secretVersions.delete(arn, ['v1']));
    assert.equal(await cached.read((r) => r.secretVersions.get(arn, 'v1')), undefined);
    await cached.transaction((tx) => tx.secretVersions.insert(v('v1', 'two')));
    assert.equal((await cached.read((r) => r.secretVersions.get(arn, 'v1')))?.sealedValue.toString(), 'two');
    // An absent version is not remembered: one inserted on another node is found at once.
    assert.equal(await cached.read((r) => r.secretVersions.get(arn, 'v2')), undefined);
    await peer.transaction((tx) => tx.secretVersions.insert(v('v2', 'three')));
    assert.equal((await cached.read((r) => r.secretVersions.get(arn, 'v2')))?.sealedValue.toString(), 'three');

    const fresh = await pair(0);
    await fresh.cached.transaction(async (tx) => {
      await tx.secrets.insert(secret);
      await tx.secretVersions.insert(v('v1', 'one'));
    });
    await fresh.cached.read((r) => r.secretVersions.get(arn, 'v1'));
    await fresh.peer.transaction((tx) => tx.secretVersions.delete(arn, ['v1']));
    assert.equal(await fresh.cached.read((r) => r.secretVersions.get(arn, 'v1')), undefined);
  });
});
