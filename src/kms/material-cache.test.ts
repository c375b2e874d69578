import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { MaterialCache } from './material-cache.ts';

const load = (byte: number) => async () => SecretBytes.adopt(Buffer.alloc(32, byte));

test('evictKey zeroes every cached version of that key and only of that key (DeleteImportedKeyMaterial, key destruction)', async () => {
  const cache = new MaterialCache(10);
  const held: SecretBytes[] = [];
  for (const [keyId, version] of [['k1', 1], ['k1', 2], ['k2', 1]] as const) {
    await cache.withMaterial(MaterialCache.id('111122223333', 'us-east-1', keyId, version), load(7), (m) => held.push(m));
  }
  const raw = held.map((m) => m.expose());
  cache.evictKey('111122223333', 'us-east-1', 'k1');
  assert.deepEqual(held.map((m) => m.isZeroized), [true, true, false]);
  assert.ok(raw[0]!.every((b) => b === 0) && raw[1]!.every((b) => b === 0));
  assert.equal(cache.size, 1);
  // The next use loads (unseals) again rather than finding the zeroed bytes.
  let loaded = false;
  await cache.withMaterial(MaterialCache.id('111122223333', 'us-east-1', 'k1', 1), async () => { loaded = true; return load(9)(); }, () => undefined);
  assert.equal(loaded, true);
});

test('with the cache disabled, loaded material is zeroed as soon as it has been used', async () => {
  const cache = new MaterialCache(0);
  let seen: SecretBytes | undefined;
  await cache.withMaterial('a/b/c/1', load(5), (m) => { seen = m; });
  assert.equal(seen?.isZeroized, true);
});
