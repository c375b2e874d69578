import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  constants, createHash, createPublicKey, generateKeyPairSync, privateEncrypt, publicDecrypt, sign as nodeSign, verify as nodeVerify,
} from 'node:crypto';

import { DecryptionError, InvalidKeyMaterialError, rsaOaepDecrypt, verify, type KeyPairType } from './asymmetric.ts';
import { PKCS1_DIGEST_INFO_PREFIX, rsaGenerateKeyPair, rsaSign, rsaVerify, type RsaModulusBits, type RsaOaepHash } from './rsa.ts';
import { SecretBytes } from './secret-bytes.ts';

interface Suite<G> { testGroups: G[] }
function vectors<G>(name: string): Suite<G> {
  return JSON.parse(readFileSync(new URL(`../../test/vectors/wycheproof/${name}`, import.meta.url), 'utf8')) as Suite<G>;
}

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const TYPE_BY_BITS: Record<number, KeyPairType> = Object.fromEntries(([2048, 3072, 4096] as RsaModulusBits[]).map((bits) => [bits, { family: 'rsa', bits }]));
const NODE_HASH: Record<string, 'sha256' | 'sha384' | 'sha512'> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

const key2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });

// --- Why DIGEST-mode PKCS#1 v1.5 supplies a DigestInfo: node has no raw-digest signing call. -----------------

test('node:crypto has no raw-digest RSA signing: sign(null, …) hashes the input with SHA-256', () => {
  const digest = createHash('sha256').update('message').digest();
  const signature = nodeSign(null, digest, key2048.privateKey);
  // It is the signature of SHA-256(digest), not of digest.
  assert.ok(nodeVerify('sha256', digest, key2048.publicKey, signature));
  assert.ok(!nodeVerify('sha256', Buffer.from('message'), key2048.publicKey, signature));
});

test('privateEncrypt, node\'s only route to EVP_PKEY_sign, cannot be told the signature digest', () => {
  const digest = createHash('sha256').update('message').digest();
  // With PSS padding OpenSSL falls back to its default digest (SHA-1) and refuses a 32-byte input …
  assert.throws(() => privateEncrypt({ key: key2048.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING }, digest));
  // … and node passes oaepHash as an OAEP parameter, which a signing context refuses.
  assert.throws(() => privateEncrypt({ key: key2048.privateKey, padding: constants.RSA_PKCS1_PADDING, oaepHash: 'sha256' }, digest));
});

test('OpenSSL has no PSS verify over a digest that node can reach: verify_recover refuses PSS even on an id-RSASSA-PSS key', () => {
  const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048, hashAlgorithm: 'sha256', mgf1HashAlgorithm: 'sha256' });
  const digest = createHash('sha256').update('message').digest();
  // Signing works on such a key (OpenSSL takes the hash from the key's parameters; our keys are rsaEncryption) …
  const signature = privateEncrypt({ key: pss.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING }, digest);
  assert.equal(signature.length, 256);
  // … but its verification counterpart does not exist, which is why rsa.ts takes EMSA-PSS from node-forge.
  assert.throws(() => publicDecrypt({ key: pss.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING }, signature), /not supported/);
});

for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
  test(`PKCS#1 v1.5 DigestInfo prefix for ${hash} is what OpenSSL itself encodes (RFC 8017 §9.2 note 1)`, () => {
    const message = Buffer.from(`prefix check ${hash}`);
    const digest = createHash(hash).update(message).digest();
    // OpenSSL's own RSA_sign output, opened with the public key, shows the DigestInfo it built.
    const recovered = publicDecrypt({ key: key2048.publicKey, padding: constants.RSA_PKCS1_PADDING },
      nodeSign(hash, message, { key: key2048.privateKey, padding: constants.RSA_PKCS1_PADDING }));
    assert.deepEqual(recovered, Buffer.concat([PKCS1_DIGEST_INFO_PREFIX[hash], digest]));
  });

  test(`PKCS#1 v1.5 DIGEST signature (${hash}) is byte-identical to the RAW signature of the message`, () => {
    const message = Buffer.from(`identical ${hash}`);
    const digest = createHash(hash).update(message).digest();
    const raw = rsaSign(key2048.privateKey, 'PKCS1_V1_5', hash, false, message);
    const prehashed = rsaSign(key2048.privateKey, 'PKCS1_V1_5', hash, true, digest);
    assert.deepEqual(prehashed, raw);
    assert.ok(rsaVerify(key2048.publicKey, 'PKCS1_V1_5', hash, true, digest, raw));
  });
}

