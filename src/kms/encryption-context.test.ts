import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeEncryptionContext, withEncodedContext } from './encryption-context.ts';

test('encryption context encoding ignores the order of pairs', () => {
  assert.deepEqual(encodeEncryptionContext({ a: '1', b: '2' }), encodeEncryptionContext({ b: '2', a: '1' }));
});

test('encryption context encoding is unambiguous: {"a":"b"} differs from {"ab":""}', () => {
  assert.notDeepEqual(encodeEncryptionContext({ a: 'b' }), encodeEncryptionContext({ ab: '' }));
  assert.notDeepEqual(encodeEncryptionContext({ a: 'bc' }), encodeEncryptionContext({ ab: 'c' }));
  assert.notDeepEqual(encodeEncryptionContext({ '': 'ab' }), encodeEncryptionContext({ a: 'b' }));
});

test('an empty and an absent context encode alike', () => {
  assert.deepEqual(encodeEncryptionContext({}), encodeEncryptionContext(undefined));
});

test('encryption context is case-sensitive', () => {
  assert.notDeepEqual(encodeEncryptionContext({ A: 'b' }), encodeEncryptionContext({ a: 'b' }));
});

test('the AAD is the header followed by the context encoding, with or without a context', () => {
  const header = Buffer.from('header bytes');
  for (const context of [undefined, {}, Object.create(null) as Record<string, string>, { purpose: 'bench', a: 'ü' }]) {
    assert.deepEqual(withEncodedContext(header, context), Buffer.concat([header, encodeEncryptionContext(context)]));
  }
});

/**
 * The encoding is part of every stored ciphertext's AAD: these bytes must never change. The vectors were
 * written by the encoder as it was before it wrote into one buffer (a Buffer per key, value and length, concatenated).
 */
const VECTORS: [string, Record<string, string> | undefined, string][] = [
  ['absent', undefined, '00000000'],
  ['one pair', { purpose: 'bench' }, '0000000100000007707572706f73650000000562656e6368'],
  [
    'a secret version',
    { SecretARN: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:s-AbCdEf', SecretVersionId: '11111111-2222-4333-8444-555555555555' },
    '000000020000000953656372657441524e0000003d61726e3a6177733a736563726574736d616e616765723a75732d656173742d313a3131313132323232333333333a7365637265743a732d4162436445660000000f53656372657456657273696f6e49640000002431313131313131312d323232322d343333332d383434342d353535353535353535353535',
  ],
  ['unsorted, an empty value, non-ASCII', { b: '', a: 'ü', Z: '日本' }, '00000003000000015a00000006e697a5e69cac000000016100000002c3bc000000016200000000'],
  [
    'sorted by UTF-8 bytes, not UTF-16 code units',
    { '\u{10000}': 'astral', '\uE000': 'private use', 'é': '' },
    '0000000300000002c3a90000000000000003ee80800000000b707269766174652075736500000004f09080800000000661737472616c',
  ],
];

test('the encoding of known contexts is byte for byte what it always was, alone and after a header', () => {
  for (const [name, context, hex] of VECTORS) {
    assert.equal(encodeEncryptionContext(context).toString('hex'), hex, name);
    assert.equal(withEncodedContext(Buffer.from('hdr'), context).toString('hex'), `686472${hex}`, name);
  }
});

/** The encoder as it was (the vectors' source), to compare against on contexts no vector lists. */
function encodedBefore(context: Record<string, string>): Buffer {
  const entries = Object.entries(context)
    .map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]));
  const parts: Buffer[] = [Buffer.alloc(4)];
  parts[0]!.writeUInt32BE(entries.length);
  for (const [k, v] of entries) {
    const lens = Buffer.alloc(8);
    lens.writeUInt32BE(k.length, 0);
    lens.writeUInt32BE(v.length, 4);
    parts.push(lens.subarray(0, 4), k, lens.subarray(4), v);
  }
  return Buffer.concat(parts);
}

test('random contexts (astral characters, lone surrogates, empty strings) encode as before', () => {
  const alphabet = ['a', 'B', 'é', '日', '\u{1F600}', '\uD800', '\uDC00', '\uE000', '\u0000', ' '];
  let seed = 22;
  const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const word = () => Array.from({ length: next(6) }, () => alphabet[next(alphabet.length)]).join('');
  for (let i = 0; i < 500; i++) {
    const context: Record<string, string> = {};
    for (let n = next(6); n > 0; n--) context[word()] = word();
    assert.deepEqual(encodeEncryptionContext(context), encodedBefore(context), JSON.stringify(context));
  }
});
