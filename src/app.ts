/**
 * The composition root: the one place that knows every concrete class. Tests inject parts
 * (storage, clock, hsm) and get the same wiring the server runs with.
 *
 * Two layers (docs/seal.md): what runs while sealed (storage, the seal manager, the unauthenticated
 * operator routes, the authorizer) is built once; everything that needs the barrier (credentials,
 * deployment secrets, key material cache, services, audit log, background jobs) is built by
 * buildUnsealed() on each unseal and dropped, zeroed, on seal. When a generation exists, what it is still
 * doing and how it ends is src/node-lifecycle.ts.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { pino, type Logger } from 'pino';
import { createAuthorizer } from './auth/authorizer.ts';
import { createCredentialStore } from './auth/credential-store.ts';
import { createIamManaged } from './auth/iam-managed.ts';
import { createPolicySimulator } from './auth/iam-simulate.ts';
import { keyFromRecord } from './kms/key-model.ts';
import { IAM_ACCESS_RULES, STS_ACCESS_RULES } from './auth/iam-access-rules.ts';
import { createIamService } from './auth/iam-service.ts';
import { adminServiceDefinition } from './http/admin/index.ts';
import { iamServiceDefinition, stsServiceDefinition } from './http/query/iam-sts.ts';
import { withAccessControl } from './http/kms/access-control.ts';
import { withDeclaredAccessControl } from './http/access-control.ts';
import { ADMIN_ACCESS_RULES } from './auth/admin-access-rules.ts';
import { BACKUP_ACCESS_RULES, METRICS_ACCESS_RULE, OPERATOR_ACCESS_RULES, REPLICATION_ACCESS_RULES } from './auth/operator-access-rules.ts';
import { CLOUDTRAIL_ACCESS_RULES } from './audit/access-rules.ts';
import { createGrantService } from './kms/grant-service.ts';
import { createKeyPolicyService } from './kms/key-policy-service.ts';
import { systemClock, type Clock } from './clock.ts';
import { servesRegion, type Config } from './config/config.ts';
import { kmsServiceDefinition } from './http/kms/index.ts';
import { ssmServiceDefinition } from './http/ssm/index.ts';
import { createParameterService } from './parameters/parameter-service.ts';
import { createPolicyEventSink } from './parameters/policy-events.ts';
import { createEdge, type EdgeAudit } from './http/server.ts';
import { createNodeLifecycle, startAuditHousekeeping, startJobLoop, STALE_INTENT_MS, type Route, type Unsealed } from './node-lifecycle.ts';
import { createListener } from './http/listener.ts';
import { secureTransportCheck } from './http/secure-transport.ts';
import { secretsManagerServiceDefinition } from './http/secretsmanager/index.ts';
import { createSecretJobs } from './secrets/jobs.ts';
import { secretReferenceReader } from './secrets/parameter-reference.ts';
import { mysqlRotator } from './secrets/mysql-rotator.ts';
import { postgresRotator } from './secrets/postgres-rotator.ts';
import { createRotationRunner } from './secrets/rotation.ts';
import { createSecretService } from './secrets/secret-service.ts';
import { cloudTrailServiceDefinition } from './http/cloudtrail/index.ts';
import { AuditLog, type AuditTurns } from './audit/audit-log.ts';
import { createDigestDelivery } from './audit/digest-delivery.ts';
import { loadDigestSigner } from './audit/digest-key.ts';
import { spkiToPem } from './audit/digest.ts';
import { createDigestWebhook } from './audit/digest-webhook.ts';
import { createAuditQueryService } from './audit/query.ts';
import { jobEventRecorder } from './audit/service-event.ts';
import { createAliasService } from './kms/alias-service.ts';
import { createKeyImportService } from './kms/key-import.ts';
import { createKeyLifecycle, type KeyLifecycle } from './kms/key-lifecycle.ts';
import { createKeyService } from './kms/key-service.ts';
import { createMultiRegionService } from './kms/multi-region.ts';
import { replicationEndpoint, replicationServiceDefinition } from './http/replication/index.ts';
import { createLinkChanges } from './replication/link-changes.ts';
import { createLinkService } from './replication/links.ts';
import { createOutbox } from './replication/outbox.ts';
import { createReceiver } from './replication/receiver.ts';
import { createSecretOutbox, createSecretRecords } from './replication/secret-records.ts';
import { createSender } from './replication/sender.ts';
import { createAsymmetricOperations } from './kms/asymmetric-operations.ts';
import { createKeyUpdateService } from './kms/key-updates.ts';
import { MaterialCache } from './kms/material-cache.ts';
import { PaginationMarkers } from './kms/markers.ts';
import { operatorServiceDefinition } from './http/operator/index.ts';
import { createSysRoutes } from './http/operator/sys-routes.ts';
import { backupServiceDefinition } from './http/operator/backup.ts';
import { createBackupService } from './backup/backup-service.ts';
import { createHealthProbes } from './http/health.ts';
import { createConsoleRoutes } from './http/console.ts';
import { createMetrics, type WorkerMetricsChannel } from './http/metrics.ts';
import { createRequestLog } from './http/request-log.ts';
import { createQuotas, DEFAULT_QUOTAS, HEARTBEAT_INTERVAL_MS, LIVE_WINDOW_BEATS, parseQuotaTable, startQuotaShare } from './http/quotas.ts';
import type { Barrier } from './seal/barrier.ts';
import { createOperatorService } from './http/operator/operator-service.ts';
import { createAuditTrailCheck } from './http/operator/audit-trail-check.ts';
import { createSealManager, type SealManager, type SealPeers } from './seal/seal-manager.ts';
import { createHsmUnsealKeyWrapper } from './seal/hsm-unseal.ts';
import { openHsm, isSessionFailure, reportingHealth, type Hsm } from './hsm/index.ts';
import { SecretBytes } from './crypto/secret-bytes.ts';
import { randomUuid } from './crypto/primitives.ts';
import { loadDeploymentSecret } from './seal/deployment-secret.ts';
import { checkRootKey } from './seal/root-check.ts';
import { loadDevRootKey } from './seal/root-key-source.ts';
import { openStorage } from './storage/open-storage.ts';
import { CustomKeyStoreConnections, type OpenHsm } from './kms/custom-key-store-connections.ts';
import { createCustomKeyStoreService } from './kms/custom-key-stores.ts';
import { ErrorCountingStorage } from './storage/error-counting.ts';
import { ReadCachingStorage } from './storage/read-cache.ts';
import type { Storage } from './storage/storage.ts';

export interface AppParts {
  config: Config;
  storage?: Storage;
  clock?: Clock;
  logger?: Logger;
  /** Opens a PKCS#11 token for custom key stores; default: the real adapter (src/hsm/). */
  openHsm?: OpenHsm;
  /** The token of HSM auto-unseal (TRENT_SEAL=pkcs11); opened from config.seal.pkcs11 when absent. */
  hsm?: Hsm;
  /**
   * Wraps the edge's audit port. Only the benchmark's own entry point passes one (bench/unsafe-server.mjs,
   * which stops read-only calls waiting for durability); no configuration reaches it.
   */
  wrapEdgeAudit?: (audit: EdgeAudit) => EdgeAudit;
  /** In a worker of TRENT_WORKERS > 1: its metrics label and the primary's aggregate (src/cluster.ts). */
  metricsCluster?: WorkerMetricsChannel;
  /** In a worker of TRENT_WORKERS > 1: the seal shared with its siblings through the primary (src/cluster-seal.ts). */
  sealCluster?: { peers: SealPeers; attach(peer: SealManager['peer']): void };
  /** In a worker of TRENT_WORKERS > 1: turns at writing the audit chain among the workers (src/cluster-audit.ts). */
  auditTurns?: AuditTurns;
}

