import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { inspect } from 'node:util';

import { DecryptionError, InvalidKeyMaterialError, InvalidPublicKeyError } from '../../crypto/asymmetric.ts';
import { mlDsaDecodeSpki } from '../../crypto/mldsa.ts';
import { SecretBytes } from '../../crypto/secret-bytes.ts';
import { IncompatibleAlgorithmError, InvalidMessageError, PlaintextTooLargeError } from './asymmetric-common.ts';
import {
  ASYMMETRIC_KEY_SPECS, encryptionAlgorithmsFor, generateKeyPair, keyAgreementAlgorithmsFor, publicKeyFromPrivate, sign,
  signingAlgorithmsFor, signOffLoop, verify, type AsymmetricKeySpec,
} from './asymmetric.ts';
import { ecdhDeriveSharedSecret, type EcdhKeySpec } from './ecc.ts';
import { rsaOaepDecrypt, rsaOaepEncrypt, rsaOaepMaxPlaintext, type RsaEncryptionAlgorithm } from './rsa.ts';
import { digestLengthFor, messageTypesFor, SIGNING_ALGORITHMS, type MessageType, type SigningAlgorithm } from './signing-algorithms.ts';

// Two key pairs per spec, generated once for the whole file (RSA-4096 generation is the slow part).
type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
const KEYS = new Map<AsymmetricKeySpec, [KeyPair, KeyPair]>(
  await Promise.all(ASYMMETRIC_KEY_SPECS.map(async (spec): Promise<[AsymmetricKeySpec, [KeyPair, KeyPair]]> => [spec, [await generateKeyPair(spec), await generateKeyPair(spec)]])),
);
const keyOf = (spec: AsymmetricKeySpec, n: 0 | 1 = 0): KeyPair => KEYS.get(spec)![n];

const MESSAGE = Buffer.from('Trent signs this message.');
const HASH_OF: Partial<Record<SigningAlgorithm, string>> = {
  RSASSA_PSS_SHA_256: 'sha256', RSASSA_PSS_SHA_384: 'sha384', RSASSA_PSS_SHA_512: 'sha512',
  RSASSA_PKCS1_V1_5_SHA_256: 'sha256', RSASSA_PKCS1_V1_5_SHA_384: 'sha384', RSASSA_PKCS1_V1_5_SHA_512: 'sha512',
  ECDSA_SHA_256: 'sha256', ECDSA_SHA_384: 'sha384', ECDSA_SHA_512: 'sha512', ED25519_PH_SHA_512: 'sha512',
};
const ML_DSA_SET = { ML_DSA_44: 'ML-DSA-44', ML_DSA_65: 'ML-DSA-65', ML_DSA_87: 'ML-DSA-87' } as const;

/** The `message` argument for a message type: the message, its digest, or its FIPS 204 external μ. */
function input(spec: AsymmetricKeySpec, alg: SigningAlgorithm, messageType: MessageType, message: Buffer): Buffer {
  if (messageType === 'RAW') return message;
  if (messageType === 'DIGEST') return createHash(HASH_OF[alg]!).update(message).digest();
  const raw = mlDsaDecodeSpki(ML_DSA_SET[spec as keyof typeof ML_DSA_SET], keyOf(spec).publicKeySpki)!;
  const tr = createHash('shake256', { outputLength: 64 }).update(raw).digest();
  return createHash('shake256', { outputLength: 64 }).update(tr).update(Buffer.from([0, 0])).update(message).digest();
}

// --- The AWS matrix (aws-api.md §1.2) ---------------------------------------------------------------------

test('AWS matrix: signing, encryption and key-agreement algorithms per key spec', () => {
  const RSA_SIGNING = ['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512',
    'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512'];
  const OAEP = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'];
  const expected: Record<AsymmetricKeySpec, [string[], string[], string[]]> = {
    RSA_2048: [RSA_SIGNING, OAEP, []],
    RSA_3072: [RSA_SIGNING, OAEP, []],
    RSA_4096: [RSA_SIGNING, OAEP, []],
    ECC_NIST_P256: [['ECDSA_SHA_256'], [], ['ECDH']],
    ECC_NIST_P384: [['ECDSA_SHA_384'], [], ['ECDH']],
    ECC_NIST_P521: [['ECDSA_SHA_512'], [], ['ECDH']],
    ECC_SECG_P256K1: [['ECDSA_SHA_256'], [], []],
    ECC_NIST_EDWARDS25519: [['ED25519_SHA_512', 'ED25519_PH_SHA_512'], [], []],
    ML_DSA_44: [['ML_DSA_SHAKE_256'], [], []],
    ML_DSA_65: [['ML_DSA_SHAKE_256'], [], []],
    ML_DSA_87: [['ML_DSA_SHAKE_256'], [], []],
  };
  assert.deepEqual([...ASYMMETRIC_KEY_SPECS].sort(), Object.keys(expected).sort());
  for (const spec of ASYMMETRIC_KEY_SPECS) {
    assert.deepEqual([signingAlgorithmsFor(spec), encryptionAlgorithmsFor(spec), keyAgreementAlgorithmsFor(spec)], expected[spec], spec);
  }
});

