import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytesBuffer } from './primitives.ts';
import { SecretBytes } from './secret-bytes.ts';
import { combineShares, ShareCombineError, splitSecret } from './shamir.ts';

test('any threshold of the shares reconstructs the secret, fewer do not', async () => {
  const secret = SecretBytes.adopt(randomBytesBuffer(32));
  const shares = await splitSecret(secret, 5, 3);
  assert.equal(shares.length, 5);
  for (const s of shares) assert.equal(s.length, 33);
  assert.ok((await combineShares([shares[4]!, shares[0]!, shares[2]!])).equals(secret));
  assert.ok((await combineShares([shares[1]!, shares[3]!, shares[2]!])).equals(secret));
  assert.ok(!(await combineShares([shares[0]!, shares[1]!])).equals(secret));
});

test('a forged share yields a different secret (the caller must verify), duplicates fail', async () => {
  const secret = SecretBytes.adopt(randomBytesBuffer(32));
  const shares = await splitSecret(secret, 3, 2);
  const forged = Buffer.from(shares[1]!);
  forged[0]! ^= 1;
  assert.ok(!(await combineShares([shares[0]!, forged])).equals(secret));
  await assert.rejects(combineShares([shares[0]!, shares[0]!]), ShareCombineError);
});

test('threshold below 2 or above the share count is refused', async () => {
  const secret = SecretBytes.adopt(randomBytesBuffer(32));
  await assert.rejects(splitSecret(secret, 3, 1), RangeError);
  await assert.rejects(splitSecret(secret, 2, 3), RangeError);
  await assert.rejects(splitSecret(secret, 256, 3), RangeError);
});
