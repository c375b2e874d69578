/** SQLite implementation of the custom key store repository; schema in migrations.ts (6: custom key stores). */
import type Database from 'better-sqlite3';
import type { CustomKeyStoreRepo } from '../custom-key-store-repo.ts';
import { customKeyStoreFromRow, page, type Row } from '../rows.ts';
import { guardUnique } from './unique-violation.ts';

export function createSqliteCustomKeyStoreRepo(db: Database.Database): { customKeyStores: CustomKeyStoreRepo } {
  const q = {
    insert: db.prepare(
      `INSERT INTO kms_custom_key_stores (id, account_id, region, name, cluster_id, created_at, revision, sealed_password, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    get: db.prepare('SELECT * FROM kms_custom_key_stores WHERE account_id = ? AND region = ? AND id = ?'),
    byName: db.prepare('SELECT * FROM kms_custom_key_stores WHERE account_id = ? AND region = ? AND name = ?'),
    byCluster: db.prepare('SELECT * FROM kms_custom_key_stores WHERE cluster_id = ?'),
    list: db.prepare('SELECT * FROM kms_custom_key_stores WHERE account_id = ? AND region = ? AND id > ? ORDER BY id LIMIT ?'),
    update: db.prepare(
      `UPDATE kms_custom_key_stores SET name = ?, revision = ?, sealed_password = ?, doc = ?
       WHERE account_id = ? AND region = ? AND id = ? AND revision = ?`,
    ),
    delete: db.prepare('DELETE FROM kms_custom_key_stores WHERE account_id = ? AND region = ? AND id = ? AND revision = ?'),
  };
  const customKeyStores: CustomKeyStoreRepo = {
    insert: async (r) => {
      guardUnique('custom key store', () =>
        q.insert.run(r.id, r.accountId, r.region, r.name, r.clusterId, r.createdAt, r.revision, r.sealedPassword, JSON.stringify(r.doc)),
      );
    },
    get: async (s, id) => {
      const r = q.get.get(s.accountId, s.region, id) as Row | undefined;
      return r && customKeyStoreFromRow(r);
    },
    getByName: async (s, name) => {
      const r = q.byName.get(s.accountId, s.region, name) as Row | undefined;
      return r && customKeyStoreFromRow(r);
    },
    getByCluster: async (clusterId) => {
      const r = q.byCluster.get(clusterId) as Row | undefined;
      return r && customKeyStoreFromRow(r);
    },
    list: async (s, after, limit) =>
      page((q.list.all(s.accountId, s.region, after ?? '', limit + 1) as Row[]).map(customKeyStoreFromRow), limit, (r) => r.id),
    update: async (r, expected) =>
      guardUnique('custom key store name', () =>
        q.update.run(r.name, expected + 1, r.sealedPassword, JSON.stringify(r.doc), r.accountId, r.region, r.id, expected).changes === 1,
      ),
    delete: async (s, id, expected) => q.delete.run(s.accountId, s.region, id, expected).changes === 1,
  };
  return { customKeyStores };
}