test('AWS matrix: message types and DIGEST lengths per signing algorithm', () => {
  const expected: Record<SigningAlgorithm, [MessageType[], number | undefined]> = {
    RSASSA_PSS_SHA_256: [['RAW', 'DIGEST'], 32], RSASSA_PSS_SHA_384: [['RAW', 'DIGEST'], 48], RSASSA_PSS_SHA_512: [['RAW', 'DIGEST'], 64],
    RSASSA_PKCS1_V1_5_SHA_256: [['RAW', 'DIGEST'], 32], RSASSA_PKCS1_V1_5_SHA_384: [['RAW', 'DIGEST'], 48],
    RSASSA_PKCS1_V1_5_SHA_512: [['RAW', 'DIGEST'], 64],
    ECDSA_SHA_256: [['RAW', 'DIGEST'], 32], ECDSA_SHA_384: [['RAW', 'DIGEST'], 48], ECDSA_SHA_512: [['RAW', 'DIGEST'], 64],
    ED25519_SHA_512: [['RAW'], undefined], ED25519_PH_SHA_512: [['DIGEST'], 64],
    ML_DSA_SHAKE_256: [['RAW', 'EXTERNAL_MU'], undefined],
  };
  assert.deepEqual([...SIGNING_ALGORITHMS].sort(), Object.keys(expected).sort());
  for (const alg of SIGNING_ALGORITHMS) assert.deepEqual([messageTypesFor(alg), digestLengthFor(alg)], expected[alg], alg);
});

// --- Sign / verify round trips: every spec × algorithm × message type -------------------------------------

for (const spec of ASYMMETRIC_KEY_SPECS) {
  test(`${spec}: every algorithm and message type signs and verifies; a changed message or another key's signature does not verify`, () => {
    const [mine, other] = [keyOf(spec, 0), keyOf(spec, 1)];
    assert.ok(mine.privateKeyPkcs8 instanceof SecretBytes);
    assert.deepEqual(publicKeyFromPrivate(spec, mine.privateKeyPkcs8), mine.publicKeySpki);
    assert.notDeepEqual(other.publicKeySpki, mine.publicKeySpki);
    let combinations = 0;
    for (const alg of signingAlgorithmsFor(spec)) {
      for (const messageType of messageTypesFor(alg)) {
        const label = `${spec} ${alg} ${messageType}`;
        const data = input(spec, alg, messageType, MESSAGE);
        const signature = sign(spec, mine.privateKeyPkcs8, alg, messageType, data);
        assert.ok(verify(spec, mine.publicKeySpki, alg, messageType, data, signature), label);
        const changed = input(spec, alg, messageType, Buffer.from('Trent signs this massage.'));
        assert.ok(!verify(spec, mine.publicKeySpki, alg, messageType, changed, signature), `${label}: changed message`);
        const theirs = sign(spec, other.privateKeyPkcs8, alg, messageType, data);
        assert.ok(!verify(spec, mine.publicKeySpki, alg, messageType, data, theirs), `${label}: other key`);
        const flipped = Buffer.from(signature);
        flipped[flipped.length >> 1]! ^= 0x10;
        assert.ok(!verify(spec, mine.publicKeySpki, alg, messageType, data, flipped), `${label}: flipped bit`);
        assert.ok(!verify(spec, mine.publicKeySpki, alg, messageType, data, signature.subarray(1)), `${label}: truncated`);
        assert.ok(!verify(spec, mine.publicKeySpki, alg, messageType, data, Buffer.alloc(0)), `${label}: empty`);
        combinations++;
      }
    }
    assert.ok(combinations >= 1);
  });
}

