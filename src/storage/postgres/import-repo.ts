/** PostgreSQL implementation of the import-parameters repository; schema in migrations.ts (6: import parameters). */
import type { ImportRepos } from '../import-repo.ts';
import { importParametersFromRow } from '../rows.ts';
import { insertOnceWith, type Exec } from './insert-once.ts';

const COLUMNS = 'account_id, region, key_id, token_id, created_at, expires_at, sealed, doc';

/** `exec` runs one statement on the adapter's connection (autocommit or the current transaction). */
export function createPostgresImportRepos(exec: Exec): ImportRepos {
  const insertOnce = insertOnceWith(exec);
  return {
    importParameters: {
      insert: (p) =>
        insertOnce('import parameters', `INSERT INTO kms_import_parameters (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`, [
          p.accountId, p.region, p.keyId, p.tokenId, p.createdAt, p.expiresAt, p.sealed, JSON.stringify(p.doc),
        ]),
      get: async (s, keyId, tokenId) => {
        const r = await exec(
          `SELECT ${COLUMNS} FROM kms_import_parameters WHERE account_id = $1 AND region = $2 AND key_id = $3 AND token_id = $4`,
          [s.accountId, s.region, keyId, tokenId],
        );
        return r.rows[0] && importParametersFromRow(r.rows[0]);
      },
      deleteForKey: async (s, keyId) => {
        await exec('DELETE FROM kms_import_parameters WHERE account_id = $1 AND region = $2 AND key_id = $3', [s.accountId, s.region, keyId]);
      },
      deleteExpired: async (now) => (await exec('DELETE FROM kms_import_parameters WHERE expires_at <= $1', [now])).rowCount ?? 0,
    },
  };
}
