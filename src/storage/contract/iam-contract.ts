/**
 * Contract of the IAM repositories (principals, grants; storage/iam-repos.ts). Each adapter's test file
 * calls runIamContract with a factory returning a fresh, migrated, empty store.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GrantRecord, PrincipalRecord } from '../iam-repos.ts';
import { DuplicateError, type Storage } from '../storage.ts';

const A = { accountId: '111122223333', region: 'us-east-1' };
const B = { accountId: '111122223333', region: 'eu-west-1' };

function principal(name: string, extra: Partial<PrincipalRecord> = {}): PrincipalRecord {
  return {
    arn: `arn:aws:iam::${A.accountId}:user/${name}`, accountId: A.accountId, kind: 'user', name, createdAt: 1000, revision: 1,
    doc: { policies: { p: '{"Statement":[]}' }, tags: { team: 'a' } }, ...extra,
  };
}

function grant(grantId: string, extra: Partial<GrantRecord> = {}): GrantRecord {
  return {
    ...A, keyId: 'k1', grantId, granteePrincipal: 'arn:aws:iam::111122223333:user/bob', retiringPrincipal: null, name: null,
    createdAt: 2000, doc: { operations: ['Encrypt'] }, ...extra,
  };
}

export function runIamContract(adapter: string, open: () => Promise<Storage>): void {
  const withStore = (name: string, body: (s: Storage) => Promise<void>) =>
    test(`${adapter} IAM contract: ${name}`, async () => {
      const store = await open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });

  withStore('a principal round-trips with its doc; a second insert of its ARN is DuplicateError', async (s) => {
    const p = principal('alice');
    await s.transaction((tx) => tx.principals.insert(p));
    assert.deepEqual(await s.read((r) => r.principals.get(p.arn)), p);
    await assert.rejects(s.transaction((tx) => tx.principals.insert(p)), DuplicateError);
    assert.equal(await s.read((r) => r.principals.get(`${p.arn}x`)), undefined);
  });

  withStore('principals list by account in ARN order', async (s) => {
    await s.transaction(async (tx) => {
      await tx.principals.insert(principal('bob'));
      await tx.principals.insert(principal('alice'));
      await tx.principals.insert({ ...principal('carol'), arn: 'arn:aws:iam::444455556666:user/carol', accountId: '444455556666' });
    });
    assert.deepEqual((await s.read((r) => r.principals.list(A.accountId))).map((p) => p.name), ['alice', 'bob']);
  });

  withStore('principal update is compare-and-set on revision', async (s) => {
    const p = principal('alice');
    await s.transaction((tx) => tx.principals.insert(p));
    assert.equal(await s.transaction((tx) => tx.principals.update({ ...p, doc: { v: 2 } }, 1)), true);
    assert.equal(await s.transaction((tx) => tx.principals.update({ ...p, doc: { v: 3 } }, 1)), false);
    const got = await s.read((r) => r.principals.get(p.arn));
    assert.equal(got?.revision, 2);
    assert.deepEqual(got?.doc, { v: 2 });
  });

  withStore('grants round-trip, list per key in grant id order, and are scoped by region', async (s) => {
    await s.transaction(async (tx) => {
      await tx.grants.insert(grant('g2', { retiringPrincipal: 'arn:aws:iam::111122223333:user/bob', name: 'n' }));
      await tx.grants.insert(grant('g1'));
      await tx.grants.insert(grant('g3', { ...B }));
    });
    assert.deepEqual((await s.read((r) => r.grants.listForKey(A, 'k1'))).map((g) => g.grantId), ['g1', 'g2']);
    assert.deepEqual((await s.read((r) => r.grants.listForKey(B, 'k1'))).map((g) => g.grantId), ['g3']);
    assert.deepEqual(await s.read((r) => r.grants.get('g2')), grant('g2', { retiringPrincipal: 'arn:aws:iam::111122223333:user/bob', name: 'n' }));
    await assert.rejects(s.transaction((tx) => tx.grants.insert(grant('g1'))), DuplicateError);
  });

  withStore('grants list by retiring principal; delete reports whether a grant was there; deleteForKey removes a key\'s grants', async (s) => {
    const bob = 'arn:aws:iam::111122223333:user/bob';
    await s.transaction(async (tx) => {
      await tx.grants.insert(grant('g1', { retiringPrincipal: bob }));
      await tx.grants.insert(grant('g2', { keyId: 'k2', retiringPrincipal: bob }));
      await tx.grants.insert(grant('g3'));
    });
    assert.deepEqual((await s.read((r) => r.grants.listByRetiringPrincipal(bob))).map((g) => g.grantId), ['g1', 'g2']);
    assert.equal(await s.transaction((tx) => tx.grants.delete('g1')), true);
    assert.equal(await s.transaction((tx) => tx.grants.delete('g1')), false);
    await s.transaction((tx) => tx.grants.deleteForKey(A, 'k1'));
    assert.deepEqual((await s.read((r) => r.grants.listForKey(A, 'k1'))), []);
    assert.deepEqual((await s.read((r) => r.grants.listForKey(A, 'k2'))).map((g) => g.grantId), ['g2']);
  });

  withStore('a failed transaction leaves no principal or grant behind', async (s) => {
    await assert.rejects(s.transaction(async (tx) => {
      await tx.principals.insert(principal('alice'));
      await tx.grants.insert(grant('g1'));
      throw new Error('boom');
    }), /boom/);
    assert.equal(await s.read((r) => r.principals.get(principal('alice').arn)), undefined);
    assert.equal(await s.read((r) => r.grants.get('g1')), undefined);
  });
}
