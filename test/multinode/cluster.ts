/**
 * Test helper: a cluster of real Trent processes (`node --import tsx src/main.ts`) sharing one
 * PostgreSQL schema and one root key, each on its own free port, with an AWS KMS client per node;
 * plus a load driver that records every acknowledged write, so invariants can be checked afterwards.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  EncryptCommand,
  KMSClient,
  RotateKeyOnDemandCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { ADMIN, ACCOUNT_ID } from '../e2e/harness.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface TrentNode {
  readonly index: number;
  readonly url: string;
  readonly kms: KMSClient;
  readonly process: ChildProcess;
  /** Everything the process wrote (stdout and stderr), for failure messages. */
  output(): string;
  readonly exited: Promise<number | null>;
  alive(): boolean;
  kill(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export function newRootKey(): string {
  return randomBytes(32).toString('base64');
}


export function kmsClient(url: string): KMSClient {
  return new KMSClient({ endpoint: url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 });
}

/**
 * Starts one node and waits until it listens. Rejects with the node's output if it exits first (use
 * spawnExpectingExit for a node that must refuse to start).
 */
export async function startNode(
  index: number, storageUrl: string, rootKey: string, env: Record<string, string | undefined> = {},
  { startTimeoutMs = 20_000, compiled = false }: { startTimeoutMs?: number; compiled?: boolean } = {},
): Promise<TrentNode> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'trent-node-'));
  // compiled: the build `npm start` runs (dist/main.js, which the caller has built); else the sources through tsx.
  const child = spawn(process.execPath, compiled ? ['dist/main.js'] : ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      TRENT_STORAGE: storageUrl,
      TRENT_ROOT_KEY: rootKey,
      TRENT_PORT: String(port),
      TRENT_DATA_DIR: dataDir,
      TRENT_ACCOUNT_ID: ACCOUNT_ID,
      TRENT_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
      TRENT_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
      TRENT_QUOTAS: 'off',
      TRENT_LOG_LEVEL: 'info',
      TRENT_JOB_INTERVAL_MS: '200',
      // One process per node unless a test asks for workers (the default is one per core).
      TRENT_WORKERS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let alive = true;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      alive = false;
      rmSync(dataDir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // never leave a half-started node behind
      reject(new Error(`node ${index} did not start in ${startTimeoutMs / 1000} s:\n${out}`));
    }, startTimeoutMs);
    const onData = () => {
      if (out.includes('Trent listening')) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node ${index} exited with ${code} before listening:\n${out}`));
    });
  });
  const kms = kmsClient(url);
  return {
    index,
    url,
    kms,
    process: child,
    output: () => out,
    exited,
    alive: () => alive,
    kill: (signal) => {
      if (alive) child.kill(signal);
    },
    async stop() {
      kms.destroy();
      if (alive) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a node that is expected to exit; returns its exit code and output. */
export function spawnExpectingExit(storageUrl: string, rootKey: string, timeoutMs = 20_000): { status: number | null; output: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'trent-node-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        TRENT_STORAGE: storageUrl,
        TRENT_ROOT_KEY: rootKey,
        TRENT_PORT: '0',
        TRENT_DATA_DIR: dataDir,
        TRENT_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
        TRENT_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
        TRENT_QUOTAS: 'off',
        TRENT_LOG_LEVEL: 'warn',
        TRENT_WORKERS: '1',
      },
      encoding: 'utf8',
      timeout: timeoutMs,
    });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// Load driver

export interface Failure {
  node: number;
  op: string;
  name: string;
  status?: number;
  message: string;
}

/** What the load was told succeeded (acknowledged), and what it attempted without an answer. */
export interface LoadLog {
  createdKeys: Set<string>;
  /** `${keyId}|${tagKey}` → highest acknowledged value (values increase per worker). */
  ackedTags: Map<string, number>;
  /** Alias name → key id, for every acknowledged CreateAlias; a second success for a name is recorded in duplicateAliasWins. */
  aliases: Map<string, string>;
  duplicateAliasWins: string[];
  /** Key id → acknowledged on-demand rotations; rotationsUnknown: attempts that got no answer or a 503. */
  rotations: Map<string, number>;
  rotationsUnknown: Map<string, number>;
  ciphertexts: { keyId: string; blob: Uint8Array; plaintext: Buffer; context: Record<string, string> }[];
  failures: Failure[];
  ops: number;
}

export function newLoadLog(): LoadLog {
  return {
    createdKeys: new Set(),
    ackedTags: new Map(),
    aliases: new Map(),
    duplicateAliasWins: [],
    rotations: new Map(),
    rotationsUnknown: new Map(),
    ciphertexts: [],
    failures: [],
    ops: 0,
  };
}

export function failureOf(err: unknown, node: number, op: string): Failure {
  const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return {
    node,
    op,
    name: e.name ?? 'Error',
    ...(e.$metadata?.httpStatusCode !== undefined ? { status: e.$metadata.httpStatusCode } : {}),
    message: `${e.message ?? String(err)}${e.code ? ` (${e.code})` : ''}`,
  };
}

/** Answers that are part of the contract under concurrency, not faults. */
export function isExpectedRefusal(f: Failure): boolean {
  return (
    (f.op === 'CreateAlias' && f.name === 'AlreadyExistsException') ||
    (f.op === 'RotateKeyOnDemand' && f.name === 'LimitExceededException') ||
    (f.op === 'RotateKeyOnDemand' && f.name === 'KMSInvalidStateException' && /Retry/.test(f.message))
  );
}

/**
 * Drives `workers` sequential workers for `durationMs` against the nodes `targets()` returns (each op
 * picks one), mixing CreateKey, CreateAlias, TagResource, RotateKeyOnDemand and Encrypt on `sharedKeys`.
 */
export async function runLoad(opts: {
  log: LoadLog;
  targets: () => TrentNode[];
  sharedKeys: string[];
  rotatableKeys: string[];
  workers: number;
  durationMs: number;
  aliasPrefix: string;
  stop?: { stopped: boolean };
}): Promise<void> {
  const { log } = opts;
  const deadline = Date.now() + opts.durationMs;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
  const worker = async (w: number) => {
    let seq = 0;
    while (Date.now() < deadline && !opts.stop?.stopped) {
      const nodes = opts.targets();
      if (nodes.length === 0) return;
      const node = pick(nodes);
      const roll = Math.random();
      seq++;
      log.ops++;
      const op =
        roll < 0.15 ? 'CreateKey' : roll < 0.3 ? 'CreateAlias' : roll < 0.6 ? 'TagResource' : roll < 0.7 ? 'RotateKeyOnDemand' : 'Encrypt';
      const keyId = pick(op === 'RotateKeyOnDemand' ? opts.rotatableKeys : opts.sharedKeys);
      try {
        switch (op) {
          case 'CreateKey': {
            const m = (await node.kms.send(new CreateKeyCommand({ Description: `load w${w} #${seq}` }))).KeyMetadata!;
            log.createdKeys.add(m.KeyId!);
            break;
          }
          case 'CreateAlias': {
            const name = `alias/${opts.aliasPrefix}-${Math.floor(Math.random() * 40)}`;
            await node.kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: keyId }));
            if (log.aliases.has(name)) log.duplicateAliasWins.push(name);
            else log.aliases.set(name, keyId);
            break;
          }
          case 'TagResource': {
            await node.kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: `w${w}`, TagValue: String(seq) }] }));
            const id = `${keyId}|w${w}`;
            log.ackedTags.set(id, Math.max(log.ackedTags.get(id) ?? 0, seq));
            break;
          }
          case 'RotateKeyOnDemand': {
            try {
              await node.kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
            } catch (err) {
              const f = failureOf(err, node.index, op);
              if (!isExpectedRefusal(f)) log.rotationsUnknown.set(keyId, (log.rotationsUnknown.get(keyId) ?? 0) + 1);
              throw err;
            }
            log.rotations.set(keyId, (log.rotations.get(keyId) ?? 0) + 1);
            break;
          }
          default: {
            const plaintext = randomBytes(24);
            const context = { w: String(w) };
            const out = await node.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: context }));
            log.ciphertexts.push({ keyId, blob: out.CiphertextBlob!, plaintext, context });
          }
        }
      } catch (err) {
        log.failures.push(failureOf(err, node.index, op));
        if (log.failures.length % 50 === 0) await new Promise((r) => setTimeout(r, 20)); // do not spin while a node is down
      }
    }
  };
  await Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

