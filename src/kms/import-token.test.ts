import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { newImportToken, readImportToken } from './import-token.ts';

const key = SecretBytes.adopt(Buffer.alloc(32, 1));
const A = { accountId: '111122223333', region: 'us-east-1' };

test('a token reads back, for its own key only, with its token id and expiry', () => {
  const { token, tokenId } = newImportToken(key, A, 'k1', 1_800_000_000_000);
  assert.deepEqual(readImportToken(key, A, 'k1', token), { tokenId, expiresAt: 1_800_000_000_000 });
  assert.equal(readImportToken(key, A, 'k2', token), undefined);
  assert.equal(readImportToken(key, { ...A, region: 'eu-west-1' }, 'k1', token), undefined);
  assert.equal(readImportToken(key, { ...A, accountId: '444455556666' }, 'k1', token), undefined);
  assert.equal(readImportToken(SecretBytes.adopt(Buffer.alloc(32, 2)), A, 'k1', token), undefined);
});

test('every altered byte, a truncation, an extension and a forged expiry are refused', () => {
  const { token } = newImportToken(key, A, 'k1', 1_800_000_000_000);
  for (let i = 0; i < token.length; i++) {
    const bad = Buffer.from(token);
    bad[i]! ^= 0x80;
    assert.equal(readImportToken(key, A, 'k1', bad), undefined, `byte ${i}`);
  }
  assert.equal(readImportToken(key, A, 'k1', token.subarray(0, token.length - 1)), undefined);
  assert.equal(readImportToken(key, A, 'k1', Buffer.concat([token, Buffer.from([0])])), undefined);
  const later = Buffer.from(token);
  later.writeBigUInt64BE(BigInt(1_900_000_000_000), 17);
  assert.equal(readImportToken(key, A, 'k1', later), undefined);
});

test('two tokens for one key have different ids', () => {
  assert.notEqual(newImportToken(key, A, 'k1', 1).tokenId, newImportToken(key, A, 'k1', 1).tokenId);
});
