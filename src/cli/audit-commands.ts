/**
 * `trent audit verify | public-key | export | tail`: work directly on the storage (no server needed).
 *
 * verify is the auditor's tool. Its trust anchor is outside the store: the digest key pinned with
 * --public-key FILE (or --fingerprint HEX), and the digests delivered out of the store (--digests DIR).
 * Without a pin it falls back to the key stored in the database and says so: such a run only shows the
 * store is self-consistent, not that it is the deployment's.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { allEventRows, verifyChain, type VerifyResult } from '../audit/chain.ts';
import { spkiFromText, spkiToPem } from '../audit/digest.ts';
import { readDeliveredDigests } from '../audit/digest-delivery.ts';
import { keyFingerprint, readDigestPublicKey } from '../audit/digest-key.ts';
import { exportLine, exportRange, pruneExpired } from '../audit/retention.ts';
import { loadConfig } from '../config/config.ts';
import { openStorage } from '../storage/open-storage.ts';
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

function parseTime(v: string): number {
  const t = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v);
  if (Number.isNaN(t)) throw new Error(`not a time: ${v} (use ISO 8601 or epoch seconds)`);
  return t;
}

/** The pinned key: a file holding PEM (as `trent audit public-key` prints it) or base64 SPKI, or that text itself. */
function readPublicKey(v: string): Buffer {
  const text = existsSync(v) ? readFileSync(v, 'utf8') : v;
  const spki = spkiFromText(text);
  if (!spki) throw new Error(`--public-key: ${v} holds no PEM public key or base64 SPKI`);
  return spki;
}

/**
 * The bound verify holds the unsigned tail to, from the deployment's digest settings: one interval plus
 * 5 s (the digest's own commit, clock skew between hosts), and one event bound plus the group-commit
 * batches that may commit while a digest is being written (4 × 512).
 */
function tailBound(env: CliContext['env'], opts: { maxUnsignedEvents?: string; maxUnsignedAge?: string }): { maxEvents: number; maxAgeMs: number } {
  const audit = loadConfig({ ...env, TRENT_STORAGE: undefined }).audit;
  const maxEvents = opts.maxUnsignedEvents !== undefined ? Number(opts.maxUnsignedEvents) : audit.digestMaxEvents + 4 * 512;
  const maxAgeMs = opts.maxUnsignedAge !== undefined
    ? loadConfig({ TRENT_AUDIT_DIGEST_INTERVAL: opts.maxUnsignedAge }).audit.digestIntervalMs
    : audit.digestIntervalMs + 5000;
  if (!Number.isSafeInteger(maxEvents) || maxEvents < 0) throw new Error('--max-unsigned-events must be a whole number');
  return { maxEvents, maxAgeMs };
}

interface VerifyOptions extends StoreOptions {
  publicKey?: string;
  fingerprint?: string;
  digests?: string[];
  maxUnsignedEvents?: string;
  maxUnsignedAge?: string;
  json?: boolean;
}

type Report = VerifyResult & { keySource: 'pinned' | 'fingerprint' | 'store'; digestSource: 'delivered' | 'store' };

async function runVerify(opts: VerifyOptions, env: CliContext['env'], now: number): Promise<Report> {
  const bound = tailBound(env, opts);
  const pinned = opts.publicKey ? readPublicKey(opts.publicKey) : undefined;
  const fingerprint = opts.fingerprint?.toLowerCase().replace(/[:\s]/g, '');
  if (fingerprint !== undefined && !/^[0-9a-f]{64}$/.test(fingerprint)) throw new Error('--fingerprint must be the 64 hex digits of the key\'s SHA-256 fingerprint');
  if (pinned && fingerprint && keyFingerprint(pinned) !== fingerprint) throw new Error('--public-key and --fingerprint name different keys');
  const delivered = opts.digests ? readDeliveredDigests(opts.digests) : undefined;
  return withStore(opts, env, async (s) => {
    const keySource = pinned ? 'pinned' : fingerprint ? 'fingerprint' : 'store';
    const digestSource = delivered ? 'delivered' : 'store';
    const refuse = (message: string): Report =>
      ({ ok: false, events: 0, digests: 0, unsignedTail: 0, firstBreak: { kind: 'digest', seq: 0, message }, keySource, digestSource });
    if (delivered?.problem) return refuse(delivered.problem);
    let key = pinned;
    if (!key) {
      // Never trusted as such: with --fingerprint it is used only if it is the pinned key.
      const stored = await s.read((r) => readDigestPublicKey(r));
      if (fingerprint && (!stored || keyFingerprint(stored) !== fingerprint)) {
        return refuse(`the store's digest key (${stored ? keyFingerprint(stored) : 'none'}) is not the pinned key ${fingerprint}`);
      }
      key = stored;
    }
    const rows = await allEventRows(s);
    const digests = delivered?.digests ?? (await s.read((r) => r.audit.listDigests()));
    return { ...verifyChain(rows, digests, key, { tail: { ...bound, now } }), keySource, digestSource };
  });
}

