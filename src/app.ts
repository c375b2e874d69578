/**
 * The composition root: the one place that knows every concrete class. Tests inject parts
 * (storage, clock, barrier) and get the same wiring the server runs with.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { createCredentialStore } from './auth/credential-store.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config/config.ts';
import { kmsServiceDefinition } from './http/kms/index.ts';
import { createEdge } from './http/server.ts';
import { createAliasService } from './kms/alias-service.ts';
import { createKeyLifecycle, type KeyLifecycle } from './kms/key-lifecycle.ts';
import { createKeyService } from './kms/key-service.ts';
import { createKeyUpdateService } from './kms/key-updates.ts';
import { MaterialCache } from './kms/material-cache.ts';
import { RootKeyBarrier, type Barrier } from './seal/barrier.ts';
import { loadDeploymentSecret } from './seal/deployment-secret.ts';
import { checkRootKey } from './seal/root-check.ts';
import { loadDevRootKey } from './seal/root-key-source.ts';
import { openStorage } from './storage/open-storage.ts';
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
  /** Set only when this start created the administrator: print it once. */
  readonly createdAdmin?: { accessKeyId: string; secretAccessKey: string };
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
}

export async function createApp(parts: AppParts): Promise<App> {
  const { config } = parts;
  const logger = parts.logger ?? pino({ level: config.logLevel, base: { service: 'trent' } });
  const clock = parts.clock ?? systemClock;
  const storage = parts.storage ?? (await openStorage(config.storageUrl));

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
  const ciphertextHeaderKey = await loadDeploymentSecret(storage, barrier, 'kms-ciphertext-header');
  const keys = createKeyService({ storage, barrier, clock, materialCache, ciphertextHeaderKey });
  const aliases = createAliasService({ storage, clock, keys });
  const keyUpdates = createKeyUpdateService({ storage, keys });
  const lifecycle = createKeyLifecycle({ storage, barrier, clock, materialCache, keys });

  const edge = createEdge({
    services: [kmsServiceDefinition({ keys, aliases, keyUpdates, lifecycle })],
    credentials,
    wallClock: systemClock,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    health: () => ({ status: barrier.isUnsealed ? 'ok' : 'sealed', sealed: !barrier.isUnsealed, storage: storage.kind }),
  });
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void edge.handle(req, res));

  // One pass at a time per node; several nodes may run passes at once (every change is compare-and-set).
  let running: Promise<unknown> = Promise.resolve();
  const runOnce = () => {
    const pass = running.then(() => lifecycle.runDueJobs());
    running = pass.catch((err: unknown) => logger.error({ err }, 'background job pass failed'));
    return pass;
  };
  const timer = config.jobIntervalMs > 0 ? setInterval(() => void runOnce().catch(() => undefined), config.jobIntervalMs) : undefined;
  timer?.unref();

  return {
    server,
    storage,
    clock,
    logger,
    jobs: { runOnce },
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
      await running;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      materialCache.clear();
      await storage.close();
    },
  };
}
