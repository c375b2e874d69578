/**
 * The CLI's one way to reach a server (docs/tls.md). HTTPS endpoints are verified against the system's
 * roots plus TRENT_CA_BUNDLE (else AWS_CA_BUNDLE, the variable the AWS CLI and boto3 read) — a PEM file
 * such as the ca.pem of `trent tls init`. With mutual TLS on the server, TRENT_CLIENT_CERT and
 * TRENT_CLIENT_KEY name the client certificate (`trent tls client-cert`). Certificate checks are never
 * turned off.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest, type AgentOptions } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { CliContext } from './main.ts';

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** TLS options from the environment, for node:https or an AWS SDK NodeHttpHandler's httpsAgent. */
export function cliTlsOptions(env: CliContext['env']): AgentOptions {
  const bundleVar = env.TRENT_CA_BUNDLE ? 'TRENT_CA_BUNDLE' : env.AWS_CA_BUNDLE ? 'AWS_CA_BUNDLE' : undefined;
  const options: AgentOptions = { minVersion: 'TLSv1.2' };
  // Like the AWS CLI's --ca-bundle, the bundle is added to the public roots: a server with a public certificate still verifies.
  if (bundleVar) options.ca = [...rootCertificates, readPem(bundleVar, env[bundleVar]!).toString('utf8')];
  if ((env.TRENT_CLIENT_CERT === undefined) !== (env.TRENT_CLIENT_KEY === undefined)) {
    throw new Error('TRENT_CLIENT_CERT and TRENT_CLIENT_KEY must be set together');
  }
  if (env.TRENT_CLIENT_CERT && env.TRENT_CLIENT_KEY) {
    options.cert = readPem('TRENT_CLIENT_CERT', env.TRENT_CLIENT_CERT);
    options.key = readPem('TRENT_CLIENT_KEY', env.TRENT_CLIENT_KEY);
  }
  return options;
}

/** An https.Agent with cliTlsOptions (keep-alive), e.g. for `new NodeHttpHandler({ httpsAgent })`. */
export function cliHttpsAgent(env: CliContext['env']): Agent {
  return new Agent({ ...cliTlsOptions(env), keepAlive: true });
}

export interface CliResponse {
  readonly status: number;
  readonly text: string;
}

/** One request; resolves with the status and body whatever the status, rejects on a network or TLS failure. */
export function cliRequest(
  env: CliContext['env'],
  url: URL,
  init: { method: string; headers?: Record<string, string>; body?: string },
): Promise<CliResponse> {
  return new Promise((resolve, reject) => {
    const options = { method: init.method, headers: { ...init.headers, ...(init.body !== undefined ? { 'content-length': String(Buffer.byteLength(init.body)) } : {}) } };
    const onResponse = (res: import('node:http').IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    let req;
    if (url.protocol === 'https:') req = httpsRequest(url, { ...options, ...cliTlsOptions(env), agent: false }, onResponse);
    else if (url.protocol === 'http:') req = httpRequest(url, options, onResponse);
    else throw new Error(`TRENT_ENDPOINT must be http:// or https://, not ${url.protocol}`);
    req.on('error', (err: NodeJS.ErrnoException) => reject(unreachable(url, err)));
    req.end(init.body);
  });
}

/**
 * The error a CLI command reports when no HTTP answer came back (network or TLS failure), with what to
 * change when the cause is a usual one: an unknown CA, or http:// to a server that serves HTTPS.
 */
export function unreachable(url: URL, err: NodeJS.ErrnoException): Error {
  const hint = url.protocol === 'https:' && /certificate|self.signed|UNABLE_TO_VERIFY/i.test(`${err.code} ${err.message}`)
    ? ' (set TRENT_CA_BUNDLE to the CA of the server certificate, e.g. the ca.pem of `trent tls init`)'
    : url.protocol === 'http:' && (err.code === 'ECONNRESET' || /socket hang up/.test(err.message))
      ? ' (if the server serves HTTPS, set TRENT_ENDPOINT=https://…)'
      : '';
  return new Error(`cannot reach ${url.origin}: ${err.message}${hint}`);
}
