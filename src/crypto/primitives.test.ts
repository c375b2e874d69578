import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { hkdfSha256, randomNonce, timeOrderedUuid } from './primitives.ts';

const range = (from: number, to: number) => Buffer.from(Array.from({ length: to - from + 1 }, (_, i) => from + i));

describe('hkdfSha256', () => {
  // RFC 5869 appendix A, test cases 1-3 (SHA-256).
  const cases = [
    { name: 'A.1 basic', ikm: Buffer.alloc(22, 0x0b), salt: range(0x00, 0x0c), info: range(0xf0, 0xf9), okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865' },
    {
      name: 'A.2 longer inputs and output (three blocks)', ikm: range(0x00, 0x4f), salt: range(0x60, 0xaf), info: range(0xb0, 0xff),
      okm: 'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87',
    },
    { name: 'A.3 empty salt and info', ikm: Buffer.alloc(22, 0x0b), salt: Buffer.alloc(0), info: Buffer.alloc(0), okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8' },
  ];
  for (const c of cases) {
    it(`matches RFC 5869 ${c.name}`, () => {
      assert.equal(hkdfSha256(c.ikm, c.salt, c.info, c.okm.length / 2).toString('hex'), c.okm);
    });
  }

  it('matches node:crypto hkdfSync for every output length from 1 to 100 bytes and random inputs', () => {
    for (let length = 1; length <= 100; length++) {
      const ikm = randomBytes(32);
      const salt = randomBytes(length % 3 === 0 ? 0 : 16);
      const info = randomBytes(length % 5);
      assert.equal(hkdfSha256(ikm, salt, info, length).toString('hex'), Buffer.from(hkdfSync('sha256', ikm, salt, info, length)).toString('hex'), `length ${length}`);
    }
  });

  it('refuses an output length outside 1..255 × 32 bytes', () => {
    for (const length of [0, -1, 255 * 32 + 1, 1.5]) assert.throws(() => hkdfSha256(randomBytes(32), randomBytes(16), Buffer.alloc(0), length), RangeError);
  });
});

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

describe('timeOrderedUuid', () => {
  const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('is a version 7, variant 10 UUID whose first 48 bits are the Unix milliseconds given', () => {
    const at = Date.UTC(2026, 11, 3, 12, 0, 0, 123);
    const id = timeOrderedUuid(at);
    assert.match(id, V7);
    assert.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), at);
  });

  it('sorts by creation time, and ids of one millisecond differ', () => {
    const earlier = Array.from({ length: 100 }, () => timeOrderedUuid(1_000));
    const later = Array.from({ length: 100 }, () => timeOrderedUuid(1_001));
    assert.equal(new Set([...earlier, ...later]).size, 200);
    assert.ok(earlier.every((a) => later.every((b) => a < b)));
  });

  it('defaults to the current time', () => {
    const before = Date.now();
    const ms = parseInt(timeOrderedUuid().replace(/-/g, '').slice(0, 12), 16);
    assert.ok(ms >= before && ms <= Date.now());
  });
});
