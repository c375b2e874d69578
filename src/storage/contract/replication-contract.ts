/**
 * The replication part of the storage contract (storage/replication-repo.ts). Each adapter's test file calls
 * runReplicationContract with a factory that returns a fresh, migrated, empty store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicationLinkRecord } from '../replication-repo.ts';
import { DuplicateError, type Storage } from '../storage.ts';

const link = (linkId: string, name: string): ReplicationLinkRecord => ({
  linkId, name, endpoint: 'https://peer.example:4599', caPem: '-----BEGIN CERTIFICATE-----\n…', regions: ['eu-central-1'],
  sealedSecret: Buffer.from([1, 2, 3]), sealedPeerHeaderKey: null, createdAt: 1000, lastSeq: 0, lastAppliedSeq: 0,
});

export function runReplicationContract(adapter: string, open: () => Promise<Storage>): void {
  const withStore = (name: string, body: (s: Storage) => Promise<void>) =>
    test(`${adapter} replication contract: ${name}`, async () => {
      const store = await open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });

  withStore('a link is stored as given; a second link with the same id or name is DuplicateError', async (s) => {
    await s.transaction((tx) => tx.replication.insertLink(link('l1', 'B')));
    assert.deepEqual(await s.read((r) => r.replication.getLink('l1')), link('l1', 'B'));
    await assert.rejects(s.transaction((tx) => tx.replication.insertLink(link('l1', 'C'))), DuplicateError);
    await assert.rejects(s.transaction((tx) => tx.replication.insertLink(link('l2', 'B'))), DuplicateError);
    await s.transaction((tx) => tx.replication.insertLink(link('l0', 'A')));
    assert.deepEqual((await s.read((r) => r.replication.listLinks())).map((l) => l.name), ['A', 'B']);
    assert.equal(await s.transaction((tx) => tx.replication.setPeerHeaderKey('l1', Buffer.from([9]))), true);
    assert.deepEqual((await s.read((r) => r.replication.getLink('l1')))!.sealedPeerHeaderKey, Buffer.from([9]));
    assert.equal(await s.transaction((tx) => tx.replication.setPeerHeaderKey('absent', Buffer.from([9]))), false);
  });

  withStore('appends get 1, 2, 3… per link, pending lists them in order until acknowledged, once', async (s) => {
    await s.transaction(async (tx) => {
      await tx.replication.insertLink(link('l1', 'B'));
      await tx.replication.insertLink(link('l2', 'C'));
    });
    const seqs = await s.transaction(async (tx) => [
      await tx.replication.append('l1', 10, { keyId: 'a' }),
      await tx.replication.append('l1', 11, { keyId: 'b' }),
      await tx.replication.append('l2', 12, { keyId: 'c' }),
    ]);
    assert.deepEqual(seqs, [1, 2, 1]);
    assert.equal(await s.transaction((tx) => tx.replication.append('l1', 13, { keyId: 'd' })), 3);
    assert.deepEqual((await s.read((r) => r.replication.pending('l1', 10))).map((o) => [o.seq, o.doc.keyId, o.deliveredAt]), [[1, 'a', null], [2, 'b', null], [3, 'd', null]]);
    assert.equal((await s.read((r) => r.replication.pending('l1', 2))).length, 2);
    assert.equal(await s.transaction((tx) => tx.replication.markDelivered('l1', 1, 50)), true);
    assert.equal(await s.transaction((tx) => tx.replication.markDelivered('l1', 1, 60)), false, 'acknowledged once');
    assert.deepEqual((await s.read((r) => r.replication.pending('l1', 10))).map((o) => o.seq), [2, 3]);
    assert.deepEqual(await s.read((r) => r.replication.counts('l1')), { pending: 2, delivered: 1 });
    assert.deepEqual(await s.read((r) => r.replication.counts('absent')), { pending: 0, delivered: 0 });
    assert.equal((await s.read((r) => r.replication.getLink('l1')))!.lastSeq, 3);
    await assert.rejects(s.transaction((tx) => tx.replication.append('absent', 1, {})));
  });

  withStore('an append rolled back with its transaction leaves no record and no gap', async (s) => {
    await s.transaction((tx) => tx.replication.insertLink(link('l1', 'B')));
    await assert.rejects(s.transaction(async (tx) => {
      await tx.replication.append('l1', 10, { keyId: 'a' });
      throw new Error('the key change failed');
    }));
    assert.deepEqual(await s.read((r) => r.replication.pending('l1', 10)), []);
    assert.equal(await s.transaction((tx) => tx.replication.append('l1', 11, { keyId: 'b' })), 1);
  });

  withStore('a link secret is replaced in place, keeping the outbox; deleting a link removes its records and no other link\'s', async (s) => {
    await s.transaction(async (tx) => {
      await tx.replication.insertLink(link('l1', 'B'));
      await tx.replication.insertLink(link('l2', 'C'));
      await tx.replication.append('l1', 10, { keyId: 'a' });
      await tx.replication.append('l2', 11, { keyId: 'b' });
    });
    assert.equal(await s.transaction((tx) => tx.replication.setLinkSecret('l1', Buffer.from([7, 7]))), true);
    const l1 = (await s.read((r) => r.replication.getLink('l1')))!;
    assert.deepEqual([l1.sealedSecret, l1.lastSeq], [Buffer.from([7, 7]), 1]);
    assert.deepEqual((await s.read((r) => r.replication.pending('l1', 10))).map((o) => o.doc.keyId), ['a']);
    assert.equal(await s.transaction((tx) => tx.replication.setLinkSecret('absent', Buffer.from([7]))), false);
    assert.equal(await s.transaction((tx) => tx.replication.deleteLink('l1')), 1, 'one pending record dropped');
    assert.equal(await s.read((r) => r.replication.getLink('l1')), undefined);
    assert.deepEqual(await s.read((r) => r.replication.counts('l1')), { pending: 0, delivered: 0 });
    assert.deepEqual((await s.read((r) => r.replication.pending('l2', 10))).map((o) => o.doc.keyId), ['b']);
    assert.equal(await s.transaction((tx) => tx.replication.deleteLink('l1')), undefined);
    // Linked again under the same id (a new link): its numbering starts over, with no old record in it.
    await s.transaction((tx) => tx.replication.insertLink(link('l1', 'B')));
    assert.equal(await s.transaction((tx) => tx.replication.append('l1', 12, { keyId: 'c' })), 1);
  });

  withStore('the applied sequence moves only by compare-and-set', async (s) => {
    await s.transaction((tx) => tx.replication.insertLink(link('l1', 'B')));
    assert.equal(await s.transaction((tx) => tx.replication.advanceApplied('l1', 0, 1)), true);
    assert.equal(await s.transaction((tx) => tx.replication.advanceApplied('l1', 0, 2)), false, 'a stale expected value');
    assert.equal(await s.transaction((tx) => tx.replication.advanceApplied('l1', 1, 3)), true);
    assert.equal((await s.read((r) => r.replication.getLink('l1')))!.lastAppliedSeq, 3);
    assert.equal(await s.transaction((tx) => tx.replication.advanceApplied('absent', 0, 1)), false);
  });
}
