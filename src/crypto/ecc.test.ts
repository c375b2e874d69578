import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createECDH, createHash, createPrivateKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto';

import { ecdhDeriveSharedSecret, InvalidPublicKeyError, verify } from './asymmetric.ts';
import type { EcCurve } from './ecc.ts';
import { SecretBytes } from './secret-bytes.ts';

interface Suite<G> { testGroups: G[] }
function vectors<G>(name: string): Suite<G> {
  return JSON.parse(readFileSync(new URL(`../../test/vectors/wycheproof/${name}`, import.meta.url), 'utf8')) as Suite<G>;
}
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

test('node:crypto has no raw-digest ECDSA signing: sign(null, …) on an EC key hashes with SHA-256', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const digest = createHash('sha256').update('message').digest();
  const signature = nodeSign(null, digest, privateKey);
  assert.ok(nodeVerify('sha256', digest, publicKey, signature)); // a signature of SHA-256(digest)
  assert.ok(!nodeVerify('sha256', Buffer.from('message'), publicKey, signature));
});

// --- ECDSA verify ------------------------------------------------------------------------------------------
// Through the public API on both paths: RAW (OpenSSL hashes and verifies) and DIGEST (the vector message's
// hash, verified by @noble/curves with prehash: false). DER signatures. These files have no "acceptable"
// vectors; the test asserts that so a new one cannot slip through unexamined.
interface EcdsaTest { tcId: number; msg: string; sig: string; result: string; flags: string[] }
interface EcdsaGroup { publicKeyDer: string; sha: string; tests: EcdsaTest[] }
const ECDSA_FILES: Array<[string, EcCurve, 'sha256' | 'sha384' | 'sha512', number]> = [
  ['ecdsa_secp256r1_sha256_test.json', 'P-256', 'sha256', 484],
  ['ecdsa_secp384r1_sha384_test.json', 'P-384', 'sha384', 504],
  ['ecdsa_secp521r1_sha512_test.json', 'P-521', 'sha512', 542],
  ['ecdsa_secp256k1_sha256_test.json', 'secp256k1', 'sha256', 476],
];
for (const [file, curve, hash, minimum] of ECDSA_FILES) {
  const type = { family: 'ec', curve } as const;
  const scheme = { scheme: 'ECDSA', hash } as const;
  test(`Wycheproof ${file}: ECDSA verify (RAW and DIGEST) accepts valid, rejects invalid`, () => {
    let checked = 0;
    for (const group of vectors<EcdsaGroup>(file).testGroups) {
      const spki = hex(group.publicKeyDer);
      for (const t of group.tests) {
        assert.notEqual(t.result, 'acceptable');
        const label = `tcId ${t.tcId} ${t.flags.join(',')}`;
        const msg = hex(t.msg);
        const expected = t.result === 'valid';
        assert.equal(verify(type, spki, scheme, 'RAW', msg, hex(t.sig)), expected, `RAW ${label}`);
        assert.equal(verify(type, spki, scheme, 'DIGEST', createHash(hash).update(msg).digest(), hex(t.sig)), expected, `DIGEST ${label}`);
        checked++;
      }
    }
    assert.ok(checked >= minimum, `checked ${checked} vectors`);
  });
}

// --- ECDH --------------------------------------------------------------------------------------------------
// The vector's private scalar is turned into a PKCS#8 key with node (public point from createECDH, then JWK);
// the peer key is the vector's SubjectPublicKeyInfo ("asn" encoding, as DeriveSharedSecret takes it).
// valid → the shared secret matches; invalid → InvalidPublicKeyError.
// "acceptable" vectors are compressed points, explicit (unnamed) curve parameters and non-canonical ASN.1.
// Our choice: a compressed point (a legitimate RFC 5480 encoding, decompressed and checked by OpenSSL) is
// accepted; explicit parameters and any non-DER / non-canonical encoding are rejected. The test pins exactly
// that, so a change of behaviour is noticed.
interface EcdhTest { tcId: number; public: string; private: string; shared: string; result: string; flags: string[] }
interface EcdhGroup { curve: string; encoding: string; tests: EcdhTest[] }
type EcdhCurve = 'P-256' | 'P-384' | 'P-521';
const CURVE: Record<EcdhCurve, { openssl: string; jwk: string; bytes: number }> = {
  'P-256': { openssl: 'prime256v1', jwk: 'P-256', bytes: 32 },
  'P-384': { openssl: 'secp384r1', jwk: 'P-384', bytes: 48 },
  'P-521': { openssl: 'secp521r1', jwk: 'P-521', bytes: 66 },
};

// The files reuse a few dozen private keys across ~600–1000 vectors; building each once keeps the test fast.
const keyCache = new Map<string, SecretBytes>();
function pkcs8FromScalar(spec: EcdhCurve, scalarHex: string): SecretBytes {
  const cacheKey = `${spec}:${scalarHex}`;
  let cached = keyCache.get(cacheKey);
  if (cached === undefined) keyCache.set(cacheKey, cached = buildPkcs8(spec, scalarHex));
  return cached;
}
function buildPkcs8(spec: EcdhCurve, scalarHex: string): SecretBytes {
  const { openssl, jwk, bytes } = CURVE[spec];
  let d = hex(scalarHex);
  while (d.length > bytes && d[0] === 0) d = d.subarray(1);
  d = Buffer.concat([Buffer.alloc(bytes - d.length), d]);
  const ecdh = createECDH(openssl);
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey();
  const key = createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'EC', crv: jwk, d: d.toString('base64url'),
      x: point.subarray(1, 1 + bytes).toString('base64url'), y: point.subarray(1 + bytes).toString('base64url'),
    },
  });
  return SecretBytes.adopt(key.export({ type: 'pkcs8', format: 'der' }));
}

const ECDH_FILES: Array<[string, EcdhCurve, number]> = [
  ['ecdh_secp256r1_test.json', 'P-256', 612],
  ['ecdh_secp384r1_test.json', 'P-384', 1047],
  ['ecdh_secp521r1_test.json', 'P-521', 916],
];
for (const [file, spec, minimum] of ECDH_FILES) {
  test(`Wycheproof ${file}: ECDH derives the shared secret for valid peers, rejects invalid and wrong-curve peers`, () => {
    const counts = { valid: 0, invalid: 0, acceptable: 0 };
    for (const group of vectors<EcdhGroup>(file).testGroups) {
      assert.equal(group.encoding, 'asn');
      for (const t of group.tests) {
        const label = `tcId ${t.tcId} ${t.flags.join(',')}`;
        const key = pkcs8FromScalar(spec, t.private);
        const acceptCompressed = t.result === 'acceptable' && t.flags.includes('CompressedPublic');
        if (t.result === 'valid' || acceptCompressed) {
          assert.equal(ecdhDeriveSharedSecret(spec, key, hex(t.public)).expose().toString('hex'), t.shared, label);
        } else {
          assert.throws(() => ecdhDeriveSharedSecret(spec, key, hex(t.public)), InvalidPublicKeyError, label);
        }
        counts[t.result as keyof typeof counts]++;
      }
    }
    assert.ok(counts.valid + counts.invalid + counts.acceptable >= minimum, JSON.stringify(counts));
    assert.ok(counts.invalid >= 40, JSON.stringify(counts));
  });
}
