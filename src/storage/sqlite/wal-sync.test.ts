import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { open } from 'node:fs/promises';
import { WalSync } from './wal-sync.ts';

/** A real fsync of the file, for the tests that wrap it. */
async function fsyncFile(path: string): Promise<void> {
  const file = await open(path, 'r+');
  try {
    await file.sync();
  } finally {
    await file.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'trent-walsync-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A real fsync of the file, recording when each began and ended. */
function recordingFsync(log: string[]) {
  let n = 0;
  return async (path: string) => {
    const id = ++n;
    log.push(`start ${id}`);
    await fsyncFile(path);
    log.push(`end ${id}`);
  };
}

describe('WalSync', () => {
  it('fsyncs the database WAL file, and a missing WAL is an error rather than a silent success', async () => {
    const db = join(dir, 'missing.db');
    await assert.rejects(new WalSync(db).sync(), { code: 'ENOENT' });
    writeFileSync(`${db}-wal`, 'frames');
    await new WalSync(db).sync();
  });

  it('a sync asked for while one runs waits for a later fsync, and all such callers share it', async () => {
    const db = join(dir, 'group.db');
    writeFileSync(`${db}-wal`, 'frames');
    const log: string[] = [];
    const wal = new WalSync(db, recordingFsync(log));
    const first = wal.sync().then(() => log.push('first resolved'));
    // These commits happened after fsync 1 began: fsync 1 may not cover them.
    const later = Array.from({ length: 10 }, (_, i) => wal.sync().then(() => log.push(`later ${i} resolved`)));
    await Promise.all([first, ...later]);
    assert.deepEqual(log.slice(0, 4), ['start 1', 'end 1', 'first resolved', 'start 2']);
    assert.equal(log[4], 'end 2');
    assert.equal(log.filter((l) => l.startsWith('start')).length, 2, 'ten waiting callers share one fsync');
    assert.deepEqual(log.slice(5), Array.from({ length: 10 }, (_, i) => `later ${i} resolved`));
    await wal.idle();
  });

  it('a failed fsync rejects its callers, and the next sync tries again', async () => {
    const db = join(dir, 'failing.db');
    writeFileSync(`${db}-wal`, 'frames');
    let fail = true;
    const wal = new WalSync(db, async (path) => {
      if (fail) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      await fsyncFile(path);
    });
    await assert.rejects(wal.sync(), { code: 'EIO' });
    fail = false;
    await wal.sync();
  });
});
