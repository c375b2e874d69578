import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { MaterialCache } from '../kms/material-cache.ts';
import { barrierAad, BarrierOpenError, BarrierSealedError, BarrierUnknownVersionError, unsealFresh } from './barrier.ts';
import { Keyring, KeyringOpenError } from './keyring.ts';
import { KeyringBarrier } from './keyring-barrier.ts';

const unsealKey = () => SecretBytes.adopt(randomBytesBuffer(32));
const AAD = barrierAad('test', 'row', 1);

test('a sealed keyring opens only under its unseal key and generation, with every version intact', () => {
  const key = unsealKey();
  const ring = Keyring.fresh();
  ring.addVersion();
  ring.addVersion();
  const sealed = ring.seal(key, 7);
  const opened = Keyring.open(key, { keyring: sealed, generation: 7 });
  assert.deepEqual(opened.versions, [1, 2, 3]);
  assert.equal(opened.current, 3);
  for (const v of [1, 2, 3]) assert.ok(opened.get(v)!.equals(ring.get(v)!));
  assert.throws(() => Keyring.open(unsealKey(), { keyring: sealed, generation: 7 }), KeyringOpenError);
  assert.throws(() => Keyring.open(key, { keyring: sealed, generation: 6 }), KeyringOpenError); // no replay as another generation
  const tampered = Buffer.from(sealed, 'base64');
  tampered[20]! ^= 1;
  assert.throws(() => Keyring.open(key, { keyring: tampered.toString('base64'), generation: 7 }), KeyringOpenError);
});

test('the barrier seals under the newest version and opens every older one', () => {
  const ring = Keyring.fresh();
  const v1 = ring.get(1)!;
  const barrier = new KeyringBarrier(ring);
  const old = barrier.seal(Buffer.from('old'), AAD);
  assert.equal(old.readUInt32BE(1), 1);
  const next = ring.clone();
  next.addVersion();
  barrier.replace(next);
  const fresh = barrier.seal(Buffer.from('new'), AAD);
  assert.equal(fresh.readUInt32BE(1), 2);
  assert.equal(barrier.unseal(old, AAD).expose().toString(), 'old');
  assert.equal(barrier.unseal(fresh, AAD).expose().toString(), 'new');
  assert.throws(() => barrier.unseal(fresh, barrierAad('test', 'row', 2)), BarrierOpenError);
  assert.ok(v1.isZeroized, 'replace() zeroes the keyring it replaces');
});

test('an unknown root-key version asks the barrier to reload once (another node rotated)', async () => {
  const shared = Keyring.fresh();
  const other = new KeyringBarrier(shared.clone());
  const mine = shared.clone();
  let reloads = 0;
  const barrier: KeyringBarrier = new KeyringBarrier(mine, async () => {
    reloads++;
    barrier.replace(latest.clone());
    return true;
  });
  const latest = shared.clone();
  latest.addVersion();
  other.replace(latest.clone());
  const blob = other.seal(Buffer.from('from v2'), AAD);
  assert.throws(() => barrier.unseal(blob, AAD), BarrierUnknownVersionError);
  assert.equal((await unsealFresh(barrier, blob, AAD)).expose().toString(), 'from v2');
  assert.equal(reloads, 1);
  assert.equal(barrier.currentVersion, 2);
});

test('zeroize clears every root key of the keyring; the barrier then refuses as sealed', () => {
  const ring = Keyring.fresh();
  ring.addVersion();
  const keys = ring.versions.map((v) => ring.get(v)!);
  const barrier = new KeyringBarrier(ring);
  barrier.zeroize();
  for (const k of keys) assert.ok(k.isZeroized);
  assert.equal(barrier.isUnsealed, false);
  assert.throws(() => barrier.seal(Buffer.from('x'), AAD), BarrierSealedError);
  assert.throws(() => barrier.unseal(Buffer.alloc(40), AAD), BarrierSealedError);
});

test('clearing the material cache (as seal does) zeroes every cached key', async () => {
  const cache = new MaterialCache(10);
  const held: SecretBytes[] = [];
  for (let i = 0; i < 3; i++) {
    await cache.withMaterial(`k${i}`, async () => SecretBytes.adopt(randomBytesBuffer(32)), (m) => void held.push(m));
  }
  cache.clear();
  for (const m of held) assert.ok(m.isZeroized);
});
