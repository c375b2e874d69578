/**
 * An output file that appears whole or not at all: bytes go to a temporary file beside the target (same
 * directory, so the rename cannot cross file systems), which is fsynced and renamed over the target only
 * by commit(). abort(), a failure anywhere, or SIGINT/SIGTERM removes it. `trent decrypt` needs this
 * because the Encryption SDK streams plaintext out before it has checked the message's final signature:
 * a tampered or truncated message has already produced plaintext when the error comes.
 */
import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { syncDir, syncFile } from '../storage/durable-file.ts';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { basename, dirname, join } from 'node:path';

export interface AtomicOutput {
  readonly stream: WriteStream;
  /** The temporary file (tests and messages only). */
  readonly tempPath: string;
  /** Flushes the temporary file to disk and renames it over the target. Call after the stream finished. */
  commit(): void;
  /** Removes the temporary file; the target is left as it was. Idempotent, never throws. */
  abort(): void;
}

/** Temporary files not yet committed or aborted, removed if the process is interrupted. */
const pending = new Set<string>();

function onSignal(signal: NodeJS.Signals): void {
  for (const p of pending) rmSync(p, { force: true });
  pending.clear();
  // Having a listener replaces Node's default exit on these signals: exit as the default would (128 + n).
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

function track(path: string): void {
  if (pending.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  pending.add(path);
}

function untrack(path: string): void {
  pending.delete(path);
  if (pending.size === 0) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `mode`: of the new file before the umask; 0600 (the default) for plaintext. */
export function openAtomicOutput(target: string, mode = 0o600): AtomicOutput {
  const tempPath = join(dirname(target), `.${basename(target)}.${randomBytesBuffer(6).toString('hex')}.trent-tmp`);
  track(tempPath);
  // Exclusive creation: a name that exists already is someone else's file, never reused.
  const stream = createWriteStream(tempPath, { flags: 'wx', mode });
  let done = false;
  return {
    stream,
    tempPath,
    commit() {
      if (done) throw new Error('output already committed or aborted');
      syncFile(tempPath);
      renameSync(tempPath, target);
      done = true;
      untrack(tempPath);
      // The rename is durable once the directory entry is.
      try {
        syncDir(dirname(target));
      } catch {
        // Some file systems refuse fsync on a directory; the file itself is on disk.
      }
    },
    abort() {
      if (done) return;
      done = true;
      // The stream opens its file asynchronously: remove it now and again once the stream has closed.
      stream.once('close', () => rmSync(tempPath, { force: true }));
      stream.destroy();
      rmSync(tempPath, { force: true });
      untrack(tempPath);
    },
  };
}
