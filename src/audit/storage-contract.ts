/**
 * The audit repository's contract, run by each adapter's test file (kept in audit/: it drives the real
 * AuditLog, and storage/ may not import audit/, docs/layers.md). `open` returns a fresh, migrated,
 * empty store and a way to open a second handle on the same database (another node).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { AuditLog, appendEvents } from './audit-log.ts';
import { verifyChain } from './chain.ts';
import { buildEvent, type BuiltEvent } from './event.ts';
import { systemClock } from '../clock.ts';
import { ecGenerateKeyPair, ecPrivateKey, ecdsaSign } from '../crypto/ecc.ts';
import { sha256 } from '../crypto/primitives.ts';
import type { AuditDigestRow } from '../storage/audit-repo.ts';
import type { DigestSigner } from './digest-key.ts';
import type { Storage } from '../storage/storage.ts';

const ACCOUNT = '111122223333';
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/k1`;

export interface AuditContractStores {
  store: Storage;
  peer(): Promise<Storage>;
  /** The writer id of a writer of this store that has gone (a closed node, an exited process). */
  goneWriter(): Promise<string>;
}

let n = 0;
function event(extra: { eventName?: string; region?: string; keyId?: string; error?: boolean; time?: number } = {}): BuiltEvent {
  const i = n++;
  return buildEvent({
    requestId: `req-${i}`, eventId: `ev-${i}-${Math.random().toString(36).slice(2)}`, eventTime: extra.time ?? 1_000_000 + i,
    eventSource: 'kms.amazonaws.com', eventName: extra.eventName ?? 'Encrypt', readOnly: true,
    defaultAccountId: ACCOUNT, defaultRegion: extra.region ?? 'us-east-1',
    input: { KeyId: extra.keyId ?? 'k1' },
    ...(extra.error ? { error: { code: 'NotFoundException', message: 'x' } } : {}),
  });
}

const quiet = pino({ level: 'silent' });

