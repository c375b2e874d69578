/**
 * TRENT_WORKERS > 1: several server processes on one port (node:cluster). The primary process holds
 * the listening socket and hands each new connection to a worker in turn; every worker is a whole
 * Trent node (createApp) on the same store, exactly as several nodes on PostgreSQL are (docs/postgres.md),
 * so what holds between nodes holds between workers: key state, policies and grants are read per request,
 * the access-key cache lives 1 s, jobs change state by compare-and-set, the audit chain is appended under
 * the store's write lock (SQLite: BEGIN IMMEDIATE excludes every other process's writer).
 *
 * Start-up is staged so that first-start bootstrap (migrations, root-key check value, administrator key)
 * runs in one process: worker 1 builds its app alone, then the others build theirs, and only when all are
 * ready are they told to listen — so the port answers with every worker in place.
 *
 * A worker that dies is replaced. SIGHUP to the primary is passed to every worker (TLS reload).
 * SIGINT/SIGTERM to the primary stop every worker cleanly (each drains its audit queue and signs its
 * head) before the primary exits.
 *
 * The seal is the deployment's, not a worker's (src/cluster-seal.ts, docs/seal.md "Workers"): the primary
 * holds the one unseal attempt, so shares may reach any worker; the quorum unseals every worker; a seal on
 * any worker seals them all; a replaced worker starts unsealed or sealed as the deployment is. The channel
 * uses node's advanced serialization so key bytes travel as typed arrays that are zeroed, not as strings.
 *
 * The workers take turns at writing the audit chain (src/cluster-audit.ts), the primary granting them, so
 * that on PostgreSQL they do not keep refusing each other's chain heads.
 *
 * GET /metrics answered by any worker returns every worker's metrics: the worker asks the primary, which
 * collects each worker's registry (prom-client's AggregatorRegistry, over this same channel) and answers
 * with the aggregate, each series labelled with its worker's id (src/http/metrics.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config/config.ts';
import { createPrimaryAuditTurns } from './cluster-audit.ts';
import { isClusterMessage } from './cluster-message.ts';
import { createPrimarySeal } from './cluster-seal.ts';
import { createClusterAggregator, type WorkerMetricsChannel } from './http/metrics.ts';

/** Messages between primary and workers. */
type Ready = { trent: 'ready' };
type Listening = { trent: 'listening'; url: string };
/** A worker asks for the aggregate metrics; the primary answers with the text or why it could not. */
type MetricsRequest = { trent: 'metrics'; id: number };
type MetricsReply = { trent: 'metrics-reply'; id: number; text?: string; error?: string };
type ToPrimary = Ready | Listening | MetricsRequest;
type ToWorker = { trent: 'listen' } | MetricsReply;

/** A little longer than prom-client's own 5 s wait for the workers. */
const METRICS_TIMEOUT_MS = 6_000;

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** A worker's young generation (semi-space) bound, MB. */
const WORKER_SEMI_SPACE_MB = 32;

/**
 * The node flags of a worker: the primary's, plus two garbage-collection settings (bench/README.md,
 * "Sixth pass", for the figures):
 * - `--single-threaded-gc`: with one worker per core, V8's parallel GC helper threads only take CPU from
 *   the other workers (and the other processes of the machine).
 * - `--max-semi-space-size=32` (Node 20's default is 16 MB): a request's garbage dies young, so a larger
 *   young generation is scavenged half as often for the same live set; under Encrypt load the workers
 *   used about 10% less CPU per request, for up to about 20 MB more RSS each under load.
 * Each is left out when the operator already chose it (the primary's command line or NODE_OPTIONS, which
 * the workers inherit).
 */
export function workerExecArgv(primary: readonly string[], nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = [...primary, ...nodeOptions.split(/\s+/)];
  const chose = (flags: RegExp) => given.some((a) => flags.test(a));
  return [
    ...primary,
    ...(chose(/^--(no-)?(single-threaded-gc|single-threaded|parallel-scavenge|parallel-marking|concurrent-marking)\b/) ? [] : ['--single-threaded-gc']),
    ...(chose(/^--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor)\b/) ? [] : [`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`]),
  ];
}

