/** PostgreSQL implementation of the Secrets Manager repositories; schema in migrations.ts (5: secrets). */
import type { SecretRepos } from '../secret-repo.ts';
import { secretFromRow, secretVersionFromRow } from '../rows.ts';
import { insertOnceWith, type Exec } from './insert-once.ts';

const SECRET_COLUMNS = 'account_id, region, name, arn, created_at, due_at, revision, doc';
const VERSION_COLUMNS = 'secret_arn, version_id, created_at, encrypted_data_key, sealed_value, doc';

/** `exec` runs one statement on the adapter's connection (autocommit or the current transaction). */
export function createPostgresSecretRepos(exec: Exec): SecretRepos {
  const insertOnce = insertOnceWith(exec);
  return {
    secrets: {
      insert: (s) =>
        insertOnce('secret', `INSERT INTO sm_secrets (${SECRET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`, [
          s.accountId, s.region, s.name, s.arn, s.createdAt, s.dueAt, s.revision, JSON.stringify(s.doc),
        ]),
      get: async (scope, name) => {
        const r = await exec(`SELECT ${SECRET_COLUMNS} FROM sm_secrets WHERE account_id = $1 AND region = $2 AND name = $3`, [
          scope.accountId, scope.region, name,
        ]);
        return r.rows[0] && secretFromRow(r.rows[0]);
      },
      listAll: async (scope) =>
        (await exec(`SELECT ${SECRET_COLUMNS} FROM sm_secrets WHERE account_id = $1 AND region = $2 ORDER BY name`, [
          scope.accountId, scope.region,
        ])).rows.map(secretFromRow),
      update: async (s, expected) =>
        ((await exec(
          'UPDATE sm_secrets SET due_at = $1, revision = $2, doc = $3 WHERE account_id = $4 AND region = $5 AND name = $6 AND revision = $7',
          [s.dueAt, expected + 1, JSON.stringify(s.doc), s.accountId, s.region, s.name, expected],
        )).rowCount ?? 0) === 1,
      delete: async (scope, name) => {
        const r = await exec('DELETE FROM sm_secrets WHERE account_id = $1 AND region = $2 AND name = $3 RETURNING arn', [
          scope.accountId, scope.region, name,
        ]);
        const arn = r.rows[0]?.arn as string | undefined;
        if (arn !== undefined) await exec('DELETE FROM sm_secret_versions WHERE secret_arn = $1', [arn]);
      },
      listDue: async (now, limit) =>
        (await exec(`SELECT ${SECRET_COLUMNS} FROM sm_secrets WHERE due_at IS NOT NULL AND due_at <= $1 ORDER BY due_at LIMIT $2`, [
          now, limit,
        ])).rows.map(secretFromRow),
    },
    secretVersions: {
      insert: (v) =>
        insertOnce('secret version', `INSERT INTO sm_secret_versions (${VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, [
          v.secretArn, v.versionId, v.createdAt, v.encryptedDataKey, v.sealedValue, JSON.stringify(v.doc),
        ]),
      get: async (arn, id) => {
        const r = await exec(`SELECT ${VERSION_COLUMNS} FROM sm_secret_versions WHERE secret_arn = $1 AND version_id = $2`, [arn, id]);
        return r.rows[0] && secretVersionFromRow(r.rows[0]);
      },
      delete: async (arn, ids) => {
        if (ids.length === 0) return;
        await exec('DELETE FROM sm_secret_versions WHERE secret_arn = $1 AND version_id = ANY($2::text[])', [arn, [...ids]]);
      },
    },
  };
}
