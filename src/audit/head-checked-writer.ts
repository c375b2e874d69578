/**
 * The group commit's write on a store whose audit repo has appendBatch (PostgreSQL): a batch is one
 * statement, its events chained onto the head this node expects, instead of a transaction of three
 * round trips (BEGIN with the chain lock and the head read; the INSERT; COMMIT).
 *
 * Correctness never rests on the expectation: the store writes the batch only if the head it finds under
 * the chain lock is the one the events were chained onto, and otherwise writes nothing and names the head
 * it found. The batch is then chained again onto that head and sent again, still as one statement that
 * the store checks the same way (another writer may have moved the head once more meanwhile). After
 * MAX_RESENDS refusals in a row it is written under the lock: a transaction that takes the lock, reads the
 * head and chains onto it, which cannot find the head moved. Either way the batch commits whole or not at
 * all, and its calls are answered only after it did (AuditLog).
 *
 * Where the head comes from: the end of this node's previous write (its own writes outside the group
 * commit, atomically(), settle(), recovery, are reported through committed()); with workers of one node
 * taking turns (AuditTurns), the end of the write of the worker that had the turn before. Unknown (at
 * start, after a failed write): the lock is taken.
 */
import type { AuditEventRow, AuditIntentRow, AuditRepo } from '../storage/audit-repo.ts';
import type { Storage } from '../storage/storage.ts';
import { chainOnto, lastOf, lockChainHead, rechain, type ChainHead } from './chain-rows.ts';
import type { BuiltEvent } from './event.ts';

/**
 * Refused statements a batch may take before it is written under the lock. Two writers refuse each
 * other only when their statements cross, and the resend is chained onto the head the store just named,
 * so a third refusal in a row means a crowd of writers, which the lock orders.
 */
const MAX_RESENDS = 3;

/**
 * Turns at writing the chain among the processes of one node (TRENT_WORKERS > 1: src/cluster-audit.ts),
 * so that its workers do not keep refusing each other's heads. A turn hands over the head the previous
 * holder left. Only an optimisation: the store checks every head all the same, and a writer that gets no
 * turn (acquire resolves without one) writes as it would alone. AuditLog takes the turn before it takes
 * the batch, so the calls that arrive while it waits join the batch.
 */
export interface AuditTurns {
  /** Waits for this process's turn; resolves with the head the last holder left, if it knows one. */
  acquire(): Promise<AuditTurn>;
}

export interface AuditTurn {
  readonly head: ChainHead | undefined;
  /** Ends the turn; `head`: where this write left the chain, undefined if unknown (the write failed). Only the first call counts. */
  release(head: ChainHead | undefined): void;
}

/** Stores whose audit repo writes a batch in one statement (AuditRepo.appendBatch). */
export async function supportsHeadCheckedBatches(storage: Storage): Promise<boolean> {
  return storage.read(async (r) => typeof r.audit.appendBatch === 'function');
}

const newer = (a: ChainHead | undefined, b: ChainHead | undefined): ChainHead | undefined => (a && (!b || a.seq > b.seq) ? a : b);

export class HeadCheckedWriter {
  readonly #storage: Storage;
  /** Where the next batch is chained without taking the lock first; undefined: take it first. */
  #expected: ChainHead | undefined;

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  /**
   * Writes one batch: intents, events (in this order in the chain), and the intents they clear. With
   * `turn` (the caller holds this process's turn at the chain), chains onto the head it handed over if
   * that is the newest known, and ends the turn with where the batch left the chain.
   */
  async write(intents: readonly AuditIntentRow[], events: readonly BuiltEvent[], clearIntents: readonly string[], turn?: AuditTurn): Promise<void> {
    if (events.length === 0 && clearIntents.length === 0) {
      // Intents alone (the mutating calls' begin()): no chain, no lock; one statement all the same. The
      // turn goes on at once, with the head it came with.
      turn?.release(turn.head);
      await this.#storage.read((r) => r.audit.insertIntents(intents));
      return;
    }
    let end: ChainHead | undefined;
    try {
      end = await this.#write(intents, events, clearIntents, turn?.head);
    } finally {
      turn?.release(end);
    }
  }

  async #write(intents: readonly AuditIntentRow[], events: readonly BuiltEvent[], clearIntents: readonly string[], handedOver: ChainHead | undefined): Promise<ChainHead> {
    const audit = (r: { audit: AuditRepo }) => r.audit as Required<AuditRepo>;
    let head = newer(handedOver, this.#expected);
    let rows: AuditEventRow[] | undefined;
    for (let sent = 0; head && sent <= MAX_RESENDS; sent++) {
      // Records are serialized once; a resend only moves the links.
      rows = rows ? rechain(head, rows) : chainOnto(head, events);
      const batch = { intents, events: rows, clearIntents };
      let outcome;
      try {
        outcome = await this.#storage.read((r) => audit(r).appendBatch(batch));
      } catch (err) {
        // Failed, or perhaps committed (a connection lost in flight): the head is unknown.
        this.#expected = undefined;
        throw err;
      }
      if (outcome.written) return this.#wrote(rows, head);
      // Another writer moved the head; nothing was written. The store named the head it found.
      head = outcome.head;
    }
    this.#expected = undefined;
    const written = await this.#storage.transaction(async (tx) => {
      const found = await lockChainHead(tx.audit);
      const locked = rows ? rechain(found, rows) : chainOnto(found, events);
      const outcome = await audit(tx).appendBatch({ intents, events: locked, clearIntents });
      // Cannot happen: the lock is held since the head was read. Refuse rather than write a broken chain.
      if (!outcome.written) throw new Error(`audit chain head moved under the chain lock (at seq ${outcome.head.seq})`);
      return { locked, found };
    });
    return this.#wrote(written.locked, written.found);
  }

  /** A batch chained onto `onto` committed (clearing intents alone: no rows, the head did not move). */
  #wrote(rows: readonly AuditEventRow[], onto: ChainHead): ChainHead {
    const end = rows.length > 0 ? lastOf(rows) : onto;
    this.committed(end);
    return end;
  }

  /** A write of this node's committed with `end` as its last event (also called for writes outside the group commit). */
  committed(end: ChainHead): void {
    this.#expected = newer(end, this.#expected);
  }
}
