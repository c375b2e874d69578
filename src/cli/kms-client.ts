/**
 * The AWS SDK KMS client the CLI's own KMS work goes through (`trent encrypt` / `trent decrypt`), pointed
 * at Trent with the same connection settings as the other commands: TRENT_ENDPOINT (trentEndpoint()),
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, TRENT_REGION (default us-east-1).
 * An HTTPS endpoint is reached as every CLI command reaches it (http-client.ts: TRENT_CA_BUNDLE else
 * AWS_CA_BUNDLE, which the JavaScript SDK does not read by itself; a client certificate for mutual TLS).
 */
import { KMS, type KMSClientConfig } from '@aws-sdk/client-kms';
import { cliHttpsAgent } from './http-client.ts';
import { trentEndpoint } from './iam-commands.ts';
import type { CliContext } from './main.ts';

/** Credentials from the environment; a missing pair is a usage error, said once here. */
function credentials(env: CliContext['env']): NonNullable<KMSClientConfig['credentials']> {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new Error('set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (e.g. the administrator printed at first start)');
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

/** The region calls are signed for when a key identifier names none (ids and aliases). */
export function cliRegion(env: CliContext['env']): string {
  return env.TRENT_REGION ?? 'us-east-1';
}

/**
 * Makes KMS clients for one command run: one per region asked for (the ESDK's keyring asks by the region
 * of each key ARN), all sharing one connection setup. destroy() closes their sockets.
 */
export function kmsClients(env: CliContext['env']): { forRegion(region?: string): KMS; destroy(): void } {
  const url = trentEndpoint(env);
  const endpoint = url.href;
  const creds = credentials(env);
  const httpsAgent = url.protocol === 'https:' ? cliHttpsAgent(env) : undefined;
  const clients = new Map<string, KMS>();
  return {
    forRegion(region) {
      const r = region || cliRegion(env);
      let c = clients.get(r);
      if (!c) {
        c = new KMS({
          endpoint,
          region: r,
          credentials: creds,
          // A KMS call the ESDK makes is one step of a larger operation: fail it fast and say why,
          // rather than retrying a refused or unknown key.
          maxAttempts: 2,
          ...(httpsAgent ? { requestHandler: { httpsAgent } } : {}),
        });
        clients.set(r, c);
      }
      return c;
    },
    destroy() {
      for (const c of clients.values()) c.destroy();
      httpsAgent?.destroy();
    },
  };
}
