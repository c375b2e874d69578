/**
 * The PostgreSQL adapter's connections (postgres-storage.ts has the contract): the `?schema=NAME` URL
 * parameter, which node-postgres failures mean the store is unavailable (a retryable 503), and one
 * checked-out connection that knows whether it may go back to the pool.
 */
import { DatabaseError, type PoolClient, type QueryResult } from 'pg';
import { DuplicateError, StorageUnavailableError } from '../storage.ts';
import type { Row } from '../rows.ts';

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Splits `?schema=NAME` off a PostgreSQL URL. Exported for tests and for tools that need the schema. */
export function parsePostgresUrl(url: string): { connectionString: string; schema: string | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Do not echo the URL: it may hold a password.
    throw new Error('invalid PostgreSQL URL: expected postgres://[user[:password]@]host[:port]/database[?schema=NAME]');
  }
  if (!parsed.searchParams.has('schema')) return { connectionString: url, schema: undefined };
  const schemas = parsed.searchParams.getAll('schema');
  const schema = schemas[0] ?? '';
  if (schemas.length !== 1 || !SCHEMA_NAME.test(schema)) {
    throw new Error('invalid PostgreSQL URL: schema must be one name of letters, digits and underscores (at most 63)');
  }
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}

/**
 * SQLSTATEs after which the same request may well succeed: the connection failed or the server is going
 * away or starting (08xxx, 57P01-57P03, 53300), the connection landed on a read-only standby during a
 * failover (25006), or PostgreSQL aborted the transaction to resolve a conflict (40001, 40P01).
 */
function isRetryableSqlState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '53300' ||
    code === '25006' ||
    code === '40001' ||
    code === '40P01'
  );
}

/**
 * Maps what node-postgres threw. The server reports its errors as DatabaseError with a SQLSTATE; those
 * we cannot retry pass through unchanged. Everything else node-postgres throws at us comes from the
 * socket or the pool (ECONNREFUSED, ECONNRESET, "Connection terminated unexpectedly", connection timeout,
 * pool ended): the store is unavailable.
 */
export function toStorageError(err: unknown): unknown {
  if (err instanceof StorageUnavailableError || err instanceof DuplicateError) return err;
  if (err instanceof DatabaseError) {
    const code = err.code ?? '';
    if (!isRetryableSqlState(code)) return err;
    return new StorageUnavailableError(`PostgreSQL unavailable: ${err.message} (SQLSTATE ${code})`, { cause: err });
  }
  if (err instanceof Error) {
    const code = 'code' in err && typeof err.code === 'string' ? ` (${err.code})` : '';
    return new StorageUnavailableError(`PostgreSQL unavailable: ${err.message}${code}`, { cause: err });
  }
  return err;
}

/** One checked-out connection. Remembers whether it may go back to the pool or must be destroyed. */
export class Session {
  #broken: Error | undefined;
  readonly #client: PoolClient;
  // While a client is checked out the pool does not listen for its errors; an 'error' event without a
  // listener would crash the process (e.g. the server ends the connection between two statements).
  readonly #onError = (err: Error): void => {
    this.#broken ??= err;
  };

  constructor(client: PoolClient) {
    this.#client = client;
    client.on('error', this.#onError);
  }

  async query(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
    try {
      return await this.#client.query<Row>(sql, params as unknown[] | undefined);
    } catch (err) {
      const mapped = toStorageError(err);
      if (mapped instanceof StorageUnavailableError) this.#broken ??= mapped;
      throw mapped;
    }
  }

  async rollback(): Promise<void> {
    try {
      await this.query('ROLLBACK');
    } catch (err) {
      // The connection is in an unknown state: never hand it out again.
      this.#broken ??= err instanceof Error ? err : new Error('ROLLBACK failed');
    }
  }

  release(): void {
    this.#client.off('error', this.#onError);
    // A truthy argument makes the pool destroy the connection instead of reusing it.
    this.#client.release(this.#broken);
  }
}
