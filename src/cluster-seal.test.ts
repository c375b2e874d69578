/**
 * The primary's seal messages (src/cluster-seal.ts) with stand-in workers: the answer to a share is sent
 * only after every worker has confirmed it took the new progress, so a status read on any worker after
 * that answer shows it (docs/seal.md "Workers"). The real processes: test/e2e/seal-workers.test.ts.
 */
import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { test } from 'node:test';
import { randomBytesBuffer } from './crypto/primitives.ts';
import { createPrimarySeal } from './cluster-seal.ts';

type Sent = { trent: string; id: number; attempts?: { unseal?: { progress: number } } };

function fakeWorker(id: number) {
  const sent: Sent[] = [];
  const worker = { id, isConnected: () => true, send: (m: Sent, cb?: () => void) => { sent.push(m); cb?.(); return true; } } as unknown as Worker;
  return { worker, sent };
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** The workers' seal managers ask to join at start; only then do they listen for the attempts. */
async function joinAll(primary: ReturnType<typeof createPrimarySeal>, ...workers: ReturnType<typeof fakeWorker>[]) {
  for (const w of workers) primary.onMessage(w.worker, { trent: 'seal', id: 0, op: 'join' });
  await settle();
  for (const w of workers) w.sent.length = 0;
}

test('cluster seal: a share is answered after every worker took the new progress, never before', async () => {
  const [a, b] = [fakeWorker(1), fakeWorker(2)];
  const primary = createPrimarySeal({ workers: () => [a.worker, b.worker], log: () => undefined });
  try {
    await joinAll(primary, a, b);
    assert.equal(primary.onMessage(a.worker, { trent: 'seal', id: 7, op: 'share', share: randomBytesBuffer(32), threshold: 2 }), true);
    await settle();
    const toA = a.sent.find((m) => m.trent === 'seal-attempt')!;
    const toB = b.sent.find((m) => m.trent === 'seal-attempt')!;
    assert.equal(toA.attempts?.unseal?.progress, 1);
    assert.equal(toB.attempts?.unseal?.progress, 1);
    assert.equal(a.sent.some((m) => m.trent === 'seal-reply'), false, 'no answer before the workers confirmed');

    primary.onMessage(a.worker, { trent: 'seal-answer', id: toA.id, ok: true });
    await settle();
    assert.equal(a.sent.some((m) => m.trent === 'seal-reply'), false, 'one worker still has not confirmed');

    primary.onMessage(b.worker, { trent: 'seal-answer', id: toB.id, ok: true });
    await settle();
    assert.deepEqual(a.sent.at(-1), { trent: 'seal-reply', id: 7, attempt: { progress: 1, nonce: (a.sent.at(-1) as { attempt?: { nonce: string } }).attempt?.nonce } });
  } finally {
    primary.shutdown();
  }
});

test('cluster seal: a worker that exits before confirming does not hold the answer up', async () => {
  const [a, b] = [fakeWorker(1), fakeWorker(2)];
  const primary = createPrimarySeal({ workers: () => [a.worker, b.worker], log: () => undefined });
  try {
    await joinAll(primary, a, b);
    primary.onMessage(a.worker, { trent: 'seal', id: 1, op: 'share', share: randomBytesBuffer(32), threshold: 2 });
    await settle();
    primary.onMessage(a.worker, { trent: 'seal-answer', id: a.sent.find((m) => m.trent === 'seal-attempt')!.id, ok: true });
    primary.onExit(b.worker);
    await settle();
    assert.equal(a.sent.at(-1)?.trent, 'seal-reply');
  } finally {
    primary.shutdown();
  }
});

test('cluster seal: a worker that has not joined yet (still starting) is not waited for; its join tells it the attempt', async () => {
  const [a, b] = [fakeWorker(1), fakeWorker(2)];
  const primary = createPrimarySeal({ workers: () => [a.worker, b.worker], log: () => undefined });
  try {
    await joinAll(primary, a);
    primary.onMessage(a.worker, { trent: 'seal', id: 3, op: 'share', share: randomBytesBuffer(32), threshold: 2 });
    await settle();
    assert.equal(b.sent.length, 0, 'nothing sent to the starting worker');
    primary.onMessage(a.worker, { trent: 'seal-answer', id: a.sent.find((m) => m.trent === 'seal-attempt')!.id, ok: true });
    await settle();
    assert.equal(a.sent.at(-1)?.trent, 'seal-reply');
    primary.onMessage(b.worker, { trent: 'seal', id: 0, op: 'join' });
    await settle();
    assert.equal((b.sent.at(-1) as { attempt?: { progress: number } }).attempt?.progress, 1);
  } finally {
    primary.shutdown();
  }
});
