/**
 * The node-heartbeat part of the storage contract (storage/node-repo.ts). Each adapter's test file calls
 * runNodeContract with a factory that returns a fresh, migrated, empty store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Storage } from '../storage.ts';

export function runNodeContract(adapter: string, open: () => Promise<Storage>): void {
  const withStore = (name: string, body: (s: Storage) => Promise<void>) =>
    test(`${adapter} node-heartbeat contract: ${name}`, async () => {
      const store = await open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });

  withStore('a node counts as live from its last beat; a beat moves its row forward, never back', async (s) => {
    assert.equal(await s.read((r) => r.nodes.countLive(0)), 0);
    await s.transaction(async (tx) => {
      await tx.nodes.beat('node-a', 1000);
      await tx.nodes.beat('node-b', 5000);
    });
    assert.equal(await s.read((r) => r.nodes.countLive(1000)), 2);
    assert.equal(await s.read((r) => r.nodes.countLive(1001)), 1, 'node-a was last seen before the window');
    assert.deepEqual(await s.read((r) => r.nodes.listLive(1000)), [{ nodeId: 'node-a', seenAt: 1000 }, { nodeId: 'node-b', seenAt: 5000 }]);
    assert.deepEqual(await s.read((r) => r.nodes.listLive(1001)), [{ nodeId: 'node-b', seenAt: 5000 }]);
    await s.transaction((tx) => tx.nodes.beat('node-a', 6000));
    assert.equal(await s.read((r) => r.nodes.countLive(5500)), 1, 'one row per node: node-a moved forward');
    assert.equal(await s.read((r) => r.nodes.countLive(5000)), 2);
    await s.transaction((tx) => tx.nodes.beat('node-a', 2000));
    assert.equal(await s.read((r) => r.nodes.countLive(5500)), 1, 'a late, older beat does not move node-a back');
  });

  withStore('remove drops one node; deleteStale drops only rows seen before the bound', async (s) => {
    await s.transaction(async (tx) => {
      await tx.nodes.beat('old', 1000);
      await tx.nodes.beat('edge', 2000);
      await tx.nodes.beat('new', 3000);
    });
    assert.equal(await s.transaction((tx) => tx.nodes.deleteStale(2000)), 1);
    assert.equal(await s.read((r) => r.nodes.countLive(0)), 2);
    await s.transaction((tx) => tx.nodes.remove('new'));
    assert.equal(await s.read((r) => r.nodes.countLive(0)), 1);
    await s.transaction((tx) => tx.nodes.remove('absent'));
    assert.equal(await s.read((r) => r.nodes.countLive(2000)), 1);
  });
}
