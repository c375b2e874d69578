/**
 * Configuration: read once from the environment (and flags), validated, frozen and passed down.
 * No other module reads process.env. No secret has a default.
 */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { SecretBytes } from '../crypto/secret-bytes.ts';

const accountId = z.string().regex(/^\d{12}$/, 'must be 12 digits');
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const region = z.string().regex(REGION_PATTERN, 'must look like us-east-1');

/** Whether the deployment serves `name`: one of TRENT_REGIONS, or any well-formed region when it is unset. */
export function servesRegion(config: Pick<Config, 'regions'>, name: string): boolean {
  return config.regions ? config.regions.includes(name) : REGION_PATTERN.test(name);
}

/**
 * TRENT_HSMS: the HSMs custom key stores may use, by the name the API calls CloudHsmClusterId:
 * {"<name>": {"module": "/usr/lib/softhsm/libsofthsm2.so", "tokenLabel": "…"}}. No PIN here: the
 * PIN is the KeyStorePassword of CreateCustomKeyStore, kept sealed in storage.
 */
const hsmName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'HSM names are 1-64 letters, digits, dot, dash or underscore');
const hsmEntry = z.object({ module: z.string().min(1), tokenLabel: z.string().min(1).max(32) }).strict();
/**
 * A variable holding JSON, checked by `schema`. The error never echoes the text: TRENT_ROTATORS holds
 * shared secrets.
 */
function jsonVariable<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}
const hsmMap = jsonVariable(z.record(hsmName, hsmEntry));

/**
 * TRENT_ROTATORS: the webhook rotators a secret may name (docs/secrets.md, "Rotation"), by the function
 * name of its RotationLambdaARN: {"<name>": {"url": "https://…", "secret": "<shared secret>", "caFile":
 * "/path/ca.pem"}}. Only HTTPS; `secret` (at least 32 characters) signs every request to the rotator;
 * `caFile` (optional) is a PEM bundle trusted for that rotator in addition to the system roots.
 */
const rotatorName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'rotator names are 1-64 letters, digits, dash or underscore (a Lambda function name)');
const rotatorEntry = z
  .object({
    url: z.string().url().refine((u) => /^https:\/\//i.test(u), 'must be an https:// URL'),
    secret: z.string().min(32, 'must be at least 32 characters').max(1024),
    caFile: z.string().min(1).optional(),
  })
  .strict();
const rotatorMap = jsonVariable(z.record(rotatorName, rotatorEntry));

/** A duration: milliseconds, or a number with ms, s, m or h (e.g. 1s, 500ms). */
const duration = (fallback: string) => z.string().default(fallback).transform((text, ctx) => {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim());
  const ms = m ? Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h']) : NaN;
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 1s, 500ms or 2m' });
    return z.NEVER;
  }
  return ms;
});

/**
 * TRENT_TRUSTED_PROXIES: comma-separated addresses or CIDRs (IPv4 or IPv6) whose X-Forwarded-Proto is
 * believed. Parsed here so a typo stops start-up instead of silently trusting nobody.
 */