export function registerAuditCommands(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('verify, export and follow the audit log');
  const storeOptions = (c: Command) =>
    c.option('--data-dir <dir>', 'data directory of a SQLite deployment (default TRENT_DATA_DIR)')
      .option('--storage <url>', 'storage URL (sqlite:<path> or postgres://…; default TRENT_STORAGE)');

  storeOptions(audit.command('verify'))
    .description('check the hash chain against signed digests under a pinned key; exit 1 at the first edited, deleted, inserted or reordered event, or an unsigned tail beyond the bound')
    .option('--public-key <file>', 'the digest signing public key to trust (PEM as `trent audit public-key` prints it, or base64 SPKI); the stored key is then never used')
    .option('--fingerprint <hex>', 'the SHA-256 fingerprint of the digest signing key to trust (the stored key is used only if it has this fingerprint)')
    .option('--digests <dir>', 'verify against the digests delivered to this directory (TRENT_AUDIT_DIGEST_DIR) instead of the store\'s; repeat for several nodes', collect)
    .option('--max-unsigned-events <n>', 'most events allowed after the last digest (default: TRENT_AUDIT_DIGEST_MAX_EVENTS + 2048)')
    .option('--max-unsigned-age <duration>', 'oldest unsigned event allowed, e.g. 6s (default: TRENT_AUDIT_DIGEST_INTERVAL + 5s)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: VerifyOptions) => {
      const result = await runVerify(opts, ctx.env, Date.now());
      if (opts.json) ctx.stdout.write(JSON.stringify(result) + '\n');
      else {
        if (result.keySource === 'store') {
          ctx.stdout.write('WARNING: no pinned key (--public-key or --fingerprint): the digests were checked with the key stored in the database, so this only shows the store agrees with itself\n');
        }
        if (result.ok) {
          ctx.stdout.write(`audit chain OK: ${result.events} events, ${result.digests} signed digests (${result.digestSource === 'delivered' ? 'delivered' : 'from the store'})` +
            (result.unsignedTail > 0 ? `; the last ${result.unsignedTail} events are not yet covered by a digest (within the bound)` : '') + '\n');
        } else {
          ctx.stdout.write(`audit chain BROKEN (${result.firstBreak!.kind}): ${result.firstBreak!.message}\n`);
        }
      }
      process.exitCode = result.ok ? 0 : 1;
    });

  storeOptions(audit.command('public-key'))
    .description('print the digest signing public key (PEM) and its fingerprint: give them to auditors, who pin them')
    .option('--json', 'print {publicKeyPem, fingerprint} as JSON')
    .action(async (opts: StoreOptions & { json?: boolean }) => {
      const spki = await withStore(opts, ctx.env, (s) => s.read((r) => readDigestPublicKey(r)));
      if (!spki) throw new Error('this deployment has no digest signing key yet (it is created when Trent is first unsealed)');
      const out = { publicKeyPem: spkiToPem(spki), fingerprint: keyFingerprint(spki) };
      ctx.stdout.write(opts.json ? `${JSON.stringify(out)}\n` : `${out.publicKeyPem}fingerprint (SHA-256 of the SPKI): ${out.fingerprint}\n`);
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

  storeOptions(audit.command('prune'))
    .description('export events older than a time to JSON Lines, verify the export, then delete them from the store (what TRENT_AUDIT_RETENTION_DAYS does in the server)')
    .requiredOption('--before <time>', 'prune events older than this (ISO 8601 or epoch seconds)')
    .option('--export-dir <dir>', 'where the exports go (default TRENT_AUDIT_EXPORT_DIR or <data dir>/audit-export)')
    .action(async (opts: StoreOptions & { before: string; exportDir?: string }) => {
      const dir = opts.exportDir ?? loadConfig({ ...ctx.env, ...(opts.dataDir ? { TRENT_DATA_DIR: opts.dataDir } : {}) }).audit.exportDir;
      const done = await withStore(opts, ctx.env, (s) => pruneExpired(s, parseTime(opts.before), dir));
      ctx.stdout.write(done ? `pruned ${done.pruned} events; exported to ${done.files.join(', ')}\n` : 'nothing to prune (no expired event is covered by a signed digest)\n');
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

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
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
