/** Versioned schema of the SQLite adapter. Append only: never edit a migration that has shipped. */
export const SQLITE_MIGRATIONS: readonly string[] = [
  // 1: foundation
  `
  CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE keys (
    account_id TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL,
    created_at INTEGER NOT NULL, state TEXT NOT NULL, due_at INTEGER, revision INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, key_id)
  ) WITHOUT ROWID;
  CREATE INDEX keys_due ON keys (due_at) WHERE due_at IS NOT NULL;
  CREATE TABLE key_materials (
    account_id TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL, version INTEGER NOT NULL,
    created_at INTEGER NOT NULL, sealed BLOB NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, key_id, version)
  ) WITHOUT ROWID;
  CREATE TABLE aliases (
    account_id TEXT NOT NULL, region TEXT NOT NULL, alias_name TEXT NOT NULL, target_key_id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, alias_name)
  ) WITHOUT ROWID;
  CREATE INDEX aliases_by_key ON aliases (account_id, region, target_key_id);
  CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, principal_arn TEXT NOT NULL,
    sealed_secret BLOB NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER,
    doc TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
];
