/**
 * Rotation schedules (AWS RotationRules): AutomaticallyAfterDays (1–1000), or ScheduleExpression
 * `rate(N days)` / `rate(N hours)` (AWS allows hours 4–23 and days 1–1000) or
 * `cron(minutes hours day-of-month month day-of-week year)`, with an optional Duration `Nh` (the
 * rotation window, 1–24 h): a scheduled rotation starts at the due time and is not started once its
 * window has closed (rotationWindowEnd).
 *
 * Cron, as AWS accepts it for rotation schedules (Secrets Manager user guide, "Schedule expressions"; the
 * EventBridge cron grammar): each field is `*`, `?`, a number, a list `a,b`, a range `a-b` or a step
 * `x/n`; month and weekday names (JAN…, SUN…); in day-of-month `L` (last day), `LW` (last weekday) and
 * `nW` (the weekday nearest day n, within the month); in day-of-week `L` (Saturday), `nL` (the last
 * weekday n of the month) and `n#k` (the k-th weekday n). One of day-of-month and day-of-week must be
 * `?`, as AWS requires. Times are UTC, as in AWS. Anything else is InvalidParameterException.
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

const daysInMonth = (d: Date): number => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
const weekdayOf = (d: Date, day: number): number => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), day)).getUTCDay();

/** AWS `nW`: the weekday (Mon–Fri) nearest day n of the month, never crossing into another month. */
function nearestWeekday(d: Date, n: number): number {
  const last = daysInMonth(d);
  const day = Math.min(n, last);
  const wd = weekdayOf(d, day);
  if (wd === 6) return day === 1 ? 3 : day - 1; // Saturday: Friday before, or Monday after on the 1st
  if (wd === 0) return day === last ? day - 2 : day + 1; // Sunday: Monday after, or Friday before at month end
  return day;
}

/** Day-of-month: `L`, `LW`, `nW`, or the usual lists, ranges and steps. */
function dayOfMonthMatcher(text: string, expr: string): (d: Date) => boolean {
  if (text === 'L') return (d) => d.getUTCDate() === daysInMonth(d);
  if (text === 'LW') return (d) => d.getUTCDate() === nearestWeekday(d, daysInMonth(d));
  const w = /^(\d{1,2})W$/.exec(text);
  if (w) {
    const n = Number(w[1]);
    if (n < 1 || n > 31) bad(expr);
    return (d) => d.getUTCDate() === nearestWeekday(d, n);
  }
  const days = field(text, 1, 31, undefined, 0, expr);
  return (d) => days.has(d.getUTCDate());
}

/** Day-of-week (AWS numbering, 1 = SUN … 7 = SAT): `L` (= 7), `nL`, `n#k`, or lists, ranges and steps. */
function dayOfWeekMatcher(text: string, expr: string): (d: Date) => boolean {
  const one = (s: string): number => {
    const i = DAYS.indexOf(s.toUpperCase());
    if (i >= 0) return i + 1;
    if (!/^[1-7]$/.test(s)) bad(expr);
    return Number(s);
  };
  if (text === 'L') return (d) => d.getUTCDay() + 1 === 7;
  const last = /^([A-Za-z]{3}|\d)L$/.exec(text);
  if (last) {
    const wd = one(last[1]!);
    return (d) => d.getUTCDay() + 1 === wd && d.getUTCDate() + 7 > daysInMonth(d);
  }
  const nth = /^([A-Za-z]{3}|\d)#(\d)$/.exec(text);
  if (nth) {
    const wd = one(nth[1]!);
    const k = Number(nth[2]);
    if (k < 1 || k > 5) bad(expr);
    return (d) => d.getUTCDay() + 1 === wd && Math.ceil(d.getUTCDate() / 7) === k;
  }
  const days = field(text, 1, 7, DAYS, 1, expr);
  return (d) => days.has(d.getUTCDay() + 1);
}

/**
 * When the rotation window that opens at `dueAt` closes (AWS RotationRules.Duration), or undefined when
 * no Duration is set (the window then stays open until the rotation has run).
 */
export function rotationWindowEnd(rules: RotationRules, dueAt: number): number | undefined {
  const m = rules.Duration === undefined ? null : /^(\d+)h$/.exec(rules.Duration);
  return m ? dueAt + Number(m[1]) * HOUR_MS : undefined;
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
  if (parts.length !== 6) bad(expr);
  const minutes = field(parts[0]!, 0, 59, undefined, 0, expr);
  const hours = field(parts[1]!, 0, 23, undefined, 0, expr);
  const months = field(parts[3]!, 1, 12, MONTHS, 1, expr);
  const years = field(parts[5]!, 1970, 2199, undefined, 0, expr);
  // AWS: "You can't specify the Day-of-month and Day-of-week fields in the same cron expression";
  // one of them is `?`.
  if ((parts[2] === '?') === (parts[4] === '?')) bad(expr);
  const dayOk = parts[2] === '?' ? dayOfWeekMatcher(parts[4]!, expr) : dayOfMonthMatcher(parts[2]!, expr);
  // Walk forward minute by minute within matching days; bounded to five years of days.
  let t = Math.floor(from / 60_000) * 60_000 + 60_000;
  for (let dayGuard = 0; dayGuard < 366 * 5; dayGuard++) {
    const d = new Date(t);
    if (years.has(d.getUTCFullYear()) && months.has(d.getUTCMonth() + 1) && dayOk(d)) {
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
