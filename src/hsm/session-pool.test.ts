import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionPool } from './session-pool.ts';

/** A factory of numbered sessions that records what was opened and closed. */
function factory() {
  let next = 1;
  const opened: number[] = [];
  const closed: number[] = [];
  return { opened, closed, open: () => { opened.push(next); return next++; }, close: (s: number) => void closed.push(s) };
}

test('sessions are opened lazily up to the bound, reused, and further callers wait their turn', async () => {
  const f = factory();
  const pool = new SessionPool(f, 2);
  let inFlight = 0;
  let peak = 0;
  const gate: Array<() => void> = [];
  const work = Array.from({ length: 5 }, () => pool.use(async (s) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise<void>((resolve) => gate.push(resolve));
    inFlight--;
    return s;
  }));
  while (gate.length < 2) await new Promise((r) => setImmediate(r));
  for (let done = 0; done < 5; done++) {
    while (gate.length === 0) await new Promise((r) => setImmediate(r));
    gate.shift()!();
  }
  const used = await Promise.all(work);
  assert.equal(peak, 2);
  assert.deepEqual(f.opened, [1, 2]);
  assert.deepEqual([...new Set(used)].sort(), [1, 2]);
});

test('a session whose operation failed is closed, or forgotten when the token dropped it', async () => {
  const f = factory();
  const pool = new SessionPool(f, 1);
  await assert.rejects(pool.use(() => { throw new Error('op failed'); }));
  assert.deepEqual(f.closed, [1]);
  await assert.rejects(pool.use(() => { throw new Error('gone'); }, () => 'forget'));
  assert.deepEqual(f.closed, [1], 'a forgotten session is not closed: its number may belong to someone else now');
  assert.equal(await pool.use((s) => s), 3);
  assert.equal(pool.openSessions, 1);
});

test('reset forgets every session without closing it; sessions handed back from before are dropped', async () => {
  const f = factory();
  const pool = new SessionPool(f, 2);
  let release!: () => void;
  const held = pool.use((s) => new Promise<number>((resolve) => { release = () => resolve(s); }));
  await new Promise((r) => setImmediate(r));
  assert.equal(await pool.use((s) => s), 2);
  const before = pool.generation;
  pool.reset();
  assert.equal(pool.generation, before + 1);
  release();
  assert.equal(await held, 1);
  assert.equal(await pool.use((s) => s), 3, 'a fresh session after reset');
  assert.deepEqual(f.closed, []);
  pool.close();
  assert.deepEqual(f.closed, [3]);
  await assert.rejects(pool.use((s) => s));
});
