import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DAY_MS } from '../clock.ts';
import { nextRotation, validateRules } from './schedule.ts';

const FROM = Date.UTC(2026, 0, 7, 10, 30); // a Wednesday

test('AutomaticallyAfterDays and rate() add their interval', () => {
  assert.equal(nextRotation({ AutomaticallyAfterDays: 30 }, FROM), FROM + 30 * DAY_MS);
  assert.equal(nextRotation({ ScheduleExpression: 'rate(2 days)' }, FROM), FROM + 2 * DAY_MS);
  assert.equal(nextRotation({ ScheduleExpression: 'rate(6 hours)' }, FROM), FROM + 6 * 3_600_000);
  assert.equal(nextRotation({}, FROM), undefined);
});

test('cron(): minutes hours day-of-month month day-of-week year, in UTC; names, lists, ranges, steps', () => {
  assert.equal(nextRotation({ ScheduleExpression: 'cron(0 4 ? * MON *)' }, FROM), Date.UTC(2026, 0, 12, 4, 0));
  assert.equal(nextRotation({ ScheduleExpression: 'cron(0 12 1 * ? *)' }, FROM), Date.UTC(2026, 1, 1, 12, 0));
  assert.equal(nextRotation({ ScheduleExpression: 'cron(15,45 10-11 * * ? *)' }, FROM), Date.UTC(2026, 0, 7, 10, 45));
  assert.equal(nextRotation({ ScheduleExpression: 'cron(0 0/6 * JAN-MAR ? 2026)' }, FROM), Date.UTC(2026, 0, 7, 12, 0));
});

test('bad schedules and the unsupported cron features (L, W, #) are InvalidParameterException', () => {
  for (const e of ['rate(1 hours)', 'rate(0 days)', 'cron(0 4 * *)', 'cron(0 4 L * ? *)', 'cron(0 4 ? * 2#1 *)', 'every day', 'cron(61 4 * * ? *)']) {
    assert.throws(() => validateRules({ ScheduleExpression: e }), { code: 'InvalidParameterException' }, e);
  }
  assert.throws(() => validateRules({ AutomaticallyAfterDays: 1, ScheduleExpression: 'rate(1 days)' }), { code: 'InvalidParameterException' });
  assert.throws(() => validateRules({ Duration: '25h' }), { code: 'InvalidParameterException' });
  validateRules({ ScheduleExpression: 'rate(10 days)', Duration: '3h' });
});
