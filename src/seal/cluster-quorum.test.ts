/**
 * The primary's quorum of TRENT_WORKERS > 1 (cluster-quorum.ts) with a recording worker channel: what each
 * worker is handed, in which order, and that every buffer carrying a share or the key is zero afterwards.
 * The IPC itself is exercised end to end by test/e2e/seal-workers.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { splitSecret } from '../crypto/shamir.ts';
import { createClusterQuorum, type WorkerAnswer, type WorkerChannel, type WorkerRequest } from './cluster-quorum.ts';

const allZero = (b: Uint8Array) => b.every((x) => x === 0);

function recordingWorkers(ids: number[], answer: (id: number, r: WorkerRequest) => WorkerAnswer = () => ({ ok: true })) {
  const asked: { id: number; op: string; key?: Uint8Array; keyAtAsk?: Buffer }[] = [];
  const announced: unknown[] = [];
  const channel: WorkerChannel = {
    ids: () => ids,
    ask: async (id, r) => {
      // The channel is handed the worker's copy; what it holds once the answer is back is what stays in memory.
      asked.push({ id, op: r.op, ...('key' in r ? { key: r.key, keyAtAsk: Buffer.from(r.key) } : {}) });
      return answer(id, r);
    },
    announce: async (a) => {
      announced.push(a);
    },
  };
  return { channel, asked, announced };
}

async function sharesOf(key: Buffer, n: number, m: number): Promise<Buffer[]> {
  return splitSecret(SecretBytes.copyOf(key), n, m);
}

test('the quorum reached on any worker hands the key to the submitter first, then to every other worker, and each copy is zero once answered', async () => {
  const key = randomBytesBuffer(32);
  const shares = await sharesOf(key, 3, 2);
  const w = recordingWorkers([1, 2, 3]);
  const q = createClusterQuorum(w.channel, () => undefined);

  const s0 = shares[0]!;
  const a = await q.submitShare(1, s0, undefined, 2);
  assert.equal(a?.progress, 1);
  assert.deepEqual(w.announced.at(-1), { unseal: a }, 'every worker is told the progress');
  assert.deepEqual(q.join().attempt, a, 'a worker starting now sees the attempt');

  const s1 = shares[1]!;
  assert.equal(await q.submitShare(2, s1, a!.nonce, 2), undefined);
  assert.deepEqual(w.asked.map((x) => [x.id, x.op]), [[2, 'unseal'], [1, 'unseal'], [3, 'unseal']], 'the submitter verifies the key first');
  for (const x of w.asked) {
    assert.ok(x.keyAtAsk!.equals(key), 'each worker was handed the reconstructed key');
    assert.ok(allZero(x.key!), 'its copy is zeroed once the worker answered');
  }
  assert.ok(allZero(s0) && allZero(s1), 'the shares are zeroed once combined');
  assert.deepEqual(w.announced.at(-1), {}, 'the attempt is over for every worker');
  assert.deepEqual(q.holds(), { key: true, shares: 0 });

  // A worker that starts now gets its own copy of the key.
  const joined = q.join();
  assert.ok(joined.key?.equals(key));
  assert.equal(joined.sealed, false);

  // A seal on worker 3 seals 1 and 2, and the primary's key is zeroed: a worker starting now stays sealed.
  await q.sealed(3);
  assert.deepEqual(w.asked.slice(3).map((x) => [x.id, x.op]), [[1, 'seal'], [2, 'seal']]);
  assert.deepEqual(q.holds(), { key: false, shares: 0 });
  assert.deepEqual(q.join(), { sealed: true });
});

test('a share is answered only once every worker has taken the new progress', async () => {
  const shares = await sharesOf(randomBytesBuffer(32), 3, 2);
  let taken!: () => void;
  const channel: WorkerChannel = {
    ids: () => [1, 2],
    ask: async () => ({ ok: true }),
    announce: () => new Promise<void>((resolve) => (taken = resolve)),
  };
  const q = createClusterQuorum(channel, () => undefined);
  let answered = false;
  const submitted = q.submitShare(1, shares[0]!, undefined, 2).then((a) => {
    answered = true;
    return a;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(answered, false, 'the share waits for the workers');
  taken();
  assert.equal((await submitted)?.progress, 1);
});

test('a key that does not open the keyring on the submitter is zeroed, goes to no other worker, and fails the attempt', async () => {
  const shares = await sharesOf(randomBytesBuffer(32), 2, 2);
  const w = recordingWorkers([1, 2], () => ({ ok: false, keyring: true, message: 'the key does not open the keyring' }));
  const q = createClusterQuorum(w.channel, () => undefined);
  const a = await q.submitShare(1, shares[0]!, undefined, 2);
  await assert.rejects(q.submitShare(1, shares[1]!, a!.nonce, 2), (err: unknown) => (err as { code?: string }).code === 'UnsealFailedException');
  assert.deepEqual(w.asked.map((x) => [x.id, x.op]), [[1, 'unseal']]);
  assert.ok(allZero(w.asked[0]!.key!));
  assert.deepEqual(q.holds(), { key: false, shares: 0 });
  assert.equal(q.join().attempt, undefined, 'the attempt was reset');
});

test('a share with another attempt\'s nonce, or while unsealed, is refused and zeroed without touching the attempt', async () => {
  const key = randomBytesBuffer(32);
  const shares = await sharesOf(key, 3, 3);
  const w = recordingWorkers([1, 2]);
  const q = createClusterQuorum(w.channel, () => undefined);
  const a = await q.submitShare(1, shares[0]!, undefined, 3);
  const stray = Buffer.from(shares[1]!);
  await assert.rejects(q.submitShare(2, stray, 'f'.repeat(32), 3), (err: unknown) => (err as { code?: string }).code === 'InvalidNonceException');
  assert.ok(allZero(stray));
  assert.deepEqual(q.join().attempt, a);
  await q.reset();
  assert.deepEqual(q.holds(), { key: false, shares: 0 });
  assert.ok(allZero(shares[0]!), 'a reset zeroes the shares held');
});

test('a rekey reached on any worker hands the old key to that worker alone; its shares are zeroed; the new key goes to every other worker and stays with the primary', async () => {
  const oldKey = randomBytesBuffer(32);
  const unsealShares = await sharesOf(oldKey, 2, 2);
  const w = recordingWorkers([1, 2]);
  const q = createClusterQuorum(w.channel, () => undefined);
  const a = await q.submitShare(1, Buffer.from(unsealShares[0]!), undefined, 2);
  await q.submitShare(2, Buffer.from(unsealShares[1]!), a!.nonce, 2);
  const asked = w.asked.length;

  const rekeyShares = await sharesOf(oldKey, 2, 2);
  const started = await q.rekeyStart(rekeyShares[0]!, { shares: 3, threshold: 2 }, 2);
  assert.equal(started.progress, 1);
  assert.deepEqual(w.announced.at(-1), { rekey: { nonce: started.nonce, progress: 1, required: 2, shares: 3, threshold: 2, ageRecipients: 0 } });
  const done = await q.rekeySubmit(rekeyShares[1]!, started.nonce);
  assert.ok(done.complete);
  assert.ok(done.key.expose().equals(oldKey), 'the submitter gets the old unseal key to re-seal the keyring');
  assert.deepEqual(done.quorum, { shares: 3, threshold: 2 });
  done.key.zeroize();
  assert.equal(w.asked.length, asked, 'no other worker was handed anything');
  assert.ok(rekeyShares.every(allZero), 'the rekey shares are zeroed once combined');
  assert.deepEqual(w.announced.at(-1), {});

  const newKey = randomBytesBuffer(32);
  await q.rekeyed(1, newKey);
  assert.deepEqual(w.asked.slice(asked).map((x) => [x.id, x.op]), [[2, 'rekeyed']], 'every other worker takes the new key');
  assert.ok(w.asked[asked]!.keyAtAsk!.equals(newKey));
  assert.ok(allZero(w.asked[asked]!.key!), 'its copy is zeroed once it answered');
  assert.ok(q.join().key?.equals(newKey), 'a worker starting now gets the new key');
});

test('a worker that starts while the others are being handed the key (it is not among them) gets the key from its join', async () => {
  const key = randomBytesBuffer(32);
  const shares = await sharesOf(key, 2, 2);
  let joinedMeanwhile: ReturnType<ReturnType<typeof createClusterQuorum>['join']> | undefined;
  let q!: ReturnType<typeof createClusterQuorum>;
  const w = recordingWorkers([1, 2], (id, r) => {
    // Worker 3 starts while worker 2 opens the keyring.
    if (id === 2 && r.op === 'unseal') joinedMeanwhile = q.join();
    return { ok: true };
  });
  q = createClusterQuorum(w.channel, () => undefined);
  const a = await q.submitShare(1, shares[0]!, undefined, 2);
  await q.submitShare(1, shares[1]!, a!.nonce, 2);
  assert.ok(joinedMeanwhile?.key?.equals(key), 'the starting worker was handed the key');
  joinedMeanwhile!.key!.fill(0);
});

test('a worker that starts while the others take a rekeyed key gets the new key, not the old one', async () => {
  const oldKey = randomBytesBuffer(32);
  const shares = await sharesOf(oldKey, 2, 2);
  let joinedMeanwhile: Buffer | undefined;
  let q!: ReturnType<typeof createClusterQuorum>;
  const w = recordingWorkers([1, 2], (id, r) => {
    if (id === 2 && r.op === 'rekeyed') joinedMeanwhile = q.join().key;
    return { ok: true };
  });
  q = createClusterQuorum(w.channel, () => undefined);
  const a = await q.submitShare(1, shares[0]!, undefined, 2);
  await q.submitShare(1, shares[1]!, a!.nonce, 2);
  const newKey = randomBytesBuffer(32);
  await q.rekeyed(1, newKey);
  assert.ok(joinedMeanwhile?.equals(newKey), 'the starting worker was handed the new key');
  joinedMeanwhile!.fill(0);
});
