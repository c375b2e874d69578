/**
 * Condition operators (IAM JSON policy elements: Condition operators) evaluated against RequestKeys.
 *
 * AWS semantics, each with its source in the IAM User Guide:
 * - Several operators, or several keys under one operator: AND. Several values for one key: OR; for a
 *   negated operator (StringNotEquals, NotIpAddress, ArnNotLike, …): NOR. ("Conditions with multiple
 *   context keys or values".)
 * - A key absent from the request: the condition is false, except that a negated operator is then true;
 *   `…IfExists` is true; `Null` tests presence itself. ("Condition operators", the Important note.)
 * - `ForAllValues:` — every request value must satisfy the operator (for a positive operator: match some
 *   policy value; for a negated one: match none); true when the key is absent or empty.
 *   `ForAnyValue:` — at least one request value must; false when the key is absent or empty.
 *   ("Single-valued vs. multivalued context keys".)
 * - Without a qualifier, a multi-valued request key behaves as ForAnyValue for a positive operator and as
 *   "no value matches" for a negated one (the negation of the positive result). AWS asks for a qualifier
 *   with multi-valued keys and does not document this case; we choose the reading under which adding
 *   "Not" to an operator negates it.
 * - Values that do not parse (a non-number under Numeric*, a non-date under Date*, a non-address under
 *   IpAddress) in the *request* simply do not match; in the *policy* they are refused by the grammar.
 */
import { BlockList, isIP } from 'node:net';
import type { RequestKeys } from './context.ts';
import { arnMatch, patternMatch, resolveLiteral } from './matching.ts';

export const OPERATORS = [
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress',
  'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike',
  'Null',
] as const;
export type BaseOperator = (typeof OPERATORS)[number];

export interface ConditionClause {
  /** The operator as written in the policy, e.g. "ForAnyValue:StringLikeIfExists". */
  readonly operator: string;
  readonly base: BaseOperator;
  readonly qualifier?: 'ForAnyValue' | 'ForAllValues';
  readonly ifExists: boolean;
  /** The condition key as written; looked up case-insensitively. */
  readonly key: string;
  /** Policy values, as strings (JSON numbers and booleans are stringified). */
  readonly values: readonly string[];
}

const NEGATED: ReadonlySet<BaseOperator> = new Set([
  'StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NumericNotEquals', 'DateNotEquals', 'NotIpAddress', 'ArnNotEquals', 'ArnNotLike',
]);

export function isNegatedOperator(op: BaseOperator): boolean {
  return NEGATED.has(op);
}

/** The positive operator a negated one is the negation of. */
const POSITIVE_OF: Partial<Record<BaseOperator, BaseOperator>> = {
  StringNotEquals: 'StringEquals',
  StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
  StringNotLike: 'StringLike',
  NumericNotEquals: 'NumericEquals',
  DateNotEquals: 'DateEquals',
  NotIpAddress: 'IpAddress',
  ArnNotEquals: 'ArnEquals',
  ArnNotLike: 'ArnLike',
};

// ---------------------------------------------------------------------------------------------------
// Value parsing (shared by the grammar check and the evaluator)

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const EPOCH = /^-?\d+(?:\.\d+)?$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function parseNumber(s: string): number | undefined {
  return NUMBER.test(s.trim()) ? Number(s.trim()) : undefined;
}

/**
 * AWS: Date operators take ISO 8601 dates/date-times or epoch (UNIX) seconds. Returns epoch milliseconds.
 * A date-time with no offset is read as UTC (never the host's zone).
 */
