/**
 * Delivery of digests out of the store, as CloudTrail delivers digest files to a bucket: a copy the
 * store's writers cannot reach is what lets `trent audit verify --digests DIR` catch a store whose
 * events AND digests were cut or rewritten together.
 *
 * - Directory (TRENT_AUDIT_DIGEST_DIR): one file per digest, `trent-audit-digest-<digestSeq>.json`,
 *   written under a temporary name, fsynced, renamed, and the directory fsynced: a file under its final
 *   name is always complete. An existing file is left alone (a digest never changes; another node sharing
 *   the directory may have written it).
 * - Every node delivers every digest of the deployment, its own at once and other nodes' on its next
 *   pass (deliverPending), so one node's directory holds the whole sequence.
 * - Delivery failures are logged and retried on the next pass; they never fail a call (the digest is in
 *   the store; verify with --digests reports what was not delivered as an unsigned tail).
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AuditDigestRow } from '../storage/audit-repo.ts';
import { DIGEST_FILE_PATTERN, digestFileContent, digestFileName, digestRowFromFile } from './digest.ts';
import type { DigestWebhook } from './digest-webhook.ts';
import { writeFileDurablyAsync } from '../storage/durable-file.ts';

export interface DigestDelivery {
  /** Delivers digests just written (ascending). Never throws: failures are logged and retried later. */
  deliver(digests: readonly AuditDigestRow[]): Promise<void>;
  /** The highest digestSeq delivered without a gap before it (0: none yet). */
  readonly deliveredThrough: number;
}

export function createDigestDelivery(opts: { dir?: string; webhook?: DigestWebhook; logger: Logger }): DigestDelivery {
  const { dir, webhook, logger } = opts;
  let deliveredThrough = 0;
  if (dir) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Resume after a restart: the longest run of files from digest 1.
    const seqs = new Set(readdirSync(dir).flatMap((n) => {
      const m = DIGEST_FILE_PATTERN.exec(n);
      return m ? [Number(m[1])] : [];
    }));
    while (seqs.has(deliveredThrough + 1)) deliveredThrough++;
  }
  // One delivery at a time: the writes yield to the event loop, and a housekeeping pass delivering the
  // same digest meanwhile would collide on its temporary file.
  let queue: Promise<void> = Promise.resolve();
  async function deliverInOrder(digests: readonly AuditDigestRow[]): Promise<void> {
    for (const d of digests) {
      if (dir) {
        const file = join(dir, digestFileName(d.digestSeq));
        try {
          // Off the event loop: this runs on the serving thread, between requests.
          if (!(await exists(file))) await writeFileDurablyAsync(file, digestFileContent(d));
        } catch (err) {
          logger.error({ err, digestSeq: d.digestSeq, dir }, 'audit digest delivery to the directory failed; retried on the next pass');
          return;
        }
      }
      if (webhook) await webhook.send(d);
      if (d.digestSeq === deliveredThrough + 1) deliveredThrough = d.digestSeq;
    }
  }
  return {
    get deliveredThrough() {
      return deliveredThrough;
    },
    deliver(digests) {
      const done = queue.then(() => deliverInOrder(digests));
      queue = done.catch(() => undefined);
      return done;
    },
  };
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

/**
 * Reads the digests delivered to one or more directories (the auditor's copies), ascending by digestSeq.
 * A file that is not a well-formed digest, or two different digests with one number, is reported.
 */
export function readDeliveredDigests(dirs: readonly string[]): { digests: AuditDigestRow[]; problem?: string } {
  const bySeq = new Map<number, AuditDigestRow>();
  for (const dir of dirs) {
    for (const name of readdirSync(dir).sort()) {
      const m = DIGEST_FILE_PATTERN.exec(name);
      if (!m) continue;
      const row = digestRowFromFile(readFileSync(join(dir, name), 'utf8'));
      if (!row || row.digestSeq !== Number(m[1])) return { digests: [], problem: `${join(dir, name)} is not a well-formed digest file for digest ${Number(m[1])}` };
      const seen = bySeq.get(row.digestSeq);
      if (seen && (seen.record !== row.record || seen.signature !== row.signature)) {
        return { digests: [], problem: `two different digests numbered ${row.digestSeq} were delivered (${join(dir, name)})` };
      }
      bySeq.set(row.digestSeq, row);
    }
  }
  return { digests: [...bySeq.values()].sort((a, b) => a.digestSeq - b.digestSeq) };
}
