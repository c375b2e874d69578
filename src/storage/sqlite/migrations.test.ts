/**
 * The SQLite schema's migrations: the row format every table has (declared here), migration 10 (tables
 * whose rows usually exceed ~1 KB rebuilt as rowid tables) keeping every row, column and index of a
 * database made by migrations 1–9, and several processes opening one new file at once finding the schema
 * applied exactly once — and opening at all while another process holds the new file's write lock.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from './migrations.ts';
import { SqliteStorage } from './sqlite-storage.ts';

const dir = mkdtempSync(join(tmpdir(), 'trent-migrations-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `db-${n++}.db`);

/**
 * The tables kept WITHOUT ROWID, each with why: its rows stay well below the ~1,000 bytes past which
 * such a row spills to an overflow page, and there one b-tree reads faster than an index and a table
 * (migration 10). Every other table holds rows that are usually longer and is a rowid table. A new
 * table is a rowid table unless it is added here.
 */
const WITHOUT_ROWID = new Map([
  ['aliases', 'a name and a key id'],
  ['trent_nodes', 'a node id and a time'],
  ['access_keys', 'an id, an ARN and a sealed 40-byte secret (~200 bytes)'],
  ['kms_grants', 'a grant: principals, operations and constraints (a few hundred bytes)'],
  ['ssm_parameters', 'the name, its latest version and tags (the value is in ssm_parameter_versions)'],
  ['sm_secrets', "the secret's metadata and version stages (~600 bytes; the values are in sm_secret_versions)"],
  ['kms_custom_key_stores', 'an id, names and a sealed password'],
]);

type Row = Record<string, unknown>;

function tables(db: Database.Database): { name: string; sql: string }[] {
  return db.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string; sql: string }[];
}

