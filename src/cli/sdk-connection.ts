/**
 * What every AWS SDK client the CLI makes (KMS for `trent encrypt`/`decrypt`, IAM and STS for `trent iam`)
 * shares: TRENT_ENDPOINT (trentEndpoint()), the credentials AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN, TRENT_REGION (default us-east-1), and for an HTTPS endpoint the agent every CLI
 * command reaches it with (http-client.ts: TRENT_CA_BUNDLE else AWS_CA_BUNDLE, which the JavaScript SDK
 * does not read by itself; a client certificate for mutual TLS).
 */
import type { Agent } from 'node:https';
import { cliHttpsAgent } from './http-client.ts';
import { trentEndpoint } from './admin-request.ts';
import type { CliContext } from './main.ts';

export interface SdkCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Credentials from the environment; a missing pair is a usage error, said once here. */
export function cliCredentials(env: CliContext['env']): SdkCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new Error('set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (e.g. the administrator printed at first start)');
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

/** The region calls are signed for when nothing else names one (KMS key ids and aliases, STS). */
export function cliRegion(env: CliContext['env']): string {
  return env.TRENT_REGION ?? 'us-east-1';
}

/** The client-config members for one command run; destroy() closes the HTTPS agent's sockets. */
export interface SdkConnection {
  readonly config: { endpoint: string; credentials: SdkCredentials; requestHandler?: { httpsAgent: Agent } };
  destroy(): void;
}

export function sdkConnection(env: CliContext['env']): SdkConnection {
  const url = trentEndpoint(env);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`TRENT_ENDPOINT must be http:// or https://, not ${url.protocol}`);
  const credentials = cliCredentials(env);
  const httpsAgent = url.protocol === 'https:' ? cliHttpsAgent(env) : undefined;
  return {
    config: { endpoint: url.href, credentials, ...(httpsAgent ? { requestHandler: { httpsAgent } } : {}) },
    destroy: () => httpsAgent?.destroy(),
  };
}
