/**
 * The load process: a child of bench/run.ts of its own, so the client's CPU never shares an event loop
 * with the server or the orchestrator. One process serves every measurement of a run, one after
 * another: starting node with tsx for each cost about half a second, a third of a --quick run.
 *
 * Reads LoadSpecs on stdin, one JSON object per line, and runs each when the previous one is done;
 * exits when stdin ends. For each, it signs each distinct request body once with SigV4 (the signature
 * stays valid for Trent's 15-minute window, far longer than a run), then keeps `concurrency` keep-alive
 * connections (one node:http Agent, maxSockets = concurrency) each sending back-to-back requests; over
 * HTTPS the same with node:https, or with keepAlive false a new connection (full handshake) per request.
 * Warm-up first, then either a fixed duration or a fixed number of requests. Latency is taken with
 * process.hrtime.bigint() from just before the request is written to the end of the response and
 * recorded in a node:perf_hooks histogram (nanoseconds, 3 significant figures).
 *
 * Protocol on stdout, one JSON object per line:
 *   {"event":"measure"}            the measured window starts (the orchestrator samples server CPU now)
 *   {"event":"stop"}               the window ends: no new requests are counted
 *   {"event":"result", ...}        LoadResult
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createHistogram } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { signJsonRequest, type Credentials, type SignedRequest } from './signing.ts';

export interface LoadSpec {
  url: string;
  target: string;
  service: string;
  region: string;
  credentials: Credentials;
  /** Distinct request bodies, sent round-robin. Each is signed once. */
  bodies: string[];
  concurrency: number;
  warmupS: number;
  /** Measure for this long… */
  durationS?: number;
  /** …or until this many requests have completed (no warm-up then), or durationS passed if both are given. */
  requests?: number;
  /** For an https:// url: the PEM CA the server certificate chains to (TLS 1.2+ checks stay on). */
  caPem?: string;
  /** false: a new connection (for HTTPS, a full TLS handshake) for every request. Default true. */
  keepAlive?: boolean;
  /** Keep a uniform sample (reservoir) of up to `max` values of this top-level response field path. */
  collect?: { path: string[]; max: number };
}

export interface LoadResult {
  event: 'result';
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  errorSample?: string;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
  /** CPU of this load process during the window, % of one core. */
  loadCpuPct: number;
  signMs: number;
  collected?: string[];
}

function emit(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}


function pick(json: unknown, path: string[]): string | undefined {
  let v: unknown = json;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return typeof v === 'string' ? v : undefined;
}

async function main(): Promise<void> {
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== '') await run(JSON.parse(line) as LoadSpec);
  }
}

