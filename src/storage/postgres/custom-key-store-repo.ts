/** PostgreSQL implementation of the custom key store repository; schema in migrations.ts (6: custom key stores). */
import { DatabaseError } from 'pg';
import type { CustomKeyStoreRepo } from '../custom-key-store-repo.ts';
import { customKeyStoreFromRow, page } from '../rows.ts';
import { DuplicateError } from '../storage.ts';
import { insertOnceWith, type Exec } from './insert-once.ts';

const COLUMNS = 'id, account_id, region, name, cluster_id, created_at, revision, sealed_password, doc';

/** `exec` runs one statement on the adapter's connection (autocommit or the current transaction). */
export function createPostgresCustomKeyStoreRepo(exec: Exec): { customKeyStores: CustomKeyStoreRepo } {
  const insertOnce = insertOnceWith(exec);
  const one = async (sql: string, params: readonly unknown[]) => {
    const r = await exec(sql, params);
    return r.rows[0] && customKeyStoreFromRow(r.rows[0]);
  };
  const customKeyStores: CustomKeyStoreRepo = {
    insert: (r) =>
      insertOnce('custom key store', `INSERT INTO kms_custom_key_stores (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`, [
        r.id, r.accountId, r.region, r.name, r.clusterId, r.createdAt, r.revision, r.sealedPassword, JSON.stringify(r.doc),
      ]),
    get: (s, id) => one(`SELECT ${COLUMNS} FROM kms_custom_key_stores WHERE account_id = $1 AND region = $2 AND id = $3`, [s.accountId, s.region, id]),
    getByName: (s, name) =>
      one(`SELECT ${COLUMNS} FROM kms_custom_key_stores WHERE account_id = $1 AND region = $2 AND name = $3`, [s.accountId, s.region, name]),
    getByCluster: (clusterId) => one(`SELECT ${COLUMNS} FROM kms_custom_key_stores WHERE cluster_id = $1`, [clusterId]),
    list: async (s, after, limit) => {
      const r = await exec(
        `SELECT ${COLUMNS} FROM kms_custom_key_stores WHERE account_id = $1 AND region = $2 AND id > $3 ORDER BY id LIMIT $4`,
        [s.accountId, s.region, after ?? '', limit + 1],
      );
      return page(r.rows.map(customKeyStoreFromRow), limit, (x) => x.id);
    },
    update: async (r, expected) => {
      try {
        const res = await exec(
          `UPDATE kms_custom_key_stores SET name = $1, revision = $2, sealed_password = $3, doc = $4
           WHERE account_id = $5 AND region = $6 AND id = $7 AND revision = $8`,
          [r.name, expected + 1, r.sealedPassword, JSON.stringify(r.doc), r.accountId, r.region, r.id, expected],
        );
        return (res.rowCount ?? 0) === 1;
      } catch (err) {
        // A raised 23505 aborts a surrounding transaction; the service checks names first, so this is
        // only the losing side of a race.
        if (err instanceof DatabaseError && err.code === '23505') throw new DuplicateError('custom key store name');
        throw err;
      }
    },
    delete: async (s, id, expected) =>
      ((await exec('DELETE FROM kms_custom_key_stores WHERE account_id = $1 AND region = $2 AND id = $3 AND revision = $4', [
        s.accountId, s.region, id, expected,
      ])).rowCount ?? 0) === 1,
  };
  return { customKeyStores };
}
