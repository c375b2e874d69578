/**
 * The PostgreSQL repositories over one statement runner (`exec`): keys, key materials, aliases, access
 * keys and meta here, the other families in their own files (iam-repos.ts, audit-repo.ts, …). The runner
 * decides where statements go: the pool (autocommit), a transaction's connection or a unit's.
 */
import type { QueryResult } from 'pg';
import type { AccessKeyRecord, Repos } from '../storage.ts';
import { accessKeyFromRow, aliasFromRow, int, keyFromRow, materialFromRow, page, type Row } from '../rows.ts';
import { createPostgresAuditRepos } from './audit-repo.ts';
import type { Session } from './connection.ts';
import { createPostgresCustomKeyStoreRepo } from './custom-key-store-repo.ts';
import { createPostgresIamRepos } from './iam-repos.ts';
import { createPostgresImportRepos } from './import-repo.ts';
import { createPostgresNodeRepos } from './node-repo.ts';
import { createPostgresReplicationRepos } from './replication-repo.ts';
import { insertOnceWith, type Exec } from './insert-once.ts';
import { createPostgresParameterRepo } from './parameter-repo.ts';
import { createPostgresSecretRepos } from './secret-repo.ts';

const KEY_COLUMNS = 'account_id, region, key_id, created_at, state, due_at, revision, doc';
const MATERIAL_COLUMNS = 'account_id, region, key_id, version, created_at, sealed, doc';
const ALIAS_COLUMNS = 'account_id, region, alias_name, target_key_id, created_at, updated_at';
const ACCESS_KEY_COLUMNS = 'access_key_id, account_id, principal_arn, sealed_secret, status, created_at, expires_at, doc';

/**
 * The repos of one transaction (or savepoint) body on `session`: they remember the first statement that
 * failed (PostgreSQL then refuses everything until ROLLBACK, so a body that swallowed the error did not
 * do its writes) and refuse use after the body ended.
 */
export function transactionRepos(session: Session): { repos: Repos; throwIfFailed(): void; end(): void } {
  let failed: { error: unknown } | undefined;
  let open = true;
  const repos = createRepos(async (sql, params) => {
    if (!open) throw new Error('PostgresStorage: transaction repos used after the transaction ended');
    try {
      return await session.query(sql, params);
    } catch (err) {
      failed ??= { error: err };
      throw err;
    }
  });
  return {
    repos,
    throwIfFailed: () => {
      if (failed) throw failed.error;
    },
    end: () => {
      open = false;
    },
  };
}