type JobsDone = ReturnType<KeyLifecycle['runDueJobs']>;

/** How often the replication sender looks at the links' outboxes (an append also nudges it at once). */
const REPLICATION_INTERVAL_MS = 1000;

export type { Route };

export interface App {
  readonly server: Server;
  readonly storage: Storage;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly seal: SealManager;
  /** Background work (key deletion and rotation when due); also run by a timer every jobIntervalMs. */
  readonly jobs: { runOnce(): JobsDone };
  /** Audit housekeeping (digest catch-up and delivery, intent recovery, retention); also run by a timer (node-lifecycle.ts). */
  readonly audit: { runOnce(): Promise<unknown> };
  /** Set only when this start created the administrator: print it once. */
  readonly createdAdmin?: { accessKeyId: string; secretAccessKey: string };
  /** What the edge routes while unsealed (none while sealed). */
  routes(): readonly Route[];
  /** Set only when this start created the audit digest key: print it once (auditors pin it). */
  readonly createdDigestKey?: { publicKeyPem: string; fingerprint: string };
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** Re-reads the TLS certificate and key (SIGHUP); false when TLS is off or the new pair was refused. */
  reloadTls(reason: string): boolean;
  close(): Promise<void>;
}

export async function createApp(parts: AppParts): Promise<App> {
  const { config } = parts;
  const logger = parts.logger ?? pino({ level: config.logLevel, base: { service: 'trent' } });
  const clock = parts.clock ?? systemClock;
  // First, so a missing or mismatched certificate stops start-up before anything is opened.
  const listener = createListener({ tls: config.tls, logger, handler: (req, res) => void handle(req, res) });
  const requestLog = createRequestLog(logger);
  // Built once, so the buckets outlive a seal and unseal: AWS's defaults, the TRENT_QUOTAS file merged over them.
  const quotaTable = config.quotasOff
    ? undefined
    : config.quotasFile ? parseQuotaTable(JSON.parse(readFileSync(config.quotasFile, 'utf8'))) : DEFAULT_QUOTAS;
  const store = parts.storage ?? (await openStorage(config.storageUrl));
  // This process's share of each quota: rate / workers, and on PostgreSQL / live processes (heartbeats).
  // The heartbeats run on PostgreSQL whether or not quotas are on: operators see the live processes in
  // GetSealStatus `Nodes`, and `nodeId` is this process's row, shown as `Node`.
  const nodeId = randomUuid();
  const quotaShare = startQuotaShare({ storage: store, workers: config.workers, nodeId, wallClock: systemClock, onError: (err) => logger.warn({ err }, 'node heartbeat failed') });
  const quotas = quotaTable ? createQuotas(quotaTable, quotaShare.share) : undefined;
  // GET /metrics: built once, so counters outlive a seal and unseal; the parts report through its sinks.
  // The seal manager and operator routes it reads are created below (signed scrapes need them).
  const metrics = createMetrics({
    allow: config.metricsAllow,
    seal: { status: () => seal.status() },
    signed: {
      unsealed: () => node.sys(),
      authorize: (caller) => authorizer.authorize(caller, METRICS_ACCESS_RULE.actions[0]!),
      record: (facts) => sys.record(facts),
      secureTransport: (req) => secureTransport(req),
      clock, accountId: config.accountId, region: config.region,
    },
    ...(store.poolUse ? { pool: () => store.poolUse!() } : {}),
    ...(parts.metricsCluster ? { cluster: parts.metricsCluster } : {}),
    // Read at the first labelled request, when the node exists.
    routes: () => node.routes(),
  });
  // Every service reads through the short-lived cache of key records, grants and principals (coherence
  // bound: readCacheMs, below the documented 1 s); writes through it are seen at once. Errors of the
  // store itself are counted beneath it.
  const counted = new ErrorCountingStorage(store, metrics.sinks.storage);
  const storage = config.readCacheMs > 0 ? new ReadCachingStorage(counted, config.readCacheMs) : counted;
  const authorizer = createAuthorizer({ storage, clock, operatorAccountId: config.accountId });
  // aws:SecureTransport of each request: our own TLS, or a trusted proxy's word (docs/tls.md).
  const secureTransport = secureTransportCheck(config.trustedProxies);
  // TRENT_ROTATORS: CA files are read once at start, so a missing one stops start-up rather than a rotation.
  const rotatorWebhooks = Object.fromEntries(
    Object.entries(config.rotators).map(([name, r]) => [name, { url: r.url, secret: r.secret, ...(r.caFile ? { ca: readFileSync(r.caFile, 'utf8') } : {}) }]),
  );
  // Digests leave the store as they are made (docs/audit.md): a directory, and optionally a signed webhook.
  const digestWebhook = config.audit.digestWebhook
    ? createDigestWebhook({
      url: config.audit.digestWebhook.url, secret: config.audit.digestWebhook.secret, logger,
      ...(config.audit.digestWebhook.caFile ? { ca: readFileSync(config.audit.digestWebhook.caFile, 'utf8') } : {}),
    })
    : undefined;
  const digestDelivery = createDigestDelivery({ dir: config.audit.digestDir, logger, ...(digestWebhook ? { webhook: digestWebhook } : {}) });

  let devRootKey;
  if (config.seal.mode === 'dev') {
    const root = loadDevRootKey(config.dataDir, config.rootKeyBase64);
    logger.warn(
      { rootKeySource: root.source, path: root.path },
      'DEVELOPMENT MODE: the root key is read from %s; use quorum (TRENT_SEAL=shamir) or HSM (TRENT_SEAL=pkcs11) unsealing in production',
      root.source === 'environment' ? 'TRENT_ROOT_KEY' : root.path,
    );
    devRootKey = root.key;
  }
  const p11 = config.seal.pkcs11;
  const hsm = config.seal.mode === 'pkcs11' && p11
    ? createHsmUnsealKeyWrapper({
      keyLabel: p11.keyLabel,
      open: async () => {
        const health = metrics.sinks.hsm('seal');
        try {
          return reportingHealth(parts.hsm ?? (await openHsm({ modulePath: p11.modulePath, tokenLabel: p11.tokenLabel, pin: SecretBytes.copyOf(Buffer.from(p11.pin, 'utf8')) })), health);
        } catch (err) {
          if (isSessionFailure(err)) health(false);
          throw err;
        }
      },
    })
    : undefined;

  /** Builds everything that needs the barrier. Called on every unseal (and once at init). */
  async function buildUnsealed(barrier: Barrier): Promise<Unsealed<Awaited<JobsDone>>> {
    await checkRootKey(storage, barrier);
    const materialCache = new MaterialCache(config.keyCacheSize, metrics.sinks.materialCache);
    const credentials = createCredentialStore({ storage, barrier, clock });
    const admin = await credentials.bootstrapAdmin(config.accountId, config.admin);
    const iam = createIamService({ storage, clock, authorizer, credentials });
    await iam.ensureAdministrator(config.accountId);
    const ciphertextHeaderKey = await loadDeploymentSecret(storage, barrier, 'kms-ciphertext-header');
    // Every list operation's Marker/NextToken is MACed under this shared key (src/kms/markers.ts).
    const markers = new PaginationMarkers(await loadDeploymentSecret(storage, barrier, 'pagination-markers'));
    // Custom key stores: desired connection state in storage, HSM sessions opened lazily per node.
    const customKeyStores = createCustomKeyStoreService({
      storage, barrier, clock,
      connections: new CustomKeyStoreConnections({ hsms: config.hsms, openHsm: parts.openHsm ?? openHsm, barrier, health: (name, healthy) => metrics.sinks.hsm(name)(healthy) }),
      markers,
    });
    // Links to peer deployments (docs/replication.md): replicas of multi-Region keys in the regions they serve.
    const localRegions = config.regions ? new Set(config.regions) : undefined;
    const links = createLinkService({ storage, barrier, clock, authorizer, ...(localRegions ? { localRegions } : {}) });
    const nudgeSender = () => setTimeout(() => void replicationLoop.run().catch(() => undefined), 50).unref();
    const linkChanges = createLinkChanges({
      storage, barrier, authorizer, accountId: config.accountId, ...(localRegions ? { localRegions } : {}),
      onChange: (linkId) => {
        sender.reset(linkId);
        links.invalidate();
        nudgeSender();
      },
    });
    const outbox = createOutbox({ storage, clock, onAppend: nudgeSender });
    // Replicated secrets in the regions linked peers serve go through the same outbox (secret-records.ts).
    const secretOutbox = createSecretOutbox({ storage, clock, onAppend: nudgeSender });
    // The audit log (docs/audit.md): one writer, group commit, write-ahead intents, signed digests made at
    // least every digestIntervalMs of activity or digestMaxEvents events, delivered out of the store.
    // Under HSM custody the digest key is generated in the unseal token and signs there.
    const signer = await loadDigestSigner(storage, barrier, hsm && p11 ? { token: () => hsm.token(), keyLabel: `${p11.keyLabel}-audit-digest` } : undefined);
    if (signer.unavailable) {
      logger.error({ reason: signer.unavailable }, 'the HSM holding the audit digest key is unreachable: calls are served, but no digest is signed until it is back (trent audit verify will report the unsigned tail)');
    }
    const createdDigestKey = signer.created ? { publicKeyPem: spkiToPem(signer.publicKeySpki), fingerprint: signer.fingerprint } : undefined;
    if (createdDigestKey) {
      logger.info({ fingerprint: createdDigestKey.fingerprint, custody: signer.custody }, 'created the audit digest signing key; auditors pin it (trent audit public-key):\n%s', createdDigestKey.publicKeyPem);
    }
    const auditLog = new AuditLog({
      storage, clock, logger, signer, metrics: metrics.sinks.audit, ...(parts.auditTurns ? { turns: parts.auditTurns } : {}),
      digests: { intervalMs: config.audit.digestIntervalMs, maxEvents: config.audit.digestMaxEvents, delivery: digestDelivery },
    });
    // A single node's intents at start-up are all from a process that died; other nodes' (PostgreSQL) or
    // other workers' (TRENT_WORKERS > 1) may be in flight.
    await auditLog.recoverIntents(storage.kind === 'sqlite' && config.workers === 1 ? -1 : STALE_INTENT_MS);
    // Built before the services, which record their own service events through it (jobEventRecorder).
    const serviceEvents = jobEventRecorder(auditLog);
    const keys = createKeyService({
      storage, barrier, clock, materialCache, ciphertextHeaderKey, peerHeaderKeys: links.peerHeaderKeys, authorizer, customKeyStores, markers,
    });
    const aliases = createAliasService({ storage, clock, keys, markers, authorizer });
    const keyUpdates = createKeyUpdateService({ storage, keys, markers });
    const lifecycle = createKeyLifecycle({
      storage, barrier, clock, materialCache, keys, markers, warn: (facts, message) => logger.warn(facts, message), remote: outbox,
      events: serviceEvents,
    });
    const importTokenKey = await loadDeploymentSecret(storage, barrier, 'kms-import-token');
    const materialIdKey = await loadDeploymentSecret(storage, barrier, 'kms-imported-material-id');
    const imports = createKeyImportService({ storage, barrier, clock, materialCache, keys, importTokenKey, materialIdKey });
    const secrets = createSecretService({
      storage, clock, keys, aliases, markers, authorizer, servesRegion: (r) => servesRegion(config, r), remote: secretOutbox, events: serviceEvents,
    });
    const secretRecords = createSecretRecords({ storage, secrets, clock, events: serviceEvents, ...(localRegions ? { localRegions } : {}) });

    const trackingStart = Number(await storage.transaction((tx) => tx.meta.putIfAbsent('audit:tracking-start', String(clock.now()))));
    const auditQuery = createAuditQueryService({ storage });

    // Parameter policy actions are background-job events: into the audit trail and the optional webhook.
    const multiRegion = createMultiRegionService({
      storage, barrier, clock, keys, authorizer, events: serviceEvents, remote: outbox,
      ...(config.regions ? { regions: new Set(config.regions) } : {}),
    });
    const receiver = createReceiver({
      storage, barrier, clock, links, headerKey: ciphertextHeaderKey, events: serviceEvents, ...(localRegions ? { localRegions } : {}),
      secrets: secretRecords,
    });
    const sender = createSender({ storage, barrier, clock, links, headerKey: ciphertextHeaderKey, logger, secrets: secretRecords });
    // Its own loop, so a peer that is down never holds up the key and secret jobs; backoff is per link.
    const replicationLoop = startJobLoop({ intervalMs: REPLICATION_INTERVAL_MS, logger, pass: () => sender.runOnce() });
    const parameterEvents = createPolicyEventSink({ audit: jobEventRecorder(auditLog), logger, ...(config.parameterEventsWebhook ? { webhookUrl: config.parameterEventsWebhook } : {}) });
    const secretRotation = createRotationRunner({
      secrets, clock, wallClock: systemClock, events: serviceEvents,
      builtIns: { postgres: postgresRotator, mysql: mysqlRotator, mariadb: mysqlRotator },
      webhooks: rotatorWebhooks,
      onError: (err, secretArn) => logger.warn({ err, secretArn }, 'secret rotation interrupted; it is taken over once its claim lapses'),
    });
    const secretJobs = createSecretJobs({ secrets, rotation: secretRotation, clock });
    const parameters = createParameterService({
      storage, clock, keys, aliases, markers, events: parameterEvents, secretReferences: secretReferenceReader(secrets),
    });

    const auditPort: EdgeAudit = {
      accountId: config.accountId,
      region: config.region,
      clock,
      begin: (facts) => auditLog.begin(facts),
      record: (event, intentId) => {
        requestLog.note(event); // who called and how it ended, for the request's log line
        return auditLog.record(event, intentId);
      },
      // Mutating calls: change and event in one transaction.
      atomically: (intentId, run) => auditLog.atomically(intentId, async () => {
        const event = await run();
        requestLog.note(event);
        return event;
      }),
      settle: (event, intentId) => {
        requestLog.note(event);
        return auditLog.settle(event, intentId);
      },
    };
    const edgeAudit = parts.wrapEdgeAudit ? parts.wrapEdgeAudit(auditPort) : auditPort;
    const services = [
      withAccessControl(kmsServiceDefinition({ keys, aliases, keyUpdates, lifecycle, imports, multiRegion, asymmetric: createAsymmetricOperations({ keys, ...(quotas ? { quota: quotas.forKey } : {}) }), ...(quotas ? { keyQuota: quotas.forKey } : {}), audit: { query: auditQuery, trackingStart }, customKeyStores }), {
        authorizer, policies: createKeyPolicyService({ keys, authorizer, markers }), grants: createGrantService({ storage, clock, keys, authorizer, markers }),
      }),
      withDeclaredAccessControl(adminServiceDefinition(iam), authorizer, ADMIN_ACCESS_RULES),
      withDeclaredAccessControl(iamServiceDefinition(iam, createIamManaged({ storage, clock, authorizer }), createPolicySimulator({
        storage, authorizer,
        // A KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) to the stored key, for its key policy.
        keyByArn: async (arn) => {
          const [, , , region, accountId, resource] = arn.split(':');
          const record = await storage.read((r) => r.keys.get({ accountId: accountId!, region: region! }, resource!.slice('key/'.length)));
          return record ? keyFromRecord(record) : undefined;
        },
      })), authorizer, IAM_ACCESS_RULES),
      withDeclaredAccessControl(stsServiceDefinition(iam), authorizer, STS_ACCESS_RULES),
      withDeclaredAccessControl(operatorServiceDefinition(operator), authorizer, OPERATOR_ACCESS_RULES),
      withDeclaredAccessControl(backupServiceDefinition(backups), authorizer, BACKUP_ACCESS_RULES),
      withDeclaredAccessControl(replicationServiceDefinition(links, linkChanges), authorizer, REPLICATION_ACCESS_RULES),
      withDeclaredAccessControl(cloudTrailServiceDefinition(auditQuery, markers), authorizer, CLOUDTRAIL_ACCESS_RULES),
      ssmServiceDefinition(parameters, authorizer),
      secretsManagerServiceDefinition({ secrets, rotation: secretRotation, authorizer }),
    ];
    const edge = createEdge({
      services,
      credentials,
      secureTransport,
      wallClock: systemClock,
      logger,
      maxBodyBytes: config.maxBodyBytes,
      ...(quotas ? { quotas } : {}),
      ...(config.regions ? { regions: new Set(config.regions) } : {}),
      audit: edgeAudit,
      health,
    });

    // Parameter expiry (SSM Expiration policies) runs in the same pass, after the key jobs.
    const jobs = startJobLoop({
      intervalMs: config.jobIntervalMs,
      logger,
      metrics: metrics.sinks.jobs,
      pass: async () => {
        const done = await lifecycle.runDueJobs();
        await parameters.runDue();
        await secretJobs.runDue();
        return done;
      },
    });
    const housekeeping = startAuditHousekeeping({
      auditLog, storage, clock, retentionDays: config.audit.retentionDays, exportDir: config.audit.exportDir, logger,
      metrics: metrics.sinks.jobs,
    });

    return {
      edge,
      internal: replicationEndpoint(receiver),
      sys: { credentials, audit: edgeAudit },
      routes: services.map((s) => ({ targetPrefix: s.targetPrefix, signingName: s.signingName, operations: [...s.operations.keys()] })),
      runJobs: jobs.run,
      runAudit: () => housekeeping.run(),
      ...(admin.created ? { createdAdmin: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey } } : {}),
      ...(createdDigestKey ? { createdDigestKey } : {}),
      retire() {
        jobs.stop();
        replicationLoop.stop();
        receiver.forget();
        links.forget();
        housekeeping.stop();
        auditLog.stopDigests();
        materialCache.clear();
        ciphertextHeaderKey.zeroize();
        markers.zeroize();
        importTokenKey.zeroize();
        materialIdKey.zeroize();
        credentials.forget();
      },
      async finish() {
        await jobs.drain();
        await replicationLoop.drain();
        await secretRotation.drain();
        await customKeyStores.close();
        await housekeeping.drain();
        await auditLog.drain();
        // Sign the head when this generation ends so a clean stop or seal leaves no unsigned tail.
        await auditLog.digestNow();
      },
    };
  }

  const node = createNodeLifecycle({
    build: buildUnsealed,
    initialized: () => seal.status().initialized,
    // Operator calls answered while sealed go into the trail first (sys-audit.ts); if the trail cannot
    // take them now they wait for the next operator call.
    unsealed: (u) => sys.flushPending(u.sys).catch((err: unknown) => logger.error({ err }, 'could not write the audit events of operator calls made while sealed; retried on the next one')),
  });

  const seal = createSealManager({
    storage,
    mode: config.seal.mode,
    logger,
    ...(devRootKey ? { devRootKey } : {}),
    ...(hsm ? { hsm } : {}),
    ...(parts.sealCluster ? { peers: parts.sealCluster.peers } : {}),
    hooks: {
      ...node.hooks,
      async onInit(barrier) {
        // The first administrator is created now, while the operator who ran init is watching, and
        // shown once in the init answer (unless configured through TRENT_ADMIN_*).
        await checkRootKey(storage, barrier);
        const credentials = createCredentialStore({ storage, barrier, clock });
        const admin = await credentials.bootstrapAdmin(config.accountId, config.admin);
        await createIamService({ storage, clock, authorizer, credentials }).ensureAdministrator(config.accountId);
        return admin.created ? { AdministratorAccessKey: { AccessKeyId: admin.accessKeyId, SecretAccessKey: admin.secretAccessKey } } : {};
      },
    },
  });
  parts.sealCluster?.attach(seal.peer);
  const operator = createOperatorService({
    seal, authorizer,
    verifyAuditTrail: createAuditTrailCheck({ storage, clock, digestIntervalMs: config.audit.digestIntervalMs, digestMaxEvents: config.audit.digestMaxEvents }),
    nodes: async () => ({
      self: { nodeId, ...(parts.metricsCluster ? { worker: parts.metricsCluster.worker } : {}) },
      // Heartbeats are written only on PostgreSQL (startQuotaShare); read from the store as opened.
      ...(store.kind === 'postgres'
        ? { live: await store.read((r) => r.nodes.listLive(systemClock.now() - LIVE_WINDOW_BEATS * HEARTBEAT_INTERVAL_MS)) }
        : {}),
    }),
  });
  // Backups snapshot the store as opened (`store`), not through the read cache.
  const backups = createBackupService({ storage: store, seal, sealMode: config.seal.mode, authorizer, clock });

  function health(): Record<string, unknown> {
    const s = seal.status();
    return { status: !s.initialized ? 'uninitialized' : s.sealed ? 'sealed' : 'ok', sealed: s.sealed, initialized: s.initialized, seal: s.mode, storage: storage.kind };
  }
  const sys = createSysRoutes({
    seal, operator, logger, clock, health, accountId: config.accountId, region: config.region,
    unsealed: node.sys, secureTransport,
  });
  const probes = createHealthProbes({ seal, storage });
  // Static files only: the page signs its own calls, which the edge authorizes and audits (docs/console.md).
  const consoleRoutes = createConsoleRoutes({ enabled: config.console.enabled, idleSeconds: config.console.idleSeconds, region: config.region, logger });

  function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The AWS APIs (JSON and query protocol alike) are requests to "/", a path none of the other routes
    // answers: they go straight to the node, without asking each route in turn (two promises a route).
    if (req.url === '/') {
      metrics.observe(req, res);
      requestLog.observe(req, res);
      return node.handle(req, res);
    }
    return routed(req, res);
  }
  async function routed(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if ((await metrics.handle(req, res)) || (await probes.handle(req, res))) return;
    metrics.observe(req, res);
    requestLog.observe(req, res);
    if (consoleRoutes.handle(req, res)) return;
    if (await sys.handle(req, res)) return;
    await node.handle(req, res);
  }
  const server = listener.server;

  try {
    await seal.start();
  } catch (err) {
    // A node that cannot start (e.g. another root key) leaves no heartbeat behind: its row is removed
    // and its timer stopped, so the process can exit.
    await quotaShare.stop();
    throw err;
  }

  return {
    server,
    storage,
    clock,
    logger,
    seal,
    jobs: { runOnce: () => node.runJobs() },
    audit: { runOnce: () => node.runAudit() },
    get createdAdmin() {
      return node.createdAdmin;
    },
    routes: node.routes,
    get createdDigestKey() {
      return node.createdDigestKey;
    },
    listen(port = config.port, host = config.host) {
      return listener.listen(port, host);
    },
    reloadTls: (reason) => listener.reloadTls(reason),
    async close() {
      await listener.close();
      await node.stop();
      await quotaShare?.stop();
      // The final digest was queued by finish(); give the webhook a moment to hand it over.
      await digestWebhook?.close(5000);
      seal.shutdown();
      await hsm?.close();
      await storage.close();
    },
  };
}
