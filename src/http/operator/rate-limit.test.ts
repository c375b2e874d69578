import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../clock.ts';
import { AttemptLimiter } from './rate-limit.ts';

test('attempts are limited per address over a sliding window; a refused attempt is not counted', () => {
  const clock = new ManualClock(1_000_000);
  const limiter = new AttemptLimiter(clock, 3, 60_000);
  for (let i = 0; i < 3; i++) {
    limiter.take('10.0.0.1');
    clock.advance(10_000);
  }
  assert.throws(() => limiter.take('10.0.0.1'), { name: 'ThrottlingException', message: /retry in 30 s/ });
  limiter.take('10.0.0.2'); // another address has its own budget
  // Refusals do not extend the ban: 30 s on, the first attempt has left the window.
  for (let i = 0; i < 5; i++) assert.throws(() => limiter.take('10.0.0.1'));
  clock.advance(30_001);
  limiter.take('10.0.0.1');
  assert.throws(() => limiter.take('10.0.0.1'), { name: 'ThrottlingException' });
});
