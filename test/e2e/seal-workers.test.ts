/**
 * Quorum custody with TRENT_WORKERS=2 (src/cluster-seal.ts, docs/seal.md "Workers"): the real process
 * (src/main.ts, a primary and two workers on one store: SQLite, or a schema of its own in the PostgreSQL
 * pass). Which worker answers is told by the `worker` label of GET /metrics (test/e2e/workers-support.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { startNode, type TrentNode } from '../multinode/cluster.ts';
import { e2eStorageUrl, rawCall } from './harness.ts';
import { workersProbe } from './workers-support.ts';

let dir: string;
let node: TrentNode;
let probe: ReturnType<typeof workersProbe>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trent-seal-workers-'));
  node = await startNode(1, await e2eStorageUrl(dir), '', { TRENT_ROOT_KEY: undefined, TRENT_SEAL: 'shamir', TRENT_WORKERS: '2' }, { startTimeoutMs: 60_000 });
  probe = workersProbe(node);
  await probe.listening(2);
});
after(async () => {
  probe?.close();
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('Shamir-sealed workers serve requests after one unseal and all stop (zeroed) after one seal', async () => {
  const two = await probe.pinned(() => true, 2);
  const [w1, a1] = [...two][0]!;
  const [w2, a2] = [...two][1]!;
  assert.notEqual(w1, w2);

  const init = await probe.call(a1, 'POST', '/v1/sys/init', { Shares: 3, Threshold: 2 });
  assert.equal(init.status, 200, JSON.stringify(init.json));
  const shares = init.json.Shares as string[];

  // Initialized and sealed on every worker: each refuses AWS calls.
  for (const a of [a1, a2]) assert.equal((await probe.call(a, 'GET', '/v1/sys/seal-status')).json.Initialized, true);
  await probe.assertSealedEverywhere(two);

  // One share on the first worker: both report the same partial quorum.
  const first = (await probe.call(a1, 'POST', '/v1/sys/unseal', { Share: shares[0] })).json;
  assert.equal(first.Progress, 1);
  const onOther = (await probe.call(a2, 'GET', '/v1/sys/seal-status')).json;
  assert.deepEqual([onOther.Sealed, onOther.Progress, onOther.Nonce], [true, 1, first.Nonce], 'the other worker sees the attempt');
  // A wrong nonce sent to the other worker is refused there, and the attempt is untouched.
  const stale = await probe.call(a2, 'POST', '/v1/sys/unseal', { Share: shares[1], Nonce: '0'.repeat(32) });
  assert.equal(stale.json.__type, 'InvalidNonceException');
  assert.equal((await probe.call(a1, 'GET', '/v1/sys/seal-status')).json.Progress, 1);

  // The second share, on the other worker, completes the quorum: every worker is unsealed when it answers.
  const second = (await probe.call(a2, 'POST', '/v1/sys/unseal', { Share: shares[1], Nonce: first.Nonce })).json;
  assert.deepEqual([second.Sealed, second.Progress], [false, 0], JSON.stringify(second));
  assert.equal((await probe.call(a1, 'GET', '/v1/sys/seal-status')).json.Sealed, false);

  // Encrypt on one worker, Decrypt on the other, both ways.
  const k1 = probe.kmsOn(a1);
  const k2 = probe.kmsOn(a2);
  const keyId = (await k1.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  const blob1 = (await k1.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('one') }))).CiphertextBlob!;
  const blob2 = (await k2.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('two') }))).CiphertextBlob!;
  assert.equal(Buffer.from((await k2.send(new DecryptCommand({ CiphertextBlob: blob1 }))).Plaintext!).toString(), 'one');
  assert.equal(Buffer.from((await k1.send(new DecryptCommand({ CiphertextBlob: blob2 }))).Plaintext!).toString(), 'two');

  // A worker killed while the deployment is unsealed is replaced by one that serves at once.
  const pids = probe.workerPids();
  assert.equal(pids.length, 2);
  process.kill(pids[0]!, 'SIGKILL');
  await probe.listening(3);
  const fresh = await probe.pinned((w) => w !== w1 && w !== w2, 1);
  const [w3, a3] = [...fresh][0]!;
  assert.equal((await probe.call(a3, 'GET', '/v1/sys/seal-status')).json.Sealed, false, `replacement worker ${w3} is unsealed`);
  const k3 = probe.kmsOn(a3);
  assert.equal(Buffer.from((await k3.send(new DecryptCommand({ CiphertextBlob: blob1 }))).Plaintext!).toString(), 'one');
  await k3.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('three') }));

  // One Seal, on whichever worker takes it, seals every worker.
  const sealed = await rawCall(node.url, 'TrentOperator.Seal', '{}', { service: 'trent' });
  assert.equal(sealed.status, 200, JSON.stringify(sealed.json));
  const live = await probe.pinned(() => true, 2);
  await probe.assertSealedEverywhere(live);

  // A worker replaced while the deployment is sealed starts sealed.
  process.kill(probe.workerPids()[0]!, 'SIGKILL');
  await probe.listening(4);
  const later = await probe.pinned((w) => !live.has(w) && w !== w1 && w !== w2 && w !== w3, 1);
  await probe.assertSealedEverywhere(later);

  // The same shares unseal every worker again (the primary forgot the old attempt and key at the seal).
  const again = (await probe.call([...later.values()][0]!, 'POST', '/v1/sys/unseal', { Share: shares[2] })).json;
  assert.equal(again.Progress, 1);
  const done = (await probe.call([...live.values()][0]!, 'POST', '/v1/sys/unseal', { Share: shares[0], Nonce: again.Nonce })).json;
  assert.equal(done.Sealed, false, JSON.stringify(done));
  const both = await probe.pinned(() => true, 2);
  for (const agent of both.values()) {
    assert.equal(Buffer.from((await probe.kmsOn(agent).send(new DecryptCommand({ CiphertextBlob: blob2 }))).Plaintext!).toString(), 'two');
  }

  // A rekey started on one worker and completed on the other; both report its progress meanwhile.
  const [r1, r2] = [...both.values()];
  const rekey = (await probe.call(r1!, 'POST', '/v1/sys/rekey/init', { Shares: 3, Threshold: 2, Share: shares[1] })).json;
  assert.equal(rekey.Progress, 1, JSON.stringify(rekey));
  const seen = (await probe.call(r2!, 'GET', '/v1/sys/seal-status')).json.Rekey as Record<string, unknown>;
  assert.deepEqual([seen.Nonce, seen.Progress, seen.Required], [rekey.Nonce, 1, 2]);
  const rekeyed = (await probe.call(r2!, 'POST', '/v1/sys/rekey/update', { Share: shares[2], Nonce: rekey.Nonce })).json;
  assert.equal(rekeyed.Complete, true, JSON.stringify(rekeyed));
  const newShares = rekeyed.Shares as string[];
  assert.equal((await probe.call(r1!, 'GET', '/v1/sys/seal-status')).json.Rekey, undefined);

  // Both workers hold the new unseal key: a root-key version added after the rekey (on whichever worker
  // takes the call) is loaded by the other when it meets material sealed under it.
  const rotated = await rawCall(node.url, 'TrentOperator.RotateRootKey', '{}', { service: 'trent' });
  assert.equal(rotated.status, 200, JSON.stringify(rotated.json));
  for (const [from, to] of [[r1!, r2!], [r2!, r1!]] as const) {
    const id = (await probe.kmsOn(from).send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const b = (await probe.kmsOn(from).send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('after rekey') }))).CiphertextBlob!;
    assert.equal(Buffer.from((await probe.kmsOn(to).send(new DecryptCommand({ CiphertextBlob: b }))).Plaintext!).toString(), 'after rekey');
  }

  // A worker replaced after the rekey is handed the new key and serves.
  process.kill(probe.workerPids()[0]!, 'SIGKILL');
  await probe.listening(5);
  const [w5, a5] = [...(await probe.pinned((w) => w === '5', 1))][0]!;
  assert.equal((await probe.call(a5, 'GET', '/v1/sys/seal-status')).json.Sealed, false, `worker ${w5} unsealed with the rekeyed key`);
  assert.equal(Buffer.from((await probe.kmsOn(a5).send(new DecryptCommand({ CiphertextBlob: blob1 }))).Plaintext!).toString(), 'one');

  // The new shares unseal after a seal; the old ones no longer do.
  assert.equal((await rawCall(node.url, 'TrentOperator.Seal', '{}', { service: 'trent' })).status, 200);
  const old = (await probe.call(a5, 'POST', '/v1/sys/unseal', { Share: shares[0] })).json;
  assert.equal(old.__type, 'InvalidShareException');
  const n1 = (await probe.call(a5, 'POST', '/v1/sys/unseal', { Share: newShares[0] })).json;
  const n2 = (await probe.call([...(await probe.pinned((w) => w !== '5', 1)).values()][0]!, 'POST', '/v1/sys/unseal', { Share: newShares[1], Nonce: n1.Nonce })).json;
  assert.equal(n2.Sealed, false, JSON.stringify(n2));
});

test('each worker runs V8 garbage collection on its own thread, in a 32 MB young generation (src/cluster.ts workerExecArgv)', () => {
  const pids = probe.workerPids();
  assert.equal(pids.length, 2);
  for (const pid of pids) {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(argv.includes('--single-threaded-gc') && argv.includes('--max-semi-space-size=32'), `worker ${pid}: ${argv.join(' ')}`);
  }
});
