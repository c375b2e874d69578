/**
 * Files that are complete under their final name or absent: written to a temporary name, fsynced,
 * renamed, and the directory fsynced (so the rename itself survives a crash). Used for delivered digests,
 * audit exports, `trent encrypt`/`decrypt` output and the SQLite restore.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes `content` to `file` through `tmp` (default `<file>.<pid>.tmp`). A temporary left by a crashed
 * writer is replaced, never appended to or taken as done.
 */
export function writeFileDurably(file: string, content: string | Buffer, tmp = `${file}.${process.pid}.tmp`): void {
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, file);
  syncDir(dirname(file));
}

/**
 * writeFileDurably for a server's event loop: the same steps, each on the thread pool. Digest delivery
 * (src/audit/digest-delivery.ts) runs on the serving thread, and its two fsyncs held the event loop
 * 7-10% of the time under Encrypt load in the profile (bench/README.md, "Profile").
 */
export async function writeFileDurablyAsync(file: string, content: string | Buffer, tmp = `${file}.${process.pid}.tmp`): Promise<void> {
  await rm(tmp, { force: true });
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Flushes a file already written (and closed or still open elsewhere) to disk. */
export function syncFile(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a directory's entries, so a rename into it survives a crash. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** True when `file` exists and holds exactly `content` (read back from disk). */
export function fileHolds(file: string, content: Buffer): boolean {
  if (!existsSync(file) || statSync(file).size !== content.length) return false;
  return readFileSync(file).equals(content);
}