// --- RSASSA-PSS over a digest: node-forge's EMSA-PSS around OpenSSL's raw RSA -------------------------------

const HASH_BYTES = { sha256: 32, sha384: 48, sha512: 64 } as const;
const pssOptions = (saltLength: number) => ({ key: key2048.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });

for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
  test(`PSS ${hash}: a DIGEST signature is the RAW signature of the message for OpenSSL and back; each salt is fresh`, () => {
    const message = Buffer.from(`pss digest ${hash}`);
    const digest = createHash(hash).update(message).digest();
    const prehashed = rsaSign(key2048.privateKey, 'PSS', hash, true, digest);
    const raw = rsaSign(key2048.privateKey, 'PSS', hash, false, message);
    assert.equal(prehashed.length, 256);
    // OpenSSL (node verify) with AWS's parameters accepts the DIGEST signature as one over the message …
    assert.ok(nodeVerify(hash, message, { key: key2048.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_BYTES[hash] }, prehashed));
    assert.ok(rsaVerify(key2048.publicKey, 'PSS', hash, false, message, prehashed));
    // … and the DIGEST verify path accepts OpenSSL's own RAW signature.
    assert.ok(rsaVerify(key2048.publicKey, 'PSS', hash, true, digest, raw));
    assert.ok(rsaVerify(key2048.publicKey, 'PSS', hash, true, digest, prehashed));
    // The salt is random (from the CSPRNG): two signatures of one digest differ and both verify.
    const again = rsaSign(key2048.privateKey, 'PSS', hash, true, digest);
    assert.notDeepEqual(again, prehashed);
    assert.ok(rsaVerify(key2048.publicKey, 'PSS', hash, true, digest, again));
  });

  test(`PSS ${hash}: DIGEST verify is strict — another salt length, another hash, extra or missing bytes, s ≥ n are rejected`, () => {
    const message = Buffer.from(`strict ${hash}`);
    const digest = createHash(hash).update(message).digest();
    const good = nodeSign(hash, message, pssOptions(HASH_BYTES[hash]));
    assert.ok(rsaVerify(key2048.publicKey, 'PSS', hash, true, digest, good));
    const hLen = HASH_BYTES[hash];
    for (const saltLength of [0, 20, hLen - 1, hLen + 1, constants.RSA_PSS_SALTLEN_MAX_SIGN]) {
      const other = nodeSign(hash, message, pssOptions(saltLength));
      assert.ok(nodeVerify(hash, message, { key: key2048.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, other));
      assert.ok(!rsaVerify(key2048.publicKey, 'PSS', hash, true, digest, other), `salt length ${saltLength}: DIGEST`);
      assert.ok(!rsaVerify(key2048.publicKey, 'PSS', hash, false, message, other), `salt length ${saltLength}: RAW`);
    }
    // Same salt length, another signature hash over the same message.
    const otherHash = hash === 'sha256' ? 'sha512' : 'sha256';
    assert.ok(!rsaVerify(key2048.publicKey, 'PSS', hash, true, digest, nodeSign(otherHash, message, pssOptions(hLen))), 'other hash');
    // A PKCS#1 v1.5 signature of the same digest is not a PSS signature.
    assert.ok(!rsaVerify(key2048.publicKey, 'PSS', hash, true, digest, rsaSign(key2048.privateKey, 'PKCS1_V1_5', hash, true, digest)), 'PKCS#1 v1.5');
    const malformed: Array<[string, Buffer]> = [
      ['trailing byte', Buffer.concat([good, Buffer.from([0])])],
      ['leading zero byte', Buffer.concat([Buffer.from([0]), good])],
      ['truncated', good.subarray(1)],
      ['empty', Buffer.alloc(0)],
      ['zero', Buffer.alloc(256)],
      ['above the modulus', Buffer.alloc(256, 0xff)],
    ];
    for (const [what, signature] of malformed) assert.ok(!rsaVerify(key2048.publicKey, 'PSS', hash, true, digest, signature), what);
    const flipped = Buffer.from(digest);
    flipped[0]! ^= 1;
    assert.ok(!rsaVerify(key2048.publicKey, 'PSS', hash, true, flipped, good), 'changed digest');
    // The digest length is part of the algorithm (src/kms/key-specs/ reports it to the caller first).
    assert.throws(() => rsaSign(key2048.privateKey, 'PSS', hash, true, Buffer.concat([digest, Buffer.from([0])])), RangeError);
    assert.throws(() => rsaVerify(key2048.publicKey, 'PSS', hash, true, digest.subarray(1), good), RangeError);
  });
}

