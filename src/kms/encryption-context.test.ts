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