export function createRepos(exec: Exec): Repos {
  const insertOnce = insertOnceWith(exec);
  const changed = (r: QueryResult<Row>): boolean => (r.rowCount ?? 0) === 1;
  const accessKeyParams = (k: AccessKeyRecord) =>
    [k.accessKeyId, k.accountId, k.principalArn, k.sealedSecret, k.status, k.createdAt, k.expiresAt, JSON.stringify(k.doc)];

  return {
    keys: {
      insert: (k) =>
        insertOnce(
          'key',
          `INSERT INTO keys (${KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
          [k.accountId, k.region, k.keyId, k.createdAt, k.state, k.dueAt, k.revision, JSON.stringify(k.doc)],
        ),
      get: async (s, keyId) => {
        const r = await exec(`SELECT ${KEY_COLUMNS} FROM keys WHERE account_id = $1 AND region = $2 AND key_id = $3`, [
          s.accountId,
          s.region,
          keyId,
        ]);
        return r.rows[0] && keyFromRow(r.rows[0]);
      },
      getForUpdate: async (s, keyId) => {
        const r = await exec(`SELECT ${KEY_COLUMNS} FROM keys WHERE account_id = $1 AND region = $2 AND key_id = $3 FOR UPDATE`, [
          s.accountId,
          s.region,
          keyId,
        ]);
        return r.rows[0] && keyFromRow(r.rows[0]);
      },
      list: async (s, after, limit) => {
        const r = await exec(
          `SELECT ${KEY_COLUMNS} FROM keys WHERE account_id = $1 AND region = $2 AND key_id > $3
           ORDER BY key_id LIMIT $4`,
          [s.accountId, s.region, after ?? '', limit + 1],
        );
        return page(r.rows.map(keyFromRow), limit, (k) => k.keyId);
      },
      update: async (k, expected) =>
        changed(
          await exec(
            `UPDATE keys SET state = $1, due_at = $2, revision = $3, doc = $4
             WHERE account_id = $5 AND region = $6 AND key_id = $7 AND revision = $8`,
            [k.state, k.dueAt, expected + 1, JSON.stringify(k.doc), k.accountId, k.region, k.keyId, expected],
          ),
        ),
      delete: async (s, keyId) => {
        await exec('DELETE FROM keys WHERE account_id = $1 AND region = $2 AND key_id = $3', [s.accountId, s.region, keyId]);
      },
      listDue: async (now, limit) => {
        const r = await exec(
          `SELECT ${KEY_COLUMNS} FROM keys WHERE due_at IS NOT NULL AND due_at <= $1
           ORDER BY due_at, account_id, region, key_id LIMIT $2`,
          [now, limit],
        );
        return r.rows.map(keyFromRow);
      },
      count: async (s) => {
        const r = await exec('SELECT count(*) AS n FROM keys WHERE account_id = $1 AND region = $2', [s.accountId, s.region]);
        return int(r.rows[0]!.n);
      },
    },
    materials: {
      insert: (m) =>
        insertOnce(
          'key material',
          `INSERT INTO key_materials (${MATERIAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
          [m.accountId, m.region, m.keyId, m.version, m.createdAt, m.sealed, JSON.stringify(m.doc)],
        ),
      get: async (s, keyId, version) => {
        const r = await exec(
          `SELECT ${MATERIAL_COLUMNS} FROM key_materials WHERE account_id = $1 AND region = $2 AND key_id = $3 AND version = $4`,
          [s.accountId, s.region, keyId, version],
        );
        return r.rows[0] && materialFromRow(r.rows[0]);
      },
      list: async (s, keyId) => {
        const r = await exec(
          `SELECT ${MATERIAL_COLUMNS} FROM key_materials WHERE account_id = $1 AND region = $2 AND key_id = $3 ORDER BY version`,
          [s.accountId, s.region, keyId],
        );
        return r.rows.map(materialFromRow);
      },
      deleteAll: async (s, keyId) => {
        await exec('DELETE FROM key_materials WHERE account_id = $1 AND region = $2 AND key_id = $3', [s.accountId, s.region, keyId]);
      },
    },
    aliases: {
      insert: (a) =>
        insertOnce(
          'alias',
          `INSERT INTO aliases (${ALIAS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
          [a.accountId, a.region, a.aliasName, a.targetKeyId, a.createdAt, a.updatedAt],
        ),
      get: async (s, name) => {
        const r = await exec(`SELECT ${ALIAS_COLUMNS} FROM aliases WHERE account_id = $1 AND region = $2 AND alias_name = $3`, [
          s.accountId,
          s.region,
          name,
        ]);
        return r.rows[0] && aliasFromRow(r.rows[0]);
      },
      list: async (s, keyId, after, limit) => {
        const r =
          keyId === undefined
            ? await exec(
                `SELECT ${ALIAS_COLUMNS} FROM aliases WHERE account_id = $1 AND region = $2 AND alias_name > $3
                 ORDER BY alias_name LIMIT $4`,
                [s.accountId, s.region, after ?? '', limit + 1],
              )
            : await exec(
                `SELECT ${ALIAS_COLUMNS} FROM aliases
                 WHERE account_id = $1 AND region = $2 AND target_key_id = $3 AND alias_name > $4
                 ORDER BY alias_name LIMIT $5`,
                [s.accountId, s.region, keyId, after ?? '', limit + 1],
              );
        return page(r.rows.map(aliasFromRow), limit, (a) => a.aliasName);
      },
      update: async (s, name, keyId, at) =>
        changed(
          await exec('UPDATE aliases SET target_key_id = $1, updated_at = $2 WHERE account_id = $3 AND region = $4 AND alias_name = $5', [
            keyId,
            at,
            s.accountId,
            s.region,
            name,
          ]),
        ),
      delete: async (s, name) =>
        changed(await exec('DELETE FROM aliases WHERE account_id = $1 AND region = $2 AND alias_name = $3', [s.accountId, s.region, name])),
      deleteForKey: async (s, keyId) => {
        await exec('DELETE FROM aliases WHERE account_id = $1 AND region = $2 AND target_key_id = $3', [s.accountId, s.region, keyId]);
      },
    },
    accessKeys: {
      insert: (k) =>
        insertOnce(
          'access key',
          `INSERT INTO access_keys (${ACCESS_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
          accessKeyParams(k),
        ),
      get: async (id) => {
        const r = await exec(`SELECT ${ACCESS_KEY_COLUMNS} FROM access_keys WHERE access_key_id = $1`, [id]);
        return r.rows[0] && accessKeyFromRow(r.rows[0]);
      },
      upsert: async (k) => {
        await exec(
          `INSERT INTO access_keys (${ACCESS_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (access_key_id) DO UPDATE SET account_id = excluded.account_id, principal_arn = excluded.principal_arn,
             sealed_secret = excluded.sealed_secret, status = excluded.status, created_at = excluded.created_at,
             expires_at = excluded.expires_at, doc = excluded.doc`,
          accessKeyParams(k),
        );
      },
      count: async () => int((await exec('SELECT count(*) AS n FROM access_keys')).rows[0]!.n),
      listForPrincipal: async (arn) =>
        (await exec(`SELECT ${ACCESS_KEY_COLUMNS} FROM access_keys WHERE principal_arn = $1 ORDER BY access_key_id`, [arn])).rows.map(accessKeyFromRow),
      delete: async (id) => changed(await exec('DELETE FROM access_keys WHERE access_key_id = $1', [id])),
    },
    meta: {
      get: async (name) => (await exec('SELECT value FROM meta WHERE name = $1', [name])).rows[0]?.value as string | undefined,
      putIfAbsent: async (name, value) => {
        const inserted = await exec('INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, value]);
        if (changed(inserted)) return value;
        // A separate statement, so a new snapshot: it sees the row of the racing writer whose commit made
        // our INSERT do nothing (a single INSERT … RETURNING / SELECT statement would not).
        const r = await exec('SELECT value FROM meta WHERE name = $1', [name]);
        return r.rows[0]!.value as string;
      },
      compareAndSet: async (name, expected, value) =>
        changed(await exec('UPDATE meta SET value = $3 WHERE name = $1 AND value = $2', [name, expected, value])),
    },
    ...createPostgresIamRepos(exec),
    ...createPostgresAuditRepos(exec),
    ...createPostgresParameterRepo(exec),
    ...createPostgresCustomKeyStoreRepo(exec),
    ...createPostgresSecretRepos(exec),
    ...createPostgresImportRepos(exec),
    ...createPostgresNodeRepos(exec),
    ...createPostgresReplicationRepos(exec),
  };
}