test('DIGEST and RAW are one scheme: each verifies the other (RSASSA-PSS, RSASSA-PKCS1-v1_5, ECDSA)', () => {
  const cases: Array<[AsymmetricKeySpec, SigningAlgorithm]> = [
    ['RSA_2048', 'RSASSA_PSS_SHA_256'], ['RSA_2048', 'RSASSA_PSS_SHA_512'], ['RSA_3072', 'RSASSA_PSS_SHA_384'],
    ['RSA_4096', 'RSASSA_PSS_SHA_256'], ['RSA_4096', 'RSASSA_PSS_SHA_512'],
    ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_256'], ['RSA_3072', 'RSASSA_PKCS1_V1_5_SHA_384'], ['RSA_4096', 'RSASSA_PKCS1_V1_5_SHA_512'],
    ['ECC_NIST_P256', 'ECDSA_SHA_256'], ['ECC_NIST_P384', 'ECDSA_SHA_384'], ['ECC_NIST_P521', 'ECDSA_SHA_512'],
    ['ECC_SECG_P256K1', 'ECDSA_SHA_256'],
  ];
  for (const [spec, alg] of cases) {
    const { privateKeyPkcs8, publicKeySpki } = keyOf(spec);
    const digest = input(spec, alg, 'DIGEST', MESSAGE);
    const raw = sign(spec, privateKeyPkcs8, alg, 'RAW', MESSAGE);
    const pre = sign(spec, privateKeyPkcs8, alg, 'DIGEST', digest);
    assert.ok(verify(spec, publicKeySpki, alg, 'DIGEST', digest, raw), `${alg} RAW→DIGEST`);
    assert.ok(verify(spec, publicKeySpki, alg, 'RAW', MESSAGE, pre), `${alg} DIGEST→RAW`);
  }
});

// --- Request checks ---------------------------------------------------------------------------------------

test('an algorithm the key spec does not allow is IncompatibleAlgorithmError, with the AWS wording', () => {
  const p256 = keyOf('ECC_NIST_P256');
  assert.throws(() => sign('ECC_NIST_P256', p256.privateKeyPkcs8, 'ECDSA_SHA_384', 'RAW', MESSAGE),
    (e: unknown) => e instanceof IncompatibleAlgorithmError && e.message === 'Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256.');
  assert.throws(() => verify('ECC_NIST_P256', p256.publicKeySpki, 'RSASSA_PSS_SHA_256', 'RAW', MESSAGE, Buffer.alloc(64)), IncompatibleAlgorithmError);
  assert.throws(() => sign('RSA_2048', keyOf('RSA_2048').privateKeyPkcs8, 'ML_DSA_SHAKE_256', 'RAW', MESSAGE), IncompatibleAlgorithmError);
  assert.throws(() => sign('ML_DSA_44', keyOf('ML_DSA_44').privateKeyPkcs8, 'ED25519_SHA_512', 'RAW', MESSAGE), IncompatibleAlgorithmError);
});

test('a message type the algorithm does not take, or a digest / μ of the wrong length, is InvalidMessageError', () => {
  const ed = keyOf('ECC_NIST_EDWARDS25519');
  const p384 = keyOf('ECC_NIST_P384');
  const ml = keyOf('ML_DSA_65');
  const digest64 = createHash('sha512').update(MESSAGE).digest();
  assert.throws(() => sign('ECC_NIST_EDWARDS25519', ed.privateKeyPkcs8, 'ED25519_SHA_512', 'DIGEST', digest64), InvalidMessageError);
  assert.throws(() => sign('ECC_NIST_EDWARDS25519', ed.privateKeyPkcs8, 'ED25519_PH_SHA_512', 'RAW', MESSAGE), InvalidMessageError);
  assert.throws(() => sign('ML_DSA_65', ml.privateKeyPkcs8, 'ML_DSA_SHAKE_256', 'DIGEST', digest64), InvalidMessageError);
  assert.throws(() => sign('ECC_NIST_P384', p384.privateKeyPkcs8, 'ECDSA_SHA_384', 'EXTERNAL_MU', digest64), InvalidMessageError);
  assert.throws(() => sign('ML_DSA_65', ml.privateKeyPkcs8, 'ML_DSA_SHAKE_256', 'EXTERNAL_MU', digest64.subarray(1)), InvalidMessageError);
  assert.throws(() => sign('ECC_NIST_P384', p384.privateKeyPkcs8, 'ECDSA_SHA_384', 'DIGEST', digest64),
    (e: unknown) => e instanceof InvalidMessageError && e.message === 'Digest is invalid length for algorithm ECDSA_SHA_384.');
  assert.throws(() => verify('ECC_NIST_P384', p384.publicKeySpki, 'ECDSA_SHA_384', 'DIGEST', digest64.subarray(0, 32), Buffer.alloc(8)), InvalidMessageError);
  assert.throws(() => sign('ECC_NIST_EDWARDS25519', ed.privateKeyPkcs8, 'ED25519_PH_SHA_512', 'DIGEST', digest64.subarray(0, 32)), InvalidMessageError);
  assert.throws(() => sign('RSA_2048', keyOf('RSA_2048').privateKeyPkcs8, 'RSASSA_PKCS1_V1_5_SHA_256', 'DIGEST', digest64), InvalidMessageError);
  // AWS: "Digest is invalid length for algorithm RSASSA_PSS_SHA_256." (recorded)
  assert.throws(() => sign('RSA_2048', keyOf('RSA_2048').privateKeyPkcs8, 'RSASSA_PSS_SHA_256', 'DIGEST', digest64),
    (e: unknown) => e instanceof InvalidMessageError && e.message === 'Digest is invalid length for algorithm RSASSA_PSS_SHA_256.');
  assert.throws(() => verify('RSA_3072', keyOf('RSA_3072').publicKeySpki, 'RSASSA_PSS_SHA_384', 'DIGEST', digest64, Buffer.alloc(384)), InvalidMessageError);
});

