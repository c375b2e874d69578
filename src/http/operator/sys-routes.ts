/**
 * The unauthenticated seal endpoints (as Vault's /v1/sys/*): they must work while the node is sealed,
 * when no access key can be verified. What they accept proves itself: init only once per deployment,
 * unseal and rekey only with key shares. JSON in and out; every error is AWS-shaped (`__type`, message).
 *
 *   GET  /health, /healthz            liveness plus seal state
 *   GET  /v1/sys/seal-status          SealStatus
 *   POST /v1/sys/init                 { Shares, Threshold, AgeRecipients? } -> { Shares: [..], Threshold, RootKeyVersion, ... }
 *   POST /v1/sys/unseal               { Share, Nonce? } -> SealStatus
 *   POST /v1/sys/rekey/init           { Shares, Threshold, AgeRecipients? } -> { Nonce, Progress, Required }
 *   POST /v1/sys/rekey/update         { Share, Nonce } -> { Nonce, Progress, Required, Complete, Shares? }
 *
 * These calls reach no audit trail (a sealed node has none to write to); they are logged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { randomUuid } from '../../crypto/primitives.ts';
import { RequestEntityTooLargeException, UnknownOperationException } from '../../errors/errors.ts';
import type { SealManager } from '../../seal/seal-manager.ts';
import { toWireError } from '../error-mapper.ts';
import { InputReader } from '../input.ts';
import { parseJsonObject } from '../server.ts';
import { sealStatusView } from './index.ts';

const MAX_BODY = 64 * 1024;
const SHARE = { required: true, min: 1, max: 1024 } as const;
const NONCE = { min: 1, max: 128 } as const;

export interface SysRoutesDeps {
  seal: SealManager;
  logger: Logger;
  health: () => Record<string, unknown>;
}

/** AgeRecipients: optional list of age public keys, one per share. */
function recipients(r: InputReader): string[] | undefined {
  return r.stringList('AgeRecipients', { min: 1, max: 255, itemMax: 4096 });
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new RequestEntityTooLargeException(`Request body exceeds ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return parseJsonObject(Buffer.concat(chunks));
}

export function createSysRoutes(deps: SysRoutesDeps) {
  const { seal, logger } = deps;

  function send(res: ServerResponse, status: number, requestId: string, body: unknown): void {
    const payload = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), 'x-amzn-RequestId': requestId });
    res.end(payload);
  }

  const routes: Record<string, (input: Record<string, unknown>) => Promise<Record<string, unknown>>> = {
    'GET /health': async () => deps.health(),
    'GET /healthz': async () => deps.health(),
    'GET /v1/sys/seal-status': async () => sealStatusView(seal.status()),
    'POST /v1/sys/init': async (input) => {
      const r = new InputReader(input);
      const shares = r.integer('Shares', { min: 1, max: 255 }) ?? 5;
      const threshold = r.integer('Threshold', { min: 1, max: 255 }) ?? 3;
      const ageRecipients = recipients(r);
      r.done();
      const out = await seal.init({ shares, threshold, ...(ageRecipients ? { ageRecipients } : {}) });
      logger.warn({ shares, threshold }, 'seal initialized through the operator API');
      return { Shares: out.shares, Threshold: out.threshold, RootKeyVersion: out.rootKeyVersion, ...(out.extra ?? {}) };
    },
    'POST /v1/sys/unseal': async (input) => {
      const r = new InputReader(input);
      const share = r.string('Share', SHARE);
      const nonce = r.string('Nonce', NONCE);
      r.done();
      return sealStatusView(await seal.submitShare(share!, nonce));
    },
    'POST /v1/sys/rekey/init': async (input) => {
      const r = new InputReader(input);
      const shares = r.integer('Shares', { required: true, min: 1, max: 255 });
      const threshold = r.integer('Threshold', { required: true, min: 1, max: 255 });
      const ageRecipients = recipients(r);
      r.done();
      const out = await seal.rekeyStart({ shares: shares!, threshold: threshold!, ...(ageRecipients ? { ageRecipients } : {}) });
      return { Nonce: out.nonce, Progress: out.progress, Required: out.required };
    },
    'POST /v1/sys/rekey/update': async (input) => {
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
  };

  /** True when the request is one of these routes (then it has been answered). */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path !== '/health' && path !== '/healthz' && !path.startsWith('/v1/sys/')) return false;
    const requestId = randomUuid();
    try {
      const route = routes[`${req.method ?? 'GET'} ${path}`];
      if (!route) throw new UnknownOperationException('');
      const input = req.method === 'POST' ? await readJson(req) : (req.resume(), {});
      send(res, 200, requestId, await route(input));
    } catch (err) {
      const wire = toWireError(err, 'ServiceFailure');
      if (wire.internal) logger.error({ err, requestId }, 'operator request failed');
      if (!res.headersSent) send(res, wire.status, requestId, { __type: wire.code, message: wire.message });
      else res.destroy();
    }
    return true;
  }

  return { handle };
}
