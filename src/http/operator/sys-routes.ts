/**
 * The seal endpoints (as Vault's /v1/sys/*): they must work while the node is sealed, when no access key
 * can be verified, so what changes state proves itself (docs/seal.md "Operator endpoints"):
 *
 *   GET  /health, /healthz            liveness plus seal state (not audited)
 *   GET  /v1/sys/seal-status          SealStatus (with the running rekey, if any)
 *   POST /v1/sys/init                 { Shares, Threshold, AgeRecipients? } -> { Shares: [..], Threshold, RootKeyVersion, ... }
 *   POST /v1/sys/unseal               { Share, Nonce? } -> SealStatus;  { Share, Reset: true } abandons the attempt
 *   POST /v1/sys/rekey/init           { Shares, Threshold, AgeRecipients?, Share? } -> { Nonce, Progress, Required }
 *   POST /v1/sys/rekey/update         { Share, Nonce } -> { Nonce, Progress, Required, Complete, Shares? }
 *
 * - A share counts only if it is one of the current shares (checked against the keyring before it touches
 *   an attempt), so nobody without one can add to, poison or reset an unseal or rekey attempt.
 * - Starting (or replacing) a rekey needs a current share or a SigV4 signature (service `trent`) of a
 *   principal allowed `trent:Rekey`; a signature can only be checked while the node is unsealed.
 * - Unseal, rekey and init attempts are limited per source address (rate-limit.ts); a refused one changes nothing.
 * - Every /v1/sys/* call is audited (sys-audit.ts): through the audit trail when the node is unsealed, fail
 *   closed; while sealed the events wait in memory and are written first thing when the node unseals.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Caller } from '../../auth/caller.ts';
import type { CredentialStore } from '../../auth/credential-store.ts';
import { authenticateSigV4 } from '../authenticate.ts';
import { unverifiedCredential, type RequestFacts } from '../../audit/event.ts';
import { systemClock, type Clock } from '../../clock.ts';
import { randomUuid, timeOrderedUuid } from '../../crypto/primitives.ts';
import { UnknownOperationException, ValidationException } from '../../errors/errors.ts';
import type { SealManager } from '../../seal/seal-manager.ts';
import { toWireError } from '../error-mapper.ts';
import { InputReader } from '../input.ts';
import { JSON_CONTENT_TYPE, readBody, sendJson } from '../io.ts';
import { parseJsonObject, type EdgeAudit } from '../server.ts';
import { sealStatusView } from './index.ts';
import type { OperatorService } from './operator-service.ts';
import { AttemptLimiter } from './rate-limit.ts';
import { createSysAudit } from './sys-audit.ts';

const MAX_BODY = 64 * 1024;
const SHARE = { required: true, min: 1, max: 1024 } as const;
const NONCE = { min: 1, max: 128 } as const;
/** Unseal/rekey/init attempts per source address and minute: far above what operators type, far below guessing. */
export const SYS_ATTEMPTS_PER_WINDOW = 20;
export const SYS_ATTEMPT_WINDOW_MS = 60_000;

/** What exists only while the node is unsealed: the credentials to check a signature, the audit trail. */
export interface SysUnsealedContext {
  readonly credentials: CredentialStore;
  readonly audit: EdgeAudit;
}

export interface SysRoutesDeps {
  seal: SealManager;
  operator: OperatorService;
  logger: Logger;
  clock: Clock;
  accountId: string;
  region: string;
  health: () => Record<string, unknown>;
  /** The unsealed context now (undefined while sealed or uninitialized). */
  unsealed: () => SysUnsealedContext | undefined;
  /** aws:SecureTransport of a request (http/secure-transport.ts). */
  secureTransport: (req: IncomingMessage) => boolean;
}

interface Route {
  /** The audit event's name. */
  readonly name: string;
  readonly readOnly: boolean;
  /** Counted by the per-address attempt limit. */
  readonly limited: boolean;
  handle(input: Record<string, unknown>, caller: Caller | undefined): Promise<Record<string, unknown>>;
}

/** AgeRecipients: optional list of age public keys, one per share. */
function recipients(r: InputReader): string[] | undefined {
  return r.stringList('AgeRecipients', { min: 1, max: 255, itemMax: 4096 });
}