test('key material that is not of the key spec is InvalidKeyMaterialError', () => {
  const p256 = keyOf('ECC_NIST_P256');
  assert.throws(() => sign('ECC_NIST_P384', p256.privateKeyPkcs8, 'ECDSA_SHA_384', 'RAW', MESSAGE), InvalidKeyMaterialError);
  assert.throws(() => verify('ECC_SECG_P256K1', p256.publicKeySpki, 'ECDSA_SHA_256', 'RAW', MESSAGE, Buffer.alloc(70)), InvalidKeyMaterialError);
  assert.throws(() => sign('RSA_3072', keyOf('RSA_2048').privateKeyPkcs8, 'RSASSA_PSS_SHA_256', 'RAW', MESSAGE), InvalidKeyMaterialError);
  assert.throws(() => sign('ECC_NIST_EDWARDS25519', p256.privateKeyPkcs8, 'ED25519_SHA_512', 'RAW', MESSAGE), InvalidKeyMaterialError);
  assert.throws(() => sign('ML_DSA_87', keyOf('ML_DSA_44').privateKeyPkcs8, 'ML_DSA_SHAKE_256', 'RAW', MESSAGE), InvalidKeyMaterialError);
  assert.throws(() => publicKeyFromPrivate('RSA_2048', SecretBytes.copyOf(Buffer.from('not a key'))), InvalidKeyMaterialError);
  assert.throws(() => verify('ML_DSA_44', keyOf('ML_DSA_65').publicKeySpki, 'ML_DSA_SHAKE_256', 'RAW', MESSAGE, Buffer.alloc(8)), InvalidKeyMaterialError);
});

test('private keys are SecretBytes and never print', () => {
  const { privateKeyPkcs8 } = keyOf('ECC_NIST_P256');
  assert.equal(String(privateKeyPkcs8), '[SecretBytes redacted]');
  assert.ok(!inspect({ privateKeyPkcs8 }).includes(privateKeyPkcs8.expose().toString('hex').slice(0, 16)));
});

// --- RSAES-OAEP ------------------------------------------------------------------------------------------

const AWS_OAEP_MAX: Record<'RSA_2048' | 'RSA_3072' | 'RSA_4096', Record<RsaEncryptionAlgorithm, number>> = {
  RSA_2048: { RSAES_OAEP_SHA_1: 214, RSAES_OAEP_SHA_256: 190 },
  RSA_3072: { RSAES_OAEP_SHA_1: 342, RSAES_OAEP_SHA_256: 318 },
  RSA_4096: { RSAES_OAEP_SHA_1: 470, RSAES_OAEP_SHA_256: 446 },
};
for (const spec of ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const) {
  for (const alg of encryptionAlgorithmsFor(spec)) {
    test(`${spec} ${alg}: round trip at the AWS maximum of ${AWS_OAEP_MAX[spec][alg]} bytes; one byte more is refused`, () => {
      const { privateKeyPkcs8, publicKeySpki } = keyOf(spec);
      const max = rsaOaepMaxPlaintext(spec, alg);
      assert.equal(max, AWS_OAEP_MAX[spec][alg]);
      const plaintext = Buffer.alloc(max, 0xa5);
      const ciphertext = rsaOaepEncrypt(publicKeySpki, alg, plaintext);
      assert.equal(ciphertext.length, Number(spec.slice(4)) / 8);
      assert.deepEqual(rsaOaepDecrypt(privateKeyPkcs8, alg, ciphertext), plaintext);
      assert.notDeepEqual(rsaOaepEncrypt(publicKeySpki, alg, plaintext), ciphertext); // randomised
      assert.deepEqual(rsaOaepDecrypt(privateKeyPkcs8, alg, rsaOaepEncrypt(publicKeySpki, alg, Buffer.alloc(0))), Buffer.alloc(0));
      assert.throws(() => rsaOaepEncrypt(publicKeySpki, alg, Buffer.alloc(max + 1)),
        (e: unknown) => e instanceof PlaintextTooLargeError && e.maxBytes === max
          && e.message === `Algorithm ${alg} and key spec ${spec} cannot encrypt data larger than ${max} bytes.`);
    });
  }
}

