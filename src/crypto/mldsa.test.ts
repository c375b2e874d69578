import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

import { generateKeyPair, InvalidKeyMaterialError, publicKeyFromPrivate, sign, verify, type KeyPairType } from './asymmetric.ts';
import { mlDsaDecodePkcs8, mlDsaDecodeSpki, mlDsaEncodePkcs8, mlDsaEncodeSpki, type MlDsaParameterSet } from './mldsa.ts';
import { SecretBytes } from './secret-bytes.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** FIPS 204 external μ for pure ML-DSA with an empty context: SHAKE256(SHAKE256(pk, 64) ‖ 0 ‖ 0 ‖ M, 64). */
function externalMu(rawPublicKey: Uint8Array, message: Uint8Array): Buffer {
  const tr = createHash('shake256', { outputLength: 64 }).update(rawPublicKey).digest();
  return createHash('shake256', { outputLength: 64 }).update(tr).update(Buffer.from([0, 0])).update(message).digest();
}

const mlDsa = (set: MlDsaParameterSet): KeyPairType => ({ family: 'mldsa', set });
const ML_DSA = { scheme: 'ML_DSA' } as const;
const SETS: Array<[KeyPairType, MlDsaParameterSet, string]> = [
  [mlDsa('ML-DSA-44'), 'ML-DSA-44', 'mldsa_44_verify_test.json'],
  [mlDsa('ML-DSA-65'), 'ML-DSA-65', 'mldsa_65_verify_test.json'],
  [mlDsa('ML-DSA-87'), 'ML-DSA-87', 'mldsa_87_verify_test.json'],
];

// RFC 9881 appendix C example private keys, seed form, seed = 00 01 … 1f (the same bytes for all three sets).
const RFC9881_SEED = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const RFC9881_PKCS8: Record<MlDsaParameterSet, string> = {
  'ML-DSA-44': 'MDQCAQAwCwYJYIZIAWUDBAMRBCKAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f',
  'ML-DSA-65': 'MDQCAQAwCwYJYIZIAWUDBAMSBCKAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f',
  'ML-DSA-87': 'MDQCAQAwCwYJYIZIAWUDBAMTBCKAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f',
};

for (const [, set] of SETS) {
  test(`${set} PKCS#8 seed form matches the RFC 9881 example key byte for byte`, () => {
    const der = mlDsaEncodePkcs8(set, RFC9881_SEED);
    assert.equal(der.toString('base64'), RFC9881_PKCS8[set]);
    assert.deepEqual(mlDsaDecodePkcs8(set, der), RFC9881_SEED);
  });
}

test('the RFC 9881 ML-DSA-44 example key yields the example public key (first and last PEM lines)', () => {
  const spki = publicKeyFromPrivate(mlDsa('ML-DSA-44'), SecretBytes.copyOf(Buffer.from(RFC9881_PKCS8['ML-DSA-44'], 'base64')));
  const b64 = spki.toString('base64');
  assert.ok(b64.startsWith('MIIFMjALBglghkgBZQMEAxEDggUhANeytHJUquDbReeTDUqY0sl9jxOX0Xidr6Fw'), b64.slice(0, 64));
  assert.ok(b64.endsWith('7e+meTaaIgJ2YVHxapZfn4Hs52zAcLVYaeTbl4TPBcgwsyQsgxI='), b64.slice(-52));
});

test('ML-DSA PKCS#8 decoding accepts only the exact seed form for the same parameter set', () => {
  const der = mlDsaEncodePkcs8('ML-DSA-44', RFC9881_SEED);
  assert.equal(mlDsaDecodePkcs8('ML-DSA-65', der), undefined); // other OID
  assert.equal(mlDsaDecodePkcs8('ML-DSA-44', der.subarray(0, der.length - 1)), undefined);
  assert.equal(mlDsaDecodePkcs8('ML-DSA-44', Buffer.concat([der, Buffer.from([0])])), undefined);
  const asOctetString = Buffer.from(der);
  asOctetString[20] = 0x04; // seed as a plain OCTET STRING instead of [0] IMPLICIT: not the seed choice
  assert.equal(mlDsaDecodePkcs8('ML-DSA-44', asOctetString), undefined);
  assert.throws(() => sign(mlDsa('ML-DSA-44'), SecretBytes.copyOf(asOctetString), ML_DSA, 'RAW', Buffer.from('m')), InvalidKeyMaterialError);
  assert.throws(() => sign(mlDsa('ML-DSA-65'), SecretBytes.copyOf(der), ML_DSA, 'RAW', Buffer.from('m')), InvalidKeyMaterialError);
});

