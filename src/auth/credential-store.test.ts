/**
 * The credential store's lookups: concurrent misses share one read, a cached key comes back without a
 * promise, a failed read is not kept, and no answer outlives CREDENTIAL_CACHE_TTL_MS counted from the
 * start of its read (the coherence bound of docs/postgres.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CREDENTIAL_CACHE_TTL_MS, createCredentialStore } from './credential-store.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import type { Barrier } from '../seal/barrier.ts';
import type { AccessKeyRecord, Storage } from '../storage/storage.ts';

const ID = 'AKIATESTCREDENTIAL01';

/** Sealing is not under test: the "sealed" secret is the secret. */
const barrier: Barrier = {
  isUnsealed: true,
  seal: (plaintext) => Buffer.from(plaintext),
  unseal: (sealed) => SecretBytes.copyOf(sealed),
  zeroize: () => undefined,
};

/** A storage of access keys whose reads are counted and can be held until released. */
function fakeStorage() {
  const rows = new Map<string, AccessKeyRecord>();
  rows.set(ID, {
    accessKeyId: ID, accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:user/u', sealedSecret: Buffer.from('secret'),
    status: 'Active', createdAt: 0, expiresAt: null, doc: {},
  });
  const state = { reads: 0, fail: false, gate: undefined as Promise<void> | undefined };
  const accessKeys = {
    get: async (id: string) => {
      state.reads++;
      // What the read saw is fixed when it began; the answer may be held back (the gate) after that.
      const row = rows.get(id);
      const copy = row && { ...row };
      await state.gate;
      if (state.fail) throw new Error('storage unavailable');
      return copy;
    },
    upsert: async (row: AccessKeyRecord) => void rows.set(row.accessKeyId, row),
  };
  const storage = {
    read: (fn: (r: unknown) => Promise<unknown>) => fn({ accessKeys }),
    transaction: (fn: (r: unknown) => Promise<unknown>) => fn({ accessKeys }),
  } as unknown as Storage;
  return { storage, state };
}

function held(): { gate: Promise<void>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return { gate, release };
}

function store(storage: Storage) {
  return createCredentialStore({ storage, barrier, clock: { now: () => Date.now() } });
}

test('concurrent lookups of one access key share one read; the cached answer then comes without a promise', async () => {
  const { storage, state } = fakeStorage();
  const credentials = store(storage);
  const { gate, release } = held();
  state.gate = gate;
  const first = credentials.resolve(ID);
  const second = credentials.resolve(ID);
  assert.ok(first instanceof Promise && second instanceof Promise);
  release();
  const [a, b] = await Promise.all([first, second]);
  assert.equal(state.reads, 1);
  assert.equal(a, b);
  assert.equal(a?.secretAccessKey, 'secret');
  const cached = credentials.resolve(ID);
  assert.ok(!(cached instanceof Promise));
  assert.equal(cached, a);
  assert.equal(state.reads, 1);
});

test('a failed read is not cached and not shared with later lookups', async () => {
  const { storage, state } = fakeStorage();
  const credentials = store(storage);
  state.fail = true;
  await assert.rejects(Promise.resolve(credentials.resolve(ID)), /storage unavailable/);
  state.fail = false;
  const again = credentials.resolve(ID);
  assert.ok(again instanceof Promise);
  assert.equal((await again)?.secretAccessKey, 'secret');
  assert.equal(state.reads, 2);
});

test('a lookup after a local change of the key does not join a read begun before it, which caches nothing', async () => {
  const { storage, state } = fakeStorage();
  const credentials = store(storage);
  const { gate, release } = held();
  state.gate = gate;
  const before = credentials.resolve(ID);
  state.gate = undefined;
  assert.equal(await credentials.setStatus(ID, 'arn:aws:iam::111122223333:user/u', 'Inactive'), true);
  assert.equal((await credentials.resolve(ID))?.record.status, 'Inactive');
  release();
  assert.equal((await before)?.record.status, 'Active');
  const after = credentials.resolve(ID);
  assert.ok(!(after instanceof Promise), 'the answer read after the change is the one cached');
  assert.equal(after?.record.status, 'Inactive');
});

test(`an answer lives CREDENTIAL_CACHE_TTL_MS (${CREDENTIAL_CACHE_TTL_MS} ms) from the start of its read, cached or shared`, async () => {
  const { storage, state } = fakeStorage();
  const credentials = store(storage);
  const { gate, release } = held();
  state.gate = gate;
  const started = performance.now();
  const slow = credentials.resolve(ID);
  await sleep(CREDENTIAL_CACHE_TTL_MS * 0.6);
  release();
  await slow;
  assert.ok(!(credentials.resolve(ID) instanceof Promise), 'cached for what is left of the bound');
  await sleep(CREDENTIAL_CACHE_TTL_MS - (performance.now() - started) + 20);
  const expired = credentials.resolve(ID);
  assert.ok(expired instanceof Promise, 'read again once the bound has passed');
  await expired;
  assert.equal(state.reads, 2);

  // A read still under way after the bound is not joined: its answer may be older than the bound allows.
  const { gate: gate2, release: release2 } = held();
  state.gate = gate2;
  credentials.forget();
  const stuck = credentials.resolve(ID);
  await sleep(CREDENTIAL_CACHE_TTL_MS + 20);
  state.gate = undefined;
  const fresh = credentials.resolve(ID);
  assert.equal(state.reads, 4, 'a new read, not the stuck one');
  assert.equal((await fresh)?.secretAccessKey, 'secret');
  release2();
  await stuck;
});