// --- Wycheproof ------------------------------------------------------------------------------------------

interface SigTest { tcId: number; comment?: string; msg: string; sig: string; result: 'valid' | 'invalid' | 'acceptable'; flags: string[] }
interface SigGroup { keySize: number; sha: string; publicKeyDer: string; sLen?: number; mgfSha?: string; tests: SigTest[] }

// RSASSA-PKCS1-v1_5 verify, through the public API, on both paths: RAW (OpenSSL verifies the message) and
// DIGEST (the message's digest, verified by recovering and comparing the DigestInfo).
// "acceptable" (one per file, MissingNull: a DigestInfo without the NULL parameter): we reject it on both
// paths (OpenSSL's RAW verify and our exact DigestInfo comparison); KMS's own signatures always carry NULL.
const PKCS1_FILES: Array<[string, number]> = [
  ['rsa_signature_2048_sha256_test.json', 259], ['rsa_signature_2048_sha384_test.json', 258],
  ['rsa_signature_2048_sha512_test.json', 259], ['rsa_signature_3072_sha256_test.json', 259],
  ['rsa_signature_3072_sha384_test.json', 259], ['rsa_signature_3072_sha512_test.json', 260],
  ['rsa_signature_4096_sha256_test.json', 258], ['rsa_signature_4096_sha384_test.json', 259],
  ['rsa_signature_4096_sha512_test.json', 259],
];
for (const [file, minimum] of PKCS1_FILES) {
  test(`Wycheproof ${file}: RSASSA-PKCS1-v1_5 verify (RAW and DIGEST) accepts valid, rejects invalid`, () => {
    let checked = 0;
    for (const group of vectors<SigGroup>(file).testGroups) {
      const type = TYPE_BY_BITS[group.keySize]!;
      const hash = NODE_HASH[group.sha]!;
      const scheme = { scheme: 'RSA_PKCS1_V1_5', hash } as const;
      const spki = hex(group.publicKeyDer);
      for (const t of group.tests) {
        const msg = hex(t.msg);
        const raw = verify(type, spki, scheme, 'RAW', msg, hex(t.sig));
        const digest = verify(type, spki, scheme, 'DIGEST', createHash(hash).update(msg).digest(), hex(t.sig));
        const label = `tcId ${t.tcId} ${t.flags.join(',')}`;
        if (t.result === 'valid') assert.ok(raw && digest, label);
        else if (t.result === 'invalid') assert.ok(!raw && !digest, label);
        else assert.ok(!raw && !digest, label); // acceptable: rejected, see above
        checked++;
      }
    }
    assert.ok(checked >= minimum, `checked ${checked} vectors`);
  });
}

// RSASSA-PSS verify, through the public API, on both paths: RAW (OpenSSL hashes and verifies the message) and
// DIGEST (the message's digest, node-forge's EMSA-PSS-VERIFY around OpenSSL's RSAVP1). Every file has
// sLen = hLen and MGF1 with the signature hash, which is exactly AWS's RSASSA_PSS_SHA_*; the test asserts that.
const PSS_FILES: Array<[string, number]> = [
  ['rsa_pss_2048_sha256_mgf1_32_test.json', 108], ['rsa_pss_2048_sha384_mgf1_48_test.json', 141],
  ['rsa_pss_3072_sha256_mgf1_32_test.json', 108], ['rsa_pss_4096_sha384_mgf1_48_test.json', 141],
  ['rsa_pss_4096_sha512_mgf1_64_test.json', 179],
];
for (const [file, minimum] of PSS_FILES) {
  for (const messageType of ['RAW', 'DIGEST'] as const) {
    test(`Wycheproof ${file}: RSASSA-PSS verify (${messageType}) accepts valid, rejects invalid`, () => {
      let checked = 0;
      for (const group of vectors<SigGroup>(file).testGroups) {
        const type = TYPE_BY_BITS[group.keySize]!;
        const hash = NODE_HASH[group.sha]!;
        assert.equal(group.mgfSha, group.sha);
        assert.equal(group.sLen, HASH_BYTES[hash]);
        const scheme = { scheme: 'RSA_PSS', hash } as const;
        for (const t of group.tests) {
          assert.notEqual(t.result, 'acceptable'); // none in these files; a new one would need a decision
          const msg = hex(t.msg);
          const input = messageType === 'RAW' ? msg : createHash(hash).update(msg).digest();
          const ok = verify(type, hex(group.publicKeyDer), scheme, messageType, input, hex(t.sig));
          assert.equal(ok, t.result === 'valid', `tcId ${t.tcId} ${t.comment ?? ''} ${t.flags.join(',')}`);
          checked++;
        }
      }
      assert.ok(checked >= minimum, `checked ${checked} vectors`);
    });
  }
}

