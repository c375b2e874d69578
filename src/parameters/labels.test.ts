import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidLabel } from './labels.ts';

test('labels: letters, digits, . - _; not starting with a digit, aws or ssm; 1 to 100 characters', () => {
  for (const ok of ['prod', 'v1.2-rc_3', 'A', 'x'.repeat(100), 'awkward'.replace('aw', 'ra')]) assert.equal(isValidLabel(ok), true, ok);
  for (const bad of ['', '1st', 'aws-x', 'SSMlabel', 'has space', 'a/b', 'x'.repeat(101)]) assert.equal(isValidLabel(bad), false, bad);
});
