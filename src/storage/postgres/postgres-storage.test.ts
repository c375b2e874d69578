import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { runSecretContract } from '../contract/secret-contract.ts';
import { runParameterContract } from '../contract/parameter-contract.ts';
import { runAuditContract } from '../../audit/storage-contract.ts';
import { runCustomKeyStoreContract } from '../contract/custom-key-store-contract.ts';
import { runIamContract } from '../contract/iam-contract.ts';
import { runImportContract } from '../contract/import-contract.ts';
import { runNodeContract } from '../contract/node-contract.ts';
import { runReplicationContract } from '../contract/replication-contract.ts';
import { runStorageContract } from '../contract/storage-contract.ts';
import { runUnitOfWorkContract } from '../contract/unit-of-work-contract.ts';
import { SqliteStorage } from '../sqlite/sqlite-storage.ts';
import { DuplicateError, StorageUnavailableError, type KeyRecord, type Storage } from '../storage.ts';
import { POSTGRES_MIGRATIONS } from './migrations.ts';
import { PostgresStorage, parsePostgresUrl } from './postgres-storage.ts';
import { dropTestSchemas, freshSchemaUrl, onPostgres } from './test-database.ts';

const A = { accountId: '111122223333', region: 'us-east-1' };

function key(keyId: string, extra: Partial<KeyRecord> = {}): KeyRecord {
  return { ...A, keyId, createdAt: 1000, state: 'Enabled', dueAt: null, revision: 1, doc: { d: keyId }, ...extra };
}

async function migrated(url: string): Promise<PostgresStorage> {
  const store = new PostgresStorage(url);
  await store.migrate();
  return store;
}

async function withStores(stores: Storage[], body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

async function admin<T>(url: string, body: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: parsePostgresUrl(url).connectionString });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await body(c);
  } finally {
    await c.end();
  }
}

// Needs no server: nothing listens on port 1.
test('postgres: an unreachable server is StorageUnavailableError (retryable), not a crash', async () => {
  const store = new PostgresStorage('postgres://postgres@127.0.0.1:1/test?schema=nowhere');
  try {
    await assert.rejects(store.read((r) => r.keys.get(A, 'k')), StorageUnavailableError);
    await assert.rejects(store.transaction((tx) => tx.keys.insert(key('k'))), StorageUnavailableError);
    await assert.rejects(store.migrate(), StorageUnavailableError);
  } finally {
    await store.close();
  }
});

test('postgres: ?schema= is taken off the URL, other parameters stay, bad names are refused', () => {
  const p = parsePostgresUrl('postgres://u:p%40ss@db.example:6543/trent?sslmode=require&schema=trent_prod&application_name=x');
  assert.equal(p.schema, 'trent_prod');
  const rest = new URL(p.connectionString);
  assert.equal(rest.searchParams.get('schema'), null);
  assert.equal(rest.searchParams.get('sslmode'), 'require');
  assert.equal(rest.searchParams.get('application_name'), 'x');
  assert.equal(rest.password, 'p%40ss');
  assert.deepEqual(parsePostgresUrl('postgres://h/db'), { connectionString: 'postgres://h/db', schema: undefined });
  for (const bad of ['a-b', '1abc', '', 'x;drop', 'a'.repeat(64)]) {
    assert.throws(() => parsePostgresUrl(`postgres://h/db?schema=${encodeURIComponent(bad)}`), /schema must be/);
  }
  assert.throws(() => parsePostgresUrl('postgres://h/db?schema=a&schema=b'), /schema must be/);
  assert.throws(() => parsePostgresUrl('not a url with secret'), (e: Error) => !e.message.includes('secret'));
});

