/**
 * What a storage adapter offers for backups (docs/backup.md): a consistent, online snapshot of the whole
 * store as bytes, and a restore of such bytes onto an empty store of the same kind. The bytes are what
 * the store holds (sealed material only); src/backup/ encrypts them.
 */
import type { PostgresSnapshot } from './postgres/snapshot.ts';
import { restoreSqlite } from './sqlite/snapshot.ts';
import { SqliteStorage } from './sqlite/sqlite-storage.ts';
import type { Storage } from './storage.ts';

interface PostgresSnapshotter {
  snapshot(): Promise<PostgresSnapshot>;
}

export interface StorageSnapshot {
  readonly kind: 'sqlite' | 'postgres';
  /** Highest schema migration in the snapshot. */
  readonly schemaVersion: number;
  /** SQLite: the database file; PostgreSQL: every table's rows as JSON. */
  readonly payload: Buffer;
}

/** Snapshots the raw store the server opened (not a decorator around it). */
export async function snapshotStorage(storage: Storage): Promise<StorageSnapshot> {
  if (storage instanceof SqliteStorage) {
    const { database, schemaVersion } = await storage.snapshot();
    return { kind: 'sqlite', schemaVersion, payload: database };
  }
  // The PostgreSQL adapter is loaded only when configured (open-storage.ts), so it is recognised by kind.
  if (storage.kind === 'postgres' && typeof (storage as Partial<PostgresSnapshotter>).snapshot === 'function') {
    const snap = await (storage as unknown as PostgresSnapshotter).snapshot();
    return { kind: 'postgres', schemaVersion: snap.schemaVersion, payload: Buffer.from(JSON.stringify(snap), 'utf8') };
  }
  throw new Error('this storage cannot be backed up');
}

/** Writes a snapshot onto the empty store at `url` (a SQLite path that does not exist yet, or an empty PostgreSQL database). */
export async function restoreStorage(url: string, snapshot: Pick<StorageSnapshot, 'kind' | 'payload'>): Promise<void> {
  const isPostgres = url.startsWith('postgres://') || url.startsWith('postgresql://');
  if ((snapshot.kind === 'postgres') !== isPostgres) {
    throw new Error(`the backup is of a ${snapshot.kind} store; TRENT_STORAGE names a ${isPostgres ? 'postgres' : 'sqlite'} one`);
  }
  if (!isPostgres) {
    if (!url.startsWith('sqlite:')) throw new Error(`unsupported TRENT_STORAGE '${url}'`);
    restoreSqlite(url.slice('sqlite:'.length), snapshot.payload);
    return;
  }
  const { PostgresStorage } = await import('./postgres/postgres-storage.ts');
  const store = new PostgresStorage(url);
  try {
    await store.migrate();
    await store.restoreSnapshot(JSON.parse(snapshot.payload.toString('utf8')) as PostgresSnapshot);
  } finally {
    await store.close();
  }
}
