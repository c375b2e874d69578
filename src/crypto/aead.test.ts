import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { aeadOpen, aeadSeal, AeadOpenError } from './aead.ts';
import { SecretBytes } from './secret-bytes.ts';

test('seal then open round-trips and binds the AAD', () => {
  const key = SecretBytes.copyOf(Buffer.alloc(32, 7));
  const box = aeadSeal(key, Buffer.from('hello'), Buffer.from('aad'));
  assert.equal(aeadOpen(key, box, Buffer.from('aad')).toString(), 'hello');
  assert.throws(() => aeadOpen(key, box, Buffer.from('aaD')), AeadOpenError);
});

test('every seal draws a fresh nonce', () => {
  const key = Buffer.alloc(32, 1);
  const a = aeadSeal(key, Buffer.from('x'), Buffer.alloc(0));
  const b = aeadSeal(key, Buffer.from('x'), Buffer.alloc(0));
  assert.notDeepEqual(a.subarray(0, 12), b.subarray(0, 12));
});

test('a flipped bit anywhere in the box fails authentication', () => {
  const key = Buffer.alloc(32, 2);
  const box = aeadSeal(key, Buffer.from('secret message'), Buffer.from('h'));
  for (let i = 0; i < box.length; i++) {
    const bad = Buffer.from(box);
    bad[i] = bad[i]! ^ 0x01;
    assert.throws(() => aeadOpen(key, bad, Buffer.from('h')), AeadOpenError);
  }
  assert.throws(() => aeadOpen(key, box.subarray(0, 20), Buffer.from('h')), AeadOpenError);
});

test('SecretBytes never prints its bytes and compares in constant time', () => {
  const s = SecretBytes.copyOf(Buffer.from('topsecret'));
  assert.equal(String(s), '[SecretBytes redacted]');
  assert.equal(JSON.stringify({ s }), '{"s":"[SecretBytes redacted]"}');
  assert.ok(s.equals(SecretBytes.copyOf(Buffer.from('topsecret'))));
  s.zeroize();
  assert.throws(() => s.expose());
});

// Wycheproof AES-GCM vectors (256-bit keys, 96-bit nonces, 128-bit tags): the decryption side of the
// wrapper must accept every valid vector and reject every invalid one.
test('Wycheproof aes_gcm_test: AES-256-GCM open accepts valid and rejects invalid vectors', () => {
  const suite = JSON.parse(readFileSync(new URL('../../test/vectors/wycheproof/aes_gcm_test.json', import.meta.url), 'utf8'));
  let checked = 0;
  for (const group of suite.testGroups) {
    if (group.keySize !== 256 || group.ivSize !== 96 || group.tagSize !== 128) continue;
    for (const t of group.tests) {
      const box = Buffer.concat([Buffer.from(t.iv, 'hex'), Buffer.from(t.ct, 'hex'), Buffer.from(t.tag, 'hex')]);
      const key = Buffer.from(t.key, 'hex');
      const aad = Buffer.from(t.aad, 'hex');
      if (t.result === 'invalid') {
        assert.throws(() => aeadOpen(key, box, aad), AeadOpenError, `tcId ${t.tcId}`);
      } else {
        assert.equal(aeadOpen(key, box, aad).toString('hex'), t.msg, `tcId ${t.tcId}`);
      }
      checked++;
    }
  }
  assert.ok(checked > 50, `checked ${checked} vectors`);
});
