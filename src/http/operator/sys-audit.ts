/**
 * Auditing of the /v1/sys/* calls (docs/seal.md "Operator endpoints"), through the same audit port as
 * every other call (the edge's EdgeAudit: write-ahead intent, durable record).
 *
 * - Unsealed: like the edge, fail closed. A state change runs only after its intent is durable, and a
 *   call whose event cannot be recorded is answered with an error (503 when storage is unreachable).
 * - Sealed (or uninitialized): there is no audit trail on this node yet (its writer and signing key are
 *   behind the barrier), so the events wait in memory, in order, and are logged; the unseal writes them
 *   before anything else, followed by the unseal call's own event. At most MAX_PENDING wait; beyond, they
 *   are counted and one event records how many were lost. Only calls that would change state wait (init,
 *   unseal, rekey, and their refusals): read-only ones (seal-status, unknown paths), which anyone may send
 *   unthrottled, are counted into one event instead, so they cannot push the shares submitted out of the
 *   trail. A process that stops while sealed loses them (they are in its log).
 */
import type { Logger } from 'pino';
import { buildEvent, type BuiltEvent, type RequestFacts } from '../../audit/event.ts';
import type { Clock } from '../../clock.ts';
import { randomUuid, timeOrderedUuid } from '../../crypto/primitives.ts';
import { toWireError } from '../error-mapper.ts';
import type { SysUnsealedContext } from './sys-routes.ts';

const MAX_PENDING = 1000;

export function createSysAudit(deps: { logger: Logger; clock: Clock; accountId: string; region: string }) {
  const { logger } = deps;
  const pending: BuiltEvent[] = [];
  let dropped = 0;
  let reads = 0;
  let flushing: Promise<void> = Promise.resolve();

  /** One event for calls made while sealed that were counted, not kept. */
  function countedEvent(n: number, why: string): BuiltEvent {
    return buildEvent({
      requestId: randomUuid(), eventId: timeOrderedUuid(), eventTime: deps.clock.now(),
      eventSource: 'trent.amazonaws.com', eventName: 'SysAuditEventsDropped', readOnly: true,
      defaultAccountId: deps.accountId, defaultRegion: deps.region,
      error: { code: 'AuditEventsDropped', message: `${n} ${why} (see the node's log)` },
    });
  }

  /** Writes the waiting events in order; what fails to be written waits again, in front. One at a time. */
  function flush(ctx: SysUnsealedContext): Promise<void> {
    const run = flushing.then(async () => {
      const batch = pending.splice(0, pending.length);
      if (dropped > 0) {
        batch.push(countedEvent(dropped, `operator calls made while the node was sealed were not recorded: more than ${MAX_PENDING} were waiting`));
        dropped = 0;
      }
      if (reads > 0) {
        batch.push(countedEvent(reads, 'read-only operator calls (seal-status, unknown paths) made while the node was sealed were counted, not recorded one by one'));
        reads = 0;
      }
      for (let i = 0; i < batch.length; i++) {
        try {
          await ctx.audit.record(batch[i]!);
        } catch (err) {
          pending.unshift(...batch.slice(i));
          throw err;
        }
      }
    });
    flushing = run.catch(() => undefined);
    return run;
  }

  return {
    flush,

    /** The write-ahead intent of a state-changing call (throws when it cannot be made durable). */
    begin(ctx: SysUnsealedContext, facts: RequestFacts): Promise<string> {
      return ctx.audit.begin({ requestId: facts.requestId, eventId: facts.eventId, eventTime: facts.eventTime, event: buildEvent(facts) });
    },

    /**
     * Records the call's event; undefined when done (or waiting, while sealed), else the error reply that
     * replaces the call's answer (fail closed).
     */
    async record(ctx: SysUnsealedContext | undefined, facts: RequestFacts, intentId: string | undefined): Promise<{ status: number; body: unknown } | undefined> {
      const event = buildEvent(facts);
      if (!ctx) {
        if (facts.readOnly) reads++;
        else if (pending.length < MAX_PENDING) pending.push(event);
        else dropped++;
        logger.info({ eventName: facts.eventName, sourceIp: facts.sourceIp, errorCode: facts.error?.code, requestId: facts.requestId },
          'operator call on a sealed node: its audit event is written when the node unseals');
        return undefined;
      }
      try {
        await flush(ctx);
        await ctx.audit.record(event, intentId);
        return undefined;
      } catch (err) {
        logger.error({ err, requestId: facts.requestId }, 'audit write failed: failing the operator request');
        const wire = toWireError(err, 'ServiceFailure');
        return wire.status === 503
          ? { status: 503, body: { __type: wire.code, message: wire.message } }
          : { status: 500, body: { __type: 'ServiceFailure', message: 'An internal error occurred. Retry the request.' } };
      }
    },
  };
}
