import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definedMembers } from './members.ts';

test('definedMembers leaves out undefined and null members and keeps every other value, falsy ones included', () => {
  const out = definedMembers({ a: 1, b: undefined, c: null, d: '', e: 0, f: false, g: [] as string[] });
  assert.deepEqual(out, { a: 1, d: '', e: 0, f: false, g: [] });
  assert.equal(Object.hasOwn(out, 'b'), false);
  assert.equal(Object.hasOwn(out, 'c'), false);
});
