import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalJson } from './canonical-json.ts';
import { buildEvent } from './event.ts';

/** The encoding as first written (parts and join): stored chains were hashed over its output. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON: non-finite number');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    if (obj[k] === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${reference(obj[k])}`);
  }
  return `{${parts.join(',')}}`;
}

const ALPHABET = ['a', 'B', 'z', '0', '"', '\\', '\n', '\u0001', 'é', '\u2028', '😀', '\ud800', ' ', '/', '<'];
const randomString = () => Array.from({ length: randomInt(0, 8) }, () => ALPHABET[randomInt(0, ALPHABET.length)]).join('');

function randomValue(depth: number): unknown {
  const pick = randomInt(0, depth > 3 ? 6 : 9);
  switch (pick) {
    case 0: return null;
    case 1: return randomInt(0, 2) === 0;
    case 2: return [0, -0, 1.5, -2e21, 1e-7, 123456789012, Number.MAX_SAFE_INTEGER][randomInt(0, 7)];
    case 3: case 4: return randomString();
    case 5: return undefined;
    case 6: return Array.from({ length: randomInt(0, 5) }, () => randomValue(depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = randomInt(0, 6); i > 0; i--) o[randomString()] = randomValue(depth + 1);
      return o;
    }
  }
}

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units at every level, drops undefined members, writes undefined array items as null', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [undefined, 2], c: undefined }, B: 'x', é: true }), '{"B":"x","a":{"d":[null,2]},"b":1,"é":true}');
    assert.equal(canonicalJson('he said "hi"\n'), JSON.stringify('he said "hi"\n'));
    assert.equal(canonicalJson(undefined), 'null');
    assert.throws(() => canonicalJson({ n: Number.NaN }), TypeError);
    assert.throws(() => canonicalJson([Infinity]), TypeError);
  });

  it('gives exactly the bytes of the original encoding, for 2,000 random values and for built events', () => {
    for (let i = 0; i < 2000; i++) {
      const v = randomValue(0);
      assert.equal(canonicalJson(v), reference(v), JSON.stringify(v));
    }
    const event = buildEvent({
      requestId: 'req', eventId: 'evt', eventTime: 1_700_000_000_000, eventSource: 'kms.amazonaws.com', eventName: 'Encrypt', readOnly: true,
      defaultAccountId: '111122223333', defaultRegion: 'us-east-1', sourceIp: '127.0.0.1', userAgent: 'ua "quoted"',
      input: { KeyId: 'alias/a', Plaintext: 'c2VjcmV0', EncryptionContext: { z: '1', a: 'ü', '"': '\\' } },
      output: { KeyId: 'arn:aws:kms:us-east-1:111122223333:key/k', CiphertextBlob: 'AAAA', EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
    });
    assert.equal(canonicalJson(event.record), reference(event.record));
  });

  it('gives the same bytes on the JSON.stringify path, taken by values already in canonical key order', () => {
    const sortedCopy = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(sortedCopy);
      if (v === null || typeof v !== 'object') return v;
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) o[k] = sortedCopy((v as Record<string, unknown>)[k]);
      return o;
    };
    for (let i = 0; i < 2000; i++) {
      const v = sortedCopy(randomValue(0));
      assert.equal(canonicalJson(v), reference(v), JSON.stringify(v));
    }
    // Integer-like keys enumerate first, in numeric order: "10" before "9" is not the string order.
    assert.equal(canonicalJson({ 9: 'a', 10: 'b' }), '{"10":"b","9":"a"}');
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: [2, undefined] });
    assert.equal(canonicalJson(nullProto), '{"a":1,"b":[2,null]}');
    // What JSON.stringify writes differently takes the general path.
    assert.equal(canonicalJson({ a: () => 1 }), '{"a":null}');
    assert.equal(canonicalJson({ a: { toJSON: () => 'x' } }), '{"a":{"toJSON":null}}');
    assert.equal(canonicalJson({ a: new Date(0) }), '{"a":{}}');
    assert.throws(() => canonicalJson({ a: 1, b: Number.NaN }), TypeError);
  });
});
