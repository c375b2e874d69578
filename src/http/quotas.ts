/**
 * Request quotas like AWS's (README "Operating"): token buckets per (account, region, quota), refilled
 * at the quota's rate per second and holding at most one second's worth (AWS: "requests per second").
 * A call over its quota is refused with ThrottlingException (HTTP 400, retried by the SDKs' standard
 * retry mode with backoff) before its write-ahead intent, so it changes nothing; the edge audits it like
 * every refusal.
 *
 * Quotas (keys of the TRENT_QUOTAS file, value = requests per second):
 *   kms:symmetric      Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext), GenerateMac, VerifyMac
 *   kms:asymmetric     Sign, Verify, GetPublicKey, DeriveSharedSecret, GenerateDataKeyPair(WithoutPlaintext)
 *                      (AWS splits RSA from ECC by key spec; the edge does not know the key's spec, so
 *                      they share one bucket here)
 *   kms:GenerateRandom
 *   kms:<Operation>    any other KMS operation (AWS: per-API management quotas)
 *   secretsmanager:<Operation>, ssm:<Operation>   per API, as AWS
 * A quota not in the file is unlimited. This node's buckets are its own: with TRENT_WORKERS = N or N
 * nodes the deployment admits up to N × the rate (not yet shared through storage).
 */
import { ThrottlingException } from '../errors/errors.ts';

const SYMMETRIC = new Set(['Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateMac', 'VerifyMac']);
const ASYMMETRIC = new Set(['Sign', 'Verify', 'GetPublicKey', 'DeriveSharedSecret', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext']);
const SERVICES: Readonly<Record<string, string>> = { TrentService: 'kms', secretsmanager: 'secretsmanager', AmazonSSM: 'ssm' };

// AWS: KMS answers "You have exceeded the rate at which you may call KMS. Reduce the frequency of your
// calls." (re:Post, kms-throttlingexception-error); Secrets Manager and Parameter Store "Rate exceeded".
const MESSAGES: Readonly<Record<string, string>> = {
  kms: 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.',
  secretsmanager: 'Rate exceeded',
  ssm: 'Rate exceeded',
};

export type QuotaTable = Readonly<Record<string, number>>;

/** The quota an operation counts against. */
export function quotaOf(targetPrefix: string, operation: string): string | undefined {
  const service = SERVICES[targetPrefix];
  if (!service) return undefined;
  if (service !== 'kms') return `${service}:${operation}`;
  if (SYMMETRIC.has(operation)) return 'kms:symmetric';
  if (ASYMMETRIC.has(operation)) return 'kms:asymmetric';
  return `kms:${operation}`;
}

/** Checks a quota file's contents: an object of positive request rates. */
export function parseQuotaTable(json: unknown): QuotaTable {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('TRENT_QUOTAS must hold a JSON object of "quota": requests per second');
  for (const [k, v] of Object.entries(json)) {
    if (!/^(kms|secretsmanager|ssm):[A-Za-z]+$/.test(k)) throw new Error(`TRENT_QUOTAS: unknown quota ${k}`);
    if (typeof v !== 'number' || !(v > 0)) throw new Error(`TRENT_QUOTAS: ${k} must be a positive number of requests per second`);
  }
  return Object.freeze({ ...(json as Record<string, number>) });
}

export function createQuotas(table: QuotaTable, now: () => number = () => performance.now()) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    /** Takes one request from the caller's bucket; ThrottlingException when it is empty. */
    take(caller: { accountId: string; region: string }, targetPrefix: string, operation: string): void {
      const quota = quotaOf(targetPrefix, operation);
      const rate = quota ? table[quota] : undefined;
      if (!quota || rate === undefined) return;
      const key = `${caller.accountId}/${caller.region}/${quota}`;
      const t = now();
      const b = buckets.get(key) ?? { tokens: rate, at: t };
      b.tokens = Math.min(rate, b.tokens + ((t - b.at) / 1000) * rate);
      b.at = t;
      buckets.set(key, b);
      if (b.tokens < 1) throw new ThrottlingException(MESSAGES[SERVICES[targetPrefix]!]!);
      b.tokens -= 1;
    },
  };
}

export type Quotas = ReturnType<typeof createQuotas>;
