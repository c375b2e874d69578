/**
 * Retention and export. Events older than the retention period are first written to a JSON Lines file
 * (fsynced), and only then deleted: never silently dropped. Pruning stops at the newest signed digest
 * at or before the cut-off, so the first remaining event is vouched for by that digest (verify uses it
 * as the chain's anchor).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEventRow } from '../storage/audit-repo.ts';
import type { Storage } from '../storage/storage.ts';

const PAGE = 1000;

/** One JSON Lines line per event: the CloudTrail record plus its chain fields. */
export function exportLine(e: AuditEventRow): string {
  return JSON.stringify({ seq: e.seq, prevHash: e.prevHash, hash: e.hash, event: JSON.parse(e.record) as unknown }) + '\n';
}

/** Writes events with eventTime in [from, to] to `out` (fsynced); returns how many. */
export async function exportRange(storage: Storage, from: number, to: number, out: string): Promise<number> {
  const fd = openSync(out, 'wx', 0o600);
  let n = 0;
  try {
    let after = 0;
    for (;;) {
      const rows = await storage.read((r) => r.audit.range(from, to, after, PAGE));
      for (const e of rows) writeSync(fd, exportLine(e));
      n += rows.length;
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1]!.seq;
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return n;
}

/**
 * Exports and prunes events older than `cutoff` (epoch ms), up to the newest digest that covers them.
 * Returns the export file and count, or undefined when nothing was due.
 */
export async function pruneExpired(storage: Storage, cutoff: number, exportDir: string): Promise<{ file: string; pruned: number } | undefined> {
  const digests = await storage.read((r) => r.audit.listDigests());
  // The oldest events, in seq order, while they are older than the cut-off.
  const old: AuditEventRow[] = [];
  let after = 0;
  outer: for (;;) {
    const rows = await storage.read((r) => r.audit.scan(after, PAGE));
    for (const e of rows) {
      if (e.eventTime >= cutoff) break outer;
      old.push(e);
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.seq;
  }
  if (old.length === 0) return undefined;
  const lastOld = old[old.length - 1]!.seq;
  const boundary = Math.max(0, ...digests.filter((d) => d.lastEventSeq <= lastOld).map((d) => d.lastEventSeq));
  const toPrune = old.filter((e) => e.seq <= boundary);
  if (toPrune.length === 0) return undefined;
  mkdirSync(exportDir, { recursive: true, mode: 0o700 });
  const file = join(exportDir, `trent-audit-${toPrune[0]!.seq}-${boundary}.jsonl`);
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    // Another node (or an earlier pass that crashed before pruning) wrote it: it holds the same events.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    fd = -1;
  }
  if (fd >= 0) {
    try {
      for (const e of toPrune) writeSync(fd, exportLine(e));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  const pruned = await storage.transaction((tx) => tx.audit.pruneThrough(boundary));
  return { file, pruned };
}
