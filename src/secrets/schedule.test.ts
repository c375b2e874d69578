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

test('cron() L, LW, nW in day-of-month and L, nL, n#k in day-of-week, as AWS (EventBridge grammar) defines them', () => {
  const next = (e: string, from = FROM) => new Date(nextRotation({ ScheduleExpression: e }, from)!).toISOString();
  // January 2026: the 1st is a Thursday, the 31st a Saturday.
  assert.equal(next('cron(0 8 L * ? *)'), '2026-01-31T08:00:00.000Z');
  assert.equal(next('cron(0 8 L * ? *)', Date.UTC(2026, 1, 1)), '2026-02-28T08:00:00.000Z');
  assert.equal(next('cron(0 8 L * ? *)', Date.UTC(2028, 1, 1)), '2028-02-29T08:00:00.000Z');
  assert.equal(next('cron(0 8 LW * ? *)'), '2026-01-30T08:00:00.000Z'); // the 31st is a Saturday
  assert.equal(next('cron(0 8 10W * ? *)'), '2026-01-09T08:00:00.000Z'); // the 10th is a Saturday
  // 2026-02-01 is a Sunday: 1W is Monday the 2nd (never the previous month).
  assert.equal(next('cron(0 8 1W * ? *)', Date.UTC(2026, 0, 31)), '2026-02-02T08:00:00.000Z');
  // 2026-02-14 is a Saturday: 14W is Friday the 13th; 15W (Sunday) is Monday the 16th.
  assert.equal(next('cron(0 8 14W * ? *)', Date.UTC(2026, 1, 1)), '2026-02-13T08:00:00.000Z');
  assert.equal(next('cron(0 8 15W * ? *)', Date.UTC(2026, 1, 1)), '2026-02-16T08:00:00.000Z');
  // 2026-05-31 is a Sunday: 31W is Friday the 29th.
  assert.equal(next('cron(0 8 31W * ? *)', Date.UTC(2026, 4, 1)), '2026-05-29T08:00:00.000Z');
  assert.equal(next('cron(0 8 ? * L *)'), '2026-01-10T08:00:00.000Z'); // L alone: Saturday
  assert.equal(next('cron(0 8 ? * 6L *)'), '2026-01-30T08:00:00.000Z'); // last Friday of January
  assert.equal(next('cron(0 8 ? * FRIL *)'), '2026-01-30T08:00:00.000Z');
  assert.equal(next('cron(0 8 ? * 3#2 *)'), '2026-01-13T08:00:00.000Z'); // second Tuesday
  assert.equal(next('cron(0 8 ? * MON#1 *)'), '2026-02-02T08:00:00.000Z'); // first Monday, January's has passed
  assert.equal(next('cron(0 8 ? * WED *)'), '2026-01-14T08:00:00.000Z');
});

test('bad schedules are InvalidParameterException, and so are day-of-month and day-of-week both given', () => {
  for (const e of ['rate(1 hours)', 'rate(0 days)', 'cron(0 4 * *)', 'cron(0 4 L * L *)', 'cron(0 4 ? * 2#6 *)', 'cron(0 4 ? * 8L *)', 'cron(0 4 32W * ? *)', 'cron(0 4 L-2 * ? *)', 'every day', 'cron(61 4 * * ? *)', 'cron(0 4 * * * *)', 'cron(0 4 ? * ? *)', 'cron(0 4 1 * MON *)']) {
    assert.throws(() => validateRules({ ScheduleExpression: e }), { code: 'InvalidParameterException' }, e);
  }
  assert.throws(() => validateRules({ AutomaticallyAfterDays: 1, ScheduleExpression: 'rate(1 days)' }), { code: 'InvalidParameterException' });
  assert.throws(() => validateRules({ Duration: '25h' }), { code: 'InvalidParameterException' });
  validateRules({ ScheduleExpression: 'rate(10 days)', Duration: '3h' });
});