// ---------------------------------------------------------------------------------------------------
// A private PostgreSQL server, for the scenario that stops and starts the database: stopping the shared
// test server would break every other test (and every other developer's run) using it at that moment.

export interface PrivatePostgres {
  readonly url: string;
  stop(): void;
  start(): void;
  isUp(): boolean;
  /** The server's log so far. */
  log(): string;
  /** Stops the server (if up) and removes its files. */
  destroy(): void;
}

/** Why a private server cannot be made here (no initdb, or not root to run it as `postgres`), or undefined. */
export function privatePostgresUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'creating a throwaway PostgreSQL server needs root (to run initdb as the postgres user)';
  if (!postgresBin()) return 'no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql';
  try {
    execFileSync('id', ['postgres'], { stdio: 'pipe' });
  } catch {
    return 'no postgres user to run a throwaway PostgreSQL server as';
  }
  return undefined;
}

function writeOwnedByPostgres(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  execFileSync('chown', ['postgres:postgres', path]);
}

function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(base, versions[0], 'bin');
}

export interface PrivatePostgresOptions {
  /** pg_hba.conf lines replacing initdb's (which trust every connection). */
  hba?: string[];
  /** Turns TLS on with this certificate and key. */
  tls?: { certPem: string; keyPem: string };
}

export async function startPrivatePostgres(opts: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const bin = postgresBin()!;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'trent-pg-'));
  execFileSync('chown', ['postgres:postgres', dir]);
  const data = join(dir, 'data');
  const asPostgres = (cmd: string, args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio: 'pipe', timeout: 60_000 });
  asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  let options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  if (opts.hba) writeOwnedByPostgres(join(data, 'pg_hba.conf'), `${opts.hba.join('\n')}\n`);
  if (opts.tls) {
    writeOwnedByPostgres(join(data, 'server.crt'), opts.tls.certPem);
    writeOwnedByPostgres(join(data, 'server.key'), opts.tls.keyPem); // PostgreSQL refuses a key others can read
    options += ' -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key';
  }
  const pg: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => void asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']),
    stop: () => void asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    log: () => readFileSync(join(dir, 'log'), 'utf8'),
    isUp: () => {
      try {
        asPostgres('pg_ctl', ['-D', data, 'status']);
        return true;
      } catch {
        return false;
      }
    },
    destroy: () => {
      try {
        if (pg.isUp()) pg.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  pg.start();
  return pg;
}
