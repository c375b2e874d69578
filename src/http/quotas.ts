/**
 * Request quotas like AWS's (README "Operating"): token buckets per (account, region, quota), refilled
 * at the quota's rate per second and holding one second's worth, at least one request (AWS: "requests
 * per second"; a rate below 1, such as GetParametersForImport's 0.25, admits one request every 1/rate s).
 * A call over its quota is refused with ThrottlingException (HTTP 400, retried by the SDKs' standard
 * retry mode with backoff) before it changes anything; the edge audits it like every refusal.
 *
 * Which quota a call counts against:
 * - the operation's own quota when the table has `<service>:<Operation>` (a TRENT_QUOTAS key naming an
 *   operation of a shared quota takes it out of that quota);
 * - otherwise the shared quota that lists it (DEFAULT_QUOTAS, e.g. `kms:symmetric`, `ssm:parameterReads`);
 * - KMS Encrypt, Decrypt, ReEncrypt, Sign, Verify and DeriveSharedSecret count against the quota of the
 *   type of key they use, not of the operation (AWS: "the request quota for that type of KMS key"):
 *   `kms:symmetric` for symmetric keys, `kms:rsa` for RSA, `kms:ecc` for ECC and SM2, `kms:mldsa` for
 *   ML-DSA; GenerateDataKeyPair(WithoutPlaintext) counts against its KeyPairSpec's quota
 *   (`kms:GenerateDataKeyPair_RSA_2048`…). The edge does not know the key, so the KMS operations take
 *   these once the key is resolved and usable, before it is used (`forKey`, the kms/ KeyUseQuota port).
 *   GenerateMac and VerifyMac stay in `kms:symmetric` at the edge (AWS: HMAC keys "are also symmetric").
 *   The decrypts Secrets Manager and Parameter Store make for their own calls take no KMS quota: those
 *   calls are already counted against their own APIs' quotas;
 * - a call that none names is not limited.
 *
 * Shares: with TRENT_WORKERS = N each worker's bucket refills at rate / N, and on PostgreSQL at rate /
 * (processes seen in the store's heartbeat table), so the deployment admits about the rate (QuotaShare).
 */
import type { Caller } from '../auth/caller.ts';
import { randomUuid } from '../crypto/primitives.ts';
import { ThrottlingException } from '../errors/errors.ts';
import type { KeyUseQuota } from '../kms/asymmetric-operations.ts';
import type { Storage } from '../storage/storage.ts';

const SERVICES: Readonly<Record<string, string>> = { TrentService: 'kms', secretsmanager: 'secretsmanager', AmazonSSM: 'ssm' };

// AWS: KMS answers "You have exceeded the rate at which you may call KMS. Reduce the frequency of your
// calls." (developerguide/requests-per-second.html, "Throttling AWS KMS requests"); Secrets Manager and
// Parameter Store answer "Rate exceeded" (re:Post knowledge-center/ssm-parameter-store-rate-exceeded:
// "An error occurred (ThrottlingException) when calling the GetParameter operation …: Rate exceeded").
const MESSAGES: Readonly<Record<string, string>> = {
  kms: 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.',
  secretsmanager: 'Rate exceeded',
  ssm: 'Rate exceeded',
};

/** A quota: requests per second, and the operations that share it (none: the quota of its own name). */
export interface QuotaDefinition {
  readonly rate: number;
  readonly operations?: readonly string[];
}

/**
 * AWS's default request quotas, per account and region.
 * - KMS: https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html ("Request quotas
 *   for each AWS KMS API operation"). The shared cryptographic quotas: symmetric 10,000 (the smallest
 *   regional value; 20,000 or 100,000 in some Regions), RSA 1,000, ECC and SM2 1,000, ML-DSA 1,000. The
 *   GenerateDataKeyPair RSA quotas are those of all Regions but China's (20, 4, 1; China: 1, 0.5, 0.1).
 *   Per-API values as in the table; a per-API quota of an operation Trent does not serve is left out.
 * - Secrets Manager: https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html
 *   ("Combined rate of … API requests"), with GetSecretValue 10,000 and DescribeSecret 40,000
 *   (https://aws.amazon.com/about-aws/whats-new/2025/03/aws-secrets-manager-increases-api-requests-seconds/).
 * - Parameter Store: https://docs.aws.amazon.com/general/latest/gr/ssm.html ("Max throughput (transactions
 *   per second)", default throughput): 40 shared by GetParameter, GetParameters, GetParametersByPath;
 *   PutParameter 3. Other SSM operations have no published default.
 */
