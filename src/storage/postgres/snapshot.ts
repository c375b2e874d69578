/**
 * Backup and restore of a PostgreSQL store (docs/backup.md). The snapshot is one REPEATABLE READ, READ
 * ONLY transaction over every table of the schema: PostgreSQL gives it one snapshot, so it sees exactly
 * the transactions committed before it started, across all tables, while the nodes keep writing. (pg_dump
 * does the same; doing it here needs no client binary of the server's major version on the node.)
 * The rows travel as JSON: BYTEA as base64, BIGINT as the decimal strings node-postgres returns.
 */
import { escapeIdentifier } from 'pg';
import type { QueryResult } from 'pg';
import type { Row } from '../rows.ts';

export interface SnapshotSession {
  query(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
}

export interface PostgresSnapshot {
  readonly schemaVersion: number;
  /** Table name → its column names and rows (values in column order). */
  readonly tables: Record<string, { columns: string[]; rows: unknown[][] }>;
}

type Cell = string | number | boolean | null | { b64: string };

function encode(v: unknown): Cell {
  if (Buffer.isBuffer(v)) return { b64: v.toString('base64') };
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  throw new Error(`unexpected column value of type ${typeof v} in a snapshot`);
}

function decode(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && typeof (v as { b64?: unknown }).b64 === 'string') return Buffer.from((v as { b64: string }).b64, 'base64');
  return v;
}

const TABLES_SQL = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations' ORDER BY tablename";

/** Reads every table in one snapshot. `session` must be a connection of its own (no transaction open). */
export async function exportSnapshot(session: SnapshotSession): Promise<PostgresSnapshot> {
  await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const version = await session.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations');
    const tables: PostgresSnapshot['tables'] = {};
    for (const t of (await session.query(TABLES_SQL)).rows) {
      const name = String(t.tablename);
      const r = await session.query(`SELECT * FROM ${escapeIdentifier(name)}`);
      const columns = r.fields.map((f) => f.name);
      tables[name] = { columns, rows: r.rows.map((row) => columns.map((c) => encode(row[c]))) };
    }
    await session.query('COMMIT');
    return { schemaVersion: Number(version.rows[0]!.v), tables };
  } catch (err) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export class RestoreTargetError extends Error {}

/**
 * Writes a snapshot into an empty, migrated store, in one transaction (all or nothing). Refuses a
 * store that holds any row, a snapshot from a newer schema than this build's, or a table it lacks.
 */
export async function importSnapshot(session: SnapshotSession, snap: PostgresSnapshot): Promise<void> {
  await session.query('BEGIN');
  try {
    const version = Number((await session.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0]!.v);
    if (snap.schemaVersion > version) {
      throw new RestoreTargetError(`the backup has schema version ${snap.schemaVersion}, newer than this Trent's ${version}: restore with a newer Trent`);
    }
    const present = new Set((await session.query(TABLES_SQL)).rows.map((t) => String(t.tablename)));
    for (const name of present) {
      const n = await session.query(`SELECT 1 FROM ${escapeIdentifier(name)} LIMIT 1`);
      if ((n.rowCount ?? 0) > 0) throw new RestoreTargetError(`the target database is not empty (table ${name} has rows): restore only onto a new database`);
    }
    for (const [name, { columns, rows }] of Object.entries(snap.tables)) {
      if (!present.has(name)) throw new RestoreTargetError(`the target database has no table ${name}`);
      const cols = columns.map(escapeIdentifier).join(', ');
      const per = Math.max(1, Math.floor(30_000 / Math.max(1, columns.length)));
      for (let i = 0; i < rows.length; i += per) {
        const batch = rows.slice(i, i + per);
        const params: unknown[] = [];
        const values = batch.map((row) => `(${row.map((v) => {
          params.push(decode(v));
          return `$${params.length}`;
        }).join(', ')})`);
        await session.query(`INSERT INTO ${escapeIdentifier(name)} (${cols}) VALUES ${values.join(', ')}`, params);
      }
    }
    const done = await session.query('COMMIT');
    if (done.command !== 'COMMIT') throw new Error(`PostgreSQL ended the restore with ${done.command}`);
  } catch (err) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
