import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomPassword } from './password.ts';

test('defaults: 32 characters with upper, lower, digit and punctuation, no space', () => {
  for (let i = 0; i < 50; i++) {
    const p = randomPassword();
    assert.equal(p.length, 32);
    assert.match(p, /[A-Z]/);
    assert.match(p, /[a-z]/);
    assert.match(p, /[0-9]/);
    assert.match(p, /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/);
    assert.doesNotMatch(p, / /);
  }
});

test('every type excluded is InvalidParameterException; too short for the required types too', () => {
  assert.throws(() => randomPassword({ excludeLowercase: true, excludeUppercase: true, excludeNumbers: true, excludePunctuation: true }), { code: 'InvalidParameterException' });
  assert.throws(() => randomPassword({ passwordLength: 3 }), { code: 'InvalidParameterException' });
});
