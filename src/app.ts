/**
 * The composition root: the one place that knows every concrete class. Tests inject parts
 * (storage, clock, barrier) and get the same wiring the server runs with.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { createAuthorizer } from './auth/authorizer.ts';
import { createCredentialStore } from './auth/credential-store.ts';
import { createIamService } from './auth/iam-service.ts';
import { adminServiceDefinition } from './http/admin/index.ts';
import { withAccessControl } from './http/kms/access-control.ts';
import { createGrantService } from './kms/grant-service.ts';
import { createKeyPolicyService } from './kms/key-policy-service.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config/config.ts';
import { kmsServiceDefinition } from './http/kms/index.ts';
import { ssmServiceDefinition } from './http/ssm/index.ts';
import { createParameterService } from './parameters/parameter-service.ts';
import { createEdge } from './http/server.ts';
import { secretsManagerServiceDefinition } from './http/secretsmanager/index.ts';
import { createSecretJobs } from './secrets/jobs.ts';
import { postgresRotator } from './secrets/postgres-rotator.ts';
import { createRotationRunner } from './secrets/rotation.ts';
import { createSecretService } from './secrets/secret-service.ts';
import { cloudTrailServiceDefinition } from './http/cloudtrail/index.ts';
import { AuditLog } from './audit/audit-log.ts';
import { loadDigestSigner } from './audit/digest-key.ts';
import { createAuditQueryService } from './audit/query.ts';
import { pruneExpired } from './audit/retention.ts';
import { createAliasService } from './kms/alias-service.ts';
import { createKeyLifecycle, type KeyLifecycle } from './kms/key-lifecycle.ts';
import { createKeyService } from './kms/key-service.ts';
import { createAsymmetricOperations } from './kms/asymmetric-operations.ts';
import { createKeyUpdateService } from './kms/key-updates.ts';
import { MaterialCache } from './kms/material-cache.ts';
import { RootKeyBarrier, type Barrier } from './seal/barrier.ts';
import { loadDeploymentSecret } from './seal/deployment-secret.ts';
import { checkRootKey } from './seal/root-check.ts';
import { loadDevRootKey } from './seal/root-key-source.ts';
import { openStorage } from './storage/open-storage.ts';
import { ReadCachingStorage } from './storage/read-cache.ts';
import type { Storage } from './storage/storage.ts';

export interface AppParts {
  config: Config;
  storage?: Storage;
  clock?: Clock;
  barrier?: Barrier;
  logger?: Logger;
}

export interface App {
  readonly server: Server;
  readonly storage: Storage;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Background work (key deletion and rotation when due); also run by a timer every jobIntervalMs. */
  readonly jobs: { runOnce(): ReturnType<KeyLifecycle['runDueJobs']> };
  /** Audit housekeeping (digest, intent recovery, retention); also run every audit.digestIntervalMs. */
  readonly audit: { runOnce(): Promise<unknown> };
  /** Set only when this start created the administrator: print it once. */
  readonly createdAdmin?: { accessKeyId: string; secretAccessKey: string };
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
}

