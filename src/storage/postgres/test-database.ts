/**
 * Test helper (imported only by tests): finds the PostgreSQL server tests may use and hands out fresh
 * schemas on it, so the adapter's tests and the end-to-end tests (whole server on PostgreSQL) share one
 * way of doing it.
 *
 * Server: TRENT_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test (trust auth).
 * Unreachable: the suite is skipped with a loud warning; when CI is set it fails instead, so a broken
 * CI database can never pass as green.
 *
 * Usage:
 *   onPostgres('PostgreSQL contract suite', (base) => {
 *     after(dropTestSchemas);
 *     runStorageContract('postgres', async () => { const s = new PostgresStorage(await freshSchemaUrl(base)); … });
 *   });
 */
import { describe, test } from 'node:test';
import { Client, escapeIdentifier } from 'pg';
import type { Storage } from '../storage.ts';

export const DEFAULT_POSTGRES_TEST_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The server the tests are pointed at (it may not be reachable). */
export function postgresTestBaseUrl(env: Record<string, string | undefined> = process.env): string {
  return env.TRENT_TEST_POSTGRES_URL || DEFAULT_POSTGRES_TEST_URL;
}

/** The URL with any password replaced, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparsable URL>';
  }
}

async function withClient<T>(url: string, body: (c: Client) => Promise<T>): Promise<T> {
  // 10 s: a refused connection fails at once anyway; a server slow to accept under load is still reachable.
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined); // a dying test connection must not crash the test process
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

let probe: Promise<{ url: string; error?: string }> | undefined;

/** Connects once (memoised) to the test server; `error` says why it could not. */
export function probePostgres(): Promise<{ url: string; error?: string }> {
  probe ??= (async () => {
    const url = postgresTestBaseUrl();
    try {
      await withClient(url, (c) => c.query('SELECT 1'));
      return { url };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
      return { url, error: code && !message.includes(code) ? `${message} (${code})` : message };
    }
  })();
  return probe;
}

/** The test server's URL if it answers, else undefined. */
export async function postgresTestUrl(): Promise<string | undefined> {
  const p = await probePostgres();
  return p.error === undefined ? p.url : undefined;
}

/**
 * A suite named `title` holding `register(baseUrl)`'s tests when the test server answers; otherwise one
 * test that is skipped (with a console warning) or, when CI is set, fails.
 *
 * A suite, not a top-level await: node:test runs a file's root `after` hooks as soon as the tests
 * registered before the first top-level await have finished, which would drop schemas still in use.
 * Register `after(dropTestSchemas)` inside `register`.
 */
export function onPostgres(title: string, register: (baseUrl: string) => void): void {
  describe(title, async () => {
    const p = await probePostgres();
    if (p.error === undefined) {
      register(p.url);
      return;
    }
    const unreachable = `PostgreSQL not reachable at ${redactUrl(p.url)} (${p.error})`;
    if (process.env.CI) {
      test('PostgreSQL must be reachable when CI is set', () => {
        throw new Error(`${unreachable}: the ${title} may not be skipped when CI is set; start PostgreSQL or set TRENT_TEST_POSTGRES_URL`);
      });
      return;
    }
    const message = `${unreachable}: skipping the ${title}`;
    console.warn(`\n*** ${message}. Set TRENT_TEST_POSTGRES_URL or start PostgreSQL to run it. ***\n`);
    test(title, { skip: message }, () => undefined);
  });
}

const created = new Map<string, string>(); // schema name → base URL
const runTag = `${process.pid}_${Date.now().toString(36)}`;
let counter = 0;

/**
 * A URL for a schema no one has used: `?schema=trent_test_<pid>_<time>_<n>` on `base`. The schema is
 * created here (CREATE SCHEMA fails rather than reuse a leftover) unless `create` is false, which leaves
 * it for PostgresStorage.migrate() to create. Either way dropTestSchemas() drops it.
 */
export async function freshSchemaUrl(base: string, { create = true }: { create?: boolean } = {}): Promise<string> {
  const schema = `trent_test_${runTag}_${counter++}`;
  created.set(schema, base);
  if (create) await withClient(base, (c) => c.query(`CREATE SCHEMA ${escapeIdentifier(schema)}`));
  const u = new URL(base);
  u.searchParams.set('schema', schema);
  return u.toString();
}

/** Drops every schema freshSchemaUrl handed out in this process. */
export async function dropTestSchemas(): Promise<void> {
  const byBase = new Map<string, string[]>();
  for (const [schema, base] of created) byBase.set(base, [...(byBase.get(base) ?? []), schema]);
  created.clear();
  for (const [base, schemas] of byBase) {
    await withClient(base, async (c) => {
      for (const schema of schemas) await c.query(`DROP SCHEMA IF EXISTS ${escapeIdentifier(schema)} CASCADE`);
    });
  }
}

/**
 * Tests of the audit chain lock: holds `storage`'s chain lock (AuditRepo.lockHead) in an open transaction
 * until `release()`; resolves once it is held.
 */
export async function holdChainLock(storage: Storage): Promise<{ release: () => Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const holding = storage.transaction(async (tx) => {
    await tx.audit.lockHead();
    locked();
    await released;
  });
  await isLocked;
  return { release: async () => { release(); await holding; } };
}

/**
 * Resolves once a session waits for `schema`'s audit chain lock, as pg_locks shows it (seen, not guessed
 * from time); fails with `message` if `finished()` turns true first (the waiter went through the lock).
 */
export async function untilWaitingForChainLock(db: Client, schema: string, finished: () => boolean, message: string): Promise<void> {
  const oid = Number((await db.query('SELECT to_regclass($1)::oid AS oid', [`${schema}.audit_events`])).rows[0].oid);
  for (;;) {
    const r = await db.query(
      // The two-int advisory key of src/storage/postgres/audit-repo.ts: classid, objid = the table's oid, objsubid 2.
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = 1635083369 AND objid = $1 AND objsubid = 2",
      [oid],
    );
    if (r.rows[0].n > 0) return;
    if (finished()) throw new Error(message);
    await new Promise((r) => setTimeout(r, 20));
  }
}