onPostgres('PostgreSQL contract suite', (base) => {
  after(dropTestSchemas);

  runStorageContract('postgres', async () => migrated(await freshSchemaUrl(base)));
  runUnitOfWorkContract('postgres', async () => migrated(await freshSchemaUrl(base)));
  runSecretContract('postgres', async () => migrated(await freshSchemaUrl(base)));
  runParameterContract('postgres', async () => migrated(await freshSchemaUrl(base)));
  runIamContract('postgres', async () => migrated(await freshSchemaUrl(base)));
  runCustomKeyStoreContract('postgres', async () => migrated(await freshSchemaUrl(base)));
  runImportContract('postgres', async () => migrated(await freshSchemaUrl(base)));
  runNodeContract('postgres', async () => migrated(await freshSchemaUrl(base)));
  runReplicationContract('postgres', async () => migrated(await freshSchemaUrl(base)));
  runAuditContract('postgres', async () => {
    const url = await freshSchemaUrl(base);
    return {
      store: await migrated(url),
      peer: () => migrated(url),
      // A node that stopped: its session, and with it its writer lock, is gone.
      goneWriter: async () => {
        const other = await migrated(url);
        const id = await other.writerId();
        await other.close();
        return id;
      },
    };
  });

  test('postgres: two nodes racing compare-and-set updates: exactly one wins each round', async () => {
    const url = await freshSchemaUrl(base);
    const nodes = [await migrated(url), await migrated(url)];
    await withStores(nodes, async () => {
      await nodes[0]!.transaction((tx) => tx.keys.insert(key('race')));
      for (let round = 0; round < 5; round++) {
        const k = (await nodes[1]!.read((r) => r.keys.get(A, 'race')))!;
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            nodes[i % 2]!.transaction((tx) => tx.keys.update({ ...k, doc: { round, writer: i } }, k.revision)),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${JSON.stringify(results)}`);
        const after = (await nodes[0]!.read((r) => r.keys.get(A, 'race')))!;
        assert.equal(after.revision, k.revision + 1);
        assert.deepEqual(after.doc, { round, writer: results.indexOf(true) });
      }
    });
  });

  test('postgres: two nodes racing to create one alias: one insert wins, the others get DuplicateError', async () => {
    const url = await freshSchemaUrl(base);
    const nodes = [await migrated(url), await migrated(url)];
    await withStores(nodes, async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          nodes[i % 2]!.transaction((tx) =>
            tx.aliases.insert({ ...A, aliasName: 'alias/raced', targetKeyId: `k${i}`, createdAt: i, updatedAt: i }),
          ),
        ),
      );
      const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
      assert.equal(winners.length, 1);
      for (const o of outcomes) if (o.status === 'rejected') assert.ok(o.reason instanceof DuplicateError, String(o.reason));
      const stored = await nodes[1]!.read((r) => r.aliases.get(A, 'alias/raced'));
      assert.equal(stored?.targetKeyId, `k${winners[0]}`);
    });
  });

  test('postgres: two nodes racing meta.putIfAbsent all get the first committed value', async () => {
    const url = await freshSchemaUrl(base);
    const nodes = [await migrated(url), await migrated(url)];
    await withStores(nodes, async () => {
      const got = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          i % 3 === 0
            ? nodes[i % 2]!.read((r) => r.meta.putIfAbsent('root-check', `v${i}`))
            : nodes[i % 2]!.transaction((tx) => tx.meta.putIfAbsent('root-check', `v${i}`)),
        ),
      );
      const stored = await nodes[0]!.read((r) => r.meta.get('root-check'));
      assert.ok(stored !== undefined);
      assert.deepEqual(got, got.map(() => stored));
    });
  });

  test('postgres: migrate() from three nodes at once on a missing schema applies each migration once', async () => {
    const url = await freshSchemaUrl(base, { create: false });
    const nodes = [new PostgresStorage(url), new PostgresStorage(url), new PostgresStorage(url)];
    await withStores(nodes, async () => {
      await Promise.all(nodes.map((n) => n.migrate()));
      const schema = parsePostgresUrl(url).schema!;
      const versions = await admin(url, async (c) =>
        (await c.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`)).rows.map((r) => Number(r.version)),
      );
      assert.deepEqual(versions, POSTGRES_MIGRATIONS.map((_, i) => i + 1));
      await nodes[2]!.transaction((tx) => tx.keys.insert(key('after-migrate')));
      assert.equal((await nodes[0]!.read((r) => r.keys.get(A, 'after-migrate')))?.keyId, 'after-migrate');
      await Promise.all(nodes.map((n) => n.migrate()));
    });
  });

  test('postgres: key ids and alias names sort as bytes, the same order as SQLite', async () => {
    const ids = ['b', 'B', 'a', '_', 'Z', 'é', '1', 'aa', 'a-b', 'a/b', 'z', '~'];
    const url = await freshSchemaUrl(base);
    const pg = await migrated(url);
    // The test database's default collation may already sort bytewise; the columns must not depend on it.
    const collations = await admin(url, async (c) =>
      (
        await c.query(
          `SELECT table_name || '.' || column_name AS col, collation_name FROM information_schema.columns
           WHERE table_schema = $1 AND column_name IN ('account_id', 'region', 'key_id', 'alias_name', 'target_key_id', 'access_key_id', 'name')`,
          [parsePostgresUrl(url).schema],
        )
      ).rows.map((r) => `${r.col}:${r.collation_name}`),
    );
    // 13 columns of the foundation; later migrations (IAM, audit, secrets, parameters) add more.
    assert.ok(collations.length >= 13, `found ${collations.length} identifier columns`);
    assert.deepEqual(collations.filter((c) => !c.endsWith(':C')), []);
    const lite = new SqliteStorage(':memory:');
    await lite.migrate();
    await withStores([pg, lite], async () => {
      const orders: string[][] = [];
      for (const s of [pg, lite]) {
        await s.transaction(async (tx) => {
          for (const id of ids) {
            await tx.keys.insert(key(id));
            await tx.aliases.insert({ ...A, aliasName: `alias/${id}`, targetKeyId: id, createdAt: 1, updatedAt: 1 });
          }
        });
        const keyOrder: string[] = [];
        let after: string | undefined;
        do {
          const p = await s.read((r) => r.keys.list(A, after, 5));
          keyOrder.push(...p.items.map((k) => k.keyId));
          after = p.next;
        } while (after !== undefined);
        const aliasOrder = (await s.read((r) => r.aliases.list(A, undefined, undefined, 100))).items.map((a) => a.aliasName);
        orders.push(keyOrder, aliasOrder);
      }
      const bytewise = [...ids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      assert.deepEqual(orders[0], bytewise);
      assert.deepEqual(orders[1], bytewise.map((id) => `alias/${id}`));
      assert.deepEqual(orders[0], orders[2]);
      assert.deepEqual(orders[1], orders[3]);
    });
  });

  test('postgres: a caught DuplicateError leaves the transaction usable, as on SQLite', async () => {
    const store = await migrated(await freshSchemaUrl(base));
    await withStores([store], async () => {
      await store.transaction((tx) => tx.keys.insert(key('first')));
      await store.transaction(async (tx) => {
        await assert.rejects(tx.keys.insert(key('first')), DuplicateError);
        await tx.keys.insert(key('second'));
      });
      assert.equal(await store.read((r) => r.keys.count(A)), 2);
    });
  });

  test('postgres: a transaction whose failed statement was swallowed is rolled back, not reported committed', async () => {
    const store = await migrated(await freshSchemaUrl(base));
    await withStores([store], async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.keys.insert(key('kept?'));
          // PostgreSQL text cannot hold NUL: the statement fails and aborts the transaction.
          await tx.keys.insert(key('nul\u0000id')).catch(() => undefined);
        }),
      );
      assert.equal(await store.read((r) => r.keys.get(A, 'kept?')), undefined);
    });
  });

  test('postgres: connections the server ends give StorageUnavailableError, never crash, and the next call reconnects', async () => {
    const appName = `trent_kill_${process.pid}`;
    const url = `${await freshSchemaUrl(base)}&application_name=${appName}`;
    const idleErrors: Error[] = [];
    const store = new PostgresStorage(url, { onIdleError: (e) => idleErrors.push(e) });
    await store.migrate();
    const killAll = () =>
      admin(url, (c) =>
        c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [
          appName,
        ]),
      );
    await withStores([store], async () => {
      await store.transaction((tx) => tx.keys.insert(key('k')));
      // Idle pooled connections: the pool drops them and reports to onIdleError.
      await killAll();
      for (let i = 0; i < 50 && idleErrors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(idleErrors.length > 0, 'the pool reported the idle connection error');
      assert.equal((await store.read((r) => r.keys.get(A, 'k')))?.keyId, 'k');
      // A connection checked out by a transaction, killed between two statements.
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.keys.get(A, 'k');
          await killAll();
          await new Promise((r) => setTimeout(r, 50));
          await tx.keys.insert(key('lost'));
        }),
        StorageUnavailableError,
      );
      assert.equal(await store.read((r) => r.keys.get(A, 'lost')), undefined);
      await store.transaction((tx) => tx.keys.insert(key('after')));
      assert.equal(await store.read((r) => r.keys.count(A)), 2);
    });
  });
});
