/**
 * The Secrets Manager fixture of the e2e tests: a real server with the administrator's client, and the
 * reads the tests make of a secret's state (its staging labels, and the DescribeSecret members the SDK
 * does not model).
 */
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ADMIN, rawCall, REGION, startServer, type TestServer } from './harness.ts';

/** The administrator's client; one attempt, so a refused call fails the test at once. */
export function adminSecretsClient(url: string): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint: url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
}

export interface SecretsFixture {
  server: TestServer;
  sm: SecretsManagerClient;
  /** Closes the client and stops the server, removing its data. */
  stop(): Promise<void>;
}

export async function startSecretsServer(options: Parameters<typeof startServer>[0] = {}): Promise<SecretsFixture> {
  const server = await startServer(options);
  const sm = adminSecretsClient(server.url);
  return {
    server,
    sm,
    async stop() {
      sm.destroy();
      await server.stop(true);
    },
  };
}

/** A secret's VersionIdsToStages, as DescribeSecret answers. */
export async function stagesOf(sm: SecretsManagerClient, secretId: string): Promise<Record<string, string[]>> {
  return (await sm.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};
}

/** DescribeSecret's JSON as the server sends it, with the members the SDK drops (TrentRotationFailure). */
export async function describeRaw(url: string, secretId: string): Promise<Record<string, unknown>> {
  return (await rawCall(url, 'secretsmanager.DescribeSecret', JSON.stringify({ SecretId: secretId }), { service: 'secretsmanager' })).json;
}
