import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecryptionError, InvalidKeyMaterialError, InvalidPublicKeyError } from '../../crypto/asymmetric.ts';
import { TrentError } from '../../errors/errors.ts';
import type { KeySpec, KeyUsage } from '../key-model.ts';
import { IncompatibleAlgorithmError, InvalidMessageError, PlaintextTooLargeError, trentErrorOf } from './asymmetric-common.ts';
import { algorithmListsOf, checkCreateKeyUsage } from './index.ts';

function codeOf(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TrentError);
    return [err.code, err.message];
  }
  throw new Error('expected a TrentError');
}

test('CreateKey usage rules: KeyUsage required except for symmetric keys, and must suit the spec (AWS texts)', () => {
  assert.equal(checkCreateKeyUsage('SYMMETRIC_DEFAULT', undefined), 'ENCRYPT_DECRYPT');
  assert.deepEqual(codeOf(() => checkCreateKeyUsage('HMAC_256', undefined)),
    ['ValidationException', 'You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.']);
  assert.deepEqual(codeOf(() => checkCreateKeyUsage('RSA_2048', 'KEY_AGREEMENT')),
    ['ValidationException', 'KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048']);
  assert.equal(codeOf(() => checkCreateKeyUsage('SM2', 'SIGN_VERIFY'))[0], 'UnsupportedOperationException');
  const allowed: [KeySpec, KeyUsage[]][] = [
    ['RSA_3072', ['ENCRYPT_DECRYPT', 'SIGN_VERIFY']], ['ECC_NIST_P521', ['SIGN_VERIFY', 'KEY_AGREEMENT']], ['ECC_SECG_P256K1', ['SIGN_VERIFY']],
    ['ECC_NIST_EDWARDS25519', ['SIGN_VERIFY']], ['ML_DSA_87', ['SIGN_VERIFY']], ['HMAC_224', ['GENERATE_VERIFY_MAC']],
  ];
  const usages: KeyUsage[] = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT'];
  for (const [spec, ok] of allowed) {
    for (const u of usages) {
      if (ok.includes(u)) assert.equal(checkCreateKeyUsage(spec, u), u);
      else assert.equal(codeOf(() => checkCreateKeyUsage(spec, u))[0], 'ValidationException', `${spec} ${u}`);
    }
  }
});

test('DescribeKey algorithm lists depend on spec and usage', () => {
  assert.deepEqual(algorithmListsOf('SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT'), { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] });
  assert.deepEqual(algorithmListsOf('RSA_2048', 'ENCRYPT_DECRYPT'), { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] });
  assert.deepEqual(algorithmListsOf('ECC_NIST_P256', 'KEY_AGREEMENT'), { KeyAgreementAlgorithms: ['ECDH'] });
  assert.deepEqual(algorithmListsOf('ECC_NIST_P384', 'SIGN_VERIFY'), { SigningAlgorithms: ['ECDSA_SHA_384'] });
  assert.deepEqual(algorithmListsOf('HMAC_512', 'GENERATE_VERIFY_MAC'), { MacAlgorithms: ['HMAC_SHA_512'] });
});

test('crypto errors map to AWS error codes by class', () => {
  const cases: [Error, string][] = [
    [new IncompatibleAlgorithmError('HMAC_SHA_512', 'HMAC_256'), 'InvalidKeyUsageException'],
    [new InvalidMessageError('Digest is invalid length for algorithm ECDSA_SHA_384.'), 'ValidationException'],
    [new PlaintextTooLargeError('RSAES_OAEP_SHA_1', 'RSA_2048', 214), 'ValidationException'],
    [new InvalidPublicKeyError(), 'ValidationException'],
    [new DecryptionError(), 'InvalidCiphertextException'],
    [new InvalidKeyMaterialError('private key'), 'KMSInternalException'],
  ];
  for (const [err, code] of cases) assert.equal(trentErrorOf(err)?.code, code, err.constructor.name);
  assert.equal(trentErrorOf(new InvalidPublicKeyError())?.message, '');
  assert.equal(trentErrorOf(new DecryptionError())?.message, '');
  assert.equal(trentErrorOf(new Error('other')), undefined);
});