/** A table's columns, and its indexes by what they index (autoindex names follow the table's history). */
function shape(db: Database.Database, table: string): unknown {
  const columns = db.prepare(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid`).all(table);
  const indexes = (db.prepare('SELECT name, "unique", origin, partial FROM pragma_index_list(?)').all(table) as Row[])
    .map((ix) => {
      const cols = (db.prepare('SELECT name FROM pragma_index_info(?) ORDER BY seqno').all(ix.name) as Row[]).map((c) => c.name);
      const where = ix.partial ? (db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?").get(ix.name) as Row).sql : null;
      return `${ix.unique ? 'unique ' : ''}${ix.origin} (${cols.join(', ')})${where ? ` ${String(where).replace(/^.* WHERE /s, 'WHERE ')}` : ''}`;
    })
    .sort();
  return { columns, indexes };
}

function migrateTo(path: string, version: number): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  for (let v = 1; v <= version; v++) {
    db.exec(SQLITE_MIGRATIONS[v - 1]!);
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(v, Date.now());
  }
  return db;
}

/** Two rows per table, one of them longer than a page (so it spilled to overflow pages before). */
function fill(db: Database.Database): void {
  for (const { name } of tables(db)) {
    if (name === 'schema_migrations') continue;
    const columns = db.prepare('SELECT name, type FROM pragma_table_info(?) ORDER BY cid').all(name) as { name: string; type: string }[];
    for (const size of [10, 5_000]) {
      const values = columns.map((c, i) =>
        c.type === 'INTEGER' ? 1_000 * size + i : c.type === 'BLOB' ? Buffer.alloc(size, i + 1) : `${name}.${c.name}.${size}.`.padEnd(size, 'x'),
      );
      db.prepare(`INSERT INTO ${name} VALUES (${columns.map(() => '?').join(', ')})`).run(...values);
    }
  }
}

function contents(db: Database.Database): Record<string, Row[]> {
  const out: Record<string, Row[]> = {};
  for (const { name } of tables(db)) {
    if (name === 'schema_migrations') continue;
    // Ordered by every column: the rows, not the order a table's b-tree keeps them in.
    const cols = (db.prepare('SELECT name FROM pragma_table_info(?) ORDER BY cid').all(name) as Row[]).map((c) => c.name);
    out[name] = db.prepare(`SELECT * FROM ${name} ORDER BY ${cols.join(', ')}`).all() as Row[];
  }
  return out;
}

describe('SQLite migrations', () => {
  it('leave WITHOUT ROWID only the tables declared for it', async () => {
    const path = freshPath();
    const store = new SqliteStorage(path);
    await store.migrate();
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      const all = tables(db);
      assert.ok(all.length > 10, 'the schema has its tables');
      for (const { name, sql } of all) {
        assert.equal(/WITHOUT ROWID/i.test(sql), WITHOUT_ROWID.has(name), `${name}: ${WITHOUT_ROWID.has(name) ? 'WITHOUT ROWID' : 'a rowid table'} expected`);
      }
    } finally {
      db.close();
    }
  });

  it('migration 10 keeps every row, column and index of a database made by migrations 1–9', async () => {
    assert.equal(SQLITE_MIGRATIONS.length >= 10, true);
    const path = freshPath();
    const before = migrateTo(path, 9);
    fill(before);
    const rows = contents(before);
    const shapes = Object.fromEntries(tables(before).map((t) => [t.name, shape(before, t.name)]));
    const rebuilt = tables(before).filter((t) => /WITHOUT ROWID/i.test(t.sql) && !WITHOUT_ROWID.has(t.name)).map((t) => t.name);
    assert.ok(rebuilt.includes('ssm_parameter_versions') && rebuilt.includes('keys'), 'the test starts from the WITHOUT ROWID tables');
    before.close();

    const store = new SqliteStorage(path);
    await store.migrate();
    await store.close();

    const db = new Database(path, { readonly: true });
    try {
      assert.deepEqual(tables(db).map((t) => t.name), Object.keys(shapes), 'the same tables, none left over');
      for (const name of Object.keys(shapes)) assert.deepEqual(shape(db, name), shapes[name], `${name}: same columns and indexes`);
      assert.deepEqual(contents(db), rows, 'every row unchanged');
      for (const name of rebuilt) assert.doesNotMatch(tables(db).find((t) => t.name === name)!.sql, /WITHOUT ROWID/i, name);
      assert.equal((db.prepare('PRAGMA integrity_check').get() as Row).integrity_check, 'ok');
      // Constraints still hold on the rebuilt tables: a link's unique name, a primary key's NOT NULL.
      const writer = new Database(path);
      try {
        const link = rows.replication_links![0]!;
        assert.throws(() => writer.prepare("INSERT INTO replication_links VALUES ('other', ?, 'e', 'c', 'r', x'00', NULL, 1, 0, 0)").run(link.name), /UNIQUE/);
        assert.throws(() => writer.prepare("INSERT INTO audit_intents VALUES (NULL, 1, 'r')").run(), /NOT NULL/);
      } finally {
        writer.close();
      }
    } finally {
      db.close();
    }
  });

  it('opening a new file while another process holds its write lock waits for the lock instead of failing with SQLITE_BUSY', async () => {
    // On a file not yet in WAL mode, PRAGMA journal_mode = WAL upgrades a read lock to the write lock,
    // which SQLite refuses at once (no busy handler) while another connection holds it: the race the
    // test below hits now and then, made certain here.
    const path = freshPath();
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        [
          `import Database from ${JSON.stringify(fileURLToPath(import.meta.resolve('better-sqlite3')))};`,
          'const db = new Database(process.argv[1]);',
          "db.exec('BEGIN IMMEDIATE; CREATE TABLE held (x)');",
          "console.log('locked');",
          "setTimeout(() => { db.exec('COMMIT'); db.close(); }, 1000);",
        ].join('\n'),
        path,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => holder.on('exit', resolve));
    await new Promise((resolve, reject) => {
      holder.stdout.once('data', resolve);
      holder.once('exit', (code) => reject(new Error(`the lock holder exited (${code}) before taking the lock`)));
    });
    // The lock is held now (and for about a second more): a write that may not wait is refused.
    const probe = new Database(path, { timeout: 0 });
    assert.throws(() => probe.exec('BEGIN IMMEDIATE'), { code: 'SQLITE_BUSY' });
    probe.close();
    const store = new SqliteStorage(path);
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
    assert.equal(await exited, 0);
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.ok(db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'held'").get(), "the other process's commit kept");
      assert.equal((db.prepare('SELECT count(*) AS n FROM schema_migrations').get() as Row).n, SQLITE_MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it('apply once when several processes open one new file at the same moment', async () => {
    const script = [
      `import { SqliteStorage } from ${JSON.stringify(fileURLToPath(new URL('./sqlite-storage.ts', import.meta.url)))};`,
      // Modules loaded, each waits for the same instant to open the file: the processes race at migrate().
      'while (Date.now() < Number(process.argv[2]));',
      'const s = new SqliteStorage(process.argv[1]);',
      'await s.migrate();',
      'await s.close();',
    ].join('\n');
    for (let round = 0; round < 3; round++) {
      const path = freshPath();
      const at = Date.now() + 1_500;
      const results = await Promise.all(
        [0, 1, 2].map(
          () =>
            new Promise<{ code: number | null; stderr: string }>((resolve) => {
              const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, path, String(at)], { stdio: ['ignore', 'ignore', 'pipe'] });
              let stderr = '';
              child.stderr.on('data', (d) => (stderr += d));
              child.on('exit', (code) => resolve({ code, stderr }));
            }),
        ),
      );
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      const db = new Database(path, { readonly: true });
      try {
        const versions = (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as Row[]).map((r) => r.version);
        assert.deepEqual(versions, SQLITE_MIGRATIONS.map((_, i) => i + 1));
      } finally {
        db.close();
      }
    }
  });
});
