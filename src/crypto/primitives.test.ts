import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomNonce } from './primitives.ts';

describe('randomNonce', () => {
  it('hands out fresh bytes of the asked length across pool refills, never the same value twice', () => {
    const seen = new Set<string>();
    // 12- and 16-byte draws, well past several 4 KiB pool refills.
    for (let i = 0; i < 3000; i++) {
      const n = i % 2 === 0 ? 12 : 16;
      const nonce = randomNonce(n);
      assert.equal(nonce.length, n);
      seen.add(nonce.toString('hex'));
    }
    assert.equal(seen.size, 3000);
  });

  it('returns a copy: changing it does not change later draws', () => {
    const a = randomNonce(16);
    a.fill(0);
    assert.notDeepEqual(randomNonce(16), Buffer.alloc(16));
  });

  it('serves a request larger than the pool straight from the CSPRNG', () => {
    const big = randomNonce(5000);
    assert.equal(big.length, 5000);
    assert.notDeepEqual(big.subarray(0, 32), Buffer.alloc(32));
  });
});
