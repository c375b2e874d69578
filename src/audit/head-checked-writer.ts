/**
 * The group commit's write on a store whose audit repo has appendBatch (PostgreSQL): a batch is one
 * statement, its events chained onto the head this node expects, instead of a transaction of three
 * round trips (BEGIN with the chain lock and the head read; the INSERT; COMMIT).
 *
 * Correctness never rests on the expectation: the store writes the batch only if the head it finds under
 * the chain lock is the one the events were chained onto, and otherwise writes nothing. The batch is then
 * written the way every batch was before — a transaction that takes the lock, reads the head and chains
 * onto it — which cannot find the head moved. Either way the batch commits whole or not at all, and its
 * calls are answered only after it did (AuditLog).
 *
 * When to expect a head. Only after a locked write found the head where this node left it: with steady
 * writes from another node the expectation would fail every time (a wasted round trip before each locked
 * write), so batches keep taking the lock first until no other writer was seen between two of this
 * node's writes. This node's own writes outside the group commit (atomically(), settle(), recovery) are
 * reported through committed() and do not count as another writer.
 */
import type { AuditIntentRow, AuditRepo } from '../storage/audit-repo.ts';
import type { Storage } from '../storage/storage.ts';
import { chainOnto, lastOf, lockChainHead, type ChainHead } from './chain-rows.ts';
import type { BuiltEvent } from './event.ts';

const same = (a: ChainHead, b: ChainHead): boolean => a.seq === b.seq && a.hash === b.hash;

/** Stores whose audit repo writes a batch in one statement (AuditRepo.appendBatch). */
export async function supportsHeadCheckedBatches(storage: Storage): Promise<boolean> {
  return storage.read(async (r) => typeof r.audit.appendBatch === 'function');
}

export class HeadCheckedWriter {
  readonly #storage: Storage;
  /** Where the next batch is chained without taking the lock first; undefined: take it first. */
  #expected: ChainHead | undefined;
  /** The newest event this node committed (by seq), through the group commit or not. */
  #lastWritten: ChainHead | undefined;

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  /** Writes one batch: intents, events (in this order in the chain), and the intents they clear. */
  async write(intents: readonly AuditIntentRow[], events: readonly BuiltEvent[], clearIntents: readonly string[]): Promise<void> {
    const audit = (r: { audit: AuditRepo }) => r.audit as Required<AuditRepo>;
    if (events.length === 0 && clearIntents.length === 0) {
      // Intents alone (the mutating calls' begin()): no chain, no lock; one statement all the same.
      await this.#storage.read((r) => r.audit.insertIntents(intents));
      return;
    }
    const expected = this.#expected;
    if (expected) {
      const rows = chainOnto(expected, events);
      // A batch formed while this one is in flight chains after it.
      this.#expected = lastOf(rows);
      let outcome;
      try {
        outcome = await this.#storage.read((r) => audit(r).appendBatch({ intents, events: rows, clearIntents }));
      } catch (err) {
        // Failed, or perhaps committed (a connection lost in flight): the head is unknown.
        this.#expected = undefined;
        throw err;
      }
      if (outcome.written) {
        this.committed(lastOf(rows));
        return;
      }
      // Another writer moved the head; nothing was written.
      this.#expected = undefined;
    }
    const { found, rows } = await this.#storage.transaction(async (tx) => {
      const found = await lockChainHead(tx.audit);
      const rows = chainOnto(found, events);
      const outcome = await audit(tx).appendBatch({ intents, events: rows, clearIntents });
      // Cannot happen: the lock is held since the head was read. Refuse rather than write a broken chain.
      if (!outcome.written) throw new Error(`audit chain head moved under the chain lock (at seq ${outcome.head.seq})`);
      return { found, rows };
    });
    // No other writer since this node's last write (or none known yet): expect the head from now on.
    const alone = this.#lastWritten === undefined || same(found, this.#lastWritten);
    this.committed(lastOf(rows));
    if (alone) this.#expected ??= lastOf(rows);
  }

  /** A write of this node's committed with `end` as its last event (also called for writes outside the group commit). */
  committed(end: ChainHead): void {
    if (this.#lastWritten === undefined || this.#lastWritten.seq < end.seq) this.#lastWritten = end;
    // Expected, then overtaken by this node's own later write: expect that one instead.
    if (this.#expected !== undefined && this.#expected.seq < end.seq) this.#expected = end;
  }
}