export function runAuditContract(adapter: string, open: () => Promise<AuditContractStores>): void {
  const withStores = (name: string, body: (s: AuditContractStores, extra: Storage[]) => Promise<void>) =>
    test(`${adapter} audit contract: ${name}`, async () => {
      const s = await open();
      const extra: Storage[] = [];
      try {
        await body(s, extra);
      } finally {
        for (const e of extra) await e.close();
        await s.store.close();
      }
    });

  withStores('appended events come back in seq order, byte for byte, and form a verifiable chain', async ({ store }) => {
    const events = [event(), event({ eventName: 'Decrypt' }), event({ keyId: 'alias/a' })];
    const written = await store.transaction((tx) => appendEvents(tx.audit, events));
    assert.deepEqual(written.map((r) => r.seq), [1, 2, 3]);
    const rows = await store.read((r) => r.audit.scan(0, 10));
    assert.deepEqual(rows, written);
    assert.equal(verifyChain(rows, [], undefined).ok, true);
    assert.deepEqual((await store.read((r) => r.audit.scan(2, 10))).map((r) => r.seq), [3]);
  });

  withStores('queries filter by each lookup attribute, by time and scope, newest first', async ({ store }) => {
    await store.transaction((tx) =>
      appendEvents(tx.audit, [
        event({ time: 100 }), event({ eventName: 'Decrypt', time: 200 }), event({ region: 'eu-west-1', time: 300 }),
        event({ keyId: 'k10', time: 400, error: true }), event({ time: 500 }),
      ]),
    );
    const q = (extra: object) => store.read((r) => r.audit.query({ accountId: ACCOUNT, region: 'us-east-1', limit: 10, ...extra }));
    assert.deepEqual((await q({})).map((e) => e.eventTime), [500, 400, 200, 100]);
    assert.deepEqual((await q({ eventName: 'Decrypt' })).map((e) => e.eventTime), [200]);
    assert.deepEqual((await q({ startTime: 200, endTime: 400 })).map((e) => e.eventTime), [400, 200]);
    // A resource name matches whole ARNs only: k1 is not a prefix match for k10.
    assert.deepEqual((await q({ resourceName: KEY_ARN })).map((e) => e.eventTime), [500, 200, 100]);
    assert.deepEqual((await q({ resourceName: KEY_ARN, succeededOnly: true, eventNames: ['Decrypt'] })).map((e) => e.eventTime), [200]);
    assert.equal((await q({ resourceType: 'AWS::KMS::Key' })).length, 4);
    assert.equal((await q({ readOnly: false })).length, 0);
    const all = await q({});
    assert.deepEqual((await q({ eventId: all[1]!.eventId })).map((e) => e.eventTime), [400]);
    assert.deepEqual((await q({ beforeSeq: all[1]!.seq, limit: 1 })).map((e) => e.eventTime), [200]);
    assert.equal((await q({ accessKeyId: 'AKIANOBODY' })).length, 0);
  });

  withStores('intents are stored, listed by age and deleted', async ({ store }) => {
    await store.transaction((tx) => tx.audit.insertIntents([
      { intentId: 'a', createdAt: 10, record: '{"a":1}' }, { intentId: 'b', createdAt: 20, record: '{}' },
    ]));
    assert.deepEqual((await store.read((r) => r.audit.listIntents(15, 10))).map((i) => i.intentId), ['a']);
    await store.transaction((tx) => tx.audit.deleteIntents(['a']));
    assert.deepEqual((await store.read((r) => r.audit.listIntents(100, 10))).map((i) => i.intentId), ['b']);
  });

  withStores('digests are kept in order and pruning removes only the events through a seq', async ({ store }) => {
    await store.transaction((tx) => appendEvents(tx.audit, [event(), event(), event()]));
    await store.transaction((tx) => tx.audit.insertDigest({ digestSeq: 1, createdAt: 1, lastEventSeq: 2, lastHash: 'h', record: '{}', signature: 's' }));
    assert.equal((await store.read((r) => r.audit.lastDigest()))?.lastEventSeq, 2);
    assert.equal(await store.transaction((tx) => tx.audit.pruneThrough(2)), 2);
    assert.deepEqual((await store.read((r) => r.audit.scan(0, 10))).map((e) => e.seq), [3]);
    const [third] = await store.read((r) => r.audit.scan(2, 1));
    assert.deepEqual(await store.read((r) => r.audit.chainAfter(2, 10)), [{ seq: 3, prevHash: third!.prevHash, hash: third!.hash }]);
    assert.equal((await store.read((r) => r.audit.listDigests())).length, 1);
    await store.transaction((tx) => tx.audit.insertDigest({ digestSeq: 2, createdAt: 2, lastEventSeq: 3, lastHash: 'h3', record: '{}', signature: 's' }));
    assert.deepEqual((await store.read((r) => r.audit.digestsAfter(1, 10))).map((d) => d.digestSeq), [2]);
    assert.deepEqual((await store.read((r) => r.audit.digestsAfter(0, 1))).map((d) => d.digestSeq), [1]);
  });

  withStores('group commit: 200 concurrent records from two nodes form one gapless chain', async ({ store, peer }, extra) => {
    const other = await peer();
    extra.push(other);
    const logs = [new AuditLog({ storage: store, clock: systemClock, logger: quiet }), new AuditLog({ storage: other, clock: systemClock, logger: quiet })];
    const transactions = { count: 0 };
    const counting = (s: Storage): Storage => ({ ...s, kind: s.kind, migrate: () => s.migrate(), read: (f) => s.read(f), close: () => s.close(),
      unitOfWork: (b, f) => s.unitOfWork(b, f), writerId: () => s.writerId(), writerAlive: (id) => s.writerAlive(id),
      transaction: (f) => { transactions.count++; return s.transaction(f); } });
    const counted = new AuditLog({ storage: counting(store), clock: systemClock, logger: quiet });
    await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 4 === 3 ? counted : logs[i % 2]!).record(event())));
    assert.ok(transactions.count < 50, `50 events were written in ${transactions.count} transactions`);
    const rows = await store.read((r) => r.audit.scan(0, 1000));
    assert.equal(rows.length, 200);
    assert.deepEqual(rows.map((r) => r.seq), rows.map((_, i) => i + 1));
    assert.equal(verifyChain(rows, [], undefined).ok, true);
  });

  withStores('group commit: two nodes writing in turn each find the head the other moved; every event is written once, in one chain', async ({ store, peer }, extra) => {
    const other = await peer();
    extra.push(other);
    const [a, b] = [new AuditLog({ storage: store, clock: systemClock, logger: quiet }), new AuditLog({ storage: other, clock: systemClock, logger: quiet })];
    const written: string[] = [];
    const record = async (log: AuditLog) => {
      const e = event();
      await log.record(e);
      written.push(e.eventId);
    };
    // Each batch after the first of each node was chained onto the head its node left (on PostgreSQL),
    // which the other node has moved since.
    for (let i = 0; i < 6; i++) await record(i % 2 === 0 ? a : b);
    await Promise.all([record(a), record(a)]);
    await record(b);
    await record(b);
    await record(a);
    const rows = await store.read((r) => r.audit.scan(0, 100));
    assert.deepEqual(rows.map((r) => r.seq), rows.map((_, i) => i + 1));
    assert.deepEqual(new Set(rows.map((r) => r.eventId)), new Set(written));
    assert.equal(rows.length, written.length);
    assert.equal(verifyChain(rows, [], undefined).ok, true);
  });

  withStores('an intent is cleared by its event, and a stale one becomes an outcome-unknown event', async ({ store }) => {
    const log = new AuditLog({ storage: store, clock: systemClock, logger: quiet });
    const done = event();
    const id = await log.begin({ requestId: 'r1', eventId: done.eventId, eventTime: 1, event: done });
    await log.record(done, id);
    const lost = event({ eventName: 'ScheduleKeyDeletion' });
    await log.begin({ requestId: 'r2', eventId: lost.eventId, eventTime: 2, event: lost });
    assert.equal((await store.read((r) => r.audit.listIntents(Date.now() + 1, 10))).length, 1);
    assert.equal(await log.recoverIntents(-1), 1);
    const rows = await store.read((r) => r.audit.scan(0, 10));
    assert.deepEqual(rows.map((r) => [r.eventId, r.errorCode]), [[done.eventId, null], [lost.eventId, 'TrentAuditOutcomeUnknown']]);
    assert.equal((await store.read((r) => r.audit.listIntents(Date.now() + 1, 10))).length, 0);
  });

  withStores('an intent of a writer that has gone is recovered at once; a live writer\'s stays until stale', async ({ store, goneWriter }) => {
    const log = new AuditLog({ storage: store, clock: systemClock, logger: quiet });
    assert.equal(await store.writerAlive(await store.writerId()), true);
    const gone = await goneWriter();
    assert.equal(await store.writerAlive(gone), false);
    // An AuditLog of the gone writer: the same store, under the gone writer's name.
    const asGone: Storage = { ...store, kind: store.kind, migrate: () => store.migrate(), read: (f) => store.read(f), close: () => store.close(),
      transaction: (f) => store.transaction(f), unitOfWork: (b, f) => store.unitOfWork(b, f), writerId: async () => gone,
      writerAlive: (id) => store.writerAlive(id) };
    const orphan = event({ eventName: 'CreateAlias' });
    await new AuditLog({ storage: asGone, clock: systemClock, logger: quiet }).begin({ requestId: 'orphan', eventId: orphan.eventId, eventTime: 1, event: orphan });
    const live = event({ eventName: 'CreateKey' });
    await log.begin({ requestId: 'live', eventId: live.eventId, eventTime: 2, event: live });
    assert.equal(await log.recoverIntents(5 * 60_000), 1);
    const rows = await store.read((r) => r.audit.scan(0, 10));
    assert.deepEqual(rows.map((r) => [r.eventId, r.errorCode]), [[orphan.eventId, 'TrentAuditOutcomeUnknown']]);
    const left = await store.read((r) => r.audit.listIntents(Number.MAX_SAFE_INTEGER, 10));
    assert.equal(left.length, 1);
    assert.equal((JSON.parse(left[0]!.record) as { requestId: string }).requestId, 'live');
    assert.equal(await log.recoverIntents(5 * 60_000), 0);
  });

  withStores('a digest run signs up to the head it found and stops, while events keep landing during delivery', async ({ store }) => {
    const kp = ecGenerateKeyPair('P-256');
    const key = ecPrivateKey(kp.privateKeyPkcs8, 'P-256')!;
    const signer: DigestSigner = {
      publicKeySpki: kp.publicKeySpki,
      fingerprint: sha256(kp.publicKeySpki).toString('hex'),
      sign: (st) => ecdsaSign(key, 'P-256', 'sha256', false, Buffer.from(st)).toString('base64'),
    };
    let deliveries = 0;
    let deliveredThrough = 0;
    // Steady load: every delivery sees three more events committed meanwhile (capped, so a run that
    // chased the head would end, with one digest per delivery).
    const delivery = {
      get deliveredThrough() { return deliveredThrough; },
      async deliver(digests: readonly AuditDigestRow[]) {
        deliveredThrough = Math.max(deliveredThrough, ...digests.map((d) => d.digestSeq));
        if (++deliveries <= 20) await Promise.all([log.record(event()), log.record(event()), log.record(event())]);
      },
    };
    const log = new AuditLog({ storage: store, clock: systemClock, logger: quiet, signer, digests: { intervalMs: 3_600_000, maxEvents: 1000, delivery } });
    await Promise.all(Array.from({ length: 5 }, () => log.record(event())));
    const head = (await store.read((r) => r.audit.scan(0, 100))).at(-1)!.seq;
    assert.equal(await log.writeDigest(), head);
    const digests = await store.read((r) => r.audit.listDigests());
    assert.deepEqual(digests.map((d) => d.lastEventSeq), [head], 'one digest, of the events there when the run began');
    // The events that landed meanwhile are left for the next run, which signs them.
    const now = (await store.read((r) => r.audit.scan(0, 100))).at(-1)!.seq;
    assert.ok(now > head);
    assert.equal(await log.writeDigest(), now);
    log.stopDigests();
  });
}
