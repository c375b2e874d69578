/**
 * Micro-benchmark (bench/README.md, "Seventh pass"): one point read by primary key of a row like a
 * parameter version (account, region, name, version, then the value, labels and a document), from a
 * WITHOUT ROWID table and from an ordinary rowid table with the same primary key, as SQLite migration 10
 * chose between them. Rows of 300, 900 and 1,900 bytes (a 1 KiB SecureString is ~1.9 KB stored), tables
 * of 1,000 and 20,000 rows, each read alone and right after another connection's commit (as an audit
 * batch commits between requests under load, which resets the reader's page cache). Wall µs per read, the
 * reads alone timed, 20,000 reads per cell over keys spread through the table, two rounds.
 *
 *   node --import tsx bench/micro/row-format.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const COLUMNS = 'account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL, created_at INTEGER NOT NULL, value TEXT NOT NULL, labels TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (account_id, region, name, version)';
const FORMATS = { 'WITHOUT ROWID': ') WITHOUT ROWID', rowid: ')' } as const;
const READS = 20_000;

const dir = mkdtempSync(join(tmpdir(), 'trent-micro-'));
try {
  for (const rows of [1_000, 20_000]) {
    for (const size of [300, 900, 1_900]) {
      const path = join(dir, `rows-${rows}-${size}.db`);
      const writer = new Database(path);
      writer.pragma('journal_mode = WAL');
      writer.pragma('synchronous = NORMAL');
      writer.exec('CREATE TABLE audit (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)');
      writer.exec('BEGIN');
      for (const [format, end] of Object.entries(FORMATS)) {
        const table = format === 'rowid' ? 'v_rowid' : 'v_without';
        writer.exec(`CREATE TABLE ${table} (${COLUMNS}${end}`);
        const insert = writer.prepare(`INSERT INTO ${table} VALUES (?, ?, ?, 1, 1, ?, '[]', ?)`);
        for (let i = 0; i < rows; i++) insert.run('111122223333', 'us-east-1', `/app/param/${i}`, 'c'.repeat(size), '{"type":"SecureString","tier":"Standard"}');
      }
      writer.exec('COMMIT');
      const reader = new Database(path, { readonly: true });
      const commit = writer.prepare('INSERT INTO audit (record) VALUES (?)');
      const record = 'r'.repeat(1_500);
      const cells: string[] = [];
      for (let round = 1; round <= 2; round++) {
        for (const format of Object.keys(FORMATS)) {
          const read = reader.prepare(`SELECT * FROM ${format === 'rowid' ? 'v_rowid' : 'v_without'} WHERE account_id = ? AND region = ? AND name = ? AND version = 1`);
          for (const afterCommit of [false, true]) {
            let total = 0n;
            for (let i = 0; i < READS; i++) {
              if (afterCommit) {
                commit.run(record);
                if (i % 500 === 0) writer.pragma('wal_checkpoint(PASSIVE)');
              }
              const name = `/app/param/${(i * 7_919) % rows}`;
              const t0 = process.hrtime.bigint();
              read.get('111122223333', 'us-east-1', name);
              total += process.hrtime.bigint() - t0;
            }
            if (round === 2) cells.push(`${format}${afterCommit ? ' after a commit' : ''} ${(Number(total) / READS / 1000).toFixed(1)} µs`);
          }
        }
      }
      process.stdout.write(`${rows} rows of ${size} B: ${cells.join(', ')}\n`);
      reader.close();
      writer.close();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