/** Runs the primary: forks config.workers workers and supervises them. Resolves with the URL once all listen. */
export function runPrimary(config: Config, log: (line: string) => void): Promise<string> {
  let stopping = false;
  let started = false;
  const waitingReady = new Set<Worker>();
  const waitingListen = new Set<Worker>();
  const aggregator = createClusterAggregator();
  const auditTurns = createPrimaryAuditTurns();
  const seal = createPrimarySeal({ workers: () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined), log });
  // Structured clone instead of JSON: a key or share crosses as a typed array the receiver can zero.
  cluster.setupPrimary({ serialization: 'advanced', execArgv: workerExecArgv(process.execArgv) });

  return new Promise((resolve, reject) => {
    const fork = (): Worker => {
      const worker = cluster.fork();
      if (!started) waitingReady.add(worker);
      worker.on('message', (m: unknown) => {
        if (auditTurns.onMessage(worker, m)) return;
        if (seal.onMessage(worker, m)) return;
        if (isClusterMessage<MetricsRequest>(m, 'metrics')) {
          aggregator.metrics().then(
            (text) => send(worker, { trent: 'metrics-reply', id: m.id, text }),
            (err: unknown) => send(worker, { trent: 'metrics-reply', id: m.id, error: err instanceof Error ? err.message : String(err) }),
          );
          return;
        }
        if (isClusterMessage<Ready>(m, 'ready')) {
          if (started) return send(worker, { trent: 'listen' });
          waitingReady.delete(worker);
          if (cluster.workers && Object.keys(cluster.workers).length === 1) {
            // Worker 1 has bootstrapped the store: the rest may start now.
            for (let i = 1; i < config.workers; i++) fork();
          }
          if (waitingReady.size === 0) {
            for (const w of Object.values(cluster.workers ?? {})) {
              if (w) {
                waitingListen.add(w);
                send(w, { trent: 'listen' });
              }
            }
          }
        } else if (isClusterMessage<Listening>(m, 'listening') && !started) {
          waitingListen.delete(worker);
          if (waitingListen.size === 0) {
            started = true;
            resolve(m.url);
          }
        }
      });
      return worker;
    };

    cluster.on('exit', (worker, code, signal) => {
      seal.onExit(worker);
      auditTurns.onExit(worker);
      waitingReady.delete(worker);
      waitingListen.delete(worker);
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) exit();
        return;
      }
      if (!started) {
        reject(new Error(`a worker exited during start-up (${signal ?? `code ${code}`})`));
        return;
      }
      log(`trent: worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another\n`);
      fork();
    });

    const exit = () => {
      seal.shutdown(); // zeroes the unseal key and any shares the primary holds
      process.exit(0);
    };
    const stop = () => {
      if (stopping) return;
      stopping = true;
      const workers = Object.values(cluster.workers ?? {});
      if (workers.length === 0) exit();
      for (const w of workers) w?.process.kill('SIGTERM');
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // Each worker holds its own TLS context: pass the reload on to every one of them.
    process.on('SIGHUP', () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
    });

    fork();
  });
}

function send(worker: Worker, message: ToWorker): void {
  // A worker that died meanwhile is replaced; what it asked for no longer matters.
  if (worker.isConnected()) worker.send(message);
}

/** In a worker: tells the primary the app is built, and waits for the word to listen. */
export function workerReady(): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown) => {
      if (isClusterMessage<ToWorker & { trent: 'listen' }>(m, 'listen')) {
        process.off('message', onMessage);
        resolve();
      }
    };
    process.on('message', onMessage);
    process.send?.({ trent: 'ready' } satisfies ToPrimary);
  });
}

/** In a worker: reports its URL to the primary. */
export function workerListening(url: string): void {
  process.send?.({ trent: 'listening', url } satisfies ToPrimary);
}

/** In a worker: its metrics label (the cluster worker id) and the primary's aggregate of every worker. */
export function workerMetricsChannel(): WorkerMetricsChannel {
  let next = 0;
  const waiting = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();
  process.on('message', (m: unknown) => {
    if (!isClusterMessage<MetricsReply>(m, 'metrics-reply')) return;
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.text !== undefined) w?.resolve(m.text);
    else w?.reject(new Error(`the primary could not collect the workers' metrics: ${m.error ?? 'no answer'}`));
  });
  return {
    worker: String(cluster.worker?.id ?? process.pid),
    aggregate: () => new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('the primary did not answer the metrics request in time'));
      }, METRICS_TIMEOUT_MS);
      waiting.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      process.send?.({ trent: 'metrics', id } satisfies ToPrimary);
    }),
  };
}
