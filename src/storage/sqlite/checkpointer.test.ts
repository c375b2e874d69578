import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, it } from 'node:test';
import { Checkpointer } from './checkpointer.ts';

const dir = mkdtempSync(join(tmpdir(), 'trent-checkpointer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('copies committed WAL pages into the database from its own thread while the serving connection never checkpoints', async () => {
  const path = join(dir, 'store.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (v BLOB)');
  const errors: string[] = [];
  const checkpointer = new Checkpointer(path, (m) => errors.push(m));
  const dbBytes = () => statSync(path).size;
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const writeRound = () => db.transaction(() => {
    for (let i = 0; i < 500; i++) insert.run(Buffer.alloc(4000, i));
  })();
  /** Waits (up to 10 s) until the database file holds at least `bytes`: the thread has copied the WAL. */
  const waitForDatabase = async (bytes: number) => {
    for (let i = 0; i < 500 && dbBytes() < bytes; i++) await sleep(20);
    assert.ok(dbBytes() >= bytes, `database file is ${dbBytes()} bytes, expected ${bytes}`);
  };
  const before = dbBytes();
  // Each round puts 2 MB of pages in the WAL only; the thread copies them within an interval or two.
  writeRound();
  await waitForDatabase(before + 1_900_000);
  const walAfterFirst = statSync(`${path}-wal`).size;
  // Once the WAL has been copied whole, the next writer starts it again from the top, so it stops
  // growing (four rounds without checkpoints would make it four times as long).
  for (let round = 2; round <= 4; round++) {
    await sleep(300);
    writeRound();
    await waitForDatabase(before + round * 1_900_000);
  }
  assert.ok(statSync(`${path}-wal`).size <= walAfterFirst * 2.5, 'the WAL is reused, not appended to forever');
  await checkpointer.stop();
  assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 2000);
  db.close();
  assert.deepEqual(errors, []);
});

it('an open store with its checkpoint thread does not keep the process alive', () => {
  const path = join(dir, 'left-open.db');
  const code = `
    const { SqliteStorage } = await import(${JSON.stringify(new URL('./sqlite-storage.ts', import.meta.url).href)});
    const store = new SqliteStorage(${JSON.stringify(path)}, { checkpointInThread: true });
    await store.migrate();
    console.log('open');`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.stdout.trim(), 'open', child.stderr);
  assert.equal(child.signal, null, 'the process had to be killed: the thread kept it alive');
  assert.equal(child.status, 0);
});
