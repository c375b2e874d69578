/**
 * Probes for load balancers and Kubernetes (README, "Operating"):
 *
 *   GET /health/live    200 while the process serves HTTP (nothing else is checked: a sealed node is alive)
 *   GET /health/ready   200 only when unsealed, the store answers a read, and the store takes an
 *                       audit-trail write; otherwise 503 with `reason` naming the first check that failed
 *
 * "Audit writable" is probed the way the audit log writes: one write transaction that takes the audit
 * chain's head lock (held by a stuck writer on another node, it times the probe out) and writes a meta
 * row (fails on a read-only store, e.g. a PostgreSQL standby after a failover, or a full disk). Concurrent
 * probes share one check. `/health` (sys-routes.ts) is unchanged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUuid } from '../crypto/primitives.ts';
import type { SealStatus } from '../seal/seal-manager.ts';
import type { Storage } from '../storage/storage.ts';
import { JSON_CONTENT_TYPE, sendJson } from './io.ts';

const PROBE_TIMEOUT_MS = 2000;
const PROBE_META = 'health:write-probe';

export interface HealthDeps {
  seal: { status(): SealStatus };
  storage: Storage;
}

type Check = { ok: true } | { ok: false; reason: string };

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createHealthProbes(deps: HealthDeps) {
  let running: Promise<{ checks: Record<string, string>; reason?: string }> | undefined;

  async function check(): Promise<{ checks: Record<string, string>; reason?: string }> {
    const checks: Record<string, string> = {};
    const s = deps.seal.status();
    checks.seal = !s.initialized ? 'uninitialized' : s.sealed ? 'sealed' : 'unsealed';
    const storage: Check = await withTimeout(deps.storage.read((r) => r.meta.get(PROBE_META)), 'storage')
      .then(() => ({ ok: true as const }), (err: unknown) => ({ ok: false as const, reason: message(err) }));
    checks.storage = storage.ok ? 'reachable' : 'unreachable';
    const audit: Check = !storage.ok
      ? { ok: false, reason: 'storage unreachable' }
      : await withTimeout(deps.storage.transaction(async (tx) => {
        await tx.audit.lockHead();
        await tx.meta.putIfAbsent(PROBE_META, 'ok');
      }), 'the audit store').then(() => ({ ok: true as const }), (err: unknown) => ({ ok: false as const, reason: message(err) }));
    checks.audit = audit.ok ? 'writable' : 'not writable';
    let reason: string | undefined;
    if (!s.initialized) reason = 'Trent is not initialized (trent operator init)';
    else if (s.sealed) reason = 'Trent is sealed (trent operator unseal)';
    else if (!storage.ok) reason = `storage is not reachable: ${storage.reason}`;
    else if (!audit.ok) reason = `the audit trail cannot be written: ${audit.reason}`;
    return { checks, reason: reason || undefined };
  }

  function send(res: ServerResponse, status: number, body: unknown): void {
    sendJson(res, status, body, JSON_CONTENT_TYPE, randomUuid(), { 'Cache-Control': 'no-store' });
  }

  /** True when the request was a probe (then it has been answered). */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/health/live' && path !== '/health/ready')) return false;
    req.resume();
    if (path === '/health/live') {
      send(res, 200, { status: 'live' });
      return true;
    }
    running ??= check().finally(() => {
      running = undefined;
    });
    const r = await running;
    send(res, r.reason ? 503 : 200, { status: r.reason ? 'not ready' : 'ready', reason: r.reason || undefined, checks: r.checks });
    return true;
  }

  return { handle };
}
