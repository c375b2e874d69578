/**
 * The unsealed node's lifecycle (docs/seal.md "What unseal builds and seal drops"): the generation of
 * services built on each unseal, the requests it answers, its background-job and audit-housekeeping
 * timers, and its retirement on seal or stop. What a generation contains is wired by app.ts (`build`);
 * this module only knows when one exists, what it is still doing and how it ends.
 *
 * Retirement: on seal the node first stops routing requests to the generation (new calls get 503), then
 * zeroes its keys and stops its timers, and once its in-flight calls (the Seal call itself among them) are
 * answered, drains its jobs and audit writer and signs the chain head.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AuditLog } from './audit/audit-log.ts';
import { pruneExpired } from './audit/retention.ts';
import type { Clock } from './clock.ts';
import { randomUuid } from './crypto/primitives.ts';
import { ServiceUnavailableError } from './errors/errors.ts';
import { toWireError } from './http/error-mapper.ts';
import { AWS_JSON_CONTENT_TYPE, sendJson } from './http/io.ts';
import type { SysUnsealedContext } from './http/operator/sys-routes.ts';
import type { Barrier } from './seal/barrier.ts';
import type { SealHooks } from './seal/seal-manager.ts';
import type { Storage } from './storage/storage.ts';

/** A service the edge routes (X-Amz-Target prefix, SigV4 service name) and its operations, each behind an access rule. */
export interface Route {
  readonly targetPrefix: string;
  readonly signingName: string;
  readonly operations: readonly string[];
}

export interface CreatedAdmin {
  accessKeyId: string;
  secretAccessKey: string;
}
export interface CreatedDigestKey {
  publicKeyPem: string;
  fingerprint: string;
}

/** What exists only while the node is unsealed: one generation, built by app.ts on each unseal. */
export interface Unsealed<Done = unknown> {
  readonly edge: { handle(req: IncomingMessage, res: ServerResponse): Promise<void> };
  /** Endpoints outside the AWS protocols that need the unsealed node (a linked peer's replication), at paths of their own (never "/", where the AWS APIs are); true when answered. */
  readonly internal?: { handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> };
  /** What the /v1/sys/* routes need of the unsealed node: signature checks and the audit trail. */
  readonly sys: SysUnsealedContext;
  readonly routes: readonly Route[];
  runJobs(): Promise<Done>;
  runAudit(): Promise<unknown>;
  /** Zeroes every unsealed key buffer and stops the timers; new requests no longer reach it. */
  retire(): void;
  /** Waits for jobs and audit writes of a retired generation, and signs the audit head. */
  finish(): Promise<void>;
  readonly createdAdmin?: CreatedAdmin;
  readonly createdDigestKey?: CreatedDigestKey;
}

/**
 * How often a node runs audit housekeeping: intent recovery (intents of a node or worker that died become
 * "outcome unknown" events within this bound after the death; Storage.writerAlive sees it at once), signing
 * and delivering what no activity-driven digest covered (another node's events after it died), catching up
 * on other nodes' digests.
 */
const AUDIT_HOUSEKEEPING_MS = 10_000;
/** Retention (export and prune) runs at most this often in housekeeping (always on runOnce). */
const RETENTION_EVERY_MS = 3600_000;

// A single node's intents at start-up are all from a process that died; other nodes' may be in flight.
// Intents naming no writer (written before writers were named), or of a call stuck this long, are stale.
export const STALE_INTENT_MS = 5 * 60_000;

/**
 * What the background loops report, for GET /metrics (implemented at the edge, src/http/metrics.ts):
 * each pass of `job` as it ends, and whether it succeeded. Must not throw.
 */
export interface JobMetrics {
  pass(job: 'jobs' | 'audit_housekeeping', ok: boolean): void;
}

/** A background loop: one pass at a time, also run by a timer; `drain` waits for the running pass. */
export interface Loop<T> {
  run(): Promise<T>;
  stop(): void;
  drain(): Promise<unknown>;
}

/**
 * Background jobs (key deletion and rotation, parameter expiry, secret rotation when due): one pass at a
 * time per node; several nodes may run passes at once (every change is compare-and-set). A timer runs a
 * pass every `intervalMs` (none when 0).
 */
export function startJobLoop<T>(deps: { pass: () => Promise<T>; intervalMs: number; logger: Logger; metrics?: JobMetrics }): Loop<T> {
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    const pass = running.then(deps.pass).then(
      (done) => {
        deps.metrics?.pass('jobs', true);
        return done;
      },
      (err: unknown) => {
        deps.metrics?.pass('jobs', false);
        throw err;
      },
    );
    running = pass.catch((err: unknown) => deps.logger.error({ err }, 'background job pass failed'));
    return pass;
  };
  const timer = deps.intervalMs > 0 ? setInterval(() => void run().catch(() => undefined), deps.intervalMs) : undefined;
  timer?.unref();
  return {
    run,
    stop: () => {
      if (timer) clearInterval(timer);
    },
    drain: () => running.catch(() => undefined),
  };
}

/**
 * Audit housekeeping: recover intents of crashed calls, sign what is unsigned and deliver other nodes'
 * digests, export and prune old events. `run(false)` (the timer's) prunes at most every RETENTION_EVERY_MS.
 * Events recovered at start-up and any tail a crash left are signed at once, not a pass later.
 */
