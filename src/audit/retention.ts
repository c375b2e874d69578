/**
 * Retention and export. Events older than the retention period are written to a JSON Lines file and
 * only then deleted: never silently dropped, and never on the word of a file that may be partial.
 *
 * Crash safety (docs/audit.md): an export is written under a temporary name (`<file>.partial`, replaced if
 * a crashed pass left one), fsynced, renamed, and the directory fsynced. Before pruning, the file under
 * its final name is read back and must hold exactly the events about to be pruned; a file of that name
 * that differs (a pass of an older Trent that crashed mid-write, another writer) is rewritten. A pass
 * killed at any point therefore leaves the store unpruned or the export complete, and the next pass
 * redoes what is missing.
 *
 * Pruning stops at the newest event a signed digest covers (every event's hash is signed by a version 2
 * digest; a version 1 digest vouches only for its head), so the first remaining event is anchored.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditDigestRow, AuditEventRow } from '../storage/audit-repo.ts';
import type { Storage } from '../storage/storage.ts';
import { parseDigestStatement } from './digest.ts';
import { fileHolds, writeFileDurably } from '../storage/durable-file.ts';

const PAGE = 1000;
/** Events per export file (and per prune transaction): bounds the memory a pass holds. */
const CHUNK = 10_000;

/** One JSON Lines line per event: the CloudTrail record plus its chain fields. */
export function exportLine(e: AuditEventRow): string {
  return JSON.stringify({ seq: e.seq, prevHash: e.prevHash, hash: e.hash, event: JSON.parse(e.record) as unknown }) + '\n';
}

/** Writes events with eventTime in [from, to] to `out` (through a temporary name; fsynced); returns how many. */
export async function exportRange(storage: Storage, from: number, to: number, out: string): Promise<number> {
  if (existsSync(out)) throw new Error(`${out} exists: an export never overwrites a file`);
  const parts: Buffer[] = [];
  let n = 0;
  let after = 0;
  for (;;) {
    const rows = await storage.read((r) => r.audit.range(from, to, after, PAGE));
    parts.push(Buffer.from(rows.map(exportLine).join(''), 'utf8'));
    n += rows.length;
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.seq;
  }
  writeFileDurably(out, Buffer.concat(parts), `${out}.partial`);
  return n;
}

/** The largest seq ≤ limit whose hash a digest signed (so a chain starting after it is anchored). */
function anchoredThrough(digests: readonly AuditDigestRow[], limit: number): number {
  for (let i = digests.length - 1; i >= 0; i--) {
    const d = digests[i]!;
    const s = parseDigestStatement(d.record);
    if (s?.firstEventSeq !== undefined && s.firstEventSeq <= limit) return Math.min(limit, s.lastEventSeq);
    if (d.lastEventSeq <= limit) return d.lastEventSeq;
  }
  return 0;
}

/** The oldest events (seq order) while older than `cutoff`, at most CHUNK of them. */
async function oldestBefore(storage: Storage, cutoff: number): Promise<AuditEventRow[]> {
  const old: AuditEventRow[] = [];
  let after = 0;
  for (;;) {
    const rows = await storage.read((r) => r.audit.scan(after, PAGE));
    for (const e of rows) {
      if (e.eventTime >= cutoff || old.length >= CHUNK) return old;
      old.push(e);
    }
    if (rows.length < PAGE) return old;
    after = rows[rows.length - 1]!.seq;
  }
}

/**
 * Exports and prunes events older than `cutoff` (epoch ms), up to the newest event a digest covers, in
 * files of at most CHUNK events. Returns the files written and how many events were pruned, or undefined
 * when nothing was due.
 */
export async function pruneExpired(storage: Storage, cutoff: number, exportDir: string): Promise<{ file: string; files: string[]; pruned: number } | undefined> {
  const digests = await storage.read((r) => r.audit.listDigests());
  const files: string[] = [];
  let pruned = 0;
  for (;;) {
    const old = await oldestBefore(storage, cutoff);
    if (old.length === 0) break;
    const boundary = anchoredThrough(digests, old[old.length - 1]!.seq);
    const toPrune = old.filter((e) => e.seq <= boundary);
    if (toPrune.length === 0) break;
    mkdirSync(exportDir, { recursive: true, mode: 0o700 });
    const file = join(exportDir, `trent-audit-${toPrune[0]!.seq}-${boundary}.jsonl`);
    const content = Buffer.from(toPrune.map(exportLine).join(''), 'utf8');
    // A file of this name from an earlier pass is kept only if it holds exactly these events.
    if (!fileHolds(file, content)) writeFileDurably(file, content, `${file}.partial`);
    if (!fileHolds(file, content)) throw new Error(`audit export ${file} does not read back as written: not pruning`);
    pruned += await storage.transaction((tx) => tx.audit.pruneThrough(boundary));
    files.push(file);
    if (old.length < CHUNK) break;
  }
  return files.length === 0 ? undefined : { file: files[files.length - 1]!, files, pruned };
}
