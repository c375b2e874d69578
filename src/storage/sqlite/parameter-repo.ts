/** SQLite implementation of the parameter repository; schema in migrations.ts (4: parameters). */
import type Database from 'better-sqlite3';
import type { ParameterRecord, ParameterRepo } from '../parameter-repo.ts';
import type { Page } from '../storage.ts';
import { PARAMETER_LATEST_SELECT, parameterFromRow, parameterVersionFromRow, parameterWithLatestFromRow, type Row } from '../rows.ts';
import { guardUnique } from './unique-violation.ts';

export function createSqliteParameterRepo(db: Database.Database): { parameters: ParameterRepo } {
  const q = {
    insert: db.prepare(
      'INSERT INTO ssm_parameters (account_id, region, name, version, revision, due_at, created_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    get: db.prepare('SELECT * FROM ssm_parameters WHERE account_id = ? AND region = ? AND name = ?'),
    getLatest: db.prepare(`${PARAMETER_LATEST_SELECT} WHERE p.account_id = ? AND p.region = ? AND p.name = ?`),
    update: db.prepare(
      'UPDATE ssm_parameters SET version = ?, revision = ?, due_at = ?, doc = ? WHERE account_id = ? AND region = ? AND name = ? AND revision = ?',
    ),
    delete: db.prepare('DELETE FROM ssm_parameters WHERE account_id = ? AND region = ? AND name = ?'),
    deleteIf: db.prepare('DELETE FROM ssm_parameters WHERE account_id = ? AND region = ? AND name = ? AND revision = ?'),
    deleteVersions: db.prepare('DELETE FROM ssm_parameter_versions WHERE account_id = ? AND region = ? AND name = ?'),
    list: db.prepare(
      `SELECT * FROM ssm_parameters WHERE account_id = ? AND region = ? AND substr(name, 1, ?) = ? AND name > ?
       ORDER BY name LIMIT ?`,
    ),
    due: db.prepare('SELECT * FROM ssm_parameters WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?'),
    vInsert: db.prepare(
      'INSERT INTO ssm_parameter_versions (account_id, region, name, version, created_at, value, labels, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    vGet: db.prepare('SELECT * FROM ssm_parameter_versions WHERE account_id = ? AND region = ? AND name = ? AND version = ?'),
    vList: db.prepare('SELECT * FROM ssm_parameter_versions WHERE account_id = ? AND region = ? AND name = ? ORDER BY version'),
    vLabels: db.prepare('UPDATE ssm_parameter_versions SET labels = ? WHERE account_id = ? AND region = ? AND name = ? AND version = ?'),
    vDelete: db.prepare('DELETE FROM ssm_parameter_versions WHERE account_id = ? AND region = ? AND name = ? AND version = ?'),
  };
  const guard = (what: string, write: () => unknown): void => void guardUnique(what, write);
  const parameters: ParameterRepo = {
    insert: async (p) =>
      guard('parameter', () =>
        q.insert.run(p.accountId, p.region, p.name, p.version, p.revision, p.dueAt, p.createdAt, JSON.stringify(p.doc)),
      ),
    get: async (s, name) => {
      const r = q.get.get(s.accountId, s.region, name) as Row | undefined;
      return r && parameterFromRow(r);
    },
    getLatest: async (s, name) => {
      const r = q.getLatest.get(s.accountId, s.region, name) as Row | undefined;
      return r && parameterWithLatestFromRow(r);
    },
    update: async (p, expected) =>
      q.update.run(p.version, expected + 1, p.dueAt, JSON.stringify(p.doc), p.accountId, p.region, p.name, expected).changes === 1,
    delete: async (s, name, expected) => {
      const deleted = expected === undefined
        ? q.delete.run(s.accountId, s.region, name).changes === 1
        : q.deleteIf.run(s.accountId, s.region, name, expected).changes === 1;
      if (deleted) q.deleteVersions.run(s.accountId, s.region, name);
      return deleted;
    },
    list: async (s, prefix, after, limit): Promise<Page<ParameterRecord>> => {
      const rows = (q.list.all(s.accountId, s.region, prefix.length, prefix, after ?? '', limit + 1) as Row[]).map(parameterFromRow);
      if (rows.length <= limit) return { items: rows };
      const items = rows.slice(0, limit);
      return { items, next: items[items.length - 1]!.name };
    },
    listDue: async (now, limit) => (q.due.all(now, limit) as Row[]).map(parameterFromRow),
    insertVersion: async (v) =>
      guard('parameter version', () =>
        q.vInsert.run(v.accountId, v.region, v.name, v.version, v.createdAt, v.value, JSON.stringify(v.labels), JSON.stringify(v.doc)),
      ),
    getVersion: async (s, name, version) => {
      const r = q.vGet.get(s.accountId, s.region, name, version) as Row | undefined;
      return r && parameterVersionFromRow(r);
    },
    listVersions: async (s, name) => (q.vList.all(s.accountId, s.region, name) as Row[]).map(parameterVersionFromRow),
    setLabels: async (s, name, version, labels) =>
      q.vLabels.run(JSON.stringify(labels), s.accountId, s.region, name, version).changes === 1,
    deleteVersion: async (s, name, version) => {
      q.vDelete.run(s.accountId, s.region, name, version);
    },
  };
  return { parameters };
}
