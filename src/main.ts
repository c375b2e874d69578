/** Process entry: load config, createApp(), listen, handle signals — nothing else. */
import { createApp } from './app.ts';
import { isClusterWorker, runPrimary, workerListening, workerMetricsChannel, workerReady } from './cluster.ts';
import { workerAuditTurns } from './cluster-audit.ts';
import { workerSealPeers } from './cluster-seal.ts';
import { ConfigError, loadConfig, type Config } from './config/config.ts';

async function serve(config: Config): Promise<void> {
  const worker = isClusterWorker();
  const app = await createApp({ config, ...(worker ? { metricsCluster: workerMetricsChannel(), sealCluster: workerSealPeers(), auditTurns: workerAuditTurns() } : {}) });
  // A worker listens only once every worker is built (src/cluster.ts).
  if (worker) await workerReady();
  const { url } = await app.listen();
  if (worker) workerListening(url);
  if (app.createdAdmin) {
    // Printed once, on the first start only: the secret is stored sealed and never shown again.
    process.stdout.write(
      `\nTrent created an administrator access key. Save it now; it will not be shown again.\n` +
        `  AWS_ACCESS_KEY_ID=${app.createdAdmin.accessKeyId}\n  AWS_SECRET_ACCESS_KEY=${app.createdAdmin.secretAccessKey}\n\n`,
    );
  }
  if (app.createdDigestKey) {
    // Printed once, when the key is created: the trust anchor an auditor pins, kept outside the store.
    process.stdout.write(
      `\nTrent created its audit digest signing key. Give this public key to your auditors; they pin it with\n` +
        `trent audit verify --public-key FILE (or --fingerprint ${app.createdDigestKey.fingerprint}).\n` +
        `${app.createdDigestKey.publicKeyPem}  fingerprint (SHA-256 of the SPKI): ${app.createdDigestKey.fingerprint}\n\n`,
    );
  }
  app.logger.info({ url, account: config.accountId, storage: app.storage.kind, seal: config.seal.mode, pid: process.pid }, 'Trent listening on %s', url);
  const seal = app.seal.status();
  if (!seal.initialized) app.logger.warn('Trent is not initialized: run `trent operator init` (TRENT_ENDPOINT=%s)', url);
  else if (seal.sealed) app.logger.warn('Trent is sealed: operators unseal it with `trent operator unseal <share>` (TRENT_ENDPOINT=%s)', url);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.logger.info({ signal }, 'shutting down');
    app.close().then(() => process.exit(0), () => process.exit(1));
  };
  // A worker is stopped by its primary (SIGTERM), which a Ctrl-C reaches too: it ignores the SIGINT of
  // its process group so the primary knows every exit during a stop was asked for.
  process.on('SIGINT', () => (worker ? undefined : shutdown('SIGINT')));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Certificate rotation (docs/tls.md): new handshakes get the new pair, open connections keep theirs.
  process.on('SIGHUP', () => {
    if (!config.tls) app.logger.info('SIGHUP: TLS is off, nothing to reload');
    else app.reloadTls('SIGHUP');
  });
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (config.workers > 1 && !isClusterWorker()) {
    await runPrimary(config, (line) => process.stderr.write(line));
    return;
  }
  await serve(config);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`trent: ${err.message}\n`);
  else process.stderr.write(`trent: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
