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
  // 2: IAM — principals (users, roles) and KMS grants
  `
  CREATE TABLE iam_principals (
    arn TEXT PRIMARY KEY, account_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    created_at INTEGER NOT NULL, revision INTEGER NOT NULL, doc TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX iam_principals_by_account ON iam_principals (account_id, arn);
  CREATE TABLE kms_grants (
    grant_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL,
    grantee_principal TEXT NOT NULL, retiring_principal TEXT, name TEXT, created_at INTEGER NOT NULL, doc TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX kms_grants_by_key ON kms_grants (account_id, region, key_id);
  CREATE INDEX kms_grants_by_retiring ON kms_grants (retiring_principal) WHERE retiring_principal IS NOT NULL;
  `,
  // 3: audit — hash-chained events, write-ahead intents, signed digests (src/storage/audit-repo.ts)
  `
  CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, event_time INTEGER NOT NULL,
    event_name TEXT NOT NULL, event_source TEXT NOT NULL, recipient_account TEXT NOT NULL, aws_region TEXT NOT NULL,
    username TEXT, caller_access_key TEXT, read_only INTEGER NOT NULL, error_code TEXT,
    resource_names TEXT NOT NULL, resource_types TEXT NOT NULL,
    record TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
  );
  CREATE INDEX audit_events_by_time ON audit_events (event_time);
  CREATE TABLE audit_intents (intent_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, record TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE audit_digests (
    digest_seq INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, last_event_seq INTEGER NOT NULL,
    last_hash TEXT NOT NULL, record TEXT NOT NULL, signature TEXT NOT NULL
  );
  `,
  // 4: parameters — SSM Parameter Store (src/storage/parameter-repo.ts)
  `
  CREATE TABLE ssm_parameters (
    account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
    revision INTEGER NOT NULL, due_at INTEGER, created_at INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, name)
  ) WITHOUT ROWID;
  CREATE INDEX ssm_parameters_due ON ssm_parameters (due_at) WHERE due_at IS NOT NULL;
  CREATE TABLE ssm_parameter_versions (
    account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
    created_at INTEGER NOT NULL, value TEXT NOT NULL, labels TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, name, version)
  ) WITHOUT ROWID;
  `,
  // 5: secrets — Secrets Manager secrets and their envelope-encrypted versions (src/storage/secret-repo.ts)
  `
  CREATE TABLE sm_secrets (
    account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL, due_at INTEGER, revision INTEGER NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, name)
  ) WITHOUT ROWID;
  CREATE INDEX sm_secrets_due ON sm_secrets (due_at) WHERE due_at IS NOT NULL;
  CREATE TABLE sm_secret_versions (
    secret_arn TEXT NOT NULL, version_id TEXT NOT NULL, created_at INTEGER NOT NULL,
    encrypted_data_key BLOB NOT NULL, sealed_value BLOB NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (secret_arn, version_id)
  ) WITHOUT ROWID;
  `,
  // 6: custom key stores — KMS custom key stores on PKCS#11 HSMs (src/storage/custom-key-store-repo.ts)
  `
  CREATE TABLE kms_custom_key_stores (
    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
    cluster_id TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, revision INTEGER NOT NULL,
    sealed_password BLOB NOT NULL, doc TEXT NOT NULL,
    UNIQUE (account_id, region, name)
  ) WITHOUT ROWID;
  CREATE INDEX kms_custom_key_stores_by_scope ON kms_custom_key_stores (account_id, region, id);
  `,
  // 7: import parameters — sealed wrapping keys of GetParametersForImport (src/storage/import-repo.ts)
  `
  CREATE TABLE kms_import_parameters (
    account_id TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL, token_id TEXT NOT NULL,
    created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, sealed BLOB NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, key_id, token_id)
  ) WITHOUT ROWID;
  CREATE INDEX kms_import_parameters_expiry ON kms_import_parameters (expires_at);
  `,
  // 8: node heartbeats — one row per running process, for request-quota shares (src/storage/node-repo.ts)
  `
  CREATE TABLE trent_nodes (node_id TEXT PRIMARY KEY, seen_at INTEGER NOT NULL) WITHOUT ROWID;
  `,
  // 9: replication — links to peer deployments and the ordered outbox of records for each (src/storage/replication-repo.ts)
  `
  CREATE TABLE replication_links (
    link_id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, endpoint TEXT NOT NULL, ca_pem TEXT NOT NULL, regions TEXT NOT NULL,
    sealed_secret BLOB NOT NULL, sealed_peer_header_key BLOB, created_at INTEGER NOT NULL,
    last_seq INTEGER NOT NULL, last_applied_seq INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE replication_outbox (
    link_id TEXT NOT NULL, seq INTEGER NOT NULL, created_at INTEGER NOT NULL, delivered_at INTEGER, doc TEXT NOT NULL,
    PRIMARY KEY (link_id, seq)
  ) WITHOUT ROWID;
  `,
];
