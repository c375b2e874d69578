/** SQLite implementation of the Secrets Manager repositories; schema in migrations.ts (5: secrets). */
import type Database from 'better-sqlite3';
import type { SecretRepos } from '../secret-repo.ts';
import { secretFromRow, secretVersionFromRow, type Row } from '../rows.ts';
import { guardUnique } from './unique-violation.ts';

export function createSqliteSecretRepos(db: Database.Database): SecretRepos {
  const q = {
    sInsert: db.prepare(
      'INSERT INTO sm_secrets (account_id, region, name, arn, created_at, due_at, revision, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    sGet: db.prepare('SELECT * FROM sm_secrets WHERE account_id = ? AND region = ? AND name = ?'),
    sList: db.prepare('SELECT * FROM sm_secrets WHERE account_id = ? AND region = ? ORDER BY name'),
    sUpdate: db.prepare(
      'UPDATE sm_secrets SET due_at = ?, revision = ?, doc = ? WHERE account_id = ? AND region = ? AND name = ? AND revision = ?',
    ),
    sArn: db.prepare('SELECT arn FROM sm_secrets WHERE account_id = ? AND region = ? AND name = ?'),
    sDelete: db.prepare('DELETE FROM sm_secrets WHERE account_id = ? AND region = ? AND name = ?'),
    sDue: db.prepare('SELECT * FROM sm_secrets WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?'),
    vInsert: db.prepare(
      'INSERT INTO sm_secret_versions (secret_arn, version_id, created_at, encrypted_data_key, sealed_value, doc) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    vGet: db.prepare('SELECT * FROM sm_secret_versions WHERE secret_arn = ? AND version_id = ?'),
    vDelete: db.prepare('DELETE FROM sm_secret_versions WHERE secret_arn = ? AND version_id = ?'),
    vDeleteAll: db.prepare('DELETE FROM sm_secret_versions WHERE secret_arn = ?'),
  };
  const guard = (what: string, write: () => unknown): void => void guardUnique(what, write);
  return {
    secrets: {
      insert: async (s) =>
        guard('secret', () =>
          q.sInsert.run(s.accountId, s.region, s.name, s.arn, s.createdAt, s.dueAt, s.revision, JSON.stringify(s.doc)),
        ),
      get: async (scope, name) => {
        const r = q.sGet.get(scope.accountId, scope.region, name) as Row | undefined;
        return r && secretFromRow(r);
      },
      listAll: async (scope) => (q.sList.all(scope.accountId, scope.region) as Row[]).map(secretFromRow),
      update: async (s, expected) =>
        q.sUpdate.run(s.dueAt, expected + 1, JSON.stringify(s.doc), s.accountId, s.region, s.name, expected).changes === 1,
      delete: async (scope, name) => {
        const r = q.sArn.get(scope.accountId, scope.region, name) as Row | undefined;
        if (!r) return;
        q.vDeleteAll.run(r.arn as string);
        q.sDelete.run(scope.accountId, scope.region, name);
      },
      listDue: async (now, limit) => (q.sDue.all(now, limit) as Row[]).map(secretFromRow),
    },
    secretVersions: {
      insert: async (v) =>
        guard('secret version', () =>
          q.vInsert.run(v.secretArn, v.versionId, v.createdAt, v.encryptedDataKey, v.sealedValue, JSON.stringify(v.doc)),
        ),
      get: async (arn, id) => {
        const r = q.vGet.get(arn, id) as Row | undefined;
        return r && secretVersionFromRow(r);
      },
      delete: async (arn, ids) => {
        for (const id of ids) q.vDelete.run(arn, id);
      },
    },
  };
}
