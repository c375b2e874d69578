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
];
