/**
 * The Secrets Manager part of the storage contract (storage/secret-repo.ts). Each adapter's test file
 * calls runSecretContract with a factory that returns a fresh, migrated, empty store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SecretRecord } from '../secret-repo.ts';
import { DuplicateError, type Storage } from '../storage.ts';

const A = { accountId: '111122223333', region: 'us-east-1' };
const B = { accountId: '111122223333', region: 'eu-west-1' };

function secret(scope: typeof A, name: string, extra: Partial<SecretRecord> = {}): SecretRecord {
  return {
    ...scope, name, arn: `arn:aws:secretsmanager:${scope.region}:${scope.accountId}:secret:${name}-AbCdEf`,
    createdAt: 1000, dueAt: null, revision: 1, doc: { labels: {} }, ...extra,
  };
}

export function runSecretContract(adapter: string, open: () => Promise<Storage>): void {
  const withStore = (name: string, body: (s: Storage) => Promise<void>) =>
    test(`${adapter} secret contract: ${name}`, async () => {
      const store = await open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });

  withStore('secrets are scoped by account and region; a name is unique in its scope', async (s) => {
    await s.transaction(async (tx) => {
      await tx.secrets.insert(secret(A, 'db/password'));
      await tx.secrets.insert(secret(B, 'db/password', { doc: { other: true } }));
    });
    assert.equal((await s.read((r) => r.secrets.get(A, 'db/password')))?.arn, secret(A, 'db/password').arn);
    assert.deepEqual((await s.read((r) => r.secrets.get(B, 'db/password')))?.doc, { other: true });
    await assert.rejects(s.transaction((tx) => tx.secrets.insert(secret(A, 'db/password', { arn: 'x' }))), DuplicateError);
    assert.deepEqual((await s.read((r) => r.secrets.listAll(A))).map((x) => x.name), ['db/password']);
  });

  withStore('update is compare-and-set on revision: a stale writer loses', async (s) => {
    await s.transaction((tx) => tx.secrets.insert(secret(A, 'cas')));
    const row = (await s.read((r) => r.secrets.get(A, 'cas')))!;
    assert.equal(await s.transaction((tx) => tx.secrets.update({ ...row, doc: { v: 1 }, dueAt: 5 }, 1)), true);
    assert.equal(await s.transaction((tx) => tx.secrets.update({ ...row, doc: { v: 2 } }, 1)), false);
    const after = (await s.read((r) => r.secrets.get(A, 'cas')))!;
    assert.deepEqual([after.revision, after.doc, after.dueAt], [2, { v: 1 }, 5]);
  });

  withStore('versions: insert once, get, delete some; deleting the secret deletes its versions', async (s) => {
    const sec = secret(A, 'v');
    const version = (id: string) => ({
      secretArn: sec.arn, versionId: id, createdAt: 7, encryptedDataKey: Buffer.from([1, 2]), sealedValue: Buffer.from([0, 255, 3]), doc: { k: id },
    });
    await s.transaction(async (tx) => {
      await tx.secrets.insert(sec);
      await tx.secretVersions.insert(version('a'));
      await tx.secretVersions.insert(version('b'));
    });
    await assert.rejects(s.transaction((tx) => tx.secretVersions.insert(version('a'))), DuplicateError);
    const got = await s.read((r) => r.secretVersions.get(sec.arn, 'a'));
    assert.deepEqual(got && [Buffer.from(got.sealedValue), Buffer.from(got.encryptedDataKey), got.doc, got.createdAt], [
      Buffer.from([0, 255, 3]), Buffer.from([1, 2]), { k: 'a' }, 7,
    ]);
    await s.transaction((tx) => tx.secretVersions.delete(sec.arn, ['a']));
    assert.equal(await s.read((r) => r.secretVersions.get(sec.arn, 'a')), undefined);
    await s.transaction((tx) => tx.secrets.delete(A, 'v'));
    assert.equal(await s.read((r) => r.secrets.get(A, 'v')), undefined);
    assert.equal(await s.read((r) => r.secretVersions.get(sec.arn, 'b')), undefined);
  });

  withStore('listDue returns secrets of any scope due by now, earliest first', async (s) => {
    await s.transaction(async (tx) => {
      await tx.secrets.insert(secret(A, 'late', { dueAt: 300 }));
      await tx.secrets.insert(secret(B, 'early', { dueAt: 100 }));
      await tx.secrets.insert(secret(A, 'never'));
      await tx.secrets.insert(secret(A, 'future', { dueAt: 10_000 }));
    });
    assert.deepEqual((await s.read((r) => r.secrets.listDue(500, 10))).map((x) => x.name), ['early', 'late']);
  });

  // Secrets Manager replication (docs/secrets.md) writes a primary and its replica, in two regions, in one
  // transaction: a failed compare-and-set on either must leave neither changed.
  withStore('one transaction spans scopes: a replica and its primary commit together or not at all', async (s) => {
    const primary = secret(A, 'replicated');
    await s.transaction((tx) => tx.secrets.insert(primary));
    const replica = secret(B, 'replicated', { arn: primary.arn.replace(A.region, B.region), doc: { primaryRegion: A.region } });
    const version = { secretArn: replica.arn, versionId: 'v1', createdAt: 7, encryptedDataKey: Buffer.from([1]), sealedValue: Buffer.from([2]), doc: {} };
    await assert.rejects(s.transaction(async (tx) => {
      await tx.secrets.insert(replica);
      await tx.secretVersions.insert(version);
      if (!(await tx.secrets.update({ ...primary, doc: { replicas: [B.region] } }, 99))) throw new Error('lost the race');
    }), /lost the race/);
    assert.equal(await s.read((r) => r.secrets.get(B, 'replicated')), undefined);
    assert.equal(await s.read((r) => r.secretVersions.get(replica.arn, 'v1')), undefined);
    assert.deepEqual((await s.read((r) => r.secrets.get(A, 'replicated')))?.doc, primary.doc);

    await s.transaction(async (tx) => {
      await tx.secrets.insert(replica);
      await tx.secretVersions.insert(version);
      assert.equal(await tx.secrets.update({ ...primary, doc: { replicas: [B.region] } }, 1), true);
    });
    assert.deepEqual((await s.read((r) => r.secrets.get(B, 'replicated')))?.doc, { primaryRegion: A.region });
    assert.deepEqual((await s.read((r) => r.secrets.get(A, 'replicated')))?.doc, { replicas: [B.region] });
    assert.ok(await s.read((r) => r.secretVersions.get(replica.arn, 'v1')));
  });
}
