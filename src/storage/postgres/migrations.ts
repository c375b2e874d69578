/**
 * Versioned schema of the PostgreSQL adapter. Append only: never edit a migration that has shipped.
 * Migration N is applied once, recorded as version N in schema_migrations (see PostgresStorage.migrate).
 *
 * The tables and columns match the SQLite adapter's migrations one for one, in PostgreSQL types:
 * - epoch milliseconds and revisions are BIGINT (node-postgres returns them as strings; the adapter
 *   converts them to numbers);
 * - sealed blobs are BYTEA;
 * - `doc` is TEXT holding JSON, not JSONB: storage treats it as opaque, and JSONB would reorder keys and
 *   reject some strings JSON.stringify writes (`\u0000`, lone surrogates), so a doc would not round-trip.
 * - identifier columns are `COLLATE "C"`: they compare and sort as bytes, like SQLite's default BINARY
 *   collation, whatever the database's default collation is. Pagination resumes with `key_id > after`,
 *   so both adapters must agree on the order.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  // 1: foundation
  `
  CREATE TABLE meta (name TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE keys (
    account_id TEXT COLLATE "C" NOT NULL, region TEXT COLLATE "C" NOT NULL, key_id TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL, state TEXT NOT NULL, due_at BIGINT, revision BIGINT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, key_id)
  );
  CREATE INDEX keys_due ON keys (due_at) WHERE due_at IS NOT NULL;
  CREATE TABLE key_materials (
    account_id TEXT COLLATE "C" NOT NULL, region TEXT COLLATE "C" NOT NULL, key_id TEXT COLLATE "C" NOT NULL,
    version INTEGER NOT NULL,
    created_at BIGINT NOT NULL, sealed BYTEA NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, key_id, version)
  );
  CREATE TABLE aliases (
    account_id TEXT COLLATE "C" NOT NULL, region TEXT COLLATE "C" NOT NULL, alias_name TEXT COLLATE "C" NOT NULL,
    target_key_id TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, alias_name)
  );
  CREATE INDEX aliases_by_key ON aliases (account_id, region, target_key_id);
  CREATE TABLE access_keys (
    access_key_id TEXT COLLATE "C" PRIMARY KEY, account_id TEXT COLLATE "C" NOT NULL, principal_arn TEXT NOT NULL,
    sealed_secret BYTEA NOT NULL, status TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT,
    doc TEXT NOT NULL
  );
  `,
  // 2: IAM — principals (users, roles) and KMS grants
  `
  CREATE TABLE iam_principals (
    arn TEXT COLLATE "C" PRIMARY KEY, account_id TEXT COLLATE "C" NOT NULL, kind TEXT NOT NULL, name TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL, revision BIGINT NOT NULL, doc TEXT NOT NULL
  );
  CREATE INDEX iam_principals_by_account ON iam_principals (account_id, arn);
  CREATE TABLE kms_grants (
    grant_id TEXT COLLATE "C" PRIMARY KEY, account_id TEXT COLLATE "C" NOT NULL, region TEXT COLLATE "C" NOT NULL,
    key_id TEXT COLLATE "C" NOT NULL, grantee_principal TEXT COLLATE "C" NOT NULL, retiring_principal TEXT COLLATE "C",
    name TEXT COLLATE "C", created_at BIGINT NOT NULL, doc TEXT NOT NULL
  );
  CREATE INDEX kms_grants_by_key ON kms_grants (account_id, region, key_id);
  CREATE INDEX kms_grants_by_retiring ON kms_grants (retiring_principal) WHERE retiring_principal IS NOT NULL;
  `,
  // 3: audit — hash-chained events, write-ahead intents, signed digests (src/storage/audit-repo.ts)
  `
  CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY, event_id TEXT COLLATE "C" NOT NULL UNIQUE, event_time BIGINT NOT NULL,
    event_name TEXT COLLATE "C" NOT NULL, event_source TEXT COLLATE "C" NOT NULL,
    recipient_account TEXT COLLATE "C" NOT NULL, aws_region TEXT COLLATE "C" NOT NULL,
    username TEXT COLLATE "C", caller_access_key TEXT COLLATE "C", read_only BOOLEAN NOT NULL, error_code TEXT,
    resource_names TEXT NOT NULL, resource_types TEXT NOT NULL,
    record TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
  );
  CREATE INDEX audit_events_by_time ON audit_events (event_time);
  CREATE TABLE audit_intents (intent_id TEXT COLLATE "C" PRIMARY KEY, created_at BIGINT NOT NULL, record TEXT NOT NULL);
  CREATE TABLE audit_digests (
    digest_seq BIGINT PRIMARY KEY, created_at BIGINT NOT NULL, last_event_seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL, record TEXT NOT NULL, signature TEXT NOT NULL
  );
  `,
  // 4: parameters — SSM Parameter Store (src/storage/parameter-repo.ts)
  `
  CREATE TABLE ssm_parameters (
    account_id TEXT COLLATE "C" NOT NULL, region TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL,
    version INTEGER NOT NULL, revision BIGINT NOT NULL, due_at BIGINT, created_at BIGINT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, name)
  );
  CREATE INDEX ssm_parameters_due ON ssm_parameters (due_at) WHERE due_at IS NOT NULL;
  CREATE TABLE ssm_parameter_versions (
    account_id TEXT COLLATE "C" NOT NULL, region TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL,
    version INTEGER NOT NULL, created_at BIGINT NOT NULL, value TEXT NOT NULL, labels TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, name, version)
  );
  `,
  // 5: secrets — Secrets Manager secrets and their envelope-encrypted versions (src/storage/secret-repo.ts)
  `
  CREATE TABLE sm_secrets (
    account_id TEXT COLLATE "C" NOT NULL, region TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL,
    arn TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at BIGINT NOT NULL, due_at BIGINT, revision BIGINT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, name)
  );
  CREATE INDEX sm_secrets_due ON sm_secrets (due_at) WHERE due_at IS NOT NULL;
  CREATE TABLE sm_secret_versions (
    secret_arn TEXT COLLATE "C" NOT NULL, version_id TEXT COLLATE "C" NOT NULL, created_at BIGINT NOT NULL,
    encrypted_data_key BYTEA NOT NULL, sealed_value BYTEA NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (secret_arn, version_id)
  );
  `,
  // 6: custom key stores — KMS custom key stores on PKCS#11 HSMs (src/storage/custom-key-store-repo.ts)
  `
  CREATE TABLE kms_custom_key_stores (
    id TEXT COLLATE "C" PRIMARY KEY, account_id TEXT COLLATE "C" NOT NULL, region TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL, cluster_id TEXT COLLATE "C" NOT NULL UNIQUE, created_at BIGINT NOT NULL,
    revision BIGINT NOT NULL, sealed_password BYTEA NOT NULL, doc TEXT NOT NULL,
    UNIQUE (account_id, region, name)
  );
  CREATE INDEX kms_custom_key_stores_by_scope ON kms_custom_key_stores (account_id, region, id);
  `,
  // 7: import parameters — sealed wrapping keys of GetParametersForImport (src/storage/import-repo.ts)
  `
  CREATE TABLE kms_import_parameters (
    account_id TEXT COLLATE "C" NOT NULL, region TEXT COLLATE "C" NOT NULL, key_id TEXT COLLATE "C" NOT NULL,
    token_id TEXT COLLATE "C" NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, sealed BYTEA NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account_id, region, key_id, token_id)
  );
  CREATE INDEX kms_import_parameters_expiry ON kms_import_parameters (expires_at);
  `,
  // 8: node heartbeats — one row per running process, for request-quota shares (src/storage/node-repo.ts)
  `
  CREATE TABLE trent_nodes (node_id TEXT COLLATE "C" PRIMARY KEY, seen_at BIGINT NOT NULL);
  `,
  // 9: replication — links to peer deployments and the ordered outbox of records for each (src/storage/replication-repo.ts)
  `
  CREATE TABLE replication_links (
    link_id TEXT COLLATE "C" PRIMARY KEY, name TEXT COLLATE "C" NOT NULL UNIQUE, endpoint TEXT NOT NULL, ca_pem TEXT NOT NULL,
    regions TEXT NOT NULL, sealed_secret BYTEA NOT NULL, sealed_peer_header_key BYTEA, created_at BIGINT NOT NULL,
    last_seq BIGINT NOT NULL, last_applied_seq BIGINT NOT NULL
  );
  CREATE TABLE replication_outbox (
    link_id TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL, created_at BIGINT NOT NULL, delivered_at BIGINT, doc TEXT NOT NULL,
    PRIMARY KEY (link_id, seq)
  );
  `,
  // 10: the audit group commit in one statement (audit-repo.ts, appendBatch). Takes the chain's writer
  // lock — keyed by this schema's audit_events table, so deployments in other schemas of the database do
  // not wait for each other — and writes the batch only if the head is still the one Trent chained its
  // events onto; otherwise writes nothing and returns the head it found. Trent computes every hash: the
  // function only compares the head, so the database never decides a link of the chain. Called as one
  // statement it is its own transaction (no BEGIN, no COMMIT, no session state: PgBouncer transaction mode).
  `
  CREATE FUNCTION trent_audit_append(
    p_seq BIGINT[], p_event_id TEXT[], p_event_time BIGINT[], p_event_name TEXT[], p_event_source TEXT[],
    p_recipient_account TEXT[], p_aws_region TEXT[], p_username TEXT[], p_caller_access_key TEXT[], p_read_only BOOLEAN[],
    p_error_code TEXT[], p_resource_names TEXT[], p_resource_types TEXT[], p_record TEXT[], p_prev_hash TEXT[], p_hash TEXT[],
    p_intent_id TEXT[], p_intent_created_at BIGINT[], p_intent_record TEXT[], p_cleared_intent TEXT[],
    OUT written BOOLEAN, OUT head_seq BIGINT, OUT head_hash TEXT
  ) LANGUAGE plpgsql AS $fn$
  BEGIN
    written := true;
    IF cardinality(p_seq) > 0 THEN
      -- The same key as lockHead(). Each statement below takes a new snapshot (READ COMMITTED, a VOLATILE
      -- function), so the head read after the lock sees the batch that held it before.
      PERFORM pg_advisory_xact_lock(1635083369, 'audit_events'::regclass::oid::int4);
      SELECT seq, hash INTO head_seq, head_hash FROM audit_events ORDER BY seq DESC LIMIT 1;
      IF NOT FOUND THEN
        -- Every event pruned: the chain goes on from the last digest (which pruning always writes).
        SELECT last_event_seq, last_hash INTO head_seq, head_hash FROM audit_digests ORDER BY digest_seq DESC LIMIT 1;
        IF NOT FOUND THEN
          head_seq := 0;
          head_hash := '';
        END IF;
      END IF;
      IF head_seq <> p_seq[1] - 1 OR head_hash <> p_prev_hash[1] THEN
        written := false;
        RETURN;
      END IF;
    END IF;
    IF cardinality(p_intent_id) > 0 THEN
      INSERT INTO audit_intents (intent_id, created_at, record) SELECT * FROM unnest(p_intent_id, p_intent_created_at, p_intent_record);
    END IF;
    IF cardinality(p_seq) > 0 THEN
      INSERT INTO audit_events (seq, event_id, event_time, event_name, event_source, recipient_account, aws_region, username,
        caller_access_key, read_only, error_code, resource_names, resource_types, record, prev_hash, hash)
      SELECT * FROM unnest(p_seq, p_event_id, p_event_time, p_event_name, p_event_source, p_recipient_account, p_aws_region,
        p_username, p_caller_access_key, p_read_only, p_error_code, p_resource_names, p_resource_types, p_record, p_prev_hash, p_hash);
      head_seq := p_seq[cardinality(p_seq)];
      head_hash := p_hash[cardinality(p_hash)];
    END IF;
    IF cardinality(p_cleared_intent) > 0 THEN
      DELETE FROM audit_intents WHERE intent_id = ANY(p_cleared_intent);
    END IF;
  END
  $fn$;
  `,
];
