import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  generateHmacKey, hmac, hmacKeyLength, hmacVerify, macAlgorithmsFor, macLength, HMAC_KEY_SPECS,
  type MacAlgorithm,
} from './hmac.ts';
import { SecretBytes } from './secret-bytes.ts';

test('AWS: each HMAC key spec has exactly its one MAC algorithm and a key as long as the hash output', () => {
  assert.deepEqual(HMAC_KEY_SPECS.map((s) => [s, macAlgorithmsFor(s), hmacKeyLength(s)]), [
    ['HMAC_224', ['HMAC_SHA_224'], 28],
    ['HMAC_256', ['HMAC_SHA_256'], 32],
    ['HMAC_384', ['HMAC_SHA_384'], 48],
    ['HMAC_512', ['HMAC_SHA_512'], 64],
  ]);
  for (const spec of HMAC_KEY_SPECS) {
    const key = generateHmacKey(spec);
    assert.ok(key instanceof SecretBytes);
    assert.equal(key.length, hmacKeyLength(spec));
    assert.ok(!generateHmacKey(spec).equals(key));
  }
});

test('hmacVerify accepts the MAC and rejects another message, another key, a flipped bit and a truncated MAC', () => {
  for (const spec of HMAC_KEY_SPECS) {
    const [alg] = macAlgorithmsFor(spec) as [MacAlgorithm];
    const key = generateHmacKey(spec);
    const message = Buffer.from('message');
    const mac = hmac(alg, key, message);
    assert.equal(mac.length, macLength(alg));
    assert.ok(hmacVerify(alg, key, message, mac));
    assert.ok(!hmacVerify(alg, key, Buffer.from('messagf'), mac));
    assert.ok(!hmacVerify(alg, generateHmacKey(spec), message, mac));
    const flipped = Buffer.from(mac);
    flipped[flipped.length - 1]! ^= 1;
    assert.ok(!hmacVerify(alg, key, message, flipped));
    assert.ok(!hmacVerify(alg, key, message, mac.subarray(0, 16)));
    assert.ok(!hmacVerify(alg, key, message, Buffer.concat([mac, Buffer.from([0])])));
  }
});

// Wycheproof HMAC-SHA-2. AWS GenerateMac returns, and VerifyMac checks, the full-length MAC, so only groups
// whose tagSize is the hash output are run; the truncated-tag groups (half-length tags: 112, 128, 192 and 256
// bits) are filtered out and counted — hmacVerify rejects any MAC that is not full length, by design. Keys of every size in the file are used. No "acceptable" vectors.
interface MacTest { tcId: number; key: string; msg: string; tag: string; result: string; flags: string[] }
interface MacGroup { keySize: number; tagSize: number; tests: MacTest[] }
const FILES: Array<[string, MacAlgorithm, number]> = [
  ['hmac_sha224_test.json', 'HMAC_SHA_224', 85],
  ['hmac_sha256_test.json', 'HMAC_SHA_256', 87],
  ['hmac_sha384_test.json', 'HMAC_SHA_384', 87],
  ['hmac_sha512_test.json', 'HMAC_SHA_512', 87],
];
for (const [file, alg, minimum] of FILES) {
  test(`Wycheproof ${file}: ${alg} computes valid tags and rejects modified ones`, () => {
    const suite = JSON.parse(readFileSync(new URL(`../../test/vectors/wycheproof/${file}`, import.meta.url), 'utf8')) as { testGroups: MacGroup[] };
    let checked = 0;
    let skipped = 0;
    for (const group of suite.testGroups) {
      if (group.tagSize !== macLength(alg) * 8) {
        skipped += group.tests.length;
        continue;
      }
      for (const t of group.tests) {
        assert.notEqual(t.result, 'acceptable');
        const key = SecretBytes.copyOf(Buffer.from(t.key, 'hex'));
        const msg = Buffer.from(t.msg, 'hex');
        const tag = Buffer.from(t.tag, 'hex');
        const label = `tcId ${t.tcId} ${t.flags.join(',')}`;
        if (t.result === 'valid') assert.equal(hmac(alg, key, msg).toString('hex'), t.tag, label);
        assert.equal(hmacVerify(alg, key, msg, tag), t.result === 'valid', label);
        checked++;
      }
    }
    assert.ok(checked >= minimum, `checked ${checked} vectors`);
    assert.ok(skipped > 0 && skipped <= checked, `skipped ${skipped} truncated-tag vectors`);
  });
}
