/**
 * Configuration: read once from the environment (and flags), validated, frozen and passed down.
 * No other module reads process.env. No secret has a default.
 */
import { z } from 'zod';

const accountId = z.string().regex(/^\d{12}$/, 'must be 12 digits');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must look like us-east-1');

const schema = z
  .object({
    TRENT_HOST: z.string().min(1).default('127.0.0.1'),
    TRENT_PORT: z.coerce.number().int().min(0).max(65535).default(4599),
    TRENT_DATA_DIR: z.string().min(1).default('./data'),
    TRENT_ACCOUNT_ID: accountId.default('111122223333'),
    TRENT_REGION: region.default('us-east-1'),
    TRENT_ADMIN_ACCESS_KEY_ID: z.string().regex(/^[A-Z0-9]{16,128}$/, 'must be 16-128 upper-case letters or digits').optional(),
    TRENT_ADMIN_SECRET_ACCESS_KEY: z.string().min(16).max(128).optional(),
    TRENT_ROOT_KEY: z.string().optional(),
    TRENT_STORAGE: z.string().optional(),
    TRENT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    TRENT_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    TRENT_JOB_INTERVAL_MS: z.coerce.number().int().min(0).max(24 * 3600 * 1000).default(30_000),
    // Below the documented multi-node coherence bound of 1 s (docs/postgres.md).
    TRENT_READ_CACHE_MS: z.coerce.number().int().min(0).max(1000).default(500),
    TRENT_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
    TRENT_KEY_CACHE_SIZE: z.coerce.number().int().min(0).max(10_000_000).default(10_000),
    TRENT_AUDIT_DIGEST_INTERVAL_MS: z.coerce.number().int().min(0).max(24 * 3600 * 1000).default(60_000),
    TRENT_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).max(100 * 365).default(0),
    // Benchmark-only, unsafe, off by default: see Config.audit.unsafeNoDurabilityWait.
    TRENT_BENCH_UNSAFE_AUDIT_NO_WAIT: z.enum(['0', '1', 'false', 'true']).default('0'),
    TRENT_AUDIT_EXPORT_DIR: z.string().min(1).optional(),
  })
  .refine((e) => (e.TRENT_ADMIN_ACCESS_KEY_ID === undefined) === (e.TRENT_ADMIN_SECRET_ACCESS_KEY === undefined), {
    message: 'TRENT_ADMIN_ACCESS_KEY_ID and TRENT_ADMIN_SECRET_ACCESS_KEY must be set together',
  });

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly accountId: string;
  readonly region: string;
  readonly admin?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Base64 root key for development mode; absent means the root-key file in dataDir. */
  readonly rootKeyBase64?: string;
  /** `sqlite:<path>` (default: trent.db in dataDir) or `postgres://…`. */
  readonly storageUrl: string;
  readonly logLevel: string;
  readonly maxBodyBytes: number;
  readonly keyCacheSize: number;
  /**
   * How long key records, grants and principals read for a request may be reused (src/storage/read-cache.ts);
   * a change made on another node is enforced here within this time. 0 reads them on every request.
   */
  readonly readCacheMs: number;
  /** Server processes sharing the port (node:cluster); 1 runs everything in this process (src/cluster.ts). */
  readonly workers: number;
  /** How often the background job (deletion, rotation) runs; 0 disables the timer. */
  readonly jobIntervalMs: number;
  /** Audit log (docs/audit.md): how often the chain head is signed (0: only at shutdown), retention. */
  readonly audit: {
    readonly digestIntervalMs: number;
    /** Events older than this are exported to exportDir and then pruned; 0 keeps them forever. */
    readonly retentionDays: number;
    readonly exportDir: string;
    /**
     * BENCHMARK ONLY, UNSAFE (TRENT_BENCH_UNSAFE_AUDIT_NO_WAIT=1; off by default): answer a call as soon
     * as its event is queued instead of once it is durable, so the cost of the durability wait can be
     * measured. Events are still written by the same group commit, but a crash loses the last ones and a
     * failed write no longer fails the call. Never set it in a deployment.
     */
    readonly unsafeNoDurabilityWait: boolean;
  };
}

export class ConfigError extends Error {}

/** Parses an environment-like record. Throws ConfigError with every problem listed. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const config: Config = {
    host: e.TRENT_HOST,
    port: e.TRENT_PORT,
    dataDir: e.TRENT_DATA_DIR,
    accountId: e.TRENT_ACCOUNT_ID,
    region: e.TRENT_REGION,
    ...(e.TRENT_ADMIN_ACCESS_KEY_ID && e.TRENT_ADMIN_SECRET_ACCESS_KEY
      ? { admin: Object.freeze({ accessKeyId: e.TRENT_ADMIN_ACCESS_KEY_ID, secretAccessKey: e.TRENT_ADMIN_SECRET_ACCESS_KEY }) }
      : {}),
    ...(e.TRENT_ROOT_KEY ? { rootKeyBase64: e.TRENT_ROOT_KEY } : {}),
    storageUrl: e.TRENT_STORAGE ?? `sqlite:${e.TRENT_DATA_DIR}/trent.db`,
    logLevel: e.TRENT_LOG_LEVEL,
    maxBodyBytes: e.TRENT_MAX_BODY_BYTES,
    keyCacheSize: e.TRENT_KEY_CACHE_SIZE,
    workers: e.TRENT_WORKERS,
    readCacheMs: e.TRENT_READ_CACHE_MS,
    jobIntervalMs: e.TRENT_JOB_INTERVAL_MS,
    audit: Object.freeze({
      digestIntervalMs: e.TRENT_AUDIT_DIGEST_INTERVAL_MS,
      retentionDays: e.TRENT_AUDIT_RETENTION_DAYS,
      exportDir: e.TRENT_AUDIT_EXPORT_DIR ?? `${e.TRENT_DATA_DIR}/audit-export`,
      unsafeNoDurabilityWait: e.TRENT_BENCH_UNSAFE_AUDIT_NO_WAIT === '1' || e.TRENT_BENCH_UNSAFE_AUDIT_NO_WAIT === 'true',
    }),
  };
  return Object.freeze(config);
}
