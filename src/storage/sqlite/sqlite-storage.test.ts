import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { runAuditContract } from '../../audit/storage-contract.ts';
import { runCustomKeyStoreContract } from '../contract/custom-key-store-contract.ts';
import { runIamContract } from '../contract/iam-contract.ts';
import { runImportContract } from '../contract/import-contract.ts';
import { runNodeContract } from '../contract/node-contract.ts';
import { runReplicationContract } from '../contract/replication-contract.ts';
import { runParameterContract } from '../contract/parameter-contract.ts';
import { runSecretContract } from '../contract/secret-contract.ts';
import { runStorageContract } from '../contract/storage-contract.ts';
import { runUnitOfWorkContract } from '../contract/unit-of-work-contract.ts';
import { SqliteStorage } from './sqlite-storage.ts';

const dir = mkdtempSync(join(tmpdir(), 'trent-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runStorageContract('sqlite', async () => {
  const store = new SqliteStorage(join(dir, `store-${n++}.db`));
  await store.migrate();
  return store;
});

runUnitOfWorkContract('sqlite', async () => {
  const store = new SqliteStorage(join(dir, `store-${n++}.db`));
  await store.migrate();
  return store;
});

runSecretContract('sqlite', async () => {
  const store = new SqliteStorage(join(dir, `store-${n++}.db`));
  await store.migrate();
  return store;
});

runParameterContract('sqlite', async () => {
  const store = new SqliteStorage(join(dir, `store-${n++}.db`));
  await store.migrate();
  return store;
});

runCustomKeyStoreContract('sqlite', async () => {
  const store = new SqliteStorage(join(dir, `store-${n++}.db`));
  await store.migrate();
  return store;
});

runImportContract('sqlite', async () => {
  const store = new SqliteStorage(join(dir, `store-${n++}.db`));
  await store.migrate();
  return store;
});

runReplicationContract('sqlite', async () => {
  const store = new SqliteStorage(join(dir, `store-${n++}.db`));
  await store.migrate();
  return store;
});

runNodeContract('sqlite', async () => {
  const store = new SqliteStorage(join(dir, `store-${n++}.db`));
  await store.migrate();
  return store;
});

runIamContract('sqlite', async () => {
  const store = new SqliteStorage(join(dir, `store-${n++}.db`));
  await store.migrate();
  return store;
});

runAuditContract('sqlite', async () => {
  const path = join(dir, `store-${n++}.db`);
  const store = new SqliteStorage(path);
  await store.migrate();
  return {
    store,
    // A second connection to the same file: SQLite's own locking orders the two writers.
    peer: async () => {
      const other = new SqliteStorage(path);
      await other.migrate();
      return other;
    },
    // A process that has exited (its pid is free; SQLite's writers are the processes of this host).
    goneWriter: async () => `${spawnSync(process.execPath, ['-e', '']).pid}:1`,
  };
});
