/**
 * Prometheus metrics at GET /metrics (prom-client; README "Operating"). Two ways to be allowed:
 * - an unsigned request from an address in TRENT_METRICS_ALLOW (default loopback). It is not a
 *   principal's call and is not audited; anyone else gets 403 before anything is computed.
 * - a request signed with SigV4 (service `trent`, as the /v1/sys/* operator routes) by a principal the
 *   authorizer allows `trent:GetMetrics` (auth/operator-access-rules.ts), from any address. A signed
 *   request is judged by its principal alone, and audited whatever the answer, as the operator routes'
 *   calls are (through their audit: fail closed while unsealed, held in memory while sealed). While the
 *   node is sealed no signature can be checked: the event is held and the address rule decides.
 *
 * Requests are measured from outside the edge (a wrapper around the app's request handler), so the
 * edge and its audit choke point stay untouched: service and operation come from X-Amz-Target, the
 * outcome from the status and, for errors, the `__type` of the AWS error body (AccessDenied… counts as
 * `denied`). Only an operation the edge routes is a label (MetricsDeps.routes); any other name, also one
 * refused before its operation is looked up (no or a bad signature, sealed), is `unknown`, and requests to
 * paths other than "/" are `none`: a client cannot grow the label set with made-up targets.
 *
 * The domain modules report through the small sinks this module hands out (`sinks`), each shaped by the
 * port its module declares (AuditLogMetrics, MaterialCacheMetrics, StorageErrorSink, JobMetrics, the HSM
 * health report); none of them imports prom-client, which stays here.
 *
 * With TRENT_WORKERS > 1 every series carries `worker="<n>"` (the cluster worker id) and the worker that
 * receives a scrape answers with the aggregate of every worker, which the primary collects over the
 * cluster channel (createClusterAggregator; src/cluster.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { unverifiedCredential, type RequestFacts } from '../audit/event.ts';
import type { Caller } from '../auth/caller.ts';
import { systemClock, type Clock } from '../clock.ts';
import { randomUuid, timeOrderedUuid } from '../crypto/primitives.ts';
import type { SealStatus } from '../seal/seal-manager.ts';
import type { PoolUse } from '../storage/storage.ts';
import { authenticateSigV4 } from './authenticate.ts';
import { toWireError } from './error-mapper.ts';
import { JSON_CONTENT_TYPE, sendJson, sendPayload } from './io.ts';
import type { SysUnsealedContext } from './operator/sys-routes.ts';

/** Signed scrapes: what checking and auditing one needs (the operator routes' own parts). */
export interface SignedScrapeDeps {
  /** The unsealed context now (undefined while sealed): the credentials a signature is checked with. */
  unsealed(): SysUnsealedContext | undefined;
  /** Throws AccessDeniedException unless the caller is allowed trent:GetMetrics (the one authorizer). */
  authorize(caller: Caller): Promise<void>;
  /** Records the call's event as the operator routes do; returns the reply that replaces the answer when it cannot be recorded. */
  record(facts: RequestFacts): Promise<{ status: number; body: unknown } | undefined>;
  secureTransport(req: IncomingMessage): boolean;
  clock: Clock;
  accountId: string;
  region: string;
}

/** TRENT_WORKERS > 1, in a worker: its label and the primary's aggregate of every worker. */
export interface WorkerMetricsChannel {
  readonly worker: string;
  aggregate(): Promise<string>;
}

export interface MetricsDeps {
  allow: readonly string[];
  seal: { status(): SealStatus };
  signed?: SignedScrapeDeps;
  /** The store's connection pool (PostgreSQL); absent on SQLite. */
  pool?: () => PoolUse;
  cluster?: WorkerMetricsChannel;
  /**
   * The operations the edge routes, by X-Amz-Target prefix (App.routes): only these are labels. Any other
   * name — refused before its operation was looked up (no or a bad signature, sealed, throttled) — is
   * `unknown`, so a client cannot grow the label set with made-up targets.
   */
  routes?: () => readonly { readonly targetPrefix: string; readonly operations: readonly string[] }[];
}

type Job = 'jobs' | 'audit_housekeeping';
const JOBS: readonly Job[] = ['jobs', 'audit_housekeeping'];

