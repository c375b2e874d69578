/**
 * Rotation schedules (AWS RotationRules): AutomaticallyAfterDays (1–1000), or ScheduleExpression
 * `rate(N days)` / `rate(N hours)` (AWS allows hours 4–23 and days 1–1000) or
 * `cron(minutes hours day-of-month month day-of-week year)`, with an optional Duration `Nh` (the
 * rotation window, 1–24 h) recorded and returned but not used to delay the start.
 *
 * Cron subset (documented in docs/secrets.md): each field is `*`, `?`, a number, a list `a,b`, a range
 * `a-b` or a step `x/n`; month and weekday names (JAN…, SUN…) are accepted; `L`, `W` and `#` are not
 * (InvalidParameterException). Times are UTC, as in AWS.
 */
import { DAY_MS } from '../clock.ts';
import { InvalidParameterException } from './errors.ts';

export interface RotationRules {
  AutomaticallyAfterDays?: number;
  Duration?: string;
  ScheduleExpression?: string;
}

const HOUR_MS = 60 * 60 * 1000;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function bad(expr: string): never {
  throw new InvalidParameterException(`The schedule expression ${expr} is not valid.`);
}

function field(text: string, min: number, max: number, names: string[] | undefined, offset: number, expr: string): Set<number> {
  const out = new Set<number>();
  const num = (s: string): number => {
    const i = names?.indexOf(s.toUpperCase()) ?? -1;
    if (i >= 0) return i + offset;
    if (!/^\d+$/.test(s)) bad(expr);
    const n = Number(s);
    if (n < min || n > max) bad(expr);
    return n;
  };
  for (const part of text.split(',')) {
    let [range, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : num(stepText);
    if (step < 1) bad(expr);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') [lo, hi] = [min, max];
    else if (range.includes('-')) {
      const [a, b] = range.split('-');
      [lo, hi] = [num(a!), num(b!)];
    } else {
      lo = num(range);
      hi = stepText === undefined ? lo : max;
    }
    if (lo > hi) bad(expr);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export function validateRules(rules: RotationRules): void {
  if (rules.AutomaticallyAfterDays !== undefined && rules.ScheduleExpression !== undefined) {
    throw new InvalidParameterException('You cannot specify both rotation frequency and schedule expression together.');
  }
  if (rules.Duration !== undefined) {
    const m = /^(\d+)h$/.exec(rules.Duration);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 24) throw new InvalidParameterException(`The Duration ${rules.Duration} is not valid.`);
  }
  if (rules.ScheduleExpression !== undefined) nextRotation(rules, Date.UTC(2000, 0, 1));
}

/** The next rotation strictly after `from` (epoch ms), or undefined when the rules set no schedule. */
export function nextRotation(rules: RotationRules, from: number): number | undefined {
  if (rules.AutomaticallyAfterDays !== undefined) return from + rules.AutomaticallyAfterDays * DAY_MS;
  const expr = rules.ScheduleExpression;
  if (expr === undefined) return undefined;
  const rate = /^rate\((\d+) (hour|hours|day|days)\)$/.exec(expr);
  if (rate) {
    const n = Number(rate[1]);
    const hours = rate[2]!.startsWith('hour');
    if (hours ? n < 4 || n > 23 : n < 1 || n > 1000) bad(expr);
    return from + n * (hours ? HOUR_MS : DAY_MS);
  }
  const cron = /^cron\((.+)\)$/.exec(expr);
  if (!cron) bad(expr);
  const parts = cron[1]!.trim().split(/\s+/);
  if (parts.length !== 6 || parts.some((p) => /[LW#]/.test(p))) bad(expr);
  const minutes = field(parts[0]!, 0, 59, undefined, 0, expr);
  const hours = field(parts[1]!, 0, 23, undefined, 0, expr);
  const dom = field(parts[2]!, 1, 31, undefined, 0, expr);
  const months = field(parts[3]!, 1, 12, MONTHS, 1, expr);
  const dow = field(parts[4]!, 1, 7, DAYS, 1, expr); // AWS: 1 = SUN … 7 = SAT
  const years = field(parts[5]!, 1970, 2199, undefined, 0, expr);
  const domAny = parts[2] === '?' || parts[2] === '*';
  const dowAny = parts[4] === '?' || parts[4] === '*';
  // Walk forward minute by minute within matching days; bounded to five years of days.
  let t = Math.floor(from / 60_000) * 60_000 + 60_000;
  for (let dayGuard = 0; dayGuard < 366 * 5; dayGuard++) {
    const d = new Date(t);
    const dayOk = years.has(d.getUTCFullYear()) && months.has(d.getUTCMonth() + 1) &&
      (domAny || dom.has(d.getUTCDate())) && (dowAny || dow.has(d.getUTCDay() + 1));
    if (dayOk) {
      for (let m = d.getUTCHours() * 60 + d.getUTCMinutes(); m < 24 * 60; m++) {
        if (hours.has(Math.floor(m / 60)) && minutes.has(m % 60)) {
          return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), Math.floor(m / 60), m % 60);
        }
      }
    }
    t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
  }
  return bad(expr);
}
