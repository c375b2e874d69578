/**
 * The audit log: the one writer of the audit store, used by the HTTP edge (the choke point) and by
 * background jobs. Guarantees (docs/audit.md):
 *
 * - Fail closed. record() resolves only once the event is committed to storage; the edge answers 500
 *   when it rejects. A mutating call first durably stores a write-ahead intent (begin()); if that fails
 *   the call never runs. Then atomically() runs the call as one storage unit of work
 *   (storage/unit-of-work.ts) whose last writes are the call's event and the intent's deletion: the
 *   call's changes and its event commit together or not at all. An intent left by a crash is turned
 *   into an event with errorCode "TrentAuditOutcomeUnknown" by recoverIntents().
 * - Group commit. Concurrent begin()/record() calls are queued and written together, whole or not at
 *   all: one storage transaction per batch on SQLite (one fsync), one statement on PostgreSQL
 *   (AuditRepo.appendBatch, head-checked-writer.ts: chained onto the head this node expects, and
 *   chained again onto the head the store names and resent when another writer moved it; the workers
 *   of one node take turns, src/cluster-audit.ts). The next batch is taken
 *   while earlier ones wait to be durable (SQLite, up to 4): with one batch at a time the event loop sat
 *   idle through every fsync (10-15% of the time under load in the profile). On PostgreSQL one batch at
 *   a time measured faster: batches in flight wait for each other on the chain head lock, holding pool
 *   connections, and come out smaller.
 * - One chain order. seq and hashes are assigned here, onto a head read under the chain lock
 *   (AuditRepo.lockHead) or checked under it by the store (appendBatch), so several nodes append to one
 *   chain and the store never computes a link.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { timeOrderedUuid } from '../crypto/primitives.ts';
import type { AuditDigestRow, AuditEventRow, AuditRepo } from '../storage/audit-repo.ts';
import { appendEvents, encodeRecords, lastOf } from './chain-rows.ts';
import { HeadCheckedWriter, supportsHeadCheckedBatches, type AuditTurn, type AuditTurns } from './head-checked-writer.ts';
import type { Repos, Storage } from '../storage/storage.ts';
import { currentUnitOfWork, outsideUnitOfWork, type UnitOfWork } from '../storage/unit-of-work.ts';
import { canonicalJson } from './canonical-json.ts';
import { digestStatement, MAX_EVENTS_PER_DIGEST } from './digest.ts';
import type { DigestDelivery } from './digest-delivery.ts';
import type { DigestSigner } from './digest-key.ts';
import type { BuiltEvent } from './event.ts';

/** What a write-ahead intent records: enough to write an "outcome unknown" event after a crash. */
export interface IntentFacts {
  readonly requestId: string;
  readonly eventId: string;
  readonly eventTime: number;
  readonly event: BuiltEvent;
}

type Item =
  | { kind: 'intent'; intentId: string; facts: IntentFacts; writer: string; done: Deferred }
  | { kind: 'event'; event: BuiltEvent; intentId?: string; done: Deferred };

interface Deferred {
  resolve(): void;
  reject(err: unknown): void;
}

const MAX_BATCH = 512;
/** Batches awaiting durability at once, by store (see the header). */
const MAX_BATCHES_IN_FLIGHT = { sqlite: 4, postgres: 1 } as const;

export const OUTCOME_UNKNOWN = 'TrentAuditOutcomeUnknown';

/**
 * What the audit log reports of its group commit, for GET /metrics (implemented at the edge, in
 * src/http/metrics.ts; this module knows nothing of Prometheus). Calls must be cheap and must not throw.
 */
export interface AuditLogMetrics {
  /** Calls waiting to join a batch, after each change of the queue. */
  queueDepth(depth: number): void;
  /** One batch settled: how many intents and events it held and how long its transaction took, commit (fsync) included. */
  batchCommitted(size: number, seconds: number): void;
}

