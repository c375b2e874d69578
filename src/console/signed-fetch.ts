/**
 * Signed calls to Trent's own endpoints that have no AWS SDK client: the operator service (awsJson1_1,
 * X-Amz-Target TrentOperator.*) and GET /metrics, both SigV4 with the signing name `trent` (docs/seal.md,
 * README "Operating"). Signed here with the SDK's own signer, so the secret stays in the page like every
 * other call.
 */
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Credentials } from './session.ts';

async function signedFetch(credentials: Credentials, region: string, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<Response> {
  const url = new URL(path, window.location.origin);
  const signer = new SignatureV4({ service: 'trent', region, credentials, sha256: Sha256 });
  const signed = await signer.sign({
    method, protocol: url.protocol, hostname: url.hostname, ...(url.port ? { port: Number(url.port) } : {}), path: url.pathname, query: {},
    // host is signed (Trent requires it) and is what the browser sends for this origin.
    headers: { ...headers, host: url.host },
    ...(body !== undefined ? { body } : {}),
  });
  const sent: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') sent[k] = v;
  return fetch(url, { method, headers: sent, ...(body !== undefined ? { body } : {}), credentials: 'omit' });
}

/** An AWS-style error from a JSON error body: "AccessDeniedException: …". */
export class ServiceError extends Error {
  constructor(code: string, message: string) {
    super(message);
    this.name = code;
  }
}

export async function trentOperator(credentials: Credentials, region: string, operation: string): Promise<Record<string, unknown>> {
  const res = await signedFetch(credentials, region, 'POST', '/', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentOperator.${operation}` }, '{}');
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new ServiceError(String(json.__type ?? res.status).replace(/^.*#/, ''), String(json.message ?? json.Message ?? res.statusText));
  return json;
}

export async function scrapeMetrics(credentials: Credentials, region: string): Promise<string> {
  const res = await signedFetch(credentials, region, 'GET', '/metrics', {});
  const text = await res.text();
  if (!res.ok) {
    let code = String(res.status);
    let message = text;
    try {
      const json = JSON.parse(text) as { __type?: string; message?: string };
      code = json.__type ?? code;
      message = json.message ?? message;
    } catch {
      // plain text answer
    }
    throw new ServiceError(code, message);
  }
  return text;
}

export interface MetricsSummary {
  requests: number;
  errors: Record<string, number>;
  meanLatencyMs?: number;
  jobFailures: number;
  /** Requests answered per cluster worker (the `worker` label, TRENT_WORKERS > 1); empty for a single process. */
  workers: Record<string, number>;
}

/** The figures that matter from the Prometheus text: requests by outcome, mean latency, failed background passes. */
export function summarizeMetrics(text: string): MetricsSummary {
  const summary: MetricsSummary = { requests: 0, errors: {}, jobFailures: 0, workers: {} };
  let latencySum = 0;
  let latencyCount = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.eE+-]+|NaN)$/.exec(line);
    if (!m) continue;
    const [, name, labels = '', raw] = m;
    const value = Number(raw);
    if (name === 'trent_requests_total') {
      summary.requests += value;
      const outcome = /outcome="([^"]*)"/.exec(labels)?.[1] ?? 'unknown';
      if (outcome !== 'success') summary.errors[outcome] = (summary.errors[outcome] ?? 0) + value;
      const worker = /worker="([^"]*)"/.exec(labels)?.[1];
      if (worker !== undefined) summary.workers[worker] = (summary.workers[worker] ?? 0) + value;
    } else if (name === 'trent_request_duration_seconds_sum') latencySum += value;
    else if (name === 'trent_request_duration_seconds_count') latencyCount += value;
    else if (name === 'trent_job_failures_total') summary.jobFailures += value;
  }
  if (latencyCount > 0) summary.meanLatencyMs = (latencySum / latencyCount) * 1000;
  return summary;
}
