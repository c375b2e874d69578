/**
 * Configuration: read once from the environment (and flags), validated, frozen and passed down.
 * No other module reads process.env. No secret has a default.
 */
import { z } from 'zod';

const accountId = z.string().regex(/^\d{12}$/, 'must be 12 digits');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must look like us-east-1');

/**
 * TRENT_HSMS: the HSMs custom key stores may use, by the name the API calls CloudHsmClusterId:
 * {"<name>": {"module": "/usr/lib/softhsm/libsofthsm2.so", "tokenLabel": "…"}}. No PIN here: the
 * PIN is the KeyStorePassword of CreateCustomKeyStore, kept sealed in storage.
 */
const hsmName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'HSM names are 1-64 letters, digits, dot, dash or underscore');
const hsmEntry = z.object({ module: z.string().min(1), tokenLabel: z.string().min(1).max(32) }).strict();
const hsmMap = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.record(hsmName, hsmEntry));

const schema = z
  .object({
    TRENT_HOST: z.string().min(1).default('127.0.0.1'),
    TRENT_PORT: z.coerce.number().int().min(0).max(65535).default(4599),
    TRENT_DATA_DIR: z.string().min(1).default('./data'),
    TRENT_ACCOUNT_ID: accountId.default('111122223333'),
    TRENT_REGION: region.default('us-east-1'),
    /** Regions served (comma list); absent: any well-formed region. */
    TRENT_REGIONS: z.string().optional().transform((v) => v?.split(',').map((r) => r.trim()).filter((r) => r !== '')).pipe(z.array(region).min(1).optional()),
    TRENT_ADMIN_ACCESS_KEY_ID: z.string().regex(/^[A-Z0-9]{16,128}$/, 'must be 16-128 upper-case letters or digits').optional(),
    TRENT_ADMIN_SECRET_ACCESS_KEY: z.string().min(16).max(128).optional(),
    TRENT_ROOT_KEY: z.string().optional(),
    TRENT_SEAL: z.enum(['dev', 'shamir', 'pkcs11']).default('dev'),
    TRENT_PKCS11_MODULE: z.string().min(1).optional(),
    TRENT_PKCS11_TOKEN_LABEL: z.string().min(1).optional(),
    TRENT_PKCS11_PIN: z.string().min(1).optional(),
    TRENT_PKCS11_KEY_LABEL: z.string().min(1).default('trent-unseal'),
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
    TRENT_HSMS: hsmMap.optional(),
    TRENT_PARAMETER_EVENTS_WEBHOOK: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), 'must be an http:// or https:// URL')
      .optional(),
  })
  .refine((e) => (e.TRENT_ADMIN_ACCESS_KEY_ID === undefined) === (e.TRENT_ADMIN_SECRET_ACCESS_KEY === undefined), {
    message: 'TRENT_ADMIN_ACCESS_KEY_ID and TRENT_ADMIN_SECRET_ACCESS_KEY must be set together',
  })
  .refine((e) => e.TRENT_SEAL === 'dev' || e.TRENT_ROOT_KEY === undefined, {
    message: 'TRENT_ROOT_KEY is the development-mode root key; it cannot be used with TRENT_SEAL=shamir or pkcs11',
  })
  .refine((e) => e.TRENT_SEAL !== 'pkcs11' || (e.TRENT_PKCS11_MODULE && e.TRENT_PKCS11_TOKEN_LABEL && e.TRENT_PKCS11_PIN), {
    message: 'TRENT_SEAL=pkcs11 needs TRENT_PKCS11_MODULE, TRENT_PKCS11_TOKEN_LABEL and TRENT_PKCS11_PIN',
  })
  // Each worker process is a node with its own seal state: with quorum unsealing an operator's share would
  // reach one worker at random. Workers need a mode in which every process unseals itself (dev, pkcs11).
  .refine((e) => e.TRENT_WORKERS === 1 || e.TRENT_SEAL !== 'shamir', {
    message: 'TRENT_WORKERS > 1 needs TRENT_SEAL=dev or pkcs11: with shamir every worker would have to be unsealed on its own',
  });

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly accountId: string;
  readonly region: string;
  /**
   * TRENT_REGIONS: the regions served; a request whose credential scope names another is refused as AWS
   * refuses a credential scoped to a wrong region. Absent: every well-formed region.
   */
  readonly regions?: readonly string[];
  readonly admin?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Base64 root key for development mode; absent means the root-key file in dataDir. */
  readonly rootKeyBase64?: string;
  /**
   * How the node gets its unseal key (docs/seal.md): `dev` (root key file or TRENT_ROOT_KEY, the default),
   * `shamir` (operators' key shares), `pkcs11` (unwrapped by a key in an HSM; shares for recovery).
   */
  readonly seal: {
    readonly mode: 'dev' | 'shamir' | 'pkcs11';
    readonly pkcs11?: { readonly modulePath: string; readonly tokenLabel: string; readonly pin: string; readonly keyLabel: string };
  };
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
  /** TRENT_HSMS: configured HSMs by the name CloudHsmClusterId gives (empty when unset). */
  readonly hsms: Readonly<Record<string, HsmConfig>>;
  /**
   * Where Parameter Store policy events (Expiration, ExpirationNotification, NoChangeNotification) are
   * POSTed as EventBridge-shaped JSON, in addition to the audit trail; absent: the audit trail only.
   */
  readonly parameterEventsWebhook?: string;
}

/** A configured HSM (PKCS#11 module and token) that a custom key store can name as its cluster. */
export interface HsmConfig {
  readonly modulePath: string;
  readonly tokenLabel: string;
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
    ...(e.TRENT_REGIONS ? { regions: Object.freeze(e.TRENT_REGIONS) } : {}),
    ...(e.TRENT_ADMIN_ACCESS_KEY_ID && e.TRENT_ADMIN_SECRET_ACCESS_KEY
      ? { admin: Object.freeze({ accessKeyId: e.TRENT_ADMIN_ACCESS_KEY_ID, secretAccessKey: e.TRENT_ADMIN_SECRET_ACCESS_KEY }) }
      : {}),
    ...(e.TRENT_ROOT_KEY ? { rootKeyBase64: e.TRENT_ROOT_KEY } : {}),
    seal: Object.freeze({
      mode: e.TRENT_SEAL,
      ...(e.TRENT_SEAL === 'pkcs11'
        ? { pkcs11: Object.freeze({ modulePath: e.TRENT_PKCS11_MODULE!, tokenLabel: e.TRENT_PKCS11_TOKEN_LABEL!, pin: e.TRENT_PKCS11_PIN!, keyLabel: e.TRENT_PKCS11_KEY_LABEL }) }
        : {}),
    }),
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
    hsms: Object.freeze(
      Object.fromEntries(
        Object.entries(e.TRENT_HSMS ?? {}).map(([name, h]) => [name, Object.freeze({ modulePath: h.module, tokenLabel: h.tokenLabel })]),
      ),
    ),
    ...(e.TRENT_PARAMETER_EVENTS_WEBHOOK ? { parameterEventsWebhook: e.TRENT_PARAMETER_EVENTS_WEBHOOK } : {}),
  };
  return Object.freeze(config);
}
