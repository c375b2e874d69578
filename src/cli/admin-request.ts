/**
 * Calls of Trent's own JSON APIs that have no AWS counterpart (TrentOperator, TrentBackup): POST /,
 * X-Amz-Target <Prefix>.<Operation>, SigV4 service `trent`. Connection from the environment:
 * TRENT_ENDPOINT (default: the server's default address, http://127.0.0.1:4599), AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional), TRENT_REGION (default us-east-1); over HTTPS,
 * TRENT_CA_BUNDLE (http-client.ts). IAM and STS go through the AWS SDK instead (iam-commands.ts).
 */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { cliRequest } from './http-client.ts';
import type { CliContext } from './main.ts';

/** The server the CLI talks to: TRENT_ENDPOINT, else where `npm start` listens by default. */
export function trentEndpoint(env: CliContext['env']): URL {
  return new URL(env.TRENT_ENDPOINT ?? 'http://127.0.0.1:4599');
}

/**
 * Headers of a POST of `payload` to `path`, SigV4-signed (service `trent`) with the environment's
 * credentials; `missing` is the error when they are not set.
 */
export async function signedTrentHeaders(
  env: CliContext['env'], endpoint: URL, path: string, payload: string, headers: Record<string, string>, missing: string,
): Promise<Record<string, string>> {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new Error(missing);
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) },
    region: env.TRENT_REGION ?? 'us-east-1',
    service: 'trent',
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign({
    method: 'POST', protocol: endpoint.protocol, hostname: endpoint.hostname, path,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    headers: { host: endpoint.host, ...headers },
    body: payload,
  });
  return signed.headers as Record<string, string>;
}

/** One call of `<targetPrefix>.<operation>`; a non-2xx answer throws `<__type>: <message>`. */
export async function adminRequest(env: CliContext['env'], operation: string, body: Record<string, unknown>, targetPrefix: 'TrentOperator' | 'TrentBackup' | 'TrentReplication'): Promise<Record<string, unknown>> {
  const endpoint = trentEndpoint(env);
  const payload = JSON.stringify(body);
  const headers = await signedTrentHeaders(env, endpoint, '/', payload,
    { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${targetPrefix}.${operation}` },
    'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (e.g. the administrator printed at first start)');
  const res = await cliRequest(env, new URL('/', endpoint), { method: 'POST', headers, body: payload });
  const json = (res.text ? JSON.parse(res.text) : {}) as Record<string, unknown>;
  if (res.status < 200 || res.status > 299) throw new Error(`${String(json.__type ?? res.status)}: ${String(json.message ?? '')}`);
  return json;
}