/** X-Amz-Target prefix → service label. */
const SERVICES: ReadonlyMap<string, string> = new Map([
  ['TrentService', 'kms'], ['secretsmanager', 'secretsmanager'], ['AmazonSSM', 'ssm'],
  ['com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101', 'cloudtrail'], ['CloudTrail_20131101', 'cloudtrail'],
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

  // The audit log's group commit (src/audit/audit-log.ts).
  const auditQueue = new Gauge({
    name: 'trent_audit_queue_depth',
    help: 'Audit events and intents waiting to join a group-commit batch. Calls are answered only once their event is durable, so a queue that keeps growing means storage commits cannot keep up.',
    registers: [registry],
  });
  const auditBatch = new Histogram({
    name: 'trent_audit_batch_size',
    help: 'Events and intents written per audit group-commit transaction (at most 512). Large batches mean many calls share one commit (fsync); batches of 1 under load mean commits are the bottleneck.',
    registers: [registry], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
  });
  const auditCommit = new Histogram({
    name: 'trent_audit_commit_duration_seconds',
    help: 'Time of one audit group-commit transaction, commit (fsync on SQLite, the round trip on PostgreSQL) included: the floor under every audited call\'s latency.',
    registers: [registry], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  // The key-material cache (src/kms/material-cache.ts).
  const cacheHits = new Counter({
    name: 'trent_key_material_cache_hits_total',
    help: 'Cryptographic operations served with key material already unsealed in memory (TRENT_KEY_CACHE_SIZE).',
    registers: [registry],
  });
  const cacheMisses = new Counter({
    name: 'trent_key_material_cache_misses_total',
    help: 'Cryptographic operations that had to read and unseal key material from storage: a high rate against hits says the cache is too small.',
    registers: [registry],
  });
  // The store (src/storage/error-counting.ts; pool use on PostgreSQL).
  const storageErrors = new Counter({
    name: 'trent_storage_errors_total',
    help: 'Storage calls that failed because of the store itself (unreachable, connection lost, transaction aborted, I/O error), not because of the request. Such calls are answered 503 or 500.',
    registers: [registry],
  });
  if (deps.pool) {
    const pool = deps.pool;
    new Gauge({
      name: 'trent_storage_pool_connections', help: 'PostgreSQL connections open in this process\'s pool (busy and idle).', registers: [registry],
      collect() {
        this.set(pool().total);
      },
    });
    new Gauge({
      name: 'trent_storage_pool_idle_connections', help: 'PostgreSQL connections open and idle in the pool.', registers: [registry],
      collect() {
        this.set(pool().idle);
      },
    });
    new Gauge({
      name: 'trent_storage_pool_waiting_requests', help: 'Storage calls waiting for a free PostgreSQL connection: above zero for long, the pool (or the server) is saturated.', registers: [registry],
      collect() {
        this.set(pool().waiting);
      },
    });
  }
  // Background loops (src/node-lifecycle.ts): key deletion and rotation, parameter expiry, secret
  // rotation ("jobs"); intent recovery, digests and retention ("audit_housekeeping").
  const jobRuns = new Counter({
    name: 'trent_job_runs_total', help: 'Background passes run, by loop (jobs: key deletion and rotation, parameter expiry, secret rotation; audit_housekeeping: intent recovery, digests, retention).',
    labelNames: ['job'] as const, registers: [registry],
  });
  const jobFailures = new Counter({
    name: 'trent_job_failures_total', help: 'Background passes that failed, by loop; each failure is also in the log.',
    labelNames: ['job'] as const, registers: [registry],
  });
  // Since start-up until the first success: a loop that never succeeds (or a node that stays sealed) shows.
  const lastSuccess = new Map<Job, number>(JOBS.map((j) => [j, performance.now()]));
  for (const job of JOBS) {
    jobRuns.inc({ job }, 0);
    jobFailures.inc({ job }, 0);
  }
  new Gauge({
    name: 'trent_job_lag_seconds', help: 'Seconds since the loop last completed a pass successfully (since start-up before the first): work that is due waits this long at most plus TRENT_JOB_INTERVAL_MS.',
    labelNames: ['job'] as const, registers: [registry],
    collect() {
      for (const [job, at] of lastSuccess) this.set({ job }, (performance.now() - at) / 1000);
    },
  });
  // HSM sessions (src/hsm/health.ts): custom key store HSMs by their TRENT_HSMS name, `seal` for auto-unseal.
  const hsmHealthy = new Gauge({
    name: 'trent_hsm_healthy', help: '1 when the last call to this HSM (custom key store by its TRENT_HSMS name, or `seal`) was answered by the token, 0 when its session, login or module failed. Present once this node has used the HSM.',
    labelNames: ['hsm'] as const, registers: [registry],
  });

  /** What the domain modules report through (each shaped by the port its module declares). */
  const sinks = {
    audit: {
      queueDepth: (depth: number) => auditQueue.set(depth),
      batchCommitted: (size: number, seconds: number) => {
        auditBatch.observe(size);
        auditCommit.observe(seconds);
      },
    },
    materialCache: { hit: () => cacheHits.inc(), miss: () => cacheMisses.inc() },
    storage: { storageError: () => storageErrors.inc() },
    jobs: {
      pass(job: Job, ok: boolean) {
        jobRuns.inc({ job });
        if (ok) lastSuccess.set(job, performance.now());
        else jobFailures.inc({ job });
      },
    },
    hsm: (name: string) => (healthy: boolean) => hsmHealthy.set({ hsm: name }, healthy ? 1 : 0),
  };

  if (deps.cluster) {
    // Every series of this worker is labelled with it; the primary asks each worker for its registry.
    registry.setDefaultLabels({ worker: deps.cluster.worker });
    AggregatorRegistry.setRegistries([registry]);
    new AggregatorRegistry(); // installs the worker's answer to the primary's requests (prom-client)
  }

  const allowed = blockList(deps.allow);

  /**
   * Service label → the operations it routes, rebuilt when the node's list changes (none while sealed, so a
   * sealed node labels every operation `unknown`; the same list object while unsealed).
   */
  let routed = new Map<string, Set<string>>();
  let routedFrom: unknown;
  function isRouted(service: string, op: string): boolean {
    if (!deps.routes) return true;
    const list = deps.routes();
    if (list !== routedFrom) {
      routedFrom = list;
      routed = new Map();
      for (const r of list) {
        const label = SERVICES.get(r.targetPrefix);
        if (label) routed.set(label, new Set([...(routed.get(label) ?? []), ...r.operations]));
      }
    }
    return routed.get(service)?.has(op) === true;
  }

  function labels(req: IncomingMessage, errorType: string | undefined): { service: string; operation: string } {
    const target = req.headers['x-amz-target'];
    // Only the AWS APIs (requests to "/") are labelled by their target; /health, /v1/sys/… are not.
    if (typeof target !== 'string' || req.url !== '/') return { service: 'none', operation: 'none' };
    const dot = target.lastIndexOf('.');
    const service = dot > 0 ? SERVICES.get(target.slice(0, dot)) : undefined;
    if (!service) return { service: 'unknown', operation: 'unknown' };
    const op = target.slice(dot + 1);
    return { service, operation: OPERATION.test(op) && errorType !== 'UnknownOperationException' && isRouted(service, op) ? op : 'unknown' };
  }

  /**
   * The series of one (service, operation), looked up once: prom-client hashes a labels object on every
   * inc/observe, 2-3 µs a request (bench/README.md, "Profile"). As many entries as label sets, which
   * prom-client keeps anyway.
   */
  const series = new Map<string, { latency: { observe(v: number): void }; outcome: Map<Outcome, { inc(): void }> }>();
  function seriesOf(l: { service: string; operation: string }) {
    const id = `${l.service}\0${l.operation}`;
    let s = series.get(id);
    if (!s) {
      s = { latency: latency.labels(l.service, l.operation), outcome: new Map() };
      series.set(id, s);
    }
    return s;
  }

  /** Measures one request: call before handing it on; records when the response has been sent. */
  function observe(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    let errorType: string | undefined;
    // Error bodies are small AWS JSON ({"__type", "message"}); only their __type is kept.
    const origEnd = res.end as (...a: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      const chunk = args[0];
      if (res.statusCode >= 400 && (typeof chunk === 'string' || Buffer.isBuffer(chunk))) {
        const m = /"__type":"([^"]{1,128})"/.exec(chunk.toString());
        errorType = m?.[1];
      }
      return origEnd.apply(res, args);
    }) as ServerResponse['end'];
    // 'finish' comes at most once: a plain listener, not once()'s wrapper, which a request would pay for.
    res.on('finish', () => {
      const l = labels(req, errorType);
      const s = res.statusCode;
      const outcome: Outcome = s < 400 ? 'success' : s >= 500 ? 'server_error' : errorType?.startsWith('AccessDenied') ? 'denied' : 'client_error';
      const one = seriesOf(l);
      let counter = one.outcome.get(outcome);
      if (!counter) {
        counter = requests.labels(l.service, l.operation, outcome);
        one.outcome.set(outcome, counter);
      }
      counter.inc();
      one.latency.observe((performance.now() - started) / 1000);
    });
  }

  function refuse(res: ServerResponse, status: number, body: unknown, requestId?: string): void {
    sendJson(res, status, body, JSON_CONTENT_TYPE, requestId ?? randomUuid());
  }

  async function answer(res: ServerResponse, requestId?: string): Promise<void> {
    let text: string;
    try {
      text = deps.cluster ? await deps.cluster.aggregate() : await registry.metrics();
    } catch (err) {
      // Workers: the primary could not collect every worker in time (one was being replaced). Retry.
      return refuse(res, 503, { __type: 'ServiceUnavailableException', message: `metrics unavailable: ${err instanceof Error ? err.message : String(err)}` }, requestId);
    }
    sendPayload(res, 200, text, registry.contentType, requestId ?? randomUuid());
  }

  function addressAllowed(req: IncomingMessage): boolean {
    const remote = req.socket.remoteAddress ?? '';
    const mapped = remote.startsWith('::ffff:') ? remote.slice(7) : remote;
    return allowed.check(mapped, isIP(mapped) === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * A signed scrape: the signature checked whenever it can be (a bad one refused, never ignored), the
   * principal authorized, the call audited whatever its answer. Every refusal is 403 (there is no input
   * to be wrong about), with the AWS error's code and message (AccessDeniedException: AWS's denial text).
   */
  async function signed(req: IncomingMessage, res: ServerResponse, signedDeps: SignedScrapeDeps): Promise<void> {
    const requestId = randomUuid();
    const facts: { -readonly [K in keyof RequestFacts]: RequestFacts[K] } = {
      requestId,
      eventId: timeOrderedUuid(),
      eventTime: signedDeps.clock.now(),
      eventSource: 'trent.amazonaws.com',
      eventName: 'GetMetrics',
      readOnly: true,
      defaultAccountId: signedDeps.accountId,
      defaultRegion: signedDeps.region,
      ...(req.socket.remoteAddress ? { sourceIp: req.socket.remoteAddress } : {}),
      ...(typeof req.headers['user-agent'] === 'string' ? { userAgent: req.headers['user-agent'] } : {}),
    };
    const unverified = unverifiedCredential(req.headers.authorization);
    if (unverified.accessKeyId) facts.unverifiedAccessKeyId = unverified.accessKeyId;
    if (unverified.region) facts.unverifiedRegion = unverified.region;
    const ctx = signedDeps.unsealed();
    if (!ctx) {
      // Sealed: no signature can be checked. The event waits with the operator calls'; the address decides.
      const ok = addressAllowed(req);
      if (!ok) facts.error = { code: 'AccessDeniedException', message: ADDRESS_REFUSED };
      const failed = await signedDeps.record(facts);
      if (failed) return refuse(res, failed.status, failed.body, requestId);
      if (!ok) return refuse(res, 403, { __type: 'AccessDeniedException', message: ADDRESS_REFUSED }, requestId);
      return answer(res, requestId);
    }
    let refusal: { status: number; body: unknown } | undefined;
    try {
      const caller = await authenticateSigV4(req, Buffer.alloc(0), 'trent', ctx.credentials, new Date(systemClock.now()), signedDeps.secureTransport(req));
      facts.caller = caller;
      await signedDeps.authorize(caller);
    } catch (err) {
      const wire = toWireError(err, 'ServiceFailure');
      facts.error = { code: wire.code, message: wire.message };
      refusal = { status: wire.status === 400 ? 403 : wire.status, body: { __type: wire.code, message: wire.message } };
    }
    const failed = await signedDeps.record(facts);
    if (failed) return refuse(res, failed.status, failed.body, requestId);
    if (refusal) return refuse(res, refusal.status, refusal.body, requestId);
    return answer(res, requestId);
  }

  /** True when the request was GET /metrics (then it has been answered). */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') return false;
    req.resume();
    if (req.headers.authorization !== undefined && deps.signed) {
      await signed(req, res, deps.signed);
      return true;
    }
    if (!addressAllowed(req)) {
      refuse(res, 403, { __type: 'AccessDeniedException', message: ADDRESS_REFUSED });
      return true;
    }
    await answer(res);
    return true;
  }

  return { handle, observe, registry, sinks };
}

const ADDRESS_REFUSED = 'metrics may be scraped only from addresses in TRENT_METRICS_ALLOW, or signed (SigV4, service trent) by a principal allowed trent:GetMetrics';

/**
 * In the primary of TRENT_WORKERS > 1 (src/cluster.ts): the aggregate of every worker's registry, asked
 * for over the cluster channel. Counters and histograms are summed per label set, and every worker's
 * series carry its own `worker` label, so each worker's values stay apart and none is counted twice.
 */
export function createClusterAggregator(): { metrics(): Promise<string> } {
  const aggregator = new AggregatorRegistry();
  return { metrics: () => aggregator.clusterMetrics() };
}