test('RSAES-OAEP decryption failures are one uniform DecryptionError', () => {
  const { privateKeyPkcs8, publicKeySpki } = keyOf('RSA_2048');
  const ciphertext = rsaOaepEncrypt(publicKeySpki, 'RSAES_OAEP_SHA_256', Buffer.from('secret'));
  const flipped = Buffer.from(ciphertext);
  flipped[100]! ^= 1;
  const failures = [
    () => rsaOaepDecrypt(privateKeyPkcs8, 'RSAES_OAEP_SHA_256', flipped),
    () => rsaOaepDecrypt(privateKeyPkcs8, 'RSAES_OAEP_SHA_1', ciphertext), // other algorithm
    () => rsaOaepDecrypt(keyOf('RSA_2048', 1).privateKeyPkcs8, 'RSAES_OAEP_SHA_256', ciphertext), // other key
    () => rsaOaepDecrypt(privateKeyPkcs8, 'RSAES_OAEP_SHA_256', ciphertext.subarray(1)), // short
    () => rsaOaepDecrypt(privateKeyPkcs8, 'RSAES_OAEP_SHA_256', Buffer.concat([ciphertext, Buffer.alloc(1)])), // long
    () => rsaOaepDecrypt(privateKeyPkcs8, 'RSAES_OAEP_SHA_256', Buffer.alloc(256, 0xff)), // ≥ modulus
    () => rsaOaepDecrypt(privateKeyPkcs8, 'RSAES_OAEP_SHA_256', Buffer.alloc(0)),
  ];
  for (const [i, fail] of failures.entries()) {
    assert.throws(fail, (e: unknown) => e instanceof DecryptionError && e.message === 'decryption failed' && e.code === 'DecryptionFailed', `case ${i}`);
  }
  assert.throws(() => rsaOaepMaxPlaintext('ECC_NIST_P256', 'RSAES_OAEP_SHA_256'), IncompatibleAlgorithmError);
  assert.throws(() => rsaOaepEncrypt(keyOf('ECC_NIST_P256').publicKeySpki, 'RSAES_OAEP_SHA_256', Buffer.from('x')), InvalidKeyMaterialError);
});

// --- ECDH ------------------------------------------------------------------------------------------------

for (const [spec, bytes] of [['ECC_NIST_P256', 32], ['ECC_NIST_P384', 48], ['ECC_NIST_P521', 66]] as Array<[EcdhKeySpec, number]>) {
  test(`${spec} ECDH: both sides derive the same ${bytes}-byte secret; bad and wrong-curve peers are refused`, () => {
    const [a, b] = [keyOf(spec, 0), keyOf(spec, 1)];
    const ab = ecdhDeriveSharedSecret(spec, a.privateKeyPkcs8, b.publicKeySpki);
    const ba = ecdhDeriveSharedSecret(spec, b.privateKeyPkcs8, a.publicKeySpki);
    assert.ok(ab instanceof SecretBytes);
    assert.equal(ab.length, bytes);
    assert.ok(ab.equals(ba));
    const otherCurve = spec === 'ECC_NIST_P256' ? 'ECC_NIST_P384' : 'ECC_NIST_P256';
    const badPeers = [
      keyOf(otherCurve).publicKeySpki,
      keyOf('ECC_SECG_P256K1').publicKeySpki,
      keyOf('ECC_NIST_EDWARDS25519').publicKeySpki,
      keyOf('RSA_2048').publicKeySpki,
      Buffer.concat([b.publicKeySpki, Buffer.from([0])]), // trailing byte
      b.publicKeySpki.subarray(0, -1),
      Buffer.alloc(0),
    ];
    const offCurve = Buffer.from(b.publicKeySpki);
    offCurve[offCurve.length - 1]! ^= 1; // y no longer matches x
    badPeers.push(offCurve);
    for (const [i, peer] of badPeers.entries()) {
      assert.throws(() => ecdhDeriveSharedSecret(spec, a.privateKeyPkcs8, peer), InvalidPublicKeyError, `peer ${i}`);
    }
    assert.throws(() => ecdhDeriveSharedSecret(spec, keyOf(otherCurve).privateKeyPkcs8, b.publicKeySpki), InvalidKeyMaterialError);
  });
}

test('AWS: ECC_SECG_P256K1 is not a key-agreement spec', () => {
  const k1 = keyOf('ECC_SECG_P256K1');
  assert.throws(() => ecdhDeriveSharedSecret('ECC_SECG_P256K1' as EcdhKeySpec, k1.privateKeyPkcs8, keyOf('ECC_SECG_P256K1', 1).publicKeySpki), IncompatibleAlgorithmError);
});

// --- Interoperability with the OpenSSL command line --------------------------------------------------------

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

