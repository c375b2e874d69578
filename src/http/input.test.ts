import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SerializationException } from '../errors/errors.ts';
import { InputReader } from './input.ts';

describe('InputReader.blob', () => {
  const read = (v: unknown) => new InputReader({ Plaintext: v } as never).blob('Plaintext');

  it('accepts canonical padded base64, including the empty string and both paddings', () => {
    for (const bytes of [0, 1, 2, 3, 4, 5, 1024]) {
      const data = Buffer.alloc(bytes, 0xfb);
      assert.deepEqual(read(data.toString('base64')), data);
    }
  });

  it('accepts non-canonical unused bits in the last group, as the pattern always did (they do not encode back alike)', () => {
    assert.deepEqual(read('QR=='), Buffer.from('A'));
    assert.deepEqual(read('QUJ='), Buffer.from('AB'));
  });

  it('refuses anything else with SerializationException, without echoing the value', () => {
    for (const bad of ['a', 'ab', 'abc', 'abcde', 'ab=c', 'a===', '====', 'abc==', 'ab==ab==', 'YWJj ZA==', 'YW-j', 'YW_j', 'YWJjZA=\n', 42, true, {}]) {
      assert.throws(() => read(bad), (err: unknown) => {
        assert.ok(err instanceof SerializationException, `${JSON.stringify(bad)}: ${String(err)}`);
        assert.equal(err.message, 'Could not decode the base64 value of Plaintext');
        return true;
      });
    }
  });
});
