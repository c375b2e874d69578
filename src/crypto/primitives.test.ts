import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hkdfSha256, hkdfSha256FromMaterial, randomNonce, timeOrderedUuid } from './primitives.ts';
import { SecretBytes, SecretZeroizedError } from './secret-bytes.ts';

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

describe('hkdfSha256FromMaterial', () => {
  // RFC 5869 appendix A.1 (SHA-256, basic test case).
  const ikm = () => SecretBytes.copyOf(Buffer.alloc(22, 0x0b));
  const salt = Buffer.from('000102030405060708090a0b0c', 'hex');
  const info = Buffer.from('f0f1f2f3f4f5f6f7f8f9', 'hex');
  const okm = '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865';

  it('derives RFC 5869 test case 1, as hkdfSha256 does, on every call with the same material', () => {
    const material = ikm();
    assert.equal(hkdfSha256FromMaterial(material, salt, info, 42).toString('hex'), okm);
    assert.equal(hkdfSha256FromMaterial(material, salt, info, 42).toString('hex'), okm);
    assert.equal(hkdfSha256(material, salt, info, 42).toString('hex'), okm);
    assert.notEqual(hkdfSha256FromMaterial(material, Buffer.alloc(13), info, 42).toString('hex'), okm);
  });

  it('refuses zeroed material: the kept key object goes with the bytes', () => {
    const material = ikm();
    hkdfSha256FromMaterial(material, salt, info, 32);
    material.zeroize();
    assert.throws(() => hkdfSha256FromMaterial(material, salt, info, 32), SecretZeroizedError);
  });
});
