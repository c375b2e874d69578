import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { ed25519ph } from '@noble/curves/ed25519.js';

import { generateKeyPair, sign, verify } from './asymmetric.ts';
import { ed25519phSignDigest, ed25519phVerifyDigest } from './eddsa.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const ED25519_KEY = { family: 'ed25519' } as const;
const ED25519 = { scheme: 'ED25519' } as const;
const ED25519PH = { scheme: 'ED25519_PH' } as const;
const sha512 = (m: Uint8Array): Buffer => createHash('sha512').update(m).digest();

function ed25519Keys(seed: Buffer) {
  const publicKey = Buffer.from(ed25519ph.getPublicKey(seed));
  const privateKey = createPrivateKey({
    format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: publicKey.toString('base64url') },
  });
  return { privateKey, publicKey: createPublicKey(privateKey), rawPublicKey: publicKey };
}

// RFC 8032 §7.3, "TEST abc" (Ed25519ph).
test('Ed25519ph over a SHA-512 digest matches RFC 8032 §7.3 test vector "abc"', () => {
  const seed = hex('833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42');
  const { privateKey, publicKey, rawPublicKey } = ed25519Keys(seed);
  assert.equal(rawPublicKey.toString('hex'), 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf');
  const expected = '98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41'
    + '31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406';
  const digest = sha512(Buffer.from('abc'));
  assert.equal(ed25519phSignDigest(privateKey, digest).toString('hex'), expected);
  assert.ok(ed25519phVerifyDigest(publicKey, digest, hex(expected)));
});

test('Ed25519ph over a digest is byte-identical to @noble/curves ed25519ph over the message', () => {
  for (let i = 0; i < 16; i++) {
    const seed = randomBytes(32);
    const message = randomBytes(i * 7);
    const { privateKey, publicKey, rawPublicKey } = ed25519Keys(seed);
    const ours = ed25519phSignDigest(privateKey, sha512(message));
    assert.deepEqual(ours, Buffer.from(ed25519ph.sign(message, seed)));
    assert.ok(ed25519ph.verify(ours, message, rawPublicKey));
    assert.ok(ed25519phVerifyDigest(publicKey, sha512(message), ours));
  }
});

test('Ed25519ph is domain-separated from pure Ed25519 (RFC 8032 dom2)', async () => {
  const { privateKeyPkcs8, publicKeySpki } = await generateKeyPair(ED25519_KEY);
  const digest = sha512(Buffer.from('m'));
  const ph = sign(ED25519_KEY, privateKeyPkcs8, ED25519PH, 'DIGEST', digest);
  const pure = sign(ED25519_KEY, privateKeyPkcs8, ED25519, 'RAW', digest);
  assert.notDeepEqual(ph, pure);
  assert.ok(!verify(ED25519_KEY, publicKeySpki, ED25519, 'RAW', digest, ph));
  assert.ok(!verify(ED25519_KEY, publicKeySpki, ED25519PH, 'DIGEST', digest, pure));
});

// Wycheproof Ed25519 (pure EdDSA, RFC 8032 / FIPS 186-5 strict): through the public API, ED25519_SHA_512 RAW,
// with the vector's SubjectPublicKeyInfo. The file has no "acceptable" vectors. (Wycheproof has no Ed25519ph file.)
interface EdTest { tcId: number; msg: string; sig: string; result: string; flags: string[] }
interface EdGroup { publicKeyDer: string; tests: EdTest[] }
test('Wycheproof ed25519_test.json: Ed25519 verify accepts valid, rejects invalid', () => {
  const suite = JSON.parse(readFileSync(new URL('../../test/vectors/wycheproof/ed25519_test.json', import.meta.url), 'utf8')) as { testGroups: EdGroup[] };
  let checked = 0;
  for (const group of suite.testGroups) {
    for (const t of group.tests) {
      assert.notEqual(t.result, 'acceptable');
      const ok = verify(ED25519_KEY, hex(group.publicKeyDer), ED25519, 'RAW', hex(t.msg), hex(t.sig));
      assert.equal(ok, t.result === 'valid', `tcId ${t.tcId} ${t.flags.join(',')}`);
      checked++;
    }
  }
  assert.ok(checked >= 151, `checked ${checked} vectors`);
});