export interface AuditLogDeps {
  storage: Storage;
  clock: Clock;
  logger: Logger;
  metrics?: AuditLogMetrics;
  signer?: DigestSigner;
  /**
   * The bound on the unsigned tail (docs/audit.md): a digest is written once `maxEvents` events are
   * unsigned, or `intervalMs` after the first unsigned event, whichever comes first. Absent: digests only
   * when writeDigest() is called.
   */
  digests?: { intervalMs: number; maxEvents: number; delivery?: DigestDelivery };
  /** In a worker of TRENT_WORKERS > 1: turns at writing the chain among the node's workers (head-checked-writer.ts). */
  turns?: AuditTurns;
}

export { appendEvents, eventRow } from './chain-rows.ts';
export type { AuditTurn, AuditTurns } from './head-checked-writer.ts';

export class AuditLog {
  readonly #deps: AuditLogDeps;
  #queue: Item[] = [];
  #flushing: Promise<void> | undefined;
  /** Batches committed or committing whose durability is not yet known. */
  readonly #inFlight = new Set<Promise<void>>();
  /** Events recorded from inside a call run by atomically(): they commit (or not) with the call. */
  readonly #joined = new WeakMap<UnitOfWork, BuiltEvent[]>();
  /** Units in which a recordIn() failed: they must not commit (atomically() refuses to finish them). */
  readonly #lostEvents = new WeakSet<UnitOfWork>();

  constructor(deps: AuditLogDeps) {
    this.#deps = deps;
  }

  /** Durably stores a write-ahead intent; resolves with its id (to pass to record()). */
  async begin(facts: IntentFacts): Promise<string> {
    // The intent names this process, so recovery can tell once it is gone (Storage.writerAlive).
    const writer = await this.#deps.storage.writerId();
    const intentId = timeOrderedUuid();
    await this.#submit((done) => ({ kind: 'intent', intentId, facts, writer, done }));
    return intentId;
  }