const trustedProxies = z
  .string()
  .transform((text, ctx) => {
    const out: TrustedProxy[] = [];
    for (const raw of text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
      const [address, bits, extra] = raw.split('/');
      const family = isIP(address ?? '');
      const max = family === 6 ? 128 : 32;
      const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
      if (family === 0 || extra !== undefined || !(prefix >= 0 && prefix <= max)) {
        ctx.addIssue({ code: 'custom', message: `'${raw}' is not an IP address or CIDR` });
        return z.NEVER;
      }
      out.push({ address: address!, prefix, family: family === 6 ? 'ipv6' : 'ipv4' });
    }
    return out;
  });

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
    // One process per core by default (src/cluster.ts); every custody mode unseals all of them (docs/seal.md).
    TRENT_WORKERS: z.coerce.number().int().min(1).max(64).default(Math.min(64, availableParallelism())),
    TRENT_QUOTAS: z.string().min(1).optional(),
    // The web console (docs/console.md): served unless off; it holds no privilege, so on is a safe default.
    TRENT_CONSOLE: z.enum(['on', 'off']).default('on'),
    // Idle sign-out of the console: at least 5 s (a shorter one signs people out mid-sentence), at most a day.
    TRENT_CONSOLE_IDLE_SECONDS: z.coerce.number().int().min(5).max(86_400).default(900),
    // Addresses and CIDRs allowed to scrape GET /metrics (src/http/metrics.ts); default: loopback only.
    TRENT_METRICS_ALLOW: z.string().default('127.0.0.0/8,::1/128')
      .transform((v, ctx) => {
        const list = v.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
        for (const item of list) {
          const [addr, bits] = item.split('/');
          const family = isIP(addr ?? '');
          const max = family === 6 ? 128 : 32;
          if (family === 0 || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not an address or CIDR: ${item}` });
            return z.NEVER;
          }
        }
        return list;
      }),
    TRENT_KEY_CACHE_SIZE: z.coerce.number().int().min(0).max(10_000_000).default(10_000),
    // The bound on the audit chain's unsigned tail (docs/audit.md): a digest at least this often while
    // events arrive, or after this many events, whichever comes first.
    TRENT_AUDIT_DIGEST_INTERVAL: duration('1s').pipe(z.number().int().min(10, 'must be at least 10ms').max(3600_000, 'must be at most 1h')),
    TRENT_AUDIT_DIGEST_MAX_EVENTS: z.coerce.number().int().min(1).max(1000).default(1000),
    TRENT_AUDIT_DIGEST_DIR: z.string().min(1).optional(),
    TRENT_AUDIT_DIGEST_WEBHOOK: z.string().url().refine((u) => /^https:\/\//i.test(u), 'must be an https:// URL').optional(),
    TRENT_AUDIT_DIGEST_WEBHOOK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    TRENT_AUDIT_DIGEST_WEBHOOK_CA: z.string().min(1).optional(),
    TRENT_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).max(100 * 365).default(0),
    TRENT_AUDIT_EXPORT_DIR: z.string().min(1).optional(),
    TRENT_HSMS: hsmMap.optional(),
    TRENT_ROTATORS: rotatorMap.optional(),
    TRENT_PARAMETER_EVENTS_WEBHOOK: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), 'must be an http:// or https:// URL')
      .optional(),
    // HTTPS (docs/tls.md): PEM files, reloaded on SIGHUP and when they change.
    TRENT_TLS_CERT: z.string().min(1).optional(),
    TRENT_TLS_KEY: z.string().min(1).optional(),
    TRENT_TLS_CLIENT_CA: z.string().min(1).optional(),
    TRENT_TRUSTED_PROXIES: trustedProxies.optional(),
  })
  .refine((e) => (e.TRENT_TLS_CERT === undefined) === (e.TRENT_TLS_KEY === undefined), {
    message: 'TRENT_TLS_CERT and TRENT_TLS_KEY must be set together',
  })
  .refine((e) => e.TRENT_TLS_CLIENT_CA === undefined || e.TRENT_TLS_CERT !== undefined, {
    message: 'TRENT_TLS_CLIENT_CA (mutual TLS) needs TRENT_TLS_CERT and TRENT_TLS_KEY',
  })
  .refine((e) => (e.TRENT_ADMIN_ACCESS_KEY_ID === undefined) === (e.TRENT_ADMIN_SECRET_ACCESS_KEY === undefined), {
    message: 'TRENT_ADMIN_ACCESS_KEY_ID and TRENT_ADMIN_SECRET_ACCESS_KEY must be set together',
  })
  .refine((e) => e.TRENT_SEAL === 'dev' || e.TRENT_ROOT_KEY === undefined, {
    message: 'TRENT_ROOT_KEY is the development-mode root key; it cannot be used with TRENT_SEAL=shamir or pkcs11',
  })
  .refine((e) => (e.TRENT_AUDIT_DIGEST_WEBHOOK === undefined) === (e.TRENT_AUDIT_DIGEST_WEBHOOK_SECRET === undefined), {
    message: 'TRENT_AUDIT_DIGEST_WEBHOOK and TRENT_AUDIT_DIGEST_WEBHOOK_SECRET must be set together (deliveries are signed)',
  })
  .refine((e) => e.TRENT_SEAL !== 'pkcs11' || (e.TRENT_PKCS11_MODULE && e.TRENT_PKCS11_TOKEN_LABEL && e.TRENT_PKCS11_PIN), {
    message: 'TRENT_SEAL=pkcs11 needs TRENT_PKCS11_MODULE, TRENT_PKCS11_TOKEN_LABEL and TRENT_PKCS11_PIN',
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
  /**
   * Server processes sharing the port (node:cluster; default: one per core); 1 runs everything in this
   * process (src/cluster.ts). With several, the primary carries the seal between them (src/cluster-seal.ts).
   */
  readonly workers: number;
  /** Addresses / CIDRs that may scrape GET /metrics (TRENT_METRICS_ALLOW). */
  readonly metricsAllow: readonly string[];
  /**
   * TRENT_QUOTAS: a JSON file of request quotas merged over AWS's defaults (src/http/quotas.ts); absent:
   * AWS's defaults alone.
   */
  readonly quotasFile?: string;
  /** TRENT_QUOTAS=off: no request quotas. */
  readonly quotasOff?: boolean;
  /** The web console under /console/ (TRENT_CONSOLE, default on); idleSeconds: its idle sign-out. */
  readonly console: { readonly enabled: boolean; readonly idleSeconds: number };
  /** How often the background job (deletion, rotation) runs; 0 disables the timer. */
  readonly jobIntervalMs: number;
  /** Audit log (docs/audit.md): the digests that bound the unsigned tail and where they are delivered, retention. */
  readonly audit: {
    /** A digest at least this long after the first unsigned event (TRENT_AUDIT_DIGEST_INTERVAL, default 1 s)… */
    readonly digestIntervalMs: number;
    /** …or once this many events are unsigned (TRENT_AUDIT_DIGEST_MAX_EVENTS, default 1,000). */
    readonly digestMaxEvents: number;
    /** Where each digest is also written as a file (default <data dir>/audit-digests); keep it off the store's host. */
    readonly digestDir: string;
    /** Optional HTTPS endpoint each digest is POSTed to, signed with HMAC-SHA256 (src/audit/digest-webhook.ts). */
    readonly digestWebhook?: { readonly url: string; readonly secret: string; readonly caFile?: string };
    /** Events older than this are exported to exportDir and then pruned; 0 keeps them forever. */
    readonly retentionDays: number;
    readonly exportDir: string;
  };
  /** TRENT_HSMS: configured HSMs by the name CloudHsmClusterId gives (empty when unset). */
  readonly hsms: Readonly<Record<string, HsmConfig>>;
  /**
   * Where Parameter Store policy events (Expiration, ExpirationNotification, NoChangeNotification) are
   * POSTed as EventBridge-shaped JSON, in addition to the audit trail; absent: the audit trail only.
   */
  readonly parameterEventsWebhook?: string;
  /** TRENT_ROTATORS: the webhook rotators secrets may name, by function name (empty when unset). */
  readonly rotators: Readonly<Record<string, RotatorConfig>>;
  /** HTTPS on the one port (docs/tls.md); absent: plain HTTP. */
  readonly tls?: TlsConfig;
  /** Proxies whose X-Forwarded-Proto: https makes aws:SecureTransport true (empty: trust no header). */
  readonly trustedProxies: readonly TrustedProxy[];
}

/** A configured webhook rotator. The secret is SecretBytes so that it never prints or serialises. */
export interface RotatorConfig {
  readonly url: string;
  readonly secret: SecretBytes;
  readonly caFile?: string;
}

export interface TlsConfig {
  /** PEM certificate (a chain is allowed: leaf first). */
  readonly certFile: string;
  /** PEM private key of the leaf. */
  readonly keyFile: string;
  /** Mutual TLS: PEM CA bundle a client certificate must chain to; absent: no client certificate asked. */
  readonly clientCaFile?: string;
}

export interface TrustedProxy {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
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
    metricsAllow: Object.freeze([...e.TRENT_METRICS_ALLOW]),
    ...(e.TRENT_QUOTAS === 'off' ? { quotasOff: true } : e.TRENT_QUOTAS ? { quotasFile: e.TRENT_QUOTAS } : {}),
    readCacheMs: e.TRENT_READ_CACHE_MS,
    console: Object.freeze({ enabled: e.TRENT_CONSOLE === 'on', idleSeconds: e.TRENT_CONSOLE_IDLE_SECONDS }),
    jobIntervalMs: e.TRENT_JOB_INTERVAL_MS,
    audit: Object.freeze({
      digestIntervalMs: e.TRENT_AUDIT_DIGEST_INTERVAL,
      digestMaxEvents: e.TRENT_AUDIT_DIGEST_MAX_EVENTS,
      digestDir: e.TRENT_AUDIT_DIGEST_DIR ?? `${e.TRENT_DATA_DIR}/audit-digests`,
      ...(e.TRENT_AUDIT_DIGEST_WEBHOOK && e.TRENT_AUDIT_DIGEST_WEBHOOK_SECRET
        ? { digestWebhook: Object.freeze({ url: e.TRENT_AUDIT_DIGEST_WEBHOOK, secret: e.TRENT_AUDIT_DIGEST_WEBHOOK_SECRET, ...(e.TRENT_AUDIT_DIGEST_WEBHOOK_CA ? { caFile: e.TRENT_AUDIT_DIGEST_WEBHOOK_CA } : {}) }) }
        : {}),
      retentionDays: e.TRENT_AUDIT_RETENTION_DAYS,
      exportDir: e.TRENT_AUDIT_EXPORT_DIR ?? `${e.TRENT_DATA_DIR}/audit-export`,
    }),
    hsms: Object.freeze(
      Object.fromEntries(
        Object.entries(e.TRENT_HSMS ?? {}).map(([name, h]) => [name, Object.freeze({ modulePath: h.module, tokenLabel: h.tokenLabel })]),
      ),
    ),
    ...(e.TRENT_PARAMETER_EVENTS_WEBHOOK ? { parameterEventsWebhook: e.TRENT_PARAMETER_EVENTS_WEBHOOK } : {}),
    rotators: Object.freeze(
      Object.fromEntries(
        Object.entries(e.TRENT_ROTATORS ?? {}).map(([name, r]) => [
          name,
          Object.freeze({ url: r.url, secret: SecretBytes.copyOf(Buffer.from(r.secret, 'utf8')), ...(r.caFile ? { caFile: r.caFile } : {}) }),
        ]),
      ),
    ),
    ...(e.TRENT_TLS_CERT && e.TRENT_TLS_KEY
      ? {
          tls: Object.freeze({
            certFile: e.TRENT_TLS_CERT,
            keyFile: e.TRENT_TLS_KEY,
            ...(e.TRENT_TLS_CLIENT_CA ? { clientCaFile: e.TRENT_TLS_CLIENT_CA } : {}),
          }),
        }
      : {}),
    trustedProxies: Object.freeze((e.TRENT_TRUSTED_PROXIES ?? []).map((p) => Object.freeze(p))),
  };
  return Object.freeze(config);
}
