/**
 * The AWS SDK KMS client the CLI's own KMS work goes through (`trent encrypt` / `trent decrypt`), pointed
 * at Trent with the same connection settings as the other commands: TRENT_ENDPOINT,
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, TRENT_REGION (default us-east-1).
 * An HTTPS endpoint is reached as every CLI command reaches it (sdk-connection.ts).
 */
import { KMS } from '@aws-sdk/client-kms';
import type { CliContext } from './main.ts';
import { cliRegion, sdkConnection } from './sdk-connection.ts';

export { cliRegion };

/**
 * Makes KMS clients for one command run: one per region asked for (the ESDK's keyring asks by the region
 * of each key ARN), all sharing one connection setup. destroy() closes their sockets.
 */
export function kmsClients(env: CliContext['env']): { forRegion(region?: string): KMS; destroy(): void } {
  const connection = sdkConnection(env);
  const clients = new Map<string, KMS>();
  return {
    forRegion(region) {
      const r = region || cliRegion(env);
      let c = clients.get(r);
      if (!c) {
        c = new KMS({
          ...connection.config,
          region: r,
          // A KMS call the ESDK makes is one step of a larger operation: fail it fast and say why,
          // rather than retrying a refused or unknown key.
          maxAttempts: 2,
        });
        clients.set(r, c);
      }
      return c;
    },
    destroy() {
      for (const c of clients.values()) c.destroy();
      connection.destroy();
    },
  };
}