test('EXTERNAL_MU and RAW are the same signature scheme: each verifies the other', async () => {
  for (const [spec, set] of SETS) {
    const { privateKeyPkcs8, publicKeySpki } = await generateKeyPair(spec);
    const message = Buffer.from(`mu interop ${set}`);
    const mu = externalMu(mlDsaDecodeSpki(set, publicKeySpki)!, message);
    const viaMu = sign(spec, privateKeyPkcs8, ML_DSA, 'EXTERNAL_MU', mu);
    const viaRaw = sign(spec, privateKeyPkcs8, ML_DSA, 'RAW', message);
    assert.ok(verify(spec, publicKeySpki, ML_DSA, 'RAW', message, viaMu), set);
    assert.ok(verify(spec, publicKeySpki, ML_DSA, 'EXTERNAL_MU', mu, viaRaw), set);
  }
});

// Wycheproof ML-DSA verify, through the public API with the vector's publicKeyDer (SPKI), on both paths:
// RAW over the message and EXTERNAL_MU over μ computed from the raw public key. AWS's ML_DSA_SHAKE_256 signs
// with an empty context and the API has no context parameter, so the vectors with a non-empty `ctx`
// (7 per file: 2 valid, 5 invalid, among them context-too-long cases) are filtered out and counted.
// Vectors whose key has the wrong length must be rejected; our SPKI decoder refuses them as key material.
// No "acceptable" vectors. Also: our SPKI encoder reproduces every well-formed publicKeyDer.
interface MlDsaTest { tcId: number; msg: string; sig: string; ctx?: string; result: string; flags: string[] }
interface MlDsaGroup { publicKey: string; publicKeyDer: string; tests: MlDsaTest[] }
const MINIMUM: Record<MlDsaParameterSet, number> = { 'ML-DSA-44': 173, 'ML-DSA-65': 203, 'ML-DSA-87': 234 };
const PUBLIC_KEY_BYTES: Record<MlDsaParameterSet, number> = { 'ML-DSA-44': 1312, 'ML-DSA-65': 1952, 'ML-DSA-87': 2592 };

for (const [spec, set, file] of SETS) {
  test(`Wycheproof ${file}: ML-DSA verify (RAW and EXTERNAL_MU) accepts valid, rejects invalid`, () => {
    const suite = JSON.parse(readFileSync(new URL(`../../test/vectors/wycheproof/${file}`, import.meta.url), 'utf8')) as { testGroups: MlDsaGroup[] };
    let checked = 0;
    let skipped = 0;
    for (const group of suite.testGroups) {
      const spki = hex(group.publicKeyDer);
      const rawKey = hex(group.publicKey);
      const wellFormed = rawKey.length === PUBLIC_KEY_BYTES[set];
      if (wellFormed) assert.deepEqual(mlDsaEncodeSpki(set, rawKey), spki);
      for (const t of group.tests) {
        assert.notEqual(t.result, 'acceptable');
        if ((t.ctx ?? '') !== '') {
          skipped++;
          continue;
        }
        const label = `tcId ${t.tcId} ${t.flags.join(',')}`;
        const check = (messageType: 'RAW' | 'EXTERNAL_MU', data: Buffer): boolean => {
          try {
            return verify(spec, spki, ML_DSA, messageType, data, hex(t.sig));
          } catch (e) {
            assert.ok(!wellFormed && e instanceof InvalidKeyMaterialError, `${label}: ${String(e)}`);
            return false;
          }
        };
        const expected = t.result === 'valid';
        assert.equal(check('RAW', hex(t.msg)), expected, `RAW ${label}`);
        assert.equal(check('EXTERNAL_MU', externalMu(rawKey, hex(t.msg))), expected, `EXTERNAL_MU ${label}`);
        checked++;
      }
    }
    assert.ok(checked >= MINIMUM[set], `checked ${checked} vectors`);
    assert.ok(skipped <= 7, `skipped ${skipped} vectors with a context`);
  });
}
