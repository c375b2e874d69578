/**
 * Turns at writing the audit chain among the workers of one node (TRENT_WORKERS > 1), over the cluster
 * IPC channel: the primary grants one turn at a time, first asked first served, and hands each holder
 * the head the previous one left (src/audit/head-checked-writer.ts, AuditTurns). On PostgreSQL two
 * workers that each chain onto the end of their own last batch refuse each other's heads whenever their
 * batches alternate; with turns each batch is chained onto the head its predecessor left and is one
 * statement.
 *
 * Never a condition of correctness: the store checks every batch's head under the chain lock, whoever
 * holds a turn. So a worker that gets no turn in time (the primary gone or stuck, a holder stuck on a
 * slow statement) writes without one, exactly as a lone node does; a turn granted after its asker gave up
 * is handed straight back with the head it carried. A holder that dies ends its turn, and the head is
 * then unknown (its write may or may not have committed): the next holder takes it from the store.
 */
import type { Worker } from 'node:cluster';
import type { AuditTurn, AuditTurns } from './audit/audit-log.ts';
import { isClusterMessage } from './cluster-message.ts';

interface Head {
  readonly seq: number;
  readonly hash: string;
}

/** Worker → primary. */
type Ask = { trent: 'audit-turn-ask'; id: number };
type Release = { trent: 'audit-turn-release'; id: number; head?: Head };
/** Primary → worker. */
type Grant = { trent: 'audit-turn'; id: number; head?: Head };

/**
 * How long a worker waits for its turn before writing without one. A turn lasts one statement (a few
 * milliseconds); a second means the primary does not answer or the holder is stuck, and then waiting
 * longer only holds up the calls of the batch.
 */
const TURN_WAIT_MS = 1_000;

const validHead = (h: unknown): Head | undefined =>
  typeof h === 'object' && h !== null && typeof (h as Head).seq === 'number' && typeof (h as Head).hash === 'string'
    ? { seq: (h as Head).seq, hash: (h as Head).hash }
    : undefined;

/** In the primary: grants the turns. onMessage returns whether the message was one of these. */
export function createPrimaryAuditTurns() {
  let head: Head | undefined;
  let holder: { worker: Worker; id: number } | undefined;
  let queue: { worker: Worker; id: number }[] = [];

  const grantNext = () => {
    while (!holder && queue.length > 0) {
      const next = queue.shift()!;
      if (!next.worker.isConnected()) continue;
      holder = next;
      next.worker.send({ trent: 'audit-turn', id: next.id, ...(head ? { head } : {}) } satisfies Grant);
    }
  };

  return {
    onMessage(worker: Worker, m: unknown): boolean {
      if (isClusterMessage<Ask>(m, 'audit-turn-ask')) {
        queue.push({ worker, id: m.id });
        grantNext();
        return true;
      }
      if (isClusterMessage<Release>(m, 'audit-turn-release')) {
        if (holder?.worker === worker && holder.id === m.id) {
          head = validHead(m.head);
          holder = undefined;
          grantNext();
        }
        return true;
      }
      return false;
    },
    onExit(worker: Worker): void {
      queue = queue.filter((q) => q.worker !== worker);
      if (holder?.worker === worker) {
        holder = undefined;
        head = undefined;
        grantNext();
      }
    },
  };
}

/** The worker's end of the IPC channel (the process itself; a stand-in in tests). */
export interface TurnChannel {
  readonly connected?: boolean;
  send?(message: unknown, sendHandle?: undefined, options?: object, callback?: (err: Error | null) => void): boolean;
  on(event: 'message', listener: (m: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

/** In a worker: its side of the turns, for the audit log (AuditLogDeps.turns). */
export function workerAuditTurns({ channel = process as TurnChannel, waitMs = TURN_WAIT_MS } = {}): AuditTurns {
  let next = 0;
  const waiting = new Map<number, (turn: AuditTurn) => void>();
  const send = (m: Ask | Release) => {
    // Gone: nothing to tell. A write goes on without a turn; the store checks its head.
    if (channel.connected) channel.send?.(m, undefined, {}, () => undefined);
  };
  const noTurn: AuditTurn = { head: undefined, release: () => undefined };

  channel.on('message', (m: unknown) => {
    if (!isClusterMessage<Grant>(m, 'audit-turn')) return;
    const head = validHead(m.head);
    const granted = waiting.get(m.id);
    waiting.delete(m.id);
    if (!granted) {
      // Asked, then given up waiting: the turn goes back as it came.
      send({ trent: 'audit-turn-release', id: m.id, ...(head ? { head } : {}) });
      return;
    }
    let released = false;
    granted({
      head,
      release: (end) => {
        if (released) return;
        released = true;
        send({ trent: 'audit-turn-release', id: m.id, ...(end ? { head: end } : {}) });
      },
    });
  });
  channel.on('disconnect', () => {
    for (const resolve of waiting.values()) resolve(noTurn);
    waiting.clear();
  });

  return {
    acquire: () => {
      if (!channel.connected) return Promise.resolve(noTurn);
      return new Promise<AuditTurn>((resolve) => {
        const id = next++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve(noTurn);
        }, waitMs);
        waiting.set(id, (turn) => {
          clearTimeout(timer);
          resolve(turn);
        });
        send({ trent: 'audit-turn-ask', id });
      });
    },
  };
}