export const DEFAULT_QUOTAS: Readonly<Record<string, QuotaDefinition>> = Object.freeze({
  'kms:symmetric': { rate: 10000, operations: ['Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateMac', 'VerifyMac', 'GenerateRandom'] },
  'kms:rsa': { rate: 1000 },
  'kms:ecc': { rate: 1000 },
  'kms:mldsa': { rate: 1000 },
  'kms:GenerateDataKeyPair_RSA_2048': { rate: 20 },
  'kms:GenerateDataKeyPair_RSA_3072': { rate: 4 },
  'kms:GenerateDataKeyPair_RSA_4096': { rate: 1 },
  'kms:GenerateDataKeyPair_ECC_NIST_P256': { rate: 100 },
  'kms:GenerateDataKeyPair_ECC_NIST_P384': { rate: 100 },
  'kms:GenerateDataKeyPair_ECC_NIST_P521': { rate: 100 },
  'kms:GenerateDataKeyPair_ECC_SECG_P256K1': { rate: 100 },
  'kms:GenerateDataKeyPair_ECC_NIST_EDWARDS25519': { rate: 100 },
  'kms:GenerateDataKeyPair_SM2': { rate: 25 },
  'kms:CancelKeyDeletion': { rate: 5 },
  'kms:ConnectCustomKeyStore': { rate: 5 },
  'kms:CreateAlias': { rate: 5 },
  'kms:CreateCustomKeyStore': { rate: 5 },
  'kms:CreateGrant': { rate: 50 },
  'kms:CreateKey': { rate: 5 },
  'kms:DeleteAlias': { rate: 15 },
  'kms:DeleteCustomKeyStore': { rate: 5 },
  'kms:DeleteImportedKeyMaterial': { rate: 15 },
  'kms:DescribeCustomKeyStores': { rate: 5 },
  'kms:DescribeKey': { rate: 2000 },
  'kms:DisableKey': { rate: 5 },
  'kms:DisableKeyRotation': { rate: 5 },
  'kms:DisconnectCustomKeyStore': { rate: 5 },
  'kms:EnableKey': { rate: 5 },
  'kms:EnableKeyRotation': { rate: 15 },
  'kms:GetKeyLastUsage': { rate: 5 },
  'kms:GetKeyPolicy': { rate: 1000 },
  'kms:GetKeyRotationStatus': { rate: 1000 },
  'kms:GetParametersForImport': { rate: 1 },
  'kms:GetPublicKey': { rate: 2000 },
  'kms:ImportKeyMaterial': { rate: 15 },
  'kms:ListAliases': { rate: 500 },
  'kms:ListGrants': { rate: 100 },
  'kms:ListKeyPolicies': { rate: 100 },
  'kms:ListKeyRotations': { rate: 100 },
  'kms:ListKeys': { rate: 500 },
  'kms:ListResourceTags': { rate: 2000 },
  'kms:ListRetirableGrants': { rate: 100 },
  'kms:PutKeyPolicy': { rate: 15 },
  'kms:ReplicateKey': { rate: 5 },
  'kms:RetireGrant': { rate: 50 },
  'kms:RevokeGrant': { rate: 50 },
  'kms:RotateKeyOnDemand': { rate: 5 },
  'kms:ScheduleKeyDeletion': { rate: 15 },
  'kms:TagResource': { rate: 10 },
  'kms:UntagResource': { rate: 5 },
  'kms:UpdateAlias': { rate: 5 },
  'kms:UpdateCustomKeyStore': { rate: 5 },
  'kms:UpdateKeyDescription': { rate: 5 },
  'kms:UpdatePrimaryRegion': { rate: 5 },
  'secretsmanager:GetSecretValue': { rate: 10000 },
  'secretsmanager:DescribeSecret': { rate: 40000 },
  'secretsmanager:BatchGetSecretValue': { rate: 100 },
  'secretsmanager:ListSecrets': { rate: 100 },
  'secretsmanager:CreateSecret': { rate: 50 },
  'secretsmanager:DeleteSecret': { rate: 50 },
  'secretsmanager:GetRandomPassword': { rate: 50 },
  'secretsmanager:ListSecretVersionIds': { rate: 50 },
  'secretsmanager:RestoreSecret': { rate: 50 },
  'secretsmanager:secretValueUpdates': { rate: 50, operations: ['PutSecretValue', 'UpdateSecret', 'UpdateSecretVersionStage', 'RemoveRegionsFromReplication', 'ReplicateSecretToRegions', 'StopReplicationToReplica'] },
  'secretsmanager:resourcePolicies': { rate: 50, operations: ['DeleteResourcePolicy', 'GetResourcePolicy', 'PutResourcePolicy', 'ValidateResourcePolicy'] },
  'secretsmanager:rotation': { rate: 50, operations: ['RotateSecret', 'CancelRotateSecret'] },
  'secretsmanager:tagging': { rate: 50, operations: ['TagResource', 'UntagResource'] },
  'ssm:parameterReads': { rate: 40, operations: ['GetParameter', 'GetParameters', 'GetParametersByPath'] },
  'ssm:PutParameter': { rate: 3 },
});

