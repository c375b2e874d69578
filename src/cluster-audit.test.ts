/**
 * The workers' audit turns (src/cluster-audit.ts). The primary's side, with stand-in workers: one turn
 * at a time, first asked first served, each holder handed the head the previous one left; a holder that
 * dies ends its turn and the head is then unknown. The worker's side, with a stand-in channel: a worker
 * that gets no turn in time, or whose primary is gone, goes on without one (the store checks its head). (Two real nodes of two workers each writing one chain:
 * test/multinode/audit-workers.test.ts.)
 */
import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { test } from 'node:test';
import { EventEmitter } from 'node:events';
import { createPrimaryAuditTurns, workerAuditTurns, type TurnChannel } from './cluster-audit.ts';

function fakeWorker() {
  const sent: unknown[] = [];
  let connected = true;
  const worker = { isConnected: () => connected, send: (m: unknown) => sent.push(m) } as unknown as Worker;
  return { worker, sent, disconnect: () => (connected = false) };
}

test('cluster audit turns: one at a time, in the order asked, each handed the head the previous holder left', () => {
  const turns = createPrimaryAuditTurns();
  const [a, b] = [fakeWorker(), fakeWorker()];
  assert.equal(turns.onMessage(a.worker, { trent: 'audit-turn-ask', id: 0 }), true);
  assert.deepEqual(a.sent, [{ trent: 'audit-turn', id: 0 }]);
  turns.onMessage(b.worker, { trent: 'audit-turn-ask', id: 0 });
  turns.onMessage(a.worker, { trent: 'audit-turn-ask', id: 1 });
  assert.deepEqual(b.sent, [], 'granted while another worker held the turn');

  // A release that is not the holder's (a stale id) changes nothing.
  turns.onMessage(a.worker, { trent: 'audit-turn-release', id: 7, head: { seq: 99, hash: 'x' } });
  assert.deepEqual(b.sent, []);
  turns.onMessage(a.worker, { trent: 'audit-turn-release', id: 0, head: { seq: 3, hash: 'h3' } });
  assert.deepEqual(b.sent, [{ trent: 'audit-turn', id: 0, head: { seq: 3, hash: 'h3' } }]);
  turns.onMessage(b.worker, { trent: 'audit-turn-release', id: 0, head: { seq: 5, hash: 'h5' } });
  assert.deepEqual(a.sent.at(-1), { trent: 'audit-turn', id: 1, head: { seq: 5, hash: 'h5' } });

  // A write that failed releases without a head: the next holder is handed none.
  turns.onMessage(b.worker, { trent: 'audit-turn-ask', id: 1 });
  turns.onMessage(a.worker, { trent: 'audit-turn-release', id: 1 });
  assert.deepEqual(b.sent.at(-1), { trent: 'audit-turn', id: 1 });
  assert.equal(turns.onMessage(b.worker, { trent: 'metrics', id: 1 }), false, 'another kind of message is not the turns\'');
});

test('cluster audit turns: a holder that exits ends its turn with the head unknown; a worker gone is skipped', () => {
  const turns = createPrimaryAuditTurns();
  const [a, b, c] = [fakeWorker(), fakeWorker(), fakeWorker()];
  turns.onMessage(a.worker, { trent: 'audit-turn-ask', id: 0 });
  turns.onMessage(a.worker, { trent: 'audit-turn-release', id: 0, head: { seq: 1, hash: 'h1' } });
  turns.onMessage(a.worker, { trent: 'audit-turn-ask', id: 1 });
  turns.onMessage(b.worker, { trent: 'audit-turn-ask', id: 0 });
  turns.onMessage(c.worker, { trent: 'audit-turn-ask', id: 0 });
  b.disconnect();
  // A dies holding the turn: its write may or may not have committed, so no head is handed on.
  turns.onExit(a.worker);
  assert.deepEqual(b.sent, []);
  assert.deepEqual(c.sent, [{ trent: 'audit-turn', id: 0 }]);
});

function fakeChannel() {
  const emitter = new EventEmitter();
  const sent: unknown[] = [];
  const channel = Object.assign(emitter, {
    connected: true,
    send: (m: unknown) => (sent.push(m), true),
  }) as EventEmitter & TurnChannel & { connected: boolean };
  return { channel, sent, grant: (m: unknown) => emitter.emit('message', m) };
}

test('cluster audit turns, worker: the turn comes with the head handed over and ends, once, with where the write left the chain', async () => {
  const { channel, sent, grant } = fakeChannel();
  const turns = workerAuditTurns({ channel, waitMs: 60_000 });
  const pending = turns.acquire();
  assert.deepEqual(sent, [{ trent: 'audit-turn-ask', id: 0 }]);
  grant({ trent: 'audit-turn', id: 0, head: { seq: 4, hash: 'h4' } });
  const turn = await pending;
  assert.deepEqual(turn.head, { seq: 4, hash: 'h4' });
  turn.release({ seq: 9, hash: 'h9' });
  turn.release(undefined);
  assert.deepEqual(sent.slice(1), [{ trent: 'audit-turn-release', id: 0, head: { seq: 9, hash: 'h9' } }]);
});

test('cluster audit turns, worker: no answer in time, no turn (the write goes on without one); the turn granted late is handed straight back with its head', async () => {
  const { channel, sent, grant } = fakeChannel();
  const turns = workerAuditTurns({ channel, waitMs: 20 });
  const turn = await turns.acquire();
  assert.equal(turn.head, undefined);
  turn.release({ seq: 1, hash: 'h1' });
  assert.deepEqual(sent, [{ trent: 'audit-turn-ask', id: 0 }], 'a turn never granted is not released');
  grant({ trent: 'audit-turn', id: 0, head: { seq: 4, hash: 'h4' } });
  assert.deepEqual(sent.at(-1), { trent: 'audit-turn-release', id: 0, head: { seq: 4, hash: 'h4' } });
});

test('cluster audit turns, worker: with the primary gone, waiting turns end at once and no turn is asked for', async () => {
  const { channel, sent } = fakeChannel();
  const turns = workerAuditTurns({ channel, waitMs: 60_000 });
  const pending = turns.acquire();
  channel.connected = false;
  channel.emit('disconnect');
  assert.equal((await pending).head, undefined);
  assert.equal((await turns.acquire()).head, undefined);
  assert.deepEqual(sent, [{ trent: 'audit-turn-ask', id: 0 }]);
});
