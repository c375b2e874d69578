import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { runStorageContract } from '../contract/storage-contract.ts';
import { SqliteStorage } from './sqlite-storage.ts';

const dir = mkdtempSync(join(tmpdir(), 'trent-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runStorageContract('sqlite', async () => {
  const store = new SqliteStorage(join(dir, `store-${n++}.db`));
  await store.migrate();
  return store;
});
