/**
 * `trent audit verify | export | tail`: work directly on the storage (no server needed). verify needs
 * no secret: the digest signing public key is stored in the clear; pin it with --public-key to catch a
 * store whose key was replaced along with a rewritten chain.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { verifyChain } from '../audit/chain.ts';
import { readDigestPublicKey } from '../audit/digest-key.ts';
import { exportLine, exportRange } from '../audit/retention.ts';
import { loadConfig } from '../config/config.ts';
import { openStorage } from '../storage/open-storage.ts';
import type { AuditEventRow } from '../storage/audit-repo.ts';
import type { Storage } from '../storage/storage.ts';
import type { CliContext } from './main.ts';

interface StoreOptions {
  dataDir?: string;
  storage?: string;
}

function storageUrl(opts: StoreOptions, env: CliContext['env']): string {
  if (opts.storage) return opts.storage;
  const config = loadConfig({ ...env, ...(opts.dataDir ? { TRENT_DATA_DIR: opts.dataDir, TRENT_STORAGE: undefined } : {}) });
  return config.storageUrl;
}

async function withStore<T>(opts: StoreOptions, env: CliContext['env'], body: (s: Storage) => Promise<T>): Promise<T> {
  const url = storageUrl(opts, env);
  // Never create a database by looking at one: a wrong path must fail, not verify an empty chain.
  if (url.startsWith('sqlite:') && !existsSync(url.slice('sqlite:'.length))) throw new Error(`no Trent database at ${url.slice('sqlite:'.length)}`);
  const storage = await openStorage(url);
  try {
    return await body(storage);
  } finally {
    await storage.close();
  }
}

async function allEvents(storage: Storage): Promise<AuditEventRow[]> {
  const out: AuditEventRow[] = [];
  let after = 0;
  for (;;) {
    const rows = await storage.read((r) => r.audit.scan(after, 5000));
    out.push(...rows);
    if (rows.length < 5000) return out;
    after = rows[rows.length - 1]!.seq;
  }
}

function parseTime(v: string): number {
  const t = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v);
  if (Number.isNaN(t)) throw new Error(`not a time: ${v} (use ISO 8601 or epoch seconds)`);
  return t;
}

function readPublicKey(v: string): Buffer {
  try {
    return Buffer.from(readFileSync(v, 'utf8').trim(), 'base64');
  } catch {
    return Buffer.from(v, 'base64');
  }
}

export function registerAuditCommands(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('verify, export and follow the audit log');
  const storeOptions = (c: Command) =>
    c.option('--data-dir <dir>', 'data directory of a SQLite deployment (default TRENT_DATA_DIR)')
      .option('--storage <url>', 'storage URL (sqlite:<path> or postgres://…; default TRENT_STORAGE)');

  storeOptions(audit.command('verify'))
    .description('check the hash chain and the signed digests; exit 1 at the first edited, deleted, inserted or reordered event')
    .option('--public-key <base64-or-file>', 'expected digest signing public key (SPKI, base64)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: StoreOptions & { publicKey?: string; json?: boolean }) => {
      const result = await withStore(opts, ctx.env, async (s) => {
        const stored = await s.read((r) => readDigestPublicKey(r));
        const pinned = opts.publicKey ? readPublicKey(opts.publicKey) : undefined;
        if (pinned && stored && !pinned.equals(stored)) {
          return { ok: false, events: 0, digests: 0, unsignedTail: 0, firstBreak: { kind: 'digest', seq: 0, message: 'the stored digest signing key is not the pinned one' } };
        }
        const [rows, digests] = [await allEvents(s), await s.read((r) => r.audit.listDigests())];
        return verifyChain(rows, digests, pinned ?? stored);
      });
      if (opts.json) ctx.stdout.write(JSON.stringify(result) + '\n');
      else if (result.ok) {
        ctx.stdout.write(`audit chain OK: ${result.events} events, ${result.digests} signed digests` +
          (result.unsignedTail > 0 ? `; the last ${result.unsignedTail} events are not yet covered by a digest` : '') + '\n');
      } else {
        ctx.stdout.write(`audit chain BROKEN (${result.firstBreak!.kind}): ${result.firstBreak!.message}\n`);
      }
      process.exitCode = result.ok ? 0 : 1;
    });

  storeOptions(audit.command('export'))
    .description('write the events of a time range as JSON Lines (one CloudTrail record with its chain fields per line)')
    .requiredOption('--from <time>', 'start (ISO 8601 or epoch seconds), inclusive')
    .option('--to <time>', 'end (ISO 8601 or epoch seconds), inclusive; default now')
    .requiredOption('--out <file>', 'output file (must not exist)')
    .action(async (opts: StoreOptions & { from: string; to?: string; out: string }) => {
      const n = await withStore(opts, ctx.env, (s) => exportRange(s, parseTime(opts.from), opts.to ? parseTime(opts.to) : Date.now(), opts.out));
      ctx.stdout.write(`exported ${n} events to ${opts.out}\n`);
    });

  storeOptions(audit.command('tail'))
    .description('print the last events as JSON Lines; with --follow, keep printing new ones')
    .option('-n, --lines <n>', 'how many past events to print', '10')
    .option('-f, --follow', 'keep polling for new events')
    .option('--interval <ms>', 'poll interval with --follow', '1000')
    .action(async (opts: StoreOptions & { lines: string; follow?: boolean; interval: string }) => {
      await withStore(opts, ctx.env, async (s) => {
        const head = await s.read((r) => r.audit.scan(0, 1));
        const lastSeq = await headSeq(s);
        let after = Math.max((head[0]?.seq ?? 1) - 1, lastSeq - Number(opts.lines));
        for (;;) {
          const rows = await s.read((r) => r.audit.scan(after, 1000));
          for (const e of rows) ctx.stdout.write(exportLine(e));
          if (rows.length > 0) after = rows[rows.length - 1]!.seq;
          if (rows.length === 1000) continue;
          if (!opts.follow) return;
          await new Promise((r) => setTimeout(r, Number(opts.interval)));
        }
      });
    });
}

async function headSeq(s: Storage): Promise<number> {
  // The newest event of any scope: a scan backwards is not in the repo, so page forward from the last digest.
  const digest = await s.read((r) => r.audit.lastDigest());
  let after = digest?.lastEventSeq ?? 0;
  let last = after;
  for (;;) {
    const rows = await s.read((r) => r.audit.scan(after, 5000));
    if (rows.length === 0) return last;
    last = rows[rows.length - 1]!.seq;
    after = last;
  }
}