/** KMS operations whose quota depends on the key or the requested key pair: taken by takeForKey. */
const BY_KEY = new Set(['Encrypt', 'Decrypt', 'ReEncrypt', 'Sign', 'Verify', 'DeriveSharedSecret', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext']);

/** Rates by quota name, after the TRENT_QUOTAS file is merged over the defaults. */
export type QuotaTable = Readonly<Record<string, QuotaDefinition>>;

const QUOTA_NAME = /^(kms|secretsmanager|ssm):[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Checks a quota file's contents (an object of positive request rates) and merges it over the defaults,
 * quota by quota. A name that is no default quota sets the rate of the operation it names.
 */
export function parseQuotaTable(json: unknown, defaults: QuotaTable = DEFAULT_QUOTAS): QuotaTable {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('TRENT_QUOTAS must hold a JSON object of "quota": requests per second');
  const table: Record<string, QuotaDefinition> = { ...defaults };
  for (const [k, v] of Object.entries(json)) {
    if (!QUOTA_NAME.test(k)) throw new Error(`TRENT_QUOTAS: unknown quota ${k}`);
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new Error(`TRENT_QUOTAS: ${k} must be a positive number of requests per second`);
    table[k] = { ...defaults[k], rate: v };
  }
  return Object.freeze(table);
}

/** The quota an operation counts against at the edge; undefined: none, or taken where the key is known. */
export function quotaOf(table: QuotaTable, targetPrefix: string, operation: string): string | undefined {
  const service = SERVICES[targetPrefix];
  if (!service) return undefined;
  if (service === 'kms' && BY_KEY.has(operation)) return undefined;
  return namedQuota(table, service, operation);
}

function namedQuota(table: QuotaTable, service: string, operation: string): string | undefined {
  const own = `${service}:${operation}`;
  if (table[own]) return own;
  for (const [name, q] of Object.entries(table)) {
    if (name.startsWith(`${service}:`) && q.operations?.includes(operation)) return name;
  }
  return undefined;
}

/** The quota a KMS call on a key of `spec` (or, for GenerateDataKeyPair, of key pair spec `spec`) counts against. */
export function keyQuotaOf(table: QuotaTable, operation: string, spec: string): string | undefined {
  const own = namedQuota(table, 'kms', operation);
  if (own && table[own] && !table[own]!.operations) return own; // a TRENT_QUOTAS key for the operation itself
  if (operation === 'GenerateDataKeyPair' || operation === 'GenerateDataKeyPairWithoutPlaintext') return `kms:GenerateDataKeyPair_${spec}`;
  if (spec.startsWith('RSA_')) return 'kms:rsa';
  if (spec.startsWith('ECC_') || spec === 'SM2') return 'kms:ecc';
  if (spec.startsWith('ML_DSA_')) return 'kms:mldsa';
  return own; // a symmetric key: the operation's shared quota (kms:symmetric)
}

/** How many equal shares a quota is split into (this process admits rate / share()). */
export type QuotaShare = () => number;

export function createQuotas(table: QuotaTable, share: QuotaShare = () => 1, now: () => number = () => performance.now()) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const take = (caller: { accountId: string; region: string }, service: string, quota: string | undefined): void => {
    const full = quota ? table[quota]?.rate : undefined;
    if (!quota || full === undefined) return;
    const rate = full / Math.max(1, share());
    // One second's worth, but at least one request, so a rate below 1 admits one call every 1/rate s.
    const capacity = Math.max(1, rate);
    const key = `${caller.accountId}/${caller.region}/${quota}`;
    const t = now();
    const b = buckets.get(key) ?? { tokens: capacity, at: t };
    b.tokens = Math.min(capacity, b.tokens + ((t - b.at) / 1000) * rate);
    b.at = t;
    buckets.set(key, b);
    if (b.tokens < 1) throw new ThrottlingException(MESSAGES[service]!);
    b.tokens -= 1;
  };
  const forKey: KeyUseQuota = { take: (caller, operation, spec) => take(caller, 'kms', keyQuotaOf(table, operation, spec)) };
  return {
    /** Takes one request from the caller's bucket for the operation; ThrottlingException when it is empty. */
    take(caller: Caller, targetPrefix: string, operation: string): void {
      take(caller, SERVICES[targetPrefix] ?? '', quotaOf(table, targetPrefix, operation));
    },
    /** The KMS asymmetric operations' port: the quota of the resolved key's family (or key pair spec). */
    forKey,
  };
}

export type Quotas = ReturnType<typeof createQuotas>;

/**
 * This process's share of every quota. Each worker takes rate / workers. On PostgreSQL every process
 * also writes a heartbeat row every `intervalMs` and counts the rows seen within three intervals, and
 * takes rate / max(workers, live processes): the deployment then admits about the rate, exceeding or
 * falling short of it by at most one heartbeat interval's worth of requests while a node joins or leaves.
 */
/** How often a process writes its heartbeat row, and how long one counts as live (three beats). */
export const HEARTBEAT_INTERVAL_MS = 5000;
export const LIVE_WINDOW_BEATS = 3;

export function startQuotaShare(opts: {
  storage: Storage;
  workers: number;
  /** This process's row in the heartbeat table (the operator's view names it); a fresh id when absent. */
  nodeId?: string;
  intervalMs?: number;
  wallClock: { now(): number };
  onError: (err: unknown) => void;
}): { share: QuotaShare; stop(): Promise<void> } {
  const workers = Math.max(1, opts.workers);
  if (opts.storage.kind !== 'postgres') return { share: () => workers, stop: async () => {} };
  const interval = opts.intervalMs ?? HEARTBEAT_INTERVAL_MS;
  const nodeId = opts.nodeId ?? randomUuid();
  let live = workers;
  let stopped = false;
  const beat = async () => {
    const t = opts.wallClock.now();
    try {
      live = await opts.storage.transaction(async (tx) => {
        await tx.nodes.beat(nodeId, t);
        // Rows of processes gone for a long time are dropped (a crash leaves its row).
        await tx.nodes.deleteStale(t - 100 * interval);
        return tx.nodes.countLive(t - LIVE_WINDOW_BEATS * interval);
      });
    } catch (err) {
      // The store is away: keep the last count (the bound holds for the nodes that still see it).
      opts.onError(err);
    }
  };
  const first = beat();
  const timer = setInterval(() => void beat(), interval);
  timer.unref();
  return {
    share: () => Math.max(workers, live),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await first;
      await opts.storage.transaction((tx) => tx.nodes.remove(nodeId)).catch(opts.onError);
    },
  };
}
