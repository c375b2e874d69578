/**
 * The import-parameters part of the storage contract (storage/import-repo.ts). Each adapter's test file
 * calls runImportContract with a factory that returns a fresh, migrated, empty store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImportParametersRecord } from '../import-repo.ts';
import { DuplicateError, type Storage } from '../storage.ts';

const A = { accountId: '111122223333', region: 'us-east-1' };
const B = { accountId: '111122223333', region: 'eu-west-1' };

function params(scope: typeof A, keyId: string, tokenId: string, expiresAt: number): ImportParametersRecord {
  return { ...scope, keyId, tokenId, createdAt: 1000, expiresAt, sealed: Buffer.from([1, 2, 3, tokenId.length]), doc: { wrappingAlgorithm: 'RSAES_OAEP_SHA_256' } };
}

export function runImportContract(adapter: string, open: () => Promise<Storage>): void {
  const withStore = (name: string, body: (s: Storage) => Promise<void>) =>
    test(`${adapter} import-parameters contract: ${name}`, async () => {
      const store = await open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });

  withStore('rows are scoped by account, region and key; a token id is unique per key', async (s) => {
    await s.transaction(async (tx) => {
      await tx.importParameters.insert(params(A, 'k1', 't1', 5000));
      await tx.importParameters.insert(params(B, 'k1', 't1', 5000));
      await tx.importParameters.insert(params(A, 'k2', 't1', 5000));
    });
    const got = await s.read((r) => r.importParameters.get(A, 'k1', 't1'));
    assert.deepEqual(got, params(A, 'k1', 't1', 5000));
    assert.equal(await s.read((r) => r.importParameters.get(A, 'k1', 't2')), undefined);
    await assert.rejects(s.transaction((tx) => tx.importParameters.insert(params(A, 'k1', 't1', 9000))), DuplicateError);
  });

  withStore('deleteForKey removes only that key\'s rows', async (s) => {
    await s.transaction(async (tx) => {
      await tx.importParameters.insert(params(A, 'k1', 't1', 5000));
      await tx.importParameters.insert(params(A, 'k1', 't2', 5000));
      await tx.importParameters.insert(params(A, 'k2', 't1', 5000));
    });
    await s.transaction((tx) => tx.importParameters.deleteForKey(A, 'k1'));
    assert.equal(await s.read((r) => r.importParameters.get(A, 'k1', 't1')), undefined);
    assert.equal(await s.read((r) => r.importParameters.get(A, 'k1', 't2')), undefined);
    assert.ok(await s.read((r) => r.importParameters.get(A, 'k2', 't1')));
  });

  withStore('deleteExpired removes rows expired at or before now, in every scope, and counts them', async (s) => {
    await s.transaction(async (tx) => {
      await tx.importParameters.insert(params(A, 'k1', 'old', 1000));
      await tx.importParameters.insert(params(B, 'k1', 'edge', 2000));
      await tx.importParameters.insert(params(A, 'k1', 'new', 2001));
    });
    assert.equal(await s.transaction((tx) => tx.importParameters.deleteExpired(2000)), 2);
    assert.equal(await s.read((r) => r.importParameters.get(A, 'k1', 'old')), undefined);
    assert.equal(await s.read((r) => r.importParameters.get(B, 'k1', 'edge')), undefined);
    assert.ok(await s.read((r) => r.importParameters.get(A, 'k1', 'new')));
  });

  withStore('a rolled-back transaction leaves no row', async (s) => {
    await assert.rejects(s.transaction(async (tx) => {
      await tx.importParameters.insert(params(A, 'k1', 't1', 5000));
      throw new Error('abort');
    }));
    assert.equal(await s.read((r) => r.importParameters.get(A, 'k1', 't1')), undefined);
  });
}
