/** PostgreSQL implementation of the IAM repositories (principals, grants); schema in migrations.ts (2). */
import type { IamRepos } from '../iam-repos.ts';
import { grantFromRow, principalFromRow } from '../rows.ts';
import { insertOnceWith, type Exec } from './insert-once.ts';

const PRINCIPAL_COLUMNS = 'arn, account_id, kind, name, created_at, revision, doc';
const GRANT_COLUMNS = 'grant_id, account_id, region, key_id, grantee_principal, retiring_principal, name, created_at, doc';

/** `exec` runs one statement on the adapter's connection (autocommit or the current transaction). */
export function createPostgresIamRepos(exec: Exec): IamRepos {
  const insertOnce = insertOnceWith(exec);
  return {
    principals: {
      insert: (p) =>
        insertOnce('principal', `INSERT INTO iam_principals (${PRINCIPAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`, [
          p.arn, p.accountId, p.kind, p.name, p.createdAt, p.revision, JSON.stringify(p.doc),
        ]),
      get: async (arn) => {
        const r = await exec(`SELECT ${PRINCIPAL_COLUMNS} FROM iam_principals WHERE arn = $1`, [arn]);
        return r.rows[0] && principalFromRow(r.rows[0]);
      },
      list: async (accountId) =>
        (await exec(`SELECT ${PRINCIPAL_COLUMNS} FROM iam_principals WHERE account_id = $1 ORDER BY arn`, [accountId])).rows.map(principalFromRow),
      update: async (p, expected) =>
        ((await exec('UPDATE iam_principals SET revision = $1, doc = $2 WHERE arn = $3 AND revision = $4', [
          expected + 1, JSON.stringify(p.doc), p.arn, expected,
        ])).rowCount ?? 0) === 1,
      delete: async (arn, expected) =>
        ((await exec('DELETE FROM iam_principals WHERE arn = $1 AND revision = $2', [arn, expected])).rowCount ?? 0) === 1,
    },
    grants: {
      insert: (g) =>
        insertOnce('grant', `INSERT INTO kms_grants (${GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`, [
          g.grantId, g.accountId, g.region, g.keyId, g.granteePrincipal, g.retiringPrincipal, g.name, g.createdAt, JSON.stringify(g.doc),
        ]),
      get: async (id) => {
        const r = await exec(`SELECT ${GRANT_COLUMNS} FROM kms_grants WHERE grant_id = $1`, [id]);
        return r.rows[0] && grantFromRow(r.rows[0]);
      },
      listForKey: async (s, keyId) =>
        (await exec(`SELECT ${GRANT_COLUMNS} FROM kms_grants WHERE account_id = $1 AND region = $2 AND key_id = $3 ORDER BY grant_id`, [
          s.accountId, s.region, keyId,
        ])).rows.map(grantFromRow),
      listByRetiringPrincipal: async (principal) =>
        (await exec(`SELECT ${GRANT_COLUMNS} FROM kms_grants WHERE retiring_principal = $1 ORDER BY grant_id`, [principal])).rows.map(grantFromRow),
      delete: async (id) => ((await exec('DELETE FROM kms_grants WHERE grant_id = $1', [id])).rowCount ?? 0) === 1,
      deleteForKey: async (s, keyId) => {
        await exec('DELETE FROM kms_grants WHERE account_id = $1 AND region = $2 AND key_id = $3', [s.accountId, s.region, keyId]);
      },
    },
  };
}
