import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Derivation, SecretBytes } from './secret-bytes.ts';

test('a derived value is computed once per SecretBytes and dropped when the bytes are zeroed', () => {
  let computed = 0;
  const reversed = new Derivation('reversed', (bytes) => {
    computed++;
    return { value: Buffer.from(bytes).reverse() };
  });
  const s = SecretBytes.copyOf(Buffer.from([1, 2, 3]));
  const first = s.derive(reversed);
  assert.deepEqual([...first.value], [3, 2, 1]);
  assert.equal(s.derive(reversed), first);
  assert.equal(computed, 1);

  const other = SecretBytes.copyOf(Buffer.from([4, 5]));
  assert.deepEqual([...other.derive(reversed).value], [5, 4]);
  assert.equal(computed, 2);

  s.zeroize();
  assert.throws(() => s.derive(reversed), /after zeroize/);
});

test('a derivation that throws keeps nothing, so the next use tries again', () => {
  let calls = 0;
  const failing = new Derivation('failing', () => {
    calls++;
    throw new Error('bad material');
  });
  const s = SecretBytes.copyOf(Buffer.from([1]));
  assert.throws(() => s.derive(failing), /bad material/);
  assert.throws(() => s.derive(failing), /bad material/);
  assert.equal(calls, 2);
});
