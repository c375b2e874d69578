/** SQLite implementation of the IAM repositories (principals, grants); schema in migrations.ts (2). */
import type Database from 'better-sqlite3';
import type { IamRepos } from '../iam-repos.ts';
import { grantFromRow, principalFromRow, type Row } from '../rows.ts';
import { guardUnique } from './unique-violation.ts';

export function createSqliteIamRepos(db: Database.Database): IamRepos {
  const q = {
    pInsert: db.prepare('INSERT INTO iam_principals (arn, account_id, kind, name, created_at, revision, doc) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    pGet: db.prepare('SELECT * FROM iam_principals WHERE arn = ?'),
    pList: db.prepare('SELECT * FROM iam_principals WHERE account_id = ? ORDER BY arn'),
    pUpdate: db.prepare('UPDATE iam_principals SET revision = ?, doc = ? WHERE arn = ? AND revision = ?'),
    pDelete: db.prepare('DELETE FROM iam_principals WHERE arn = ? AND revision = ?'),
    gInsert: db.prepare(
      `INSERT INTO kms_grants (grant_id, account_id, region, key_id, grantee_principal, retiring_principal, name, created_at, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    gGet: db.prepare('SELECT * FROM kms_grants WHERE grant_id = ?'),
    gForKey: db.prepare('SELECT * FROM kms_grants WHERE account_id = ? AND region = ? AND key_id = ? ORDER BY grant_id'),
    gByRetiring: db.prepare('SELECT * FROM kms_grants WHERE retiring_principal = ? ORDER BY grant_id'),
    gDelete: db.prepare('DELETE FROM kms_grants WHERE grant_id = ?'),
    gDeleteForKey: db.prepare('DELETE FROM kms_grants WHERE account_id = ? AND region = ? AND key_id = ?'),
  };
  const guard = (what: string, write: () => unknown): void => void guardUnique(what, write);
  return {
    principals: {
      insert: async (p) =>
        guard('principal', () => q.pInsert.run(p.arn, p.accountId, p.kind, p.name, p.createdAt, p.revision, JSON.stringify(p.doc))),
      get: async (arn) => {
        const r = q.pGet.get(arn) as Row | undefined;
        return r && principalFromRow(r);
      },
      list: async (accountId) => (q.pList.all(accountId) as Row[]).map(principalFromRow),
      update: async (p, expected) => q.pUpdate.run(expected + 1, JSON.stringify(p.doc), p.arn, expected).changes === 1,
      delete: async (arn, expected) => q.pDelete.run(arn, expected).changes === 1,
    },
    grants: {
      insert: async (g) =>
        guard('grant', () =>
          q.gInsert.run(g.grantId, g.accountId, g.region, g.keyId, g.granteePrincipal, g.retiringPrincipal, g.name, g.createdAt, JSON.stringify(g.doc)),
        ),
      get: async (id) => {
        const r = q.gGet.get(id) as Row | undefined;
        return r && grantFromRow(r);
      },
      listForKey: async (s, keyId) => (q.gForKey.all(s.accountId, s.region, keyId) as Row[]).map(grantFromRow),
      listByRetiringPrincipal: async (principal) => (q.gByRetiring.all(principal) as Row[]).map(grantFromRow),
      delete: async (id) => q.gDelete.run(id).changes === 1,
      deleteForKey: async (s, keyId) => {
        q.gDeleteForKey.run(s.accountId, s.region, keyId);
      },
    },
  };
}
