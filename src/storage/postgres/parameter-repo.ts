/** PostgreSQL implementation of the parameter repository; schema in migrations.ts (4: parameters). */
import type { QueryResult } from 'pg';
import type { ParameterRecord, ParameterRepo } from '../parameter-repo.ts';
import type { Page } from '../storage.ts';
import { PARAMETER_LATEST_SELECT, parameterFromRow, parameterVersionFromRow, parameterWithLatestFromRow, type Row } from '../rows.ts';
import { insertOnceWith, type Exec } from './insert-once.ts';

const P_COLUMNS = 'account_id, region, name, version, revision, due_at, created_at, doc';
const V_COLUMNS = 'account_id, region, name, version, created_at, value, labels, doc';

/** `exec` runs one statement on the adapter's connection (autocommit or the current transaction). */
export function createPostgresParameterRepo(exec: Exec): { parameters: ParameterRepo } {
  const insertOnce = insertOnceWith(exec);
  const changed = (r: QueryResult<Row>) => (r.rowCount ?? 0) === 1;
  const parameters: ParameterRepo = {
    insert: (p) =>
      insertOnce('parameter', `INSERT INTO ssm_parameters (${P_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`, [
        p.accountId, p.region, p.name, p.version, p.revision, p.dueAt, p.createdAt, JSON.stringify(p.doc),
      ]),
    get: async (s, name) => {
      const r = await exec(`SELECT ${P_COLUMNS} FROM ssm_parameters WHERE account_id = $1 AND region = $2 AND name = $3`, [s.accountId, s.region, name]);
      return r.rows[0] && parameterFromRow(r.rows[0]);
    },
    getLatest: async (s, name) => {
      const r = await exec(`${PARAMETER_LATEST_SELECT} WHERE p.account_id = $1 AND p.region = $2 AND p.name = $3`, [s.accountId, s.region, name]);
      return r.rows[0] && parameterWithLatestFromRow(r.rows[0]);
    },
    update: async (p, expected) =>
      changed(await exec(
        'UPDATE ssm_parameters SET version = $1, revision = $2, due_at = $3, doc = $4 WHERE account_id = $5 AND region = $6 AND name = $7 AND revision = $8',
        [p.version, expected + 1, p.dueAt, JSON.stringify(p.doc), p.accountId, p.region, p.name, expected],
      )),
    delete: async (s, name, expected) => {
      const deleted = expected === undefined
        ? changed(await exec('DELETE FROM ssm_parameters WHERE account_id = $1 AND region = $2 AND name = $3', [s.accountId, s.region, name]))
        : changed(await exec('DELETE FROM ssm_parameters WHERE account_id = $1 AND region = $2 AND name = $3 AND revision = $4', [
          s.accountId, s.region, name, expected,
        ]));
      if (deleted) await exec('DELETE FROM ssm_parameter_versions WHERE account_id = $1 AND region = $2 AND name = $3', [s.accountId, s.region, name]);
      return deleted;
    },
    list: async (s, prefix, after, limit): Promise<Page<ParameterRecord>> => {
      const r = await exec(
        `SELECT ${P_COLUMNS} FROM ssm_parameters WHERE account_id = $1 AND region = $2 AND left(name, $3) = $4 AND name > $5
         ORDER BY name LIMIT $6`,
        [s.accountId, s.region, prefix.length, prefix, after ?? '', limit + 1],
      );
      const rows = r.rows.map(parameterFromRow);
      if (rows.length <= limit) return { items: rows };
      const items = rows.slice(0, limit);
      return { items, next: items[items.length - 1]!.name };
    },
    listDue: async (now, limit) =>
      (await exec(`SELECT ${P_COLUMNS} FROM ssm_parameters WHERE due_at IS NOT NULL AND due_at <= $1 ORDER BY due_at LIMIT $2`, [now, limit]))
        .rows.map(parameterFromRow),
    insertVersion: (v) =>
      insertOnce('parameter version', `INSERT INTO ssm_parameter_versions (${V_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`, [
        v.accountId, v.region, v.name, v.version, v.createdAt, v.value, JSON.stringify(v.labels), JSON.stringify(v.doc),
      ]),
    getVersion: async (s, name, version) => {
      const r = await exec(`SELECT ${V_COLUMNS} FROM ssm_parameter_versions WHERE account_id = $1 AND region = $2 AND name = $3 AND version = $4`, [
        s.accountId, s.region, name, version,
      ]);
      return r.rows[0] && parameterVersionFromRow(r.rows[0]);
    },
    listVersions: async (s, name) =>
      (await exec(`SELECT ${V_COLUMNS} FROM ssm_parameter_versions WHERE account_id = $1 AND region = $2 AND name = $3 ORDER BY version`, [
        s.accountId, s.region, name,
      ])).rows.map(parameterVersionFromRow),
    setLabels: async (s, name, version, labels) =>
      changed(await exec('UPDATE ssm_parameter_versions SET labels = $1 WHERE account_id = $2 AND region = $3 AND name = $4 AND version = $5', [
        JSON.stringify(labels), s.accountId, s.region, name, version,
      ])),
    deleteVersion: async (s, name, version) => {
      await exec('DELETE FROM ssm_parameter_versions WHERE account_id = $1 AND region = $2 AND name = $3 AND version = $4', [
        s.accountId, s.region, name, version,
      ]);
    },
  };
  return { parameters };
}
