/**
 * SigV4 signing for the bench: the AWS signer (@smithy/signature-v4), as test/e2e/harness.ts uses it.
 * Used by the load process (once per distinct request body) and by the orchestrator's setup calls.
 */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedRequest {
  headers: Record<string, string>;
  body: Buffer;
}

const signers = new Map<string, SignatureV4>();

function signerFor(credentials: Credentials, region: string, service: string): SignatureV4 {
  const k = `${credentials.accessKeyId}/${region}/${service}`;
  let s = signers.get(k);
  if (!s) {
    s = new SignatureV4({ credentials, region, service, sha256: Hash.bind(null, 'sha256') });
    signers.set(k, s);
  }
  return s;
}

/** Signs one awsJson1_1 POST to `/`. The signature stays valid for Trent's 15-minute clock window. */
export async function signJsonRequest(opts: {
  url: string;
  target: string;
  service: string;
  region: string;
  credentials: Credentials;
  body: string;
}): Promise<SignedRequest> {
  const u = new URL(opts.url);
  const headers: Record<string, string> = {
    host: u.host,
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': opts.target,
  };
  const signed = await signerFor(opts.credentials, opts.region, opts.service).sign({
    method: 'POST',
    protocol: 'http:',
    hostname: u.hostname,
    port: Number(u.port),
    path: '/',
    headers,
    body: opts.body,
  });
  const body = Buffer.from(opts.body, 'utf8');
  return { headers: { ...(signed.headers as Record<string, string>), 'content-length': String(body.length) }, body };
}

export interface CallResult {
  status: number;
  json: Record<string, unknown>;
  bytes: number;
}

/** One signed call (setup only; the load process does its own sending). */
export async function signedCall(opts: {
  url: string;
  target: string;
  service: string;
  region: string;
  credentials: Credentials;
  body: unknown;
}): Promise<CallResult> {
  const req = await signJsonRequest({ ...opts, body: JSON.stringify(opts.body ?? {}) });
  const { host: _host, 'content-length': _len, ...headers } = req.headers;
  const res = await fetch(opts.url, { method: 'POST', headers, body: req.body });
  const buf = Buffer.from(await res.arrayBuffer());
  const text = buf.toString('utf8');
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = { __type: 'BenchUnparsableResponse', message: text.slice(0, 200) };
  }
  return { status: res.status, json, bytes: buf.length };
}
