/** SQLite implementation of the import-parameters repository; schema in migrations.ts (6: import parameters). */
import type Database from 'better-sqlite3';
import type { ImportRepos } from '../import-repo.ts';
import { importParametersFromRow, type Row } from '../rows.ts';
import { guardUnique } from './unique-violation.ts';

export function createSqliteImportRepos(db: Database.Database): ImportRepos {
  const q = {
    insert: db.prepare(
      'INSERT INTO kms_import_parameters (account_id, region, key_id, token_id, created_at, expires_at, sealed, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    get: db.prepare('SELECT * FROM kms_import_parameters WHERE account_id = ? AND region = ? AND key_id = ? AND token_id = ?'),
    deleteForKey: db.prepare('DELETE FROM kms_import_parameters WHERE account_id = ? AND region = ? AND key_id = ?'),
    deleteExpired: db.prepare('DELETE FROM kms_import_parameters WHERE expires_at <= ?'),
  };
  return {
    importParameters: {
      insert: async (p) => {
        guardUnique('import parameters', () =>
          q.insert.run(p.accountId, p.region, p.keyId, p.tokenId, p.createdAt, p.expiresAt, p.sealed, JSON.stringify(p.doc)));
      },
      get: async (s, keyId, tokenId) => {
        const r = q.get.get(s.accountId, s.region, keyId, tokenId) as Row | undefined;
        return r && importParametersFromRow(r);
      },
      deleteForKey: async (s, keyId) => {
        q.deleteForKey.run(s.accountId, s.region, keyId);
      },
      deleteExpired: async (now) => q.deleteExpired.run(now).changes,
    },
  };
}
