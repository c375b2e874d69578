import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import type { Storage } from '../storage/storage.ts';
import { barrierAad } from './barrier.ts';
import type { KeyringBarrier } from './keyring-barrier.ts';
import { createSealManager, RootKeyMismatchAtStartError, type SealManager } from './seal-manager.ts';

const dir = mkdtempSync(join(tmpdir(), 'trent-seal-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const stores: Storage[] = [];
after(async () => {
  for (const s of stores) await s.close();
});
async function store(): Promise<Storage> {
  const s = new SqliteStorage(join(dir, `seal-${n++}.db`));
  await s.migrate();
  stores.push(s);
  return s;
}
const logger = pino({ level: 'silent' });

function manager(storage: Storage, mode: 'shamir' | 'dev' = 'shamir', devRootKey?: SecretBytes) {
  const seen: { barrier?: KeyringBarrier; unseals: number; seals: number; failNextUnseal?: boolean } = { unseals: 0, seals: 0 };
  const m = createSealManager({
    storage, mode, logger, ...(devRootKey ? { devRootKey } : {}),
    hooks: {
      async onUnseal(b) {
        if (seen.failNextUnseal) {
          seen.failNextUnseal = false;
          throw new Error('storage went away');
        }
        seen.barrier = b;
        seen.unseals++;
      },
      async onSeal() {
        seen.seals++;
      },
    },
  });
  return { m, seen };
}

async function unsealAll(m: SealManager, shares: string[]) {
  let last;
  for (const s of shares) last = await m.submitShare(s, undefined);
  return last!;
}

test('uninitialized -> init -> sealed -> threshold shares -> unsealed -> seal zeroes the keyring -> sealed', async () => {
  const { m, seen } = manager(await store());
  await m.start();
  assert.deepEqual([m.status().initialized, m.status().sealed], [false, true]);
  const { shares } = await m.init({ shares: 4, threshold: 3 });
  await assert.rejects(m.init({ shares: 4, threshold: 3 }), { name: 'InvalidSealStateException' });
  assert.deepEqual([m.status().initialized, m.status().sealed, m.status().threshold, m.status().shares], [true, true, 3, 4]);
  const one = await m.submitShare(shares[0]!, undefined);
  assert.equal(one.progress, 1);
  await assert.rejects(m.submitShare(shares[1]!, 'f'.repeat(32)), { name: 'InvalidNonceException' });
  assert.equal((await m.submitShare(shares[1]!, one.nonce)).progress, 2);
  const done = await m.submitShare(shares[3]!, one.nonce);
  assert.deepEqual([done.sealed, done.progress, done.nonce, done.rootKeyVersion], [false, 0, '', 1]);
  assert.equal(seen.unseals, 1);
  const barrier = seen.barrier!;
  const blob = barrier.seal(Buffer.from('x'), barrierAad('t'));
  await m.seal();
  assert.equal(seen.seals, 1);
  assert.equal(barrier.isUnsealed, false);
  assert.equal(m.status().sealed, true);
  await assert.rejects(m.seal(), { name: 'InvalidSealStateException' });
  await unsealAll(m, [shares[2]!, shares[0]!, shares[1]!]);
  assert.equal(seen.barrier!.unseal(blob, barrierAad('t')).expose().toString(), 'x');
});

test('a failing start-up after the shares combine leaves the node sealed with a fresh attempt', async () => {
  const { m, seen } = manager(await store());
  const { shares } = await m.init({ shares: 3, threshold: 2 });
  seen.failNextUnseal = true;
  await m.submitShare(shares[0]!, undefined);
  await assert.rejects(m.submitShare(shares[1]!, undefined), /storage went away/);
  assert.deepEqual([m.status().sealed, m.status().progress], [true, 0]);
  await unsealAll(m, shares.slice(1));
  assert.equal(m.status().sealed, false);
});

test('two nodes rotating the root key at once: compare-and-set keeps every version', async () => {
  const storage = await store();
  const a = manager(storage);
  const b = manager(storage);
  const { shares } = await a.m.init({ shares: 3, threshold: 2 });
  await b.m.start();
  await unsealAll(a.m, shares.slice(0, 2));
  await unsealAll(b.m, shares.slice(1, 3));
  const results = await Promise.all([a.m.rotateRoot(), b.m.rotateRoot(), a.m.rotateRoot(), b.m.rotateRoot()]);
  assert.deepEqual(results.map((r) => r.rootKeyVersion).sort(), [2, 3, 4, 5]);
  await b.m.seal();
  await unsealAll(b.m, shares.slice(0, 2));
  assert.deepEqual(b.m.status().rootKeyVersion, 5);
});

test('rekey: starting needs a current share or credentials; a forged share is refused and changes nothing; the new shares unseal, the old ones are refused', async () => {
  const storage = await store();
  const { m } = manager(storage);
  const { shares } = await m.init({ shares: 3, threshold: 2 });
  const forged = Buffer.from(shares[1]!, 'base64');
  forged[0]! ^= 1;
  await assert.rejects(m.rekeyStart({ shares: 2, threshold: 2 }, { authorized: false }), { name: 'AccessDeniedException' });
  await assert.rejects(m.rekeyStart({ shares: 2, threshold: 2 }, { authorized: false, share: forged.toString('base64') }), { name: 'InvalidShareException' });
  assert.equal(m.status().rekey, undefined);
  const r0 = await m.rekeyStart({ shares: 2, threshold: 2 }, { authorized: false, share: shares[0]! });
  assert.equal(r0.progress, 1);
  // Neither a forged share nor a rekey/init without proof can reset or replace the running rekey.
  await assert.rejects(m.rekeySubmit(forged.toString('base64'), r0.nonce), { name: 'InvalidShareException' });
  await assert.rejects(m.rekeyStart({ shares: 5, threshold: 3 }, { authorized: false }), { name: 'AccessDeniedException' });
  assert.deepEqual([m.status().rekey?.nonce, m.status().rekey?.progress, m.status().rekey?.shares], [r0.nonce, 1, 2]);
  // Credentials (checked by the caller) may replace it.
  const r1 = await m.rekeyStart({ shares: 2, threshold: 2 }, { authorized: true });
  assert.notEqual(r1.nonce, r0.nonce);
  await m.rekeySubmit(shares[2]!, r1.nonce);
  const done = await m.rekeySubmit(shares[1]!, r1.nonce);
  assert.equal(done.complete, true);
  const restarted = manager(storage);
  await restarted.m.start();
  await assert.rejects(restarted.m.submitShare(shares[0]!, undefined), { name: 'InvalidShareException' });
  assert.equal(restarted.m.status().progress, 0);
  await unsealAll(restarted.m, done.shares!);
  assert.equal(restarted.m.status().sealed, false);
});

test('unseal: a share that is not a current one is refused before it touches the attempt; only a current share resets it', async () => {
  const { m } = manager(await store());
  const { shares } = await m.init({ shares: 3, threshold: 2 });
  const one = await m.submitShare(shares[0]!, undefined);
  const junk = randomBytesBuffer(33).toString('base64');
  await assert.rejects(m.submitShare(junk, undefined), { name: 'InvalidShareException' });
  await assert.rejects(m.submitShare(junk, one.nonce), { name: 'InvalidShareException' });
  await assert.rejects(m.resetUnseal(junk), { name: 'InvalidShareException' });
  assert.deepEqual([m.status().progress, m.status().nonce, m.status().sealed], [1, one.nonce, true]);
  assert.equal((await m.resetUnseal(shares[2]!)).progress, 0);
  assert.equal(m.status().nonce, '');
  await unsealAll(m, [shares[1]!, shares[2]!]);
  assert.equal(m.status().sealed, false);
});

test('development mode unseals itself; another root key on the same database is refused at start', async () => {
  const storage = await store();
  const root = randomBytesBuffer(32);
  const { m } = manager(storage, 'dev', SecretBytes.copyOf(root));
  await m.start();
  assert.equal(m.status().sealed, false);
  await assert.rejects(m.init({ shares: 3, threshold: 2 }), { name: 'InvalidSealStateException' });
  await m.rotateRoot(); // stores a keyring sealed under the development root key
  const other = manager(storage, 'dev', SecretBytes.adopt(randomBytesBuffer(32)));
  await assert.rejects(other.m.start(), RootKeyMismatchAtStartError);
  const same = manager(storage, 'dev', SecretBytes.copyOf(root));
  await same.m.start();
  assert.equal(same.m.status().rootKeyVersion, 2);
  const quorum = manager(storage, 'shamir');
  await assert.rejects(quorum.m.start(), /initialized in dev seal mode/);
});