function withTempDir(run: (path: (name: string) => string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'trent-asym-'));
  try {
    run((name) => join(dir, name));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const publicPem = (spki: Buffer): string => createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
const privatePem = (pkcs8: SecretBytes): string =>
  createPrivateKey({ key: pkcs8.expose(), format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
const openssl = (args: string[]): boolean => spawnSync('openssl', args, { stdio: 'pipe' }).status === 0;

test('OpenSSL CLI verifies our ECDSA P-256 signatures (RAW via dgst, DIGEST via pkeyutl) and we verify its', { skip: !hasOpenssl }, () => {
  withTempDir((p) => {
    const { privateKeyPkcs8, publicKeySpki } = keyOf('ECC_NIST_P256');
    writeFileSync(p('pub.pem'), publicPem(publicKeySpki));
    writeFileSync(p('key.pem'), privatePem(privateKeyPkcs8), { mode: 0o600 });
    writeFileSync(p('msg'), MESSAGE);
    writeFileSync(p('bad'), Buffer.from('Trent signs this massage.'));
    writeFileSync(p('digest'), createHash('sha256').update(MESSAGE).digest());
    writeFileSync(p('raw.sig'), sign('ECC_NIST_P256', privateKeyPkcs8, 'ECDSA_SHA_256', 'RAW', MESSAGE));
    writeFileSync(p('digest.sig'), sign('ECC_NIST_P256', privateKeyPkcs8, 'ECDSA_SHA_256', 'DIGEST', readFileSync(p('digest'))));
    assert.ok(openssl(['dgst', '-sha256', '-verify', p('pub.pem'), '-signature', p('raw.sig'), p('msg')]));
    assert.ok(!openssl(['dgst', '-sha256', '-verify', p('pub.pem'), '-signature', p('raw.sig'), p('bad')]));
    assert.ok(openssl(['pkeyutl', '-verify', '-pubin', '-inkey', p('pub.pem'), '-in', p('digest'), '-sigfile', p('digest.sig')]));
    assert.ok(openssl(['dgst', '-sha256', '-verify', p('pub.pem'), '-signature', p('digest.sig'), p('msg')]));
    execFileSync('openssl', ['dgst', '-sha256', '-sign', p('key.pem'), '-out', p('openssl.sig'), p('msg')]);
    const theirs = readFileSync(p('openssl.sig'));
    assert.ok(verify('ECC_NIST_P256', publicKeySpki, 'ECDSA_SHA_256', 'RAW', MESSAGE, theirs));
    assert.ok(verify('ECC_NIST_P256', publicKeySpki, 'ECDSA_SHA_256', 'DIGEST', readFileSync(p('digest')), theirs));
  });
});

test('OpenSSL CLI verifies our RSASSA-PSS-SHA256 (salt 32) and PKCS#1 v1.5 DIGEST signatures, and we verify its PSS', { skip: !hasOpenssl }, () => {
  withTempDir((p) => {
    const { privateKeyPkcs8, publicKeySpki } = keyOf('RSA_2048');
    const pss = ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', '-sigopt', 'rsa_mgf1_md:sha256'];
    writeFileSync(p('pub.pem'), publicPem(publicKeySpki));
    writeFileSync(p('key.pem'), privatePem(privateKeyPkcs8), { mode: 0o600 });
    writeFileSync(p('msg'), MESSAGE);
    writeFileSync(p('bad'), Buffer.from('Trent signs this massage.'));
    writeFileSync(p('digest'), createHash('sha256').update(MESSAGE).digest());
    writeFileSync(p('pss.sig'), sign('RSA_2048', privateKeyPkcs8, 'RSASSA_PSS_SHA_256', 'RAW', MESSAGE));
    writeFileSync(p('pkcs1.sig'), sign('RSA_2048', privateKeyPkcs8, 'RSASSA_PKCS1_V1_5_SHA_256', 'DIGEST', readFileSync(p('digest'))));
    assert.ok(openssl(['dgst', '-sha256', ...pss, '-verify', p('pub.pem'), '-signature', p('pss.sig'), p('msg')]));
    assert.ok(!openssl(['dgst', '-sha256', ...pss, '-verify', p('pub.pem'), '-signature', p('pss.sig'), p('bad')]));
    // A salt other than the digest length is not what AWS (or we) produce.
    assert.ok(!openssl(['dgst', '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:20', '-verify', p('pub.pem'), '-signature', p('pss.sig'), p('msg')]));
    assert.ok(openssl(['pkeyutl', '-verify', '-pubin', '-inkey', p('pub.pem'), '-pkeyopt', 'digest:sha256', '-in', p('digest'), '-sigfile', p('pkcs1.sig')]));
    execFileSync('openssl', ['dgst', '-sha256', ...pss, '-sign', p('key.pem'), '-out', p('openssl.sig'), p('msg')]);
    assert.ok(verify('RSA_2048', publicKeySpki, 'RSASSA_PSS_SHA_256', 'RAW', MESSAGE, readFileSync(p('openssl.sig'))));
  });
});

const PSS_HASHES = [['RSASSA_PSS_SHA_256', 'sha256'], ['RSASSA_PSS_SHA_384', 'sha384'], ['RSASSA_PSS_SHA_512', 'sha512']] as const;

test('OpenSSL CLI verifies our RSASSA-PSS DIGEST signatures over the digest (pkeyutl) and over the message (dgst), every RSA size and hash', { skip: !hasOpenssl }, () => {
  withTempDir((p) => {
    writeFileSync(p('msg'), MESSAGE);
    for (const spec of ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const) {
      const { privateKeyPkcs8, publicKeySpki } = keyOf(spec);
      writeFileSync(p('pub.pem'), publicPem(publicKeySpki));
      for (const [alg, hash] of PSS_HASHES) {
        const label = `${spec} ${alg}`;
        const digest = createHash(hash).update(MESSAGE).digest();
        writeFileSync(p('digest'), digest);
        writeFileSync(p('sig'), sign(spec, privateKeyPkcs8, alg, 'DIGEST', digest));
        // rsa_pss_saltlen:digest makes OpenSSL insist on a salt exactly as long as the digest; MGF1 defaults to the digest.
        const pkeyutl = (saltlen: string) => openssl(['pkeyutl', '-verify', '-pubin', '-inkey', p('pub.pem'), '-pkeyopt', 'rsa_padding_mode:pss',
          '-pkeyopt', `digest:${hash}`, '-pkeyopt', `rsa_pss_saltlen:${saltlen}`, '-in', p('digest'), '-sigfile', p('sig')]);
        assert.ok(pkeyutl('digest'), `${label}: pkeyutl over the digest`);
        assert.ok(!pkeyutl('20'), `${label}: pkeyutl with salt length 20`);
        assert.ok(openssl(['dgst', `-${hash}`, '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest', '-verify', p('pub.pem'),
          '-signature', p('sig'), p('msg')]), `${label}: dgst over the message`);
      }
    }
  });
});

test('OpenSSL CLI PSS signatures over a digest verify here (DIGEST and RAW) with AWS\'s parameters only: another salt length or MGF1 hash is rejected', { skip: !hasOpenssl }, () => {
  withTempDir((p) => {
    const { privateKeyPkcs8, publicKeySpki } = keyOf('RSA_2048');
    writeFileSync(p('key.pem'), privatePem(privateKeyPkcs8), { mode: 0o600 });
    for (const [alg, hash] of PSS_HASHES) {
      const digest = createHash(hash).update(MESSAGE).digest();
      writeFileSync(p('digest'), digest);
      const opensslSign = (...pkeyopts: string[]): Buffer => {
        execFileSync('openssl', ['pkeyutl', '-sign', '-inkey', p('key.pem'), '-pkeyopt', 'rsa_padding_mode:pss', '-pkeyopt', `digest:${hash}`,
          ...pkeyopts.flatMap((o) => ['-pkeyopt', o]), '-in', p('digest'), '-out', p('sig')]);
        return readFileSync(p('sig'));
      };
      const theirs = opensslSign('rsa_pss_saltlen:digest');
      assert.ok(verify('RSA_2048', publicKeySpki, alg, 'DIGEST', digest, theirs), `${alg}: DIGEST`);
      assert.ok(verify('RSA_2048', publicKeySpki, alg, 'RAW', MESSAGE, theirs), `${alg}: RAW`);
      const otherMgf = hash === 'sha256' ? 'sha384' : 'sha256';
      for (const variant of [['rsa_pss_saltlen:20'], ['rsa_pss_saltlen:0'], ['rsa_pss_saltlen:max'], ['rsa_pss_saltlen:digest', 'rsa_mgf1_md:sha1'],
        ['rsa_pss_saltlen:digest', `rsa_mgf1_md:${otherMgf}`]]) {
        const other = opensslSign(...variant);
        assert.ok(!verify('RSA_2048', publicKeySpki, alg, 'DIGEST', digest, other), `${alg} ${variant.join(' ')}: DIGEST`);
        assert.ok(!verify('RSA_2048', publicKeySpki, alg, 'RAW', MESSAGE, other), `${alg} ${variant.join(' ')}: RAW`);
      }
    }
  });
});

test('OpenSSL CLI: RSAES-OAEP-SHA256 ciphertext decrypts here, and ECDH agrees with pkeyutl -derive', { skip: !hasOpenssl }, () => {
  withTempDir((p) => {
    const rsa = keyOf('RSA_3072');
    writeFileSync(p('rsa.pem'), publicPem(rsa.publicKeySpki));
    writeFileSync(p('pt'), Buffer.from('data key'));
    execFileSync('openssl', ['pkeyutl', '-encrypt', '-pubin', '-inkey', p('rsa.pem'), '-pkeyopt', 'rsa_padding_mode:oaep',
      '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256', '-in', p('pt'), '-out', p('ct')]);
    assert.equal(rsaOaepDecrypt(rsa.privateKeyPkcs8, 'RSAES_OAEP_SHA_256', readFileSync(p('ct'))).toString(), 'data key');

    const [a, b] = [keyOf('ECC_NIST_P384', 0), keyOf('ECC_NIST_P384', 1)];
    writeFileSync(p('a.pem'), privatePem(a.privateKeyPkcs8), { mode: 0o600 });
    writeFileSync(p('b.pub.pem'), publicPem(b.publicKeySpki));
    execFileSync('openssl', ['pkeyutl', '-derive', '-inkey', p('a.pem'), '-peerkey', p('b.pub.pem'), '-out', p('z')]);
    assert.ok(ecdhDeriveSharedSecret('ECC_NIST_P384', b.privateKeyPkcs8, a.publicKeySpki).equals(SecretBytes.copyOf(readFileSync(p('z')))));
  });
});

test('generateKeyPair output parses as standard PKCS#8 and SPKI (node) for every classical spec', () => {
  for (const spec of ASYMMETRIC_KEY_SPECS.filter((s) => !s.startsWith('ML_DSA'))) {
    const { privateKeyPkcs8, publicKeySpki } = keyOf(spec);
    const priv = createPrivateKey({ key: privateKeyPkcs8.expose(), format: 'der', type: 'pkcs8' });
    assert.deepEqual(createPublicKey(priv).export({ type: 'spki', format: 'der' }), publicKeySpki, spec);
  }
  // RSA keys use e = 65537 (AWS).
  const rsa = createPublicKey({ key: keyOf('RSA_2048').publicKeySpki, format: 'der', type: 'spki' });
  assert.equal(rsa.asymmetricKeyDetails?.publicExponent, 65537n);
});

test('signOffLoop: RSA RAW signatures from the thread pool verify, PKCS#1 v1.5 ones equal the inline ones, and other specs and message types sign inline', async () => {
  for (const spec of ['RSA_2048', 'RSA_3072', 'ECC_NIST_P256', 'ECC_NIST_EDWARDS25519', 'ML_DSA_44'] as const) {
    const { privateKeyPkcs8, publicKeySpki } = keyOf(spec);
    for (const alg of signingAlgorithmsFor(spec)) {
      for (const messageType of messageTypesFor(alg)) {
        const data = input(spec, alg, messageType, MESSAGE);
        const signature = await signOffLoop(spec, privateKeyPkcs8, alg, messageType, data);
        assert.ok(verify(spec, publicKeySpki, alg, messageType, data, signature), `${spec} ${alg} ${messageType}`);
        // PKCS#1 v1.5 is deterministic: the same bytes as the inline path.
        if (alg.startsWith('RSASSA_PKCS1')) assert.deepEqual(signature, sign(spec, privateKeyPkcs8, alg, messageType, data));
      }
    }
  }
});

test('signOffLoop: the material may be zeroed as soon as it returns; request errors throw before anything starts', async () => {
  const { privateKeyPkcs8, publicKeySpki } = keyOf('RSA_4096');
  const copy = SecretBytes.adopt(Buffer.from(privateKeyPkcs8.expose()));
  const pending = signOffLoop('RSA_4096', copy, 'RSASSA_PSS_SHA_512', 'RAW', MESSAGE);
  copy.zeroize();
  assert.ok(verify('RSA_4096', publicKeySpki, 'RSASSA_PSS_SHA_512', 'RAW', MESSAGE, await pending));
  assert.throws(() => signOffLoop('RSA_2048', keyOf('RSA_2048').privateKeyPkcs8, 'ECDSA_SHA_256', 'RAW', MESSAGE), IncompatibleAlgorithmError);
});

test('signOffLoop: many RSA signatures at once all complete and verify', async () => {
  const { privateKeyPkcs8, publicKeySpki } = keyOf('RSA_2048');
  const messages = Array.from({ length: 24 }, (_, i) => Buffer.from(`message ${i}`));
  const signatures = await Promise.all(messages.map((m, i) =>
    signOffLoop('RSA_2048', privateKeyPkcs8, i % 2 ? 'RSASSA_PSS_SHA_256' : 'RSASSA_PKCS1_V1_5_SHA_384', 'RAW', m)));
  signatures.forEach((sig, i) => {
    assert.ok(verify('RSA_2048', publicKeySpki, i % 2 ? 'RSASSA_PSS_SHA_256' : 'RSASSA_PKCS1_V1_5_SHA_384', 'RAW', messages[i]!, sig), `message ${i}`);
  });
});
