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
  // 10: tables whose rows usually hold more than ~1,000 bytes (a key policy, a sealed private key, a secret
  // or parameter value, an audit record, a CA certificate) become ordinary rowid tables. A WITHOUT ROWID
  // table is a b-tree of whole rows, and at 4 KiB pages SQLite keeps at most ~1,000 bytes of a row in its
  // page; the rest spills to an overflow page that the key comparisons of every lookup read in full. One
  // point read of a 1.9 KB row: 16.8 against 7.6 µs at 1,000 rows, 27.5 against 10.6 µs at 20,000 rows
  // (bench/micro/row-format.ts). Tables of short rows stay WITHOUT ROWID: there one b-tree instead of an
  // index and a table is cheaper after another connection's commit (20.8 against 31.8 µs at 20,000 rows of
  // 300 bytes). The test declares each table's format (migrations.test.ts).
  `
  CREATE TABLE keys_rowid (
    account_id TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL,
    created_at INTEGER NOT NULL, state TEXT NOT NULL, due_at INTEGER, revision INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, key_id)
  );
  INSERT INTO keys_rowid (account_id, region, key_id, created_at, state, due_at, revision, doc) SELECT account_id, region, key_id, created_at, state, due_at, revision, doc FROM keys;
  DROP TABLE keys;
  ALTER TABLE keys_rowid RENAME TO keys;
  CREATE INDEX keys_due ON keys (due_at) WHERE due_at IS NOT NULL;
  CREATE TABLE key_materials_rowid (
    account_id TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL, version INTEGER NOT NULL,
    created_at INTEGER NOT NULL, sealed BLOB NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, key_id, version)
  );
  INSERT INTO key_materials_rowid (account_id, region, key_id, version, created_at, sealed, doc) SELECT account_id, region, key_id, version, created_at, sealed, doc FROM key_materials;
  DROP TABLE key_materials;
  ALTER TABLE key_materials_rowid RENAME TO key_materials;
  CREATE TABLE iam_principals_rowid (
    arn TEXT NOT NULL PRIMARY KEY, account_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    created_at INTEGER NOT NULL, revision INTEGER NOT NULL, doc TEXT NOT NULL
  );
  INSERT INTO iam_principals_rowid (arn, account_id, kind, name, created_at, revision, doc) SELECT arn, account_id, kind, name, created_at, revision, doc FROM iam_principals;
  DROP TABLE iam_principals;
  ALTER TABLE iam_principals_rowid RENAME TO iam_principals;
  CREATE INDEX iam_principals_by_account ON iam_principals (account_id, arn);
  CREATE TABLE audit_intents_rowid (
    intent_id TEXT NOT NULL PRIMARY KEY, created_at INTEGER NOT NULL, record TEXT NOT NULL
  );
  INSERT INTO audit_intents_rowid (intent_id, created_at, record) SELECT intent_id, created_at, record FROM audit_intents;
  DROP TABLE audit_intents;
  ALTER TABLE audit_intents_rowid RENAME TO audit_intents;
  CREATE TABLE ssm_parameter_versions_rowid (
    account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
    created_at INTEGER NOT NULL, value TEXT NOT NULL, labels TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, name, version)
  );
  INSERT INTO ssm_parameter_versions_rowid (account_id, region, name, version, created_at, value, labels, doc) SELECT account_id, region, name, version, created_at, value, labels, doc FROM ssm_parameter_versions;
  DROP TABLE ssm_parameter_versions;
  ALTER TABLE ssm_parameter_versions_rowid RENAME TO ssm_parameter_versions;
  CREATE TABLE sm_secret_versions_rowid (
    secret_arn TEXT NOT NULL, version_id TEXT NOT NULL, created_at INTEGER NOT NULL,
    encrypted_data_key BLOB NOT NULL, sealed_value BLOB NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (secret_arn, version_id)
  );
  INSERT INTO sm_secret_versions_rowid (secret_arn, version_id, created_at, encrypted_data_key, sealed_value, doc) SELECT secret_arn, version_id, created_at, encrypted_data_key, sealed_value, doc FROM sm_secret_versions;
  DROP TABLE sm_secret_versions;
  ALTER TABLE sm_secret_versions_rowid RENAME TO sm_secret_versions;
  CREATE TABLE kms_import_parameters_rowid (
    account_id TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL, token_id TEXT NOT NULL,
    created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, sealed BLOB NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, key_id, token_id)
  );
  INSERT INTO kms_import_parameters_rowid (account_id, region, key_id, token_id, created_at, expires_at, sealed, doc) SELECT account_id, region, key_id, token_id, created_at, expires_at, sealed, doc FROM kms_import_parameters;
  DROP TABLE kms_import_parameters;
  ALTER TABLE kms_import_parameters_rowid RENAME TO kms_import_parameters;
  CREATE INDEX kms_import_parameters_expiry ON kms_import_parameters (expires_at);
  CREATE TABLE replication_links_rowid (
    link_id TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL UNIQUE, endpoint TEXT NOT NULL, ca_pem TEXT NOT NULL, regions TEXT NOT NULL,
    sealed_secret BLOB NOT NULL, sealed_peer_header_key BLOB, created_at INTEGER NOT NULL,
    last_seq INTEGER NOT NULL, last_applied_seq INTEGER NOT NULL
  );
  INSERT INTO replication_links_rowid (link_id, name, endpoint, ca_pem, regions, sealed_secret, sealed_peer_header_key, created_at, last_seq, last_applied_seq) SELECT link_id, name, endpoint, ca_pem, regions, sealed_secret, sealed_peer_header_key, created_at, last_seq, last_applied_seq FROM replication_links;
  DROP TABLE replication_links;
  ALTER TABLE replication_links_rowid RENAME TO replication_links;
  CREATE TABLE replication_outbox_rowid (
    link_id TEXT NOT NULL, seq INTEGER NOT NULL, created_at INTEGER NOT NULL, delivered_at INTEGER, doc TEXT NOT NULL,
    PRIMARY KEY (link_id, seq)
  );
  INSERT INTO replication_outbox_rowid (link_id, seq, created_at, delivered_at, doc) SELECT link_id, seq, created_at, delivered_at, doc FROM replication_outbox;
  DROP TABLE replication_outbox;
  ALTER TABLE replication_outbox_rowid RENAME TO replication_outbox;
  `,
];