async function run(spec: LoadSpec): Promise<void> {
  const u = new URL(spec.url);

  const signStart = performance.now();
  const signed: SignedRequest[] = [];
  for (const body of spec.bodies) {
    signed.push(
      await signJsonRequest({ url: spec.url, target: spec.target, service: spec.service, region: spec.region, credentials: spec.credentials, body }),
    );
  }
  const signMs = performance.now() - signStart;

  const keepAlive = spec.keepAlive !== false;
  const tls = u.protocol === 'https:';
  const agentOptions = { keepAlive, maxSockets: spec.concurrency, maxFreeSockets: spec.concurrency };
  // No TLS session resumption: with keepAlive false every request pays a full handshake, the cost measured.
  const agent = tls ? new HttpsAgent({ ...agentOptions, ...(spec.caPem ? { ca: spec.caPem } : {}), maxCachedSessions: 0 }) : new Agent(agentOptions);
  const send1 = tls ? httpsRequest : request;
  const hist = createHistogram({ lowest: 1, highest: 120e9, figures: 3 });
  const collect = spec.collect;
  const collected: string[] = [];
  let collectSeen = 0;

  let phase: 'warmup' | 'measure' | 'done' = spec.requests !== undefined || spec.warmupS <= 0 ? 'measure' : 'warmup';
  let completed = 0;
  let errors = 0;
  let errorSample: string | undefined;
  const statuses: Record<string, number> = {};
  let next = 0;
  let inFlight = 0;
  let windowStart = process.hrtime.bigint();
  let windowEnd = windowStart;
  let cpuStart = process.cpuUsage();
  let cpuUsed = { user: 0, system: 0 };
  let stopTimer: NodeJS.Timeout | undefined;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));

  const startMeasure = () => {
    phase = 'measure';
    hist.reset();
    completed = 0;
    errors = 0;
    for (const k of Object.keys(statuses)) delete statuses[k];
    windowStart = process.hrtime.bigint();
    cpuStart = process.cpuUsage();
    emit({ event: 'measure' });
    if (spec.durationS !== undefined) stopTimer = setTimeout(stopMeasure, spec.durationS * 1000);
  };
  const stopMeasure = () => {
    if (phase === 'done') return;
    clearTimeout(stopTimer); // a request count may end the window first; a pending timer would keep the process alive
    windowEnd = process.hrtime.bigint();
    cpuUsed = process.cpuUsage(cpuStart);
    phase = 'done';
    emit({ event: 'stop' });
    if (inFlight === 0) finish();
  };

  const record = (status: number, t0: bigint, body: Buffer | undefined) => {
    inFlight--;
    if (phase === 'measure') {
      hist.record(Number(process.hrtime.bigint() - t0) || 1);
      completed++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status !== 200) {
        errors++;
        if (errorSample === undefined && body) errorSample = `${status} ${body.toString('utf8').slice(0, 300)}`;
      } else if (collect && body) {
        let v: string | undefined;
        try {
          v = pick(JSON.parse(body.toString('utf8')), collect.path);
        } catch {
          v = undefined; // not JSON: nothing to collect
        }
        if (v !== undefined) {
          collectSeen++;
          if (collected.length < collect.max) collected.push(v);
          else {
            const j = Math.floor(Math.random() * collectSeen);
            if (j < collect.max) collected[j] = v;
          }
        }
      }
      if (spec.requests !== undefined && completed >= spec.requests) stopMeasure();
    }
    if (phase === 'done') {
      if (inFlight === 0) finish();
      return;
    }
    send();
  };

  const send = () => {
    if (spec.requests !== undefined && completed + inFlight >= spec.requests) return;
    const r = signed[next++ % signed.length]!;
    inFlight++;
    const t0 = process.hrtime.bigint();
    const req = send1(
      { agent, host: u.hostname, port: Number(u.port), method: 'POST', path: '/', headers: r.headers },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const keep = status !== 200 || collect !== undefined;
        const chunks: Buffer[] = [];
        if (keep) res.on('data', (c: Buffer) => chunks.push(c));
        else res.resume();
        res.on('end', () => record(status, t0, keep ? Buffer.concat(chunks) : undefined));
      },
    );
    req.on('error', (err) => {
      // A failed connection counts as an error; back off a little so a dead server does not spin.
      inFlight--;
      if (phase === 'measure') {
        errors++;
        completed++;
        statuses.socket = (statuses.socket ?? 0) + 1;
        errorSample ??= `socket: ${err.message}`;
      }
      if (phase === 'done') {
        if (inFlight === 0) finish();
        return;
      }
      inFlight++;
      setTimeout(() => {
        inFlight--;
        if (phase !== 'done') send();
        else if (inFlight === 0) finish();
      }, 10);
    });
    req.end(r.body);
  };

  if (phase === 'warmup') setTimeout(startMeasure, spec.warmupS * 1000);
  else startMeasure();
  for (let i = 0; i < spec.concurrency; i++) send();
  await finished;
  agent.destroy();

  const seconds = Number(windowEnd - windowStart) / 1e9;
  const ms = (ns: number) => Math.round((ns / 1e6) * 1000) / 1000;
  const n = hist.count;
  const result: LoadResult = {
    event: 'result',
    requests: completed,
    errors,
    statuses,
    ...(errorSample !== undefined ? { errorSample } : {}),
    seconds,
    rps: completed / seconds,
    p50Ms: n ? ms(hist.percentile(50)) : NaN,
    p99Ms: n ? ms(hist.percentile(99)) : NaN,
    p999Ms: n ? ms(hist.percentile(99.9)) : NaN,
    maxMs: n ? ms(hist.max) : NaN,
    meanMs: n ? ms(hist.mean) : NaN,
    loadCpuPct: ((cpuUsed.user + cpuUsed.system) / 1e6 / seconds) * 100,
    signMs,
    ...(collect ? { collected } : {}),
  };
  emit(result);
}

main().catch((err: unknown) => {
  process.stderr.write(`load: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