export function parseDate(s: string): number | undefined {
  const t = s.trim();
  if (EPOCH.test(t)) return Number(t) * 1000;
  const m = ISO_DATE.exec(t);
  if (!m) return undefined;
  let iso = t;
  if (m[4] !== undefined && m[7] === undefined) iso += 'Z';
  else if (m[7] !== undefined && /^[+-]\d{2}$/.test(m[7])) iso += ':00';
  else if (m[7] !== undefined && /^[+-]\d{4}$/.test(m[7])) iso = iso.slice(0, -2) + ':' + iso.slice(-2);
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

interface Cidr { address: string; prefix: number; family: 'ipv4' | 'ipv6' }

/** "203.0.113.0/24", "2001:db8::/32", or a bare address (a /32 or /128). IPv4-mapped IPv6 is read as IPv4. */
export function parseCidr(s: string): Cidr | undefined {
  const [addrRaw, prefixRaw, extra] = s.trim().split('/');
  if (extra !== undefined || addrRaw === undefined) return undefined;
  const address = unmapIpv4(addrRaw);
  const v = isIP(address);
  if (v === 0) return undefined;
  const mapped = address !== addrRaw;
  let prefix = v === 4 ? 32 : 128;
  if (prefixRaw !== undefined) {
    if (!/^\d{1,3}$/.test(prefixRaw)) return undefined;
    prefix = Number(prefixRaw);
    // A mapped IPv4 written with an IPv6 prefix (::ffff:10.0.0.0/104) becomes an IPv4 prefix.
    if (mapped) prefix -= 96;
    if (prefix < 0 || prefix > (v === 4 ? 32 : 128)) return undefined;
  }
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

function unmapIpv4(a: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  return m ? m[1]! : a;
}

/** Problem with a policy value for this operator, or undefined when it is well-formed. */
export function parseConditionValue(base: BaseOperator, v: string): string | undefined {
  switch (base) {
    case 'NumericEquals': case 'NumericNotEquals': case 'NumericLessThan':
    case 'NumericLessThanEquals': case 'NumericGreaterThan': case 'NumericGreaterThanEquals':
      return parseNumber(v) === undefined ? 'not a number' : undefined;
    case 'DateEquals': case 'DateNotEquals': case 'DateLessThan':
    case 'DateLessThanEquals': case 'DateGreaterThan': case 'DateGreaterThanEquals':
      return parseDate(v) === undefined ? 'not an ISO 8601 date or epoch seconds' : undefined;
    case 'IpAddress': case 'NotIpAddress':
      return parseCidr(v) === undefined ? 'not an IPv4 or IPv6 address or CIDR block' : undefined;
    case 'Bool':
      return /^(?:true|false)$/i.test(v) || /^\$\{[^}]+\}$/.test(v) ? undefined : 'must be "true" or "false"';
    case 'Null':
      return /^(?:true|false)$/i.test(v) ? undefined : 'must be "true" or "false"';
    case 'BinaryEquals':
      return v.length > 0 && BASE64.test(v) ? undefined : 'not base64';
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------
// Evaluation

export interface ConditionEnv {
  readonly keys: RequestKeys;
  /** Policy variables are substituted only under Version 2012-10-17. */
  readonly variables: boolean;
}

/** AND of every clause. An empty list holds. */
export function evaluateConditions(clauses: readonly ConditionClause[], env: ConditionEnv): boolean {
  for (const c of clauses) if (!evaluateCondition(c, env)) return false;
  return true;
}

export function evaluateCondition(c: ConditionClause, env: ConditionEnv): boolean {
  const requestValues = env.keys.get(c.key);
  const present = requestValues !== undefined && requestValues.length > 0;

  if (c.base === 'Null') {
    // "true": the key must be absent; "false": present. Several values OR together.
    return c.values.some((v) => (v.toLowerCase() === 'true' ? !present : present));
  }
  if (!present) {
    if (c.ifExists) return true;
    if (c.qualifier === 'ForAllValues') return true;
    if (c.qualifier === 'ForAnyValue') return false;
    return isNegatedOperator(c.base);
  }
  const negated = isNegatedOperator(c.base);
  const positive = negated ? POSITIVE_OF[c.base]! : c.base;
  // Loops rather than every/some over per-call closures: this runs for each condition of each decision,
  // and under tsx each named closure costs a `__name` call (bench/README.md, "Second pass").
  const all = c.qualifier === 'ForAllValues' || (c.qualifier !== 'ForAnyValue' && negated);
  for (const rv of requestValues) {
    if (singleHolds(c.values, positive, negated, rv, env) !== all) return !all;
  }
  return all;
}

/** One request value against the policy values: OR for a positive operator, NOR for a negated one. */
function singleHolds(values: readonly string[], positive: BaseOperator, negated: boolean, rv: string, env: ConditionEnv): boolean {
  let any = false;
  for (const pv of values) {
    if (matchOne(positive, rv, pv, env)) {
      any = true;
      break;
    }
  }
  return negated ? !any : any;
}

function matchOne(op: BaseOperator, rv: string, pv: string, env: ConditionEnv): boolean {
  const keys = env.variables ? env.keys : undefined;
  switch (op) {
    case 'StringEquals': {
      const lit = resolveLiteral(pv, keys);
      return lit !== undefined && rv === lit;
    }
    case 'StringEqualsIgnoreCase': {
      const lit = resolveLiteral(pv, keys);
      return lit !== undefined && rv.toLowerCase() === lit.toLowerCase();
    }
    case 'StringLike':
      return patternMatch(pv, rv, keys);
    case 'NumericEquals': case 'NumericLessThan': case 'NumericLessThanEquals':
    case 'NumericGreaterThan': case 'NumericGreaterThanEquals': {
      const a = parseNumber(rv);
      const b = parseNumber(pv);
      return a !== undefined && b !== undefined && compare(op, a, b);
    }
    case 'DateEquals': case 'DateLessThan': case 'DateLessThanEquals':
    case 'DateGreaterThan': case 'DateGreaterThanEquals': {
      const a = parseDate(rv);
      const b = parseDate(pv);
      return a !== undefined && b !== undefined && compare(op, a, b);
    }
    case 'Bool': {
      const lit = resolveLiteral(pv, keys);
      return lit !== undefined && rv.toLowerCase() === lit.toLowerCase();
    }
    case 'BinaryEquals':
      return rv === pv;
    case 'IpAddress':
      return ipIn(rv, pv);
    case 'ArnEquals': case 'ArnLike':
      return arnMatch(pv, rv, keys);
    default:
      return false;
  }
}

function compare(op: BaseOperator, a: number, b: number): boolean {
  if (op.endsWith('LessThanEquals')) return a <= b;
  if (op.endsWith('LessThan')) return a < b;
  if (op.endsWith('GreaterThanEquals')) return a >= b;
  if (op.endsWith('GreaterThan')) return a > b;
  return a === b;
}

/** A request address that does not parse is in no block: IpAddress is false, NotIpAddress true (a Deny on it holds). */
function ipIn(rv: string, pv: string): boolean {
  const cidr = parseCidr(pv);
  const address = unmapIpv4(rv.trim());
  const family = isIP(address);
  // An IPv4 address is never inside an IPv6 block nor the reverse (node's BlockList would map IPv4 into ::ffff:0:0/96).
  if (!cidr || family === 0 || cidr.family !== (family === 4 ? 'ipv4' : 'ipv6')) return false;
  const list = new BlockList();
  list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
