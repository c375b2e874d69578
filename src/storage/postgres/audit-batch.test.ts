/**
 * The PostgreSQL audit group commit in one statement (AuditRepo.appendBatch, migration 10) and the chain
 * lock it shares with lockHead(): written whole only onto the head its events were chained onto, nothing
 * written otherwise, and one lock per schema; and the group commit's writer (HeadCheckedWriter), which
 * chains a refused batch again onto the head the store names and resends it as one statement.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { chainOnto } from '../../audit/chain-rows.ts';
import { HeadCheckedWriter } from '../../audit/head-checked-writer.ts';
import { verifyChain } from '../../audit/chain.ts';
import { buildEvent, type BuiltEvent } from '../../audit/event.ts';
import type { AuditBatch, AuditRepo } from '../audit-repo.ts';
import { PostgresStorage, parsePostgresUrl } from './postgres-storage.ts';
import { dropTestSchemas, freshSchemaUrl, holdChainLock, onPostgres, untilWaitingForChainLock } from './test-database.ts';

let n = 0;
function event(): BuiltEvent {
  const i = n++;
  return buildEvent({
    requestId: `req-${i}`, eventId: `ev-${i}-${Math.random().toString(36).slice(2)}`, eventTime: 1_000_000 + i,
    eventSource: 'kms.amazonaws.com', eventName: 'Encrypt', readOnly: true,
    defaultAccountId: '111122223333', defaultRegion: 'us-east-1', input: { KeyId: 'k1' },
  });
}
const events = (count: number) => Array.from({ length: count }, event);

async function migrated(url: string): Promise<PostgresStorage> {
  const store = new PostgresStorage(url);
  await store.migrate();
  return store;
}

/** Through read(): the statement commits by itself. */
const appendBatch = (store: PostgresStorage, batch: AuditBatch) => store.read((r) => (r.audit as Required<AuditRepo>).appendBatch(batch));
const intent = (intentId: string) => ({ intentId, createdAt: 1, record: '{}' });
const intentIds = async (store: PostgresStorage) => (await store.read((r) => r.audit.listIntents(Number.MAX_SAFE_INTEGER, 100))).map((i) => i.intentId);
const allRows = (store: PostgresStorage) => store.read((r) => r.audit.scan(0, 10_000));

