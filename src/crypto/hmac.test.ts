import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { hmac, hmacLength, hmacVerify, type HmacHash } from './hmac.ts';
import { SecretBytes } from './secret-bytes.ts';

// Wycheproof HMAC-SHA-2. AWS GenerateMac returns, and VerifyMac checks, the full-length MAC, so only groups
// whose tagSize is the hash output are run; the truncated-tag groups (half-length tags: 112, 128, 192 and 256
// bits) are filtered out and counted — hmacVerify rejects any MAC that is not full length, by design. Keys of every size in the file are used. No "acceptable" vectors.
interface MacTest { tcId: number; key: string; msg: string; tag: string; result: string; flags: string[] }
interface MacGroup { keySize: number; tagSize: number; tests: MacTest[] }
const FILES: Array<[string, HmacHash, number]> = [
  ['hmac_sha224_test.json', 'sha224', 85],
  ['hmac_sha256_test.json', 'sha256', 87],
  ['hmac_sha384_test.json', 'sha384', 87],
  ['hmac_sha512_test.json', 'sha512', 87],
];
for (const [file, hash, minimum] of FILES) {
  test(`Wycheproof ${file}: HMAC-${hash} computes valid tags and rejects modified ones`, () => {
    const suite = JSON.parse(readFileSync(new URL(`../../test/vectors/wycheproof/${file}`, import.meta.url), 'utf8')) as { testGroups: MacGroup[] };
    let checked = 0;
    let skipped = 0;
    for (const group of suite.testGroups) {
      if (group.tagSize !== hmacLength(hash) * 8) {
        skipped += group.tests.length;
        continue;
      }
      for (const t of group.tests) {
        assert.notEqual(t.result, 'acceptable');
        const key = SecretBytes.copyOf(Buffer.from(t.key, 'hex'));
        const msg = Buffer.from(t.msg, 'hex');
        const tag = Buffer.from(t.tag, 'hex');
        const label = `tcId ${t.tcId} ${t.flags.join(',')}`;
        if (t.result === 'valid') assert.equal(hmac(hash, key, msg).toString('hex'), t.tag, label);
        assert.equal(hmacVerify(hash, key, msg, tag), t.result === 'valid', label);
        checked++;
      }
    }
    assert.ok(checked >= minimum, `checked ${checked} vectors`);
    assert.ok(skipped > 0 && skipped <= checked, `skipped ${skipped} truncated-tag vectors`);
  });
}
