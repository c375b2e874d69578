import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SecretBytes } from '../../crypto/secret-bytes.ts';
import {
  generateHmacKey, hmac, hmacKeyLength, hmacVerify, macAlgorithmsFor, macLength, HMAC_KEY_SPECS,
  type MacAlgorithm,
} from './hmac.ts';

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