onPostgres('PostgreSQL audit batches', (base) => {
  after(dropTestSchemas);

  test('postgres: appendBatch writes intents, events and cleared intents in one statement only onto the head its events were chained onto; otherwise nothing, and it names the head', async () => {
    const store = await migrated(await freshSchemaUrl(base));
    try {
      // Intents alone: no chain, no head to check.
      assert.deepEqual(await appendBatch(store, { intents: [intent('i1')], events: [], clearIntents: [] }), { written: true });
      const first = chainOnto({ seq: 0, hash: '' }, events(3));
      assert.deepEqual(await appendBatch(store, { intents: [intent('i2')], events: first, clearIntents: ['i1'] }), { written: true });
      assert.deepEqual(await allRows(store), first);
      assert.deepEqual(await intentIds(store), ['i2']);

      // Chained onto a head that is no longer the head (as another node would have): nothing is written.
      const head = { seq: 3, hash: first[2]!.hash };
      for (const stale of [{ seq: 0, hash: '' }, { seq: 2, hash: first[1]!.hash }, { seq: 3, hash: first[1]!.hash }, { seq: 4, hash: first[2]!.hash }]) {
        const outcome = await appendBatch(store, { intents: [intent('i3')], events: chainOnto(stale, events(2)), clearIntents: ['i2'] });
        assert.deepEqual(outcome, { written: false, head }, JSON.stringify(stale));
      }
      assert.deepEqual(await allRows(store), first);
      assert.deepEqual(await intentIds(store), ['i2']);

      // Every event pruned: the head is the last digest's, as lockHead's callers take it (chain-rows.ts).
      await store.transaction((tx) => tx.audit.insertDigest({ digestSeq: 1, createdAt: 1, lastEventSeq: 3, lastHash: head.hash, record: '{}', signature: 's' }));
      await store.transaction((tx) => tx.audit.pruneThrough(3));
      assert.deepEqual(await appendBatch(store, { intents: [], events: chainOnto({ seq: 0, hash: '' }, events(1)), clearIntents: [] }), { written: false, head });
      const next = chainOnto(head, events(2));
      assert.deepEqual(await appendBatch(store, { intents: [], events: next, clearIntents: ['i2'] }), { written: true });
      assert.deepEqual(await allRows(store), next);
      assert.deepEqual(await intentIds(store), []);
    } finally {
      await store.close();
    }
  });

  test('postgres: a batch whose statement fails part way writes nothing: no intent, no event, no cleared intent gone', async () => {
    const store = await migrated(await freshSchemaUrl(base));
    try {
      const first = chainOnto({ seq: 0, hash: '' }, events(2));
      await appendBatch(store, { intents: [intent('kept')], events: first, clearIntents: [] });
      // The third event repeats an event id already stored: the INSERT fails after the intents went in.
      const [a, b] = events(2);
      const failing = chainOnto({ seq: 2, hash: first[1]!.hash }, [a!, b!, { ...a!, eventId: first[0]!.eventId }]);
      await assert.rejects(appendBatch(store, { intents: [intent('new')], events: failing, clearIntents: ['kept'] }), /duplicate key/);
      // Inside a transaction (the locked path), the same: the transaction fails whole.
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.audit.lockHead();
          await (tx.audit as Required<AuditRepo>).appendBatch({ intents: [intent('new')], events: failing, clearIntents: ['kept'] });
        }),
        /duplicate key/,
      );
      assert.deepEqual(await allRows(store), first);
      assert.deepEqual(await intentIds(store), ['kept']);
      const rows = await allRows(store);
      assert.equal(verifyChain(rows, [], undefined).ok, true);
    } finally {
      await store.close();
    }
  });

  test('postgres: the chain lock is one per schema: held by a transaction (lockHead), it holds up appendBatch of that schema until the commit, and no other schema\'s', async () => {
    const urlA = await freshSchemaUrl(base);
    const urlB = await freshSchemaUrl(base);
    const [holder, nodeA, nodeB] = [await migrated(urlA), await migrated(urlA), await migrated(urlB)];
    const admin = new Client({ connectionString: parsePostgresUrl(base).connectionString });
    admin.on('error', () => undefined);
    await admin.connect();
    try {
      const lock = await holdChainLock(holder);
      // Another schema's writer goes through while the lock is held (a hang here fails the test by timeout).
      assert.deepEqual(await appendBatch(nodeB, { intents: [], events: chainOnto({ seq: 0, hash: '' }, events(2)), clearIntents: [] }), { written: true });
      // This schema's writer waits on the lock: seen waiting in pg_locks, not guessed from time.
      let done = false;
      const waiting = appendBatch(nodeA, { intents: [], events: chainOnto({ seq: 0, hash: '' }, events(2)), clearIntents: [] }).finally(() => (done = true));
      await untilWaitingForChainLock(admin, parsePostgresUrl(urlA).schema!, () => done, 'appendBatch finished while the other transaction held the chain lock');
      assert.equal(done, false);
      await lock.release();
      assert.deepEqual(await waiting, { written: true });
      assert.equal(verifyChain(await allRows(nodeA), [], undefined).ok, true);
    } finally {
      await admin.end();
      await Promise.all([holder, nodeA, nodeB].map((s) => s.close()));
    }
  });

  test('postgres: a batch refused because another node moved the head is chained onto the head the store named and sent again as one statement: it lands once, chained, and the chain verifies', async () => {
    const url = await freshSchemaUrl(base);
    const [storeA, storeB] = [await migrated(url), await migrated(url)];
    // Counts what each node sends: one-statement batches (read) and locked ones (transaction).
    const counted = (store: PostgresStorage) => {
      const count = { statements: 0, locked: 0 };
      const storage = new Proxy(store, {
        get(target, prop) {
          if (prop === 'read') return (fn: never) => (count.statements++, target.read(fn));
          if (prop === 'transaction') return (fn: never) => (count.locked++, target.transaction(fn));
          const v = Reflect.get(target, prop, target) as unknown;
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      return { count, writer: new HeadCheckedWriter(storage) };
    };
    const a = counted(storeA);
    const b = counted(storeB);
    try {
      // Each node's first batch knows no head: under the lock. Then each expects the end of its own.
      await a.writer.write([intent('a1')], events(2), []);
      await b.writer.write([], events(3), []);
      assert.deepEqual([a.count, b.count], [{ statements: 0, locked: 1 }, { statements: 0, locked: 1 }]);
      // A's head is stale (B wrote after it): refused once, then resent onto B's end, no lock.
      const aEvents = events(4);
      await a.writer.write([intent('a2')], aEvents, ['a1']);
      assert.deepEqual(a.count, { statements: 2, locked: 1 });
      // And B's turn to be refused; the intent A left is cleared by B's batch as any node's may.
      await b.writer.write([], events(1), ['a2']);
      assert.deepEqual(b.count, { statements: 2, locked: 1 });
      // A expects the end of its own batch, which B's moved on: refused once more, then, alone, one statement a batch.
      await a.writer.write([], events(2), []);
      assert.deepEqual(a.count, { statements: 4, locked: 1 });
      await a.writer.write([], events(1), []);
      assert.deepEqual(a.count, { statements: 5, locked: 1 });

      const rows = await allRows(storeA);
      assert.equal(rows.length, 2 + 3 + 4 + 1 + 2 + 1);
      assert.deepEqual(rows.map((r) => r.seq), rows.map((_, i) => i + 1));
      // Each of A's resent events once, in order, after B's first batch.
      assert.deepEqual(rows.slice(5, 9).map((r) => r.eventId), aEvents.map((e) => e.eventId));
      assert.equal(new Set(rows.map((r) => r.eventId)).size, rows.length);
      assert.equal(verifyChain(rows, [], undefined).ok, true);
      assert.deepEqual(await intentIds(storeA), []);
    } finally {
      await Promise.all([storeA, storeB].map((s) => s.close()));
    }
  });
});
