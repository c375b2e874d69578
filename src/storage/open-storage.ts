/** Chooses the storage adapter from the configured URL: `sqlite:<path>` (default) or `postgres://…`. */
import { SqliteStorage } from './sqlite/sqlite-storage.ts';
import type { Storage } from './storage.ts';

export async function openStorage(url: string): Promise<Storage> {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { PostgresStorage } = await import('./postgres/postgres-storage.ts');
    const store = new PostgresStorage(url);
    await store.migrate();
    return store;
  }
  if (url.startsWith('sqlite:')) {
    const store = new SqliteStorage(url.slice('sqlite:'.length), { checkpointInThread: true });
    await store.migrate();
    return store;
  }
  throw new Error(`unsupported TRENT_STORAGE '${url}': use sqlite:<path> or postgres://…`);
}