// RSAES-OAEP decrypt with the vector's PKCS#8 private key (`privateKeyPkcs8`, hex DER). AWS has no OAEP
// label, so the API has none: vectors encrypted under a non-empty label must fail like any other
// invalid ciphertext — they are counted as rejections. There are no "acceptable" vectors.
interface OaepTest { tcId: number; msg: string; ct: string; label: string; result: string; flags: string[] }
interface OaepGroup { keySize: number; sha: string; mgfSha: string; privateKeyPkcs8: string; tests: OaepTest[] }
const OAEP_FILES: Array<[string, RsaOaepHash, number]> = [
  ['rsa_oaep_2048_sha1_mgf1sha1_test.json', 'sha1', 36],
  ['rsa_oaep_2048_sha256_mgf1sha256_test.json', 'sha256', 37],
  ['rsa_oaep_3072_sha256_mgf1sha256_test.json', 'sha256', 37],
  ['rsa_oaep_4096_sha256_mgf1sha256_test.json', 'sha256', 37],
];
for (const [file, alg, minimum] of OAEP_FILES) {
  test(`Wycheproof ${file}: RSAES-OAEP decrypt recovers valid, rejects invalid with one uniform error`, () => {
    let checked = 0;
    let labelled = 0;
    for (const group of vectors<OaepGroup>(file).testGroups) {
      assert.equal(group.mgfSha, group.sha);
      const key = SecretBytes.copyOf(hex(group.privateKeyPkcs8));
      for (const t of group.tests) {
        const label = `tcId ${t.tcId} ${t.flags.join(',')}`;
        assert.notEqual(t.result, 'acceptable');
        if (t.result === 'valid' && t.label === '') {
          assert.equal(rsaOaepDecrypt(key, alg, hex(t.ct)).toString('hex'), t.msg, label);
        } else {
          if (t.label !== '') labelled++;
          assert.throws(() => rsaOaepDecrypt(key, alg, hex(t.ct)), (e: unknown) => e instanceof DecryptionError && e.message === 'decryption failed', label);
        }
        checked++;
      }
    }
    assert.ok(checked >= minimum, `checked ${checked} vectors`);
    assert.ok(labelled >= 7, `labelled ${labelled}`);
  });
}

test('a public key of a size KMS does not offer is refused as key material', () => {
  const small = generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } });
  assert.throws(() => verify({ family: 'rsa', bits: 2048 }, small.publicKey, { scheme: 'RSA_PSS', hash: 'sha256' }, 'RAW', Buffer.from('m'), Buffer.alloc(128)), InvalidKeyMaterialError);
  assert.throws(() => rsaOaepDecrypt(SecretBytes.copyOf(small.privateKey), 'sha256', Buffer.alloc(128)), InvalidKeyMaterialError);
});

test('RSA key generation leaves the event loop free: other callbacks run while a 4096-bit key is made', async () => {
  let turns = 0;
  let spinning = true;
  const spin = () => {
    turns++;
    if (spinning) setImmediate(spin);
  };
  setImmediate(spin);
  const pair = await rsaGenerateKeyPair(4096);
  spinning = false;
  assert.ok(turns > 0, 'no other callback ran during generation: it blocked the event loop');
  assert.equal(createPublicKey({ key: pair.publicKeySpki, format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength, 4096);
});
