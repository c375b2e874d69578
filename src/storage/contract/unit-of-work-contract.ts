/**
 * The unit-of-work contract (storage.ts unitOfWork, unit-of-work.ts) every adapter must pass: the body's
 * transactions and the finish commit together or not at all; a failing inner transaction undoes only
 * its own writes; the unit reads its own writes and nobody else does before the commit; work outside
 * the unit keeps going meanwhile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyRecord, Storage } from '../storage.ts';
import { outsideUnitOfWork } from '../unit-of-work.ts';

const A = { accountId: '111122223333', region: 'us-east-1' };

function key(keyId: string): KeyRecord {
  return { ...A, keyId, createdAt: 1000, state: 'Enabled', dueAt: null, revision: 1, doc: { d: keyId } };
}

class Boom extends Error {}

export function runUnitOfWorkContract(adapter: string, open: () => Promise<Storage>): void {
  const withStore = (name: string, body: (s: Storage) => Promise<void>) =>
    test(`${adapter} unit of work: ${name}`, async () => {
      const store = await open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });

  withStore('the body\'s transactions and the finish commit together', async (s) => {
    const result = await s.unitOfWork(
      async () => {
        await s.transaction((tx) => tx.keys.insert(key('u1')));
        await s.transaction((tx) => tx.aliases.insert({ ...A, aliasName: 'alias/u1', targetKeyId: 'u1', createdAt: 1, updatedAt: 1 }));
        return 'done';
      },
      async (tx, r) => {
        assert.equal(r, 'done');
        await tx.meta.putIfAbsent('finished', 'yes');
      },
    );
    assert.equal(result, 'done');
    assert.ok(await s.read((r) => r.keys.get(A, 'u1')));
    assert.ok(await s.read((r) => r.aliases.get(A, 'alias/u1')));
    assert.equal(await s.read((r) => r.meta.get('finished')), 'yes');
  });

  withStore('a failing finish rolls back every write of the body', async (s) => {
    await assert.rejects(
      s.unitOfWork(
        async () => {
          await s.transaction((tx) => tx.keys.insert(key('gone')));
          await s.transaction((tx) => tx.meta.putIfAbsent('gone', 'x'));
        },
        async (tx) => {
          await tx.meta.putIfAbsent('finish', 'x');
          throw new Boom();
        },
      ),
      Boom,
    );
    assert.equal(await s.read((r) => r.keys.get(A, 'gone')), undefined);
    assert.equal(await s.read((r) => r.meta.get('gone')), undefined);
    assert.equal(await s.read((r) => r.meta.get('finish')), undefined);
    // The store is usable afterwards.
    await s.transaction((tx) => tx.keys.insert(key('after')));
    assert.ok(await s.read((r) => r.keys.get(A, 'after')));
  });

  withStore('a failing body rolls back what it wrote', async (s) => {
    await assert.rejects(
      s.unitOfWork(async () => {
        await s.transaction((tx) => tx.keys.insert(key('body')));
        throw new Boom();
      }, async () => undefined),
      Boom,
    );
    assert.equal(await s.read((r) => r.keys.get(A, 'body')), undefined);
  });

  withStore('a failing inner transaction undoes only its own writes, even after a failed statement', async (s) => {
    await s.transaction((tx) => tx.keys.insert(key('taken')));
    await s.unitOfWork(
      async () => {
        await s.transaction((tx) => tx.keys.insert(key('kept')));
        // A duplicate insert (DuplicateError) and a thrown error: the savepoint goes, the unit stays usable.
        await assert.rejects(s.transaction(async (tx) => {
          await tx.meta.putIfAbsent('undone', 'x');
          await tx.keys.insert(key('taken'));
        }));
        await assert.rejects(s.transaction(async (tx) => {
          await tx.meta.putIfAbsent('undone too', 'x');
          throw new Boom();
        }), Boom);
        // Nested transactions are savepoints inside their parent.
        await s.transaction(async (tx) => {
          await tx.meta.putIfAbsent('outer', 'x');
          await s.transaction((inner) => inner.meta.putIfAbsent('inner', 'x'));
        });
      },
      async (tx) => {
        await tx.meta.putIfAbsent('finished', 'x');
      },
    );
    assert.ok(await s.read((r) => r.keys.get(A, 'kept')));
    assert.equal(await s.read((r) => r.meta.get('undone')), undefined);
    assert.equal(await s.read((r) => r.meta.get('undone too')), undefined);
    assert.equal(await s.read((r) => r.meta.get('outer')), 'x');
    assert.equal(await s.read((r) => r.meta.get('inner')), 'x');
    assert.equal(await s.read((r) => r.meta.get('finished')), 'x');
  });

  withStore('the unit reads its own writes; reads and transactions outside it see only what is committed', async (s) => {
    await s.transaction((tx) => tx.keys.insert(key('committed')));
    await s.unitOfWork(
      async () => {
        await s.transaction((tx) => tx.keys.insert(key('pending')));
        assert.ok(await s.read((r) => r.keys.get(A, 'pending')), 'the unit sees its own write');
        // Another request meanwhile: it neither sees the write nor waits for the unit to end.
        const outside = await outsideUnitOfWork(() => s.read(async (r) => [await r.keys.get(A, 'pending'), await r.keys.get(A, 'committed')]));
        assert.equal(outside[0], undefined);
        assert.ok(outside[1]);
      },
      async () => undefined,
    );
    assert.ok(await s.read((r) => r.keys.get(A, 'pending')));
  });

  withStore('a transaction outside a unit waits for it or runs beside it, and both commit', async (s) => {
    let outside: Promise<void> | undefined;
    await s.unitOfWork(
      async () => {
        await s.transaction((tx) => tx.keys.insert(key('in-unit')));
        outside = outsideUnitOfWork(() => s.transaction((tx) => tx.keys.insert(key('beside'))));
      },
      async () => undefined,
    );
    await outside;
    assert.ok(await s.read((r) => r.keys.get(A, 'in-unit')));
    assert.ok(await s.read((r) => r.keys.get(A, 'beside')));
  });

  withStore('a unit that writes nothing runs its finish in a transaction of its own', async (s) => {
    await s.unitOfWork(
      async () => s.read((r) => r.keys.count(A)),
      async (tx, n) => {
        await tx.meta.putIfAbsent('count', String(n));
      },
    );
    assert.equal(await s.read((r) => r.meta.get('count')), '0');
  });

  withStore('work a unit starts and does not await runs on its own after the unit ended', async (s) => {
    let later: Promise<void> | undefined;
    await s.unitOfWork(
      async () => {
        await s.transaction((tx) => tx.keys.insert(key('unit')));
        later = new Promise<void>((resolve) => setTimeout(resolve, 20)).then(() => s.transaction((tx) => tx.keys.insert(key('later'))));
      },
      async () => undefined,
    );
    await later;
    assert.ok(await s.read((r) => r.keys.get(A, 'later')));
  });
}
