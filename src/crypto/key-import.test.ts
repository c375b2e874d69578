import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { generateWrappingKeyPair, UnwrapError, unwrapKeyMaterial, WRAPPING_ALGORITHMS, type WrappingAlgorithm } from './key-import.ts';

const pair = await generateWrappingKeyPair('RSA_2048');
const hashOf = (alg: WrappingAlgorithm) => (alg.endsWith('SHA_256') ? 'sha256' : 'sha1');
const oaep = (alg: WrappingAlgorithm, data: Buffer) =>
  publicEncrypt({ key: createPublicKey({ key: pair.publicKeySpki, format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hashOf(alg) }, data);

/** CKM_RSA_AES_KEY_WRAP as a client builds it, with OpenSSL's own RFC 5649 implementation (the openssl CLI). */
function rsaAesWrap(alg: WrappingAlgorithm, material: Buffer): Buffer {
  const aesKey = randomBytes(32);
  const wrapped = execFileSync('openssl', ['enc', '-id-aes256-wrap-pad', '-K', aesKey.toString('hex'), '-iv', 'A65959A6'], { input: material });
  return Buffer.concat([oaep(alg, aesKey), wrapped]);
}

for (const alg of WRAPPING_ALGORITHMS) {
  test(`${alg}: material wrapped as a client wraps it unwraps to the same bytes`, () => {
    const material = randomBytes(alg.startsWith('RSA_AES') ? 121 : 32);
    const wrapped = alg.startsWith('RSA_AES') ? rsaAesWrap(alg, material) : oaep(alg, material);
    assert.deepEqual(unwrapKeyMaterial(pair.privateKeyPkcs8, alg, wrapped).expose(), material);
  });

  test(`${alg}: a flipped byte anywhere is UnwrapError`, () => {
    const material = randomBytes(32);
    const wrapped = alg.startsWith('RSA_AES') ? rsaAesWrap(alg, material) : oaep(alg, material);
    for (const at of [0, 100, wrapped.length - 1]) {
      const bad = Buffer.from(wrapped);
      bad[at]! ^= 1;
      assert.throws(() => unwrapKeyMaterial(pair.privateKeyPkcs8, alg, bad), UnwrapError);
    }
    assert.throws(() => unwrapKeyMaterial(pair.privateKeyPkcs8, alg, wrapped.subarray(0, wrapped.length - 8)), UnwrapError);
  });
}

test('the hash of the OAEP layer must match the wrapping algorithm', () => {
  const wrapped = oaep('RSAES_OAEP_SHA_1', randomBytes(32));
  assert.throws(() => unwrapKeyMaterial(pair.privateKeyPkcs8, 'RSAES_OAEP_SHA_256', wrapped), UnwrapError);
});