export function createSysRoutes(deps: SysRoutesDeps) {
  const { seal, operator, logger } = deps;
  const limiter = new AttemptLimiter(deps.clock, SYS_ATTEMPTS_PER_WINDOW, SYS_ATTEMPT_WINDOW_MS);
  const audit = createSysAudit({ logger, clock: deps.clock, accountId: deps.accountId, region: deps.region });

  function send(res: ServerResponse, status: number, requestId: string, body: unknown): void {
    sendJson(res, status, body, JSON_CONTENT_TYPE, requestId);
  }

  /** The SigV4 caller (service `trent`), as the edge checks it; only possible while unsealed. */
  function authenticate(ctx: SysUnsealedContext, req: IncomingMessage, body: Buffer): Caller | Promise<Caller> {
    return authenticateSigV4(req, body, 'trent', ctx.credentials, new Date(systemClock.now()), deps.secureTransport(req));
  }


  const routes: Record<string, Route> = {
    'GET /v1/sys/seal-status': {
      name: 'SysSealStatus', readOnly: true, limited: false,
      handle: async () => sealStatusView(seal.status()),
    },
    'POST /v1/sys/init': {
      name: 'SysInit', readOnly: false, limited: true,
      async handle(input) {
        const r = new InputReader(input);
        const shares = r.integer('Shares', { min: 1, max: 255 }) ?? 5;
        const threshold = r.integer('Threshold', { min: 1, max: 255 }) ?? 3;
        const ageRecipients = recipients(r);
        r.done();
        const out = await seal.init({ shares, threshold, ...(ageRecipients ? { ageRecipients } : {}) });
        logger.warn({ shares, threshold }, 'seal initialized through the operator API');
        return { Shares: out.shares, Threshold: out.threshold, RootKeyVersion: out.rootKeyVersion, ...(out.extra ?? {}) };
      },
    },
    'POST /v1/sys/unseal': {
      name: 'SysUnseal', readOnly: false, limited: true,
      async handle(input) {
        const r = new InputReader(input);
        const share = r.string('Share', SHARE);
        const nonce = r.string('Nonce', NONCE);
        const reset = r.boolean('Reset');
        r.done();
        if (reset) {
          if (nonce !== undefined) throw new ValidationException('Reset takes a current share and no Nonce');
          return sealStatusView(await seal.resetUnseal(share!));
        }
        return sealStatusView(await seal.submitShare(share!, nonce));
      },
    },
    'POST /v1/sys/rekey/init': {
      name: 'SysRekeyInit', readOnly: false, limited: true,
      async handle(input, caller) {
        const r = new InputReader(input);
        const shares = r.integer('Shares', { required: true, min: 1, max: 255 });
        const threshold = r.integer('Threshold', { required: true, min: 1, max: 255 });
        const ageRecipients = recipients(r);
        const share = r.string('Share', { ...SHARE, required: false });
        r.done();
        // Proof: a principal allowed trent:Rekey (a signed request), or a current share.
        const authorized = caller !== undefined && (await operator.authorizeRekey(caller), true);
        const out = await seal.rekeyStart(
          { shares: shares!, threshold: threshold!, ...(ageRecipients ? { ageRecipients } : {}) },
          { authorized, ...(share !== undefined ? { share } : {}) },
        );
        return { Nonce: out.nonce, Progress: out.progress, Required: out.required };
      },
    },
    'POST /v1/sys/rekey/update': {
      name: 'SysRekeyUpdate', readOnly: false, limited: true,
      async handle(input) {
        const r = new InputReader(input);
        const share = r.string('Share', SHARE);
        const nonce = r.string('Nonce', { ...NONCE, required: true });
        r.done();
        const out = await seal.rekeySubmit(share!, nonce!);
        return {
          Nonce: out.nonce, Progress: out.progress, Required: out.required, Complete: out.complete,
          ...(out.shares ? { Shares: out.shares, Threshold: out.threshold } : {}),
        };
      },
    },
  };

  /** True when the request is one of these routes (then it has been answered). */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path !== '/health' && path !== '/healthz' && !path.startsWith('/v1/sys/')) return false;
    const requestId = randomUuid();
    if (path === '/health' || path === '/healthz') {
      req.resume();
      if (req.method === 'GET') send(res, 200, requestId, deps.health());
      else send(res, 400, requestId, { __type: 'UnknownOperationException', message: '' });
      return true;
    }
    const route = routes[`${req.method ?? 'GET'} ${path}`];
    const facts: { -readonly [K in keyof RequestFacts]: RequestFacts[K] } = {
      requestId,
      eventId: timeOrderedUuid(),
      eventTime: deps.clock.now(),
      eventSource: 'trent.amazonaws.com',
      eventName: route?.name ?? 'SysUnknown',
      readOnly: route?.readOnly ?? true,
      defaultAccountId: deps.accountId,
      defaultRegion: deps.region,
      ...(req.socket.remoteAddress ? { sourceIp: req.socket.remoteAddress } : {}),
      ...(typeof req.headers['user-agent'] === 'string' ? { userAgent: req.headers['user-agent'] } : {}),
    };
    const unverified = unverifiedCredential(req.headers.authorization);
    if (unverified.accessKeyId) facts.unverifiedAccessKeyId = unverified.accessKeyId;
    if (unverified.region) facts.unverifiedRegion = unverified.region;
    let reply: { status: number; body: unknown };
    let intent: { ctx: SysUnsealedContext; id: string } | undefined;
    try {
      if (!route) throw new UnknownOperationException('');
      // Before the body is read: a throttled attempt reaches nothing.
      if (route.limited) limiter.take(req.socket.remoteAddress ?? 'unknown');
      const body = await readBody(req, MAX_BODY);
      const ctx = deps.unsealed();
      // A signature is checked whenever it can be (unsealed); a bad one is refused, never ignored. While
      // sealed it cannot be, and only what proves itself with shares can succeed.
      const caller = req.headers.authorization !== undefined && ctx ? await authenticate(ctx, req, body) : undefined;
      if (caller) facts.caller = caller;
      const input = req.method === 'POST' ? parseJsonObject(body) : {};
      facts.input = input;
      if (!route.readOnly && ctx) {
        // Fail closed: a state change runs only once its write-ahead intent is durable.
        intent = { ctx, id: await audit.begin(ctx, facts) };
      }
      const output = await route.handle(input, caller);
      facts.output = output;
      reply = { status: 200, body: output };
    } catch (err) {
      const wire = toWireError(err, 'ServiceFailure');
      if (wire.internal) logger.error({ err, requestId }, 'operator request failed');
      facts.error = { code: wire.code, message: wire.message };
      reply = { status: wire.status, body: { __type: wire.code, message: wire.message } };
    }
    const failed = await audit.record(intent?.ctx ?? deps.unsealed(), facts, intent?.id);
    // Fail closed, except where it would lie: these routes change the keyring outside the store's unit
    // of work, so once a state change has run its effect stands whatever happens to its event. Replacing
    // its answer with a 500 would tell the operator it failed and throw away what it returned — a
    // completed rekey's new shares, without which the node never unseals again. The write-ahead intent is
    // durable (the change ran only after it was), so recovery records the call (TrentAuditOutcomeUnknown,
    // docs/audit.md "Crash recovery"); the failure is in the log.
    const changed = intent !== undefined && facts.error === undefined;
    if (failed && changed) logger.error({ requestId, eventName: facts.eventName }, 'operator call completed but its audit event was not written: its intent stays for recovery');
    else if (failed) reply = failed;
    if (!res.headersSent) send(res, reply.status, requestId, reply.body);
    else res.destroy();
    return true;
  }

  return {
    handle,
    /** Writes the events of calls answered while sealed; the app calls it right after an unseal. */
    flushPending: (ctx: SysUnsealedContext) => audit.flush(ctx),
    /**
     * Records the event of a signed call answered beside these routes (GET /metrics) as one of theirs:
     * held in memory while sealed, fail closed while unsealed (the reply that replaces the answer).
     */
    record: (facts: RequestFacts) => audit.record(deps.unsealed(), facts, undefined),
  };
}
