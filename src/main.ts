/** Process entry: load config, createApp(), listen, handle signals — nothing else. */
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config/config.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApp({ config });
  const { url } = await app.listen();
  if (app.createdAdmin) {
    // Printed once, on the first start only: the secret is stored sealed and never shown again.
    process.stdout.write(
      `\nTrent created an administrator access key. Save it now; it will not be shown again.\n` +
        `  AWS_ACCESS_KEY_ID=${app.createdAdmin.accessKeyId}\n  AWS_SECRET_ACCESS_KEY=${app.createdAdmin.secretAccessKey}\n\n`,
    );
  }
  app.logger.info({ url, account: config.accountId, storage: app.storage.kind, seal: config.seal.mode }, 'Trent listening on %s', url);
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
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`trent: ${err.message}\n`);
  else process.stderr.write(`trent: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
