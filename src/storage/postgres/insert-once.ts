/** Helpers shared by the PostgreSQL repositories. */
import { DatabaseError, type QueryResult } from 'pg';
import type { Row } from '../rows.ts';
import { DuplicateError } from '../storage.ts';

/** Runs one statement on the adapter's connection (autocommit or the current transaction). */
export type Exec = (sql: string, params?: readonly unknown[]) => Promise<QueryResult<Row>>;

/**
 * An inserter for `INSERT … ON CONFLICT DO NOTHING` statements: a conflict inserts nothing (and, unlike
 * a raised 23505, leaves the transaction usable, as on SQLite) and becomes DuplicateError(what).
 */
export function insertOnceWith(exec: Exec) {
  return async (what: string, sql: string, params: readonly unknown[]): Promise<void> => {
    let inserted: number;
    try {
      inserted = (await exec(sql, params)).rowCount ?? 0;
    } catch (err) {
      if (err instanceof DatabaseError && err.code === '23505') throw new DuplicateError(what);
      throw err;
    }
    if (inserted !== 1) throw new DuplicateError(what);
  };
}