export async function createApp(parts: AppParts): Promise<App> {
  const { config } = parts;
  const logger = parts.logger ?? pino({ level: config.logLevel, base: { service: 'trent' } });
  const clock = parts.clock ?? systemClock;
  const store = parts.storage ?? (await openStorage(config.storageUrl));
  // Every service reads through the short-lived cache of key records, grants and principals (coherence
  // bound: readCacheMs, below the documented 1 s); writes through it are seen at once.
  const storage = config.readCacheMs > 0 ? new ReadCachingStorage(store, config.readCacheMs) : store;

  let barrier = parts.barrier;
  if (!barrier) {
    const root = loadDevRootKey(config.dataDir, config.rootKeyBase64);
    logger.warn(
      { rootKeySource: root.source, path: root.path },
      'DEVELOPMENT MODE: the root key is read from %s; use quorum or HSM unsealing in production',
      root.source === 'environment' ? 'TRENT_ROOT_KEY' : root.path,
    );
    barrier = new RootKeyBarrier(root.key);
  }
  await checkRootKey(storage, barrier);

  const materialCache = new MaterialCache(config.keyCacheSize);
  const credentials = createCredentialStore({ storage, barrier, clock });
  const admin = await credentials.bootstrapAdmin(config.accountId, config.admin);
  const authorizer = createAuthorizer({ storage, clock });
  const iam = createIamService({ storage, clock, authorizer, credentials });
  await iam.ensureAdministrator(config.accountId);
  const ciphertextHeaderKey = await loadDeploymentSecret(storage, barrier, 'kms-ciphertext-header');
  const keys = createKeyService({ storage, barrier, clock, materialCache, ciphertextHeaderKey, authorizer });
  const aliases = createAliasService({ storage, clock, keys });
  const keyUpdates = createKeyUpdateService({ storage, keys });
  const lifecycle = createKeyLifecycle({ storage, barrier, clock, materialCache, keys });
  const parameters = createParameterService({ storage, clock, keys, aliases });
  const secrets = createSecretService({ storage, clock, keys, aliases });
  const secretRotation = createRotationRunner({ secrets, clock, builtIns: { postgres: postgresRotator } });
  const secretJobs = createSecretJobs({ secrets, rotation: secretRotation, clock });

  // The audit log (docs/audit.md): one writer, group commit, write-ahead intents, signed digests.
  const auditLog = new AuditLog({ storage, clock, logger, signer: await loadDigestSigner(storage, barrier) });
  if (config.audit.unsafeNoDurabilityWait) {
    logger.warn('BENCHMARK-ONLY UNSAFE SETTING TRENT_BENCH_UNSAFE_AUDIT_NO_WAIT: calls are answered before their audit event is durable; a crash loses events and a failed audit write no longer fails the call');
  }
  // A single node's intents at start-up are all from a process that died; other nodes' (PostgreSQL) or
  // other workers' (TRENT_WORKERS > 1) may be in flight.
  const STALE_INTENT_MS = 5 * 60_000;
  await auditLog.recoverIntents(storage.kind === 'sqlite' && config.workers === 1 ? -1 : STALE_INTENT_MS);
  const trackingStart = Number(await storage.transaction((tx) => tx.meta.putIfAbsent('audit:tracking-start', String(clock.now()))));
  const auditQuery = createAuditQueryService({ storage });

  const edge = createEdge({
    services: [
      withAccessControl(kmsServiceDefinition({ keys, aliases, keyUpdates, lifecycle, asymmetric: createAsymmetricOperations({ keys }), audit: { query: auditQuery, trackingStart } }), {
        authorizer, policies: createKeyPolicyService({ keys, authorizer }), grants: createGrantService({ storage, clock, keys, authorizer }),
      }),
      adminServiceDefinition(iam),
      cloudTrailServiceDefinition(auditQuery),
      ssmServiceDefinition(parameters),
      secretsManagerServiceDefinition({ secrets, rotation: secretRotation }),
    ],
    credentials,
    wallClock: systemClock,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    audit: {
      accountId: config.accountId,
      region: config.region,
      clock,
      begin: (facts) => auditLog.begin(facts),
      record: config.audit.unsafeNoDurabilityWait
        ? (event, intentId) => {
          // Benchmark-only (see Config.audit.unsafeNoDurabilityWait): the batch's failure is logged by the audit log.
          auditLog.record(event, intentId).catch(() => undefined);
          return Promise.resolve();
        }
        : (event, intentId) => auditLog.record(event, intentId),
    },
    health: () => ({ status: barrier.isUnsealed ? 'ok' : 'sealed', sealed: !barrier.isUnsealed, storage: storage.kind }),
  });
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void edge.handle(req, res));

  // One pass at a time per node; several nodes may run passes at once (every change is compare-and-set).
  let running: Promise<unknown> = Promise.resolve();
  const runOnce = () => {
    // Parameter expiry (SSM Expiration policies) runs in the same pass, after the key jobs.
    const pass = running.then(async () => {
      const done = await lifecycle.runDueJobs();
      await parameters.runDue();
      await secretJobs.runDue();
      return done;
    });
    running = pass.catch((err: unknown) => logger.error({ err }, 'background job pass failed'));
    return pass;
  };
  const timer = config.jobIntervalMs > 0 ? setInterval(() => void runOnce().catch(() => undefined), config.jobIntervalMs) : undefined;
  timer?.unref();

  // Audit housekeeping: sign the chain head, recover intents of crashed calls, export and prune old events.
  const auditPass = async () => {
    await auditLog.recoverIntents(STALE_INTENT_MS);
    await auditLog.writeDigest();
    if (config.audit.retentionDays > 0) {
      await pruneExpired(storage, clock.now() - config.audit.retentionDays * 86_400_000, config.audit.exportDir);
    }
  };
  let auditRunning: Promise<unknown> = Promise.resolve();
  const runAuditPass = () => {
    auditRunning = auditRunning.then(auditPass).catch((err: unknown) => logger.error({ err }, 'audit housekeeping failed'));
    return auditRunning;
  };
  const auditTimer = config.audit.digestIntervalMs > 0 ? setInterval(() => void runAuditPass(), config.audit.digestIntervalMs) : undefined;
  auditTimer?.unref();

  return {
    server,
    storage,
    clock,
    logger,
    jobs: { runOnce },
    audit: { runOnce: runAuditPass },
    ...(admin.created ? { createdAdmin: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey } } : {}),
    listen(port = config.port, host = config.host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const addr = server.address() as AddressInfo;
          const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          resolve({ port: addr.port, url: `http://${shownHost}:${addr.port}` });
        });
      });
    },
    async close() {
      if (timer) clearInterval(timer);
      if (auditTimer) clearInterval(auditTimer);
      await running;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      materialCache.clear();
      await auditRunning;
      await auditLog.drain();
      // Sign the head at shutdown so a clean stop leaves no unsigned tail.
      await auditLog.writeDigest().catch((err: unknown) => logger.error({ err }, 'final audit digest failed'));
      await storage.close();
    },
  };
}
