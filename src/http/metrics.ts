/**
 * Prometheus metrics at GET /metrics (prom-client; README "Operating"). Only addresses in
 * TRENT_METRICS_ALLOW (default loopback) may scrape; anyone else gets 403 before anything is computed.
 *
 * Requests are measured from outside the edge (a wrapper around the app's request handler), so the
 * edge and its audit choke point stay untouched: service and operation come from X-Amz-Target, the
 * outcome from the status and, for errors, the `__type` of the AWS error body (AccessDenied… counts as
 * `denied`). An operation the service does not have (UnknownOperationException) is labelled `unknown`,
 * so a client cannot grow the label set with made-up targets.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SealStatus } from '../seal/seal-manager.ts';

export interface MetricsDeps {
  allow: readonly string[];
  seal: { status(): SealStatus };
}

/** X-Amz-Target prefix → service label. */
const SERVICES: ReadonlyMap<string, string> = new Map([
  ['TrentService', 'kms'], ['secretsmanager', 'secretsmanager'], ['AmazonSSM', 'ssm'],
  ['com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101', 'cloudtrail'],
  ['TrentAdmin', 'trent_admin'], ['TrentOperator', 'trent_operator'], ['TrentBackup', 'trent_backup'],
]);
const OPERATION = /^[A-Za-z0-9]{1,64}$/;

export type Outcome = 'success' | 'client_error' | 'server_error' | 'denied';

function blockList(allow: readonly string[]): BlockList {
  const list = new BlockList();
  for (const item of allow) {
    const [addr, bits] = item.split('/') as [string, string | undefined];
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return list;
}

export function createMetrics(deps: MetricsDeps) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'trent_' });
  const requests = new Counter({
    name: 'trent_requests_total', help: 'Requests answered, by service, operation and outcome.',
    labelNames: ['service', 'operation', 'outcome'] as const, registers: [registry],
  });
  const latency = new Histogram({
    name: 'trent_request_duration_seconds', help: 'Time from request to response, by service and operation.',
    labelNames: ['service', 'operation'] as const, registers: [registry],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  new Gauge({
    name: 'trent_seal_sealed', help: '1 while this node is sealed or uninitialized, 0 when unsealed.', registers: [registry],
    collect() {
      this.set(deps.seal.status().sealed ? 1 : 0);
    },
  });
  new Gauge({
    name: 'trent_seal_initialized', help: '1 once the deployment is initialized.', registers: [registry],
    collect() {
      this.set(deps.seal.status().initialized ? 1 : 0);
    },
  });
  const allowed = blockList(deps.allow);

  function labels(req: IncomingMessage, errorType: string | undefined): { service: string; operation: string } {
    const target = req.headers['x-amz-target'];
    if (typeof target !== 'string') return { service: 'none', operation: 'none' };
    const dot = target.lastIndexOf('.');
    const service = dot > 0 ? SERVICES.get(target.slice(0, dot)) : undefined;
    if (!service) return { service: 'unknown', operation: 'unknown' };
    const op = target.slice(dot + 1);
    return { service, operation: OPERATION.test(op) && errorType !== 'UnknownOperationException' ? op : 'unknown' };
  }

  /** Measures one request: call before handing it on; records when the response has been sent. */
  function observe(req: IncomingMessage, res: ServerResponse): void {
    const end = latency.startTimer();
    let errorType: string | undefined;
    // Error bodies are small AWS JSON ({"__type", "message"}); only their __type is kept.
    const origEnd = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      const chunk = args[0];
      if (res.statusCode >= 400 && (typeof chunk === 'string' || Buffer.isBuffer(chunk))) {
        const m = /"__type":"([^"]{1,128})"/.exec(chunk.toString());
        errorType = m?.[1];
      }
      return origEnd(...args);
    }) as ServerResponse['end'];
    res.once('finish', () => {
      const l = labels(req, errorType);
      const s = res.statusCode;
      const outcome: Outcome = s < 400 ? 'success' : s >= 500 ? 'server_error' : errorType?.startsWith('AccessDenied') ? 'denied' : 'client_error';
      requests.inc({ ...l, outcome });
      end(l);
    });
  }

  /** True when the request was GET /metrics (then it has been answered). */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') return false;
    req.resume();
    const remote = req.socket.remoteAddress ?? '';
    const mapped = remote.startsWith('::ffff:') ? remote.slice(7) : remote;
    if (!allowed.check(mapped, isIP(mapped) === 6 ? 'ipv6' : 'ipv4')) {
      const body = JSON.stringify({ __type: 'AccessDeniedException', message: 'metrics may be scraped only from addresses in TRENT_METRICS_ALLOW' });
      res.writeHead(403, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return true;
    }
    const text = await registry.metrics();
    res.writeHead(200, { 'Content-Type': registry.contentType, 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    return true;
  }

  return { handle, observe, registry };
}