  /**
   * Durably appends the event (and clears its intent, in the same transaction). Called from inside a
   * call that atomically() runs (a job event of that call), the event joins the call's transaction
   * instead and this resolves at once: it becomes visible exactly when the call's changes do.
   */
  record(event: BuiltEvent, intentId?: string): Promise<void> {
    const unit = currentUnitOfWork();
    const joined = unit && this.#joined.get(unit);
    if (joined && !intentId) {
      joined.push(event);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.#enqueue(intentId ? { kind: 'event', event, intentId, done: { resolve, reject } } : { kind: 'event', event, done: { resolve, reject } });
    });
  }

  /**
   * Appends `event` inside the caller's storage transaction `tx`, so it commits exactly when the change
   * it describes does (a background change outside any call's unit: a replication record applied, a
   * scheduled rotation's replicas); if the append fails the caller's transaction fails. Takes the chain
   * head lock, which the transaction then holds to its end: call it last, after the change's own writes.
   */
  async recordIn(tx: Repos, event: BuiltEvent): Promise<void> {
    try {
      await appendEvents(tx.audit, [event]);
    } catch (err) {
      // Inside a call's unit, `tx` may be a savepoint whose failure the call survives (it answers an error
      // and its unit commits what it had written before): a lost event must roll the whole unit back.
      const unit = currentUnitOfWork();
      if (unit) this.#lostEvents.add(unit);
      throw err;
    }
    // Counted at once: a rolled-back append only brings the next digest forward.
    this.#countUnsigned(1);
  }

  /**
   * Runs a mutating call and records its event in one storage transaction (a unit of work): every
   * storage write of `run` joins it, and its last writes append the event `run` returns and delete the
   * call's intent. Resolves once that transaction is durable; rejects, with none of it visible, if the
   * call's writes, the event or the commit fail (`run` is expected to return an event for its own
   * errors rather than throw). Mutating calls thus do not share the group commit; on SQLite they are
   * serialised from their first write to their commit.
   */
  async atomically(intentId: string, run: () => Promise<BuiltEvent>): Promise<void> {
    let rows: AuditEventRow[] = [];
    const appended = await this.#deps.storage.unitOfWork(
      async (unit) => {
        const joined: BuiltEvent[] = [];
        this.#joined.set(unit, joined);
        return { event: await run(), joined, unit };
      },
      async (tx, { event, joined, unit }) => {
        if (this.#lostEvents.has(unit)) throw new Error('a service event of the call could not be written: the call is rolled back');
        rows = await appendEvents(tx.audit, [...joined, event]);
        await tx.audit.deleteIntents([intentId]);
      },
    ).then(({ joined }) => joined.length + 1);
    this.#committedOutsideBatches(rows);
    // These events bypass the group commit: they count towards the digest bound all the same.
    this.#countUnsigned(appended);
  }

  /**
   * Records a call whose unit of work failed without a certain outcome (the store went away around the
   * commit). Under the chain lock — which the unit held from its event to the end of its transaction —
   * the call's intent still being there proves the unit did not commit: `event` (the failure) is
   * appended and the intent deleted. If the intent is gone the unit committed, with its own event, and
   * nothing is added. Returns whether `event` was recorded.
   */
  async settle(event: BuiltEvent, intentId: string): Promise<boolean> {
    const rows = await outsideUnitOfWork(() =>
      this.#deps.storage.transaction(async (tx) => {
        await tx.audit.lockHead();
        if ((await tx.audit.deleteIntents([intentId])) === 0) return [];
        return appendEvents(tx.audit, [event]);
      }),
    );
    this.#committedOutsideBatches(rows);
    if (rows.length > 0) this.#countUnsigned(1);
    return rows.length > 0;
  }

  /** Resolves when everything queued so far is written (or failed). */
  async drain(): Promise<void> {
    while (this.#flushing || this.#inFlight.size > 0) {
      await this.#flushing;
      await Promise.all(this.#inFlight);
    }
  }

  #submit(make: (done: Deferred) => Item): Promise<void> {
    return new Promise<void>((resolve, reject) => this.#enqueue(make({ resolve, reject })));
  }

  #enqueue(item: Item): void {
    this.#queue.push(item);
    this.#deps.metrics?.queueDepth(this.#queue.length);
    // Requests arriving while a batch commits wait for the next batch: that is the group commit.
    // Never inside a call's unit of work: a batch holds other calls' events, which must not depend
    // on (or wait for) that call's commit.
    this.#flushing ??= outsideUnitOfWork(this.#startFlushLoop);
  }

  readonly #startFlushLoop = (): Promise<void> => this.#flushLoop();

  async #flushLoop(): Promise<void> {
    try {
      // Let the requests of this turn of the event loop join the first batch.
      await new Promise<void>((r) => setImmediate(r));
      while (this.#queue.length > 0) {
        // Workers taking turns at the chain (cluster-audit.ts): the batch is taken once the turn is had,
        // so the calls that arrived while this worker waited for it join this batch, not the next.
        const turn = await this.#turn();
        const batch = this.#queue.splice(0, MAX_BATCH);
        this.#deps.metrics?.queueDepth(this.#queue.length);
        const started = performance.now();
        const measured = () => this.#deps.metrics?.batchCommitted(batch.length, (performance.now() - started) / 1000);
        // Not awaited: the next batch may commit while this one waits for its fsync (SQLite) or round
        // trip (PostgreSQL). Commits still happen one at a time and in order (storage serialises them;
        // the chain head lock orders them across nodes), and each batch resolves when it is durable.
        const written = this.#write(batch, turn).then(
          () => {
            measured();
            for (const item of batch) item.done.resolve();
            this.#countUnsigned(batch.reduce((n, i) => n + (i.kind === 'event' ? 1 : 0), 0));
          },
          (err: unknown) => {
            measured();
            this.#deps.logger.error({ err, batch: batch.length }, 'audit write failed: failing the calls of this batch');
            for (const item of batch) item.done.reject(err);
          },
        );
        this.#inFlight.add(written);
        void written.finally(() => this.#inFlight.delete(written));
        if (this.#inFlight.size >= MAX_BATCHES_IN_FLIGHT[this.#deps.storage.kind]) await Promise.race(this.#inFlight);
        // The requests that arrive meanwhile form the next batch.
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  /** This process's turn at the chain, where workers take turns and the store checks heads; else none. */
  async #turn(): Promise<AuditTurn | undefined> {
    const turns = this.#deps.turns;
    if (!turns) return undefined;
    // Undecided because the store failed: no turn; the batch's own write meets the failure and fails its calls.
    const headChecked = await this.#headCheckedWriter().catch(() => undefined);
    return headChecked ? turns.acquire() : undefined;
  }

  /** One batch, whole or not at all: one statement where the store has appendBatch, else one transaction. */
  async #write(batch: readonly Item[], turn: AuditTurn | undefined): Promise<void> {
    try {
      await this.#writeBatch(batch, turn);
    } finally {
      // Ends the turn if the batch never reached the writer (which ends it with the batch's end): the head
      // is as it was. Only the first release of a turn counts.
      turn?.release(turn.head);
    }
  }

  async #writeBatch(batch: readonly Item[], turn: AuditTurn | undefined): Promise<void> {
    const intents = batch.flatMap((i) =>
      i.kind === 'intent' ? [{ intentId: i.intentId, createdAt: this.#deps.clock.now(), record: canonicalJson(intentRecord(i.facts, i.writer)) }] : [],
    );
    const items = batch.flatMap((i) => (i.kind === 'event' ? [i] : []));
    const events = items.map((e) => e.event);
    const cleared = items.flatMap((e) => (e.intentId ? [e.intentId] : []));
    const headChecked = await this.#headCheckedWriter();
    if (headChecked) return headChecked.write(intents, events, cleared, turn);
    // Encoded before the transaction begins: on SQLite it holds the write lock, which every other writer
    // of the file (the other workers) waits for, from BEGIN IMMEDIATE to COMMIT. The same strings are hashed
    // and stored as if encoded inside it.
    const records = encodeRecords(events);
    await this.#deps.storage.transaction(async (tx) => {
      if (intents.length > 0) await tx.audit.insertIntents(intents);
      await appendEvents(tx.audit, events, records);
      if (cleared.length > 0) await tx.audit.deleteIntents(cleared);
    });
  }

  /** Decided at the first batch: whether this store writes a batch in one statement (head-checked-writer.ts). */
  #headChecked: Promise<HeadCheckedWriter | undefined> | undefined;

  #headCheckedWriter(): Promise<HeadCheckedWriter | undefined> {
    const { storage } = this.#deps;
    this.#headChecked ??= supportsHeadCheckedBatches(storage).then((yes) => (yes ? new HeadCheckedWriter(storage) : undefined));
    const decided = this.#headChecked;
    // A failed decision is not kept: the next batch asks again.
    decided.catch(() => {
      if (this.#headChecked === decided) this.#headChecked = undefined;
    });
    return decided;
  }

  /** This node's chain writes that did not go through the group commit (atomically, settle, recovery). */
  #committedOutsideBatches(rows: readonly AuditEventRow[]): void {
    if (rows.length === 0) return;
    void this.#headChecked?.then((w) => w?.committed(lastOf(rows)), () => undefined);
  }

  /**
   * Turns into events whose outcome is unknown the intents whose call can no longer complete: those of
   * a writer that is gone (Storage.writerAlive: a crashed node or worker, seen at once), and any older
   * than `olderThanMs` (intents of an earlier version, which name no writer, or a call stuck that long).
   * Returns how many.
   */
  async recoverIntents(olderThanMs: number): Promise<number> {
    const { storage, clock } = this.#deps;
    const cutoff = clock.now() - olderThanMs;
    // Decided outside the transaction (liveness asks the store or the OS); most passes find nothing to do.
    const pending = await storage.read((r) => r.audit.listIntents(Number.MAX_SAFE_INTEGER, 1000));
    if (pending.length === 0) return 0;
    const gone = new Set<string>();
    for (const writer of new Set(pending.flatMap((i) => writerOf(i.record) ?? []))) {
      if (!(await storage.writerAlive(writer))) gone.add(writer);
    }
    const recoverable = (i: { createdAt: number; record: string }) => i.createdAt < cutoff || gone.has(writerOf(i.record) ?? '');
    if (!pending.some(recoverable)) return 0;
    const rows = await storage.transaction(async (tx) => {
      // Under the chain lock, so nodes recovering at once do not record one intent twice.
      await tx.audit.lockHead();
      const stale = (await tx.audit.listIntents(Number.MAX_SAFE_INTEGER, 1000)).filter(recoverable);
      if (stale.length === 0) return [];
      const events = stale.map((s) => outcomeUnknownEvent(JSON.parse(s.record) as Record<string, unknown>));
      const appended = await appendEvents(tx.audit, events);
      await tx.audit.deleteIntents(stale.map((s) => s.intentId));
      return appended;
    });
    this.#committedOutsideBatches(rows);
    this.#countUnsigned(rows.length);
    return rows.length;
  }

  // ---- Digests: the bound on the unsigned tail, and delivery out of the store ----
  #unsigned = 0;
  #digestTimer: NodeJS.Timeout | undefined;
  #digesting: Promise<unknown> = Promise.resolve();
  #digestQueued = false;

  /** Counts events just committed towards the next digest and schedules it (see AuditLogDeps.digests). */
  #countUnsigned(events: number): void {
    const d = this.#deps.digests;
    if (!d || !this.#deps.signer || events === 0) return;
    this.#unsigned += events;
    if (this.#unsigned >= d.maxEvents) {
      if (this.#digestTimer) clearTimeout(this.#digestTimer);
      this.#digestTimer = undefined;
      void this.digestNow();
    } else if (!this.#digestTimer) {
      this.#digestTimer = setTimeout(() => {
        this.#digestTimer = undefined;
        void this.digestNow();
      }, d.intervalMs);
      this.#digestTimer.unref();
    }
  }

  /** Writes (one at a time per node) the digests the chain head needs and delivers them; logs failures. */
  digestNow(): Promise<unknown> {
    this.#unsigned = 0;
    // One digest run waiting behind the current one is enough: it signs everything up to the head it sees.
    if (this.#digestQueued) return this.#digesting;
    this.#digestQueued = true;
    this.#digesting = this.#digesting.then(() => {
      this.#digestQueued = false;
      return this.writeDigest();
    }).catch((err: unknown) => {
      this.#deps.logger.error({ err }, 'audit digest failed; retried with the next events or housekeeping pass');
    });
    return this.#digesting;
  }

  /** Stops the digest timer (the final digest is written by the caller: writeDigest after drain). */
  stopDigests(): void {
    if (this.#digestTimer) clearTimeout(this.#digestTimer);
    this.#digestTimer = undefined;
  }

  /**
   * Signs every event after the last digest (several digests of at most maxEvents events each when the
   * stretch is longer), then delivers them and any other node's digests not yet delivered. Returns the
   * seq of the last event signed, if any was. Refuses to sign events that do not extend the signed chain
   * (a gap or a broken link below the head): signing them would vouch for a tampered store.
   */
  async writeDigest(): Promise<number | undefined> {
    const { storage, clock, signer } = this.#deps;
    if (!signer) return undefined;
    const perDigest = Math.min(this.#deps.digests?.maxEvents ?? MAX_EVENTS_PER_DIGEST, MAX_EVENTS_PER_DIGEST);
    let signedThrough: number | undefined;
    // Signs up to the head found by the first pass, no further: under steady load new events land while
    // each digest is delivered, and chasing them made one digest per batch (8 a second, each a signature,
    // a file fsync and a turn of the chain lock). Events after it start the next interval (#countUnsigned).
    let target: number | undefined;
    for (;;) {
      const written = await storage.transaction(async (tx) => {
        const head = await tx.audit.lockHead();
        const last = await tx.audit.lastDigest();
        const from = last?.lastEventSeq ?? 0;
        target ??= head?.seq;
        if (!head || target === undefined || target <= from) return undefined;
        const rows = await tx.audit.chainAfter(from, Math.min(perDigest, target - from));
        let prev = last?.lastHash ?? '';
        rows.forEach((r, i) => {
          // Links only: a row edited in place keeps a hash that no longer matches its record, which verify names.
          if (r.seq !== from + 1 + i || r.prevHash !== prev) {
            throw new Error(`audit chain does not extend the last digest at event seq ${r.seq}: not signing it (run trent audit verify)`);
          }
          prev = r.hash;
        });
        if (rows.length === 0) return undefined;
        return insertDigest(tx.audit, signer, { firstEventSeq: from + 1, hashes: rows.map((r) => r.hash) }, last, clock.now());
      });
      if (!written) break;
      signedThrough = written.lastEventSeq;
      await this.#deps.digests?.delivery?.deliver([written]);
      if (target !== undefined && signedThrough >= target) break;
    }
    await this.deliverPending();
    return signedThrough;
  }

  /** Delivers the store's digests this node has not delivered yet (other nodes' included). */
  async deliverPending(): Promise<void> {
    const delivery = this.#deps.digests?.delivery;
    if (!delivery) return;
    for (;;) {
      const from = delivery.deliveredThrough;
      const pending = await this.#deps.storage.read((r) => r.audit.digestsAfter(from, 100));
      if (pending.length === 0) return;
      await delivery.deliver(pending);
      if (delivery.deliveredThrough === from) return; // failed; logged, retried next pass
    }
  }
}

/** Signs and stores the digest of events firstEventSeq… (their hashes, in order) after `last`. */
export async function insertDigest(
  audit: AuditRepo,
  signer: DigestSigner,
  covered: { firstEventSeq: number; hashes: readonly string[] },
  last: { digestSeq: number; signature: string } | undefined,
  now: number,
): Promise<AuditDigestRow> {
  const digestSeq = (last?.digestSeq ?? 0) + 1;
  const record = digestStatement({ digestSeq, now, firstEventSeq: covered.firstEventSeq, hashes: covered.hashes, prevSignature: last?.signature, fingerprint: signer.fingerprint });
  const row: AuditDigestRow = {
    digestSeq, createdAt: now, lastEventSeq: covered.firstEventSeq + covered.hashes.length - 1, lastHash: covered.hashes[covered.hashes.length - 1]!,
    record, signature: await signer.sign(record),
  };
  await audit.insertDigest(row);
  return row;
}

function intentRecord(f: IntentFacts, writer: string): Record<string, unknown> {
  const e = f.event;
  return { requestId: f.requestId, eventTime: f.eventTime, writer, event: { ...e, resources: [...e.resources] } };
}

function writerOf(record: string): string | undefined {
  try {
    const w = (JSON.parse(record) as { writer?: unknown }).writer;
    return typeof w === 'string' ? w : undefined;
  } catch {
    return undefined;
  }
}

function outcomeUnknownEvent(intent: Record<string, unknown>): BuiltEvent {
  const e = intent.event as BuiltEvent;
  const message = 'Trent stopped before recording the outcome of this call; its effect may or may not have been committed.';
  return {
    ...e,
    errorCode: OUTCOME_UNKNOWN,
    record: { ...e.record, errorCode: OUTCOME_UNKNOWN, errorMessage: message, responseElements: null },
  };
}
