/**
 * BENCHMARK ONLY, UNSAFE: Trent as `npm start` starts it (the compiled build in dist/, which bench/run.ts
 * builds first, so it is compared with Trent's own compiled rows) (configuration from the environment), except that
 * a read-only call is answered once its audit event is queued rather than durable, so `npm run bench` can
 * show what the durability wait costs (its "audit" section). Events are still written by the same group
 * commit, but a crash loses the newest ones and a failed write no longer fails a read-only call. Mutating
 * calls are unaffected: their change and event commit in one transaction (docs/audit.md).
 *
 * The server itself has no switch for this: only this entry point, which bench/run.ts starts, wraps the
 * edge's audit port (AppParts.wrapEdgeAudit). Never run it in a deployment.
 */
import { createApp } from '../dist/app.js';
import { loadConfig } from '../dist/config/config.js';

/**
 * The edge's audit port (EdgeAudit, src/http/server.ts), but record() resolves at once; a failed batch is
 * logged by the audit log.
 */
export function withoutDurabilityWait(audit) {
  return {
    ...audit,
    record(event, intentId) {
      audit.record(event, intentId).catch(() => undefined);
      return Promise.resolve();
    },
  };
}

async function main() {
  const config = loadConfig(process.env);
  if (config.workers > 1) throw new Error('bench/unsafe-server.mjs runs one process (TRENT_WORKERS=1)');
  const app = await createApp({ config, wrapEdgeAudit: withoutDurabilityWait });
  app.logger.warn('BENCHMARK-ONLY UNSAFE SERVER (bench/unsafe-server.mjs): read-only calls are answered before their audit event is durable; a crash loses events and a failed audit write no longer fails a read-only call (mutating calls still commit with their event)');
  const { url } = await app.listen();
  app.logger.info({ url }, 'Trent (benchmark-only, no audit durability wait) listening on %s', url);
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    app.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err) => {
  process.stderr.write(`trent (bench): failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