export function startAuditHousekeeping(deps: {
  auditLog: AuditLog;
  storage: Storage;
  clock: Clock;
  retentionDays: number;
  exportDir: string;
  logger: Logger;
  metrics?: JobMetrics;
}): { run(retention?: boolean): Promise<unknown>; stop(): void; drain(): Promise<unknown> } {
  const { auditLog, clock } = deps;
  let retentionRanAt = -Infinity;
  const auditPass = async (retention: boolean) => {
    await auditLog.recoverIntents(STALE_INTENT_MS);
    await auditLog.digestNow();
    if (deps.retentionDays > 0 && (retention || clock.now() - retentionRanAt >= RETENTION_EVERY_MS)) {
      retentionRanAt = clock.now();
      await pruneExpired(deps.storage, clock.now() - deps.retentionDays * 86_400_000, deps.exportDir);
    }
  };
  let auditRunning: Promise<unknown> = Promise.resolve();
  const run = (retention = true) => {
    auditRunning = auditRunning.then(() => auditPass(retention)).then(
      () => deps.metrics?.pass('audit_housekeeping', true),
      (err: unknown) => {
        deps.metrics?.pass('audit_housekeeping', false);
        deps.logger.error({ err }, 'audit housekeeping failed');
      },
    );
    return auditRunning;
  };
  void auditLog.digestNow();
  const auditTimer = setInterval(() => void run(false), AUDIT_HOUSEKEEPING_MS);
  auditTimer.unref();
  return { run, stop: () => clearInterval(auditTimer), drain: () => auditRunning };
}

export interface NodeLifecycleDeps<Done> {
  /** Builds everything that needs the barrier. Called on every unseal. */
  build(barrier: Barrier): Promise<Unsealed<Done>>;
  /** Runs right after a generation is installed (the operator calls made while sealed go into its trail). */
  unsealed(generation: Unsealed<Done>): Promise<void>;
  /** Whether the deployment is initialized (the 503's message says what the operator must do). */
  initialized(): boolean;
}

/** The node's current generation, its requests and its retirement. */
export function createNodeLifecycle<Done>(deps: NodeLifecycleDeps<Done>) {
  let current: Unsealed<Done> | undefined;
  /** Requests being answered by each generation. */
  const inflight = new WeakMap<Unsealed<Done>, number>();
  const retiring = new Set<Promise<void>>();
  let createdAdmin: CreatedAdmin | undefined;
  let createdDigestKey: CreatedDigestKey | undefined;

  /** Retires a generation: zeroes now, finishes once its in-flight requests (e.g. the Seal call) are answered. */
  function retire(u: Unsealed<Done>): void {
    u.retire();
    const done: Promise<void> = (async () => {
      while ((inflight.get(u) ?? 0) > 0) await new Promise((r) => setTimeout(r, 5));
      await u.finish();
    })().finally(() => retiring.delete(done));
    retiring.add(done);
  }

  function unavailable(): ServiceUnavailableError {
    return deps.initialized()
      ? new ServiceUnavailableError('Trent is sealed. An operator must unseal it (trent operator unseal).')
      : new ServiceUnavailableError('Trent is not initialized. An operator must run `trent operator init`, then unseal it.');
  }

  /** The seal manager's unseal and seal hooks. */
  const hooks: Pick<SealHooks, 'onUnseal' | 'onSeal'> = {
    async onUnseal(barrier) {
      current = await deps.build(barrier);
      createdAdmin ??= current.createdAdmin;
      await deps.unsealed(current);
      createdDigestKey ??= current.createdDigestKey;
    },
    async onSeal() {
      const u = current;
      current = undefined;
      if (u) retire(u);
    },
  };

  return {
    hooks,
    /** The current generation's /v1/sys/* context (undefined while sealed or uninitialized). */
    sys: () => current?.sys,
    routes: () => current?.routes ?? [],
    get createdAdmin() {
      return createdAdmin;
    },
    get createdDigestKey() {
      return createdDigestKey;
    },
    runJobs: (): Promise<Done> => (current ? current.runJobs() : Promise.reject(unavailable())),
    runAudit: (): Promise<unknown> => (current ? current.runAudit() : Promise.reject(unavailable())),

    /** Answers an AWS request with the current generation, or 503 while sealed. */
    async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const u = current;
      if (!u) {
        // Same shape as the edge's 503 when storage is down: an AWS error clients retry.
        req.resume();
        const wire = toWireError(unavailable(), 'InternalFailure');
        sendJson(res, wire.status, { __type: wire.code, message: wire.message }, AWS_JSON_CONTENT_TYPE, randomUuid());
        return;
      }
      inflight.set(u, (inflight.get(u) ?? 0) + 1);
      try {
        // The internal endpoints have paths of their own; the AWS APIs are at "/" (app.ts).
        if (req.url === '/' || !(await u.internal?.handle(req, res))) await u.edge.handle(req, res);
      } finally {
        inflight.set(u, inflight.get(u)! - 1);
      }
    },

    /** Retires the current generation and waits for every retiring one to finish. */
    async stop(): Promise<void> {
      if (current) {
        const u = current;
        current = undefined;
        retire(u);
      }
      await Promise.all([...retiring]);
    },
  };
}
