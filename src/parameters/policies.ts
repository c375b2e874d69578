/**
 * Parameter policies (Advanced tier only; AWS: "Assigning parameter policies", shared reference §4).
 * - Expiration deletes the parameter at its Timestamp.
 * - ExpirationNotification fires once, `Before` days/hours ahead of that Timestamp.
 * - NoChangeNotification fires once per version, `After` days/hours after the version was written
 *   without a newer one.
 * The parameter row's dueAt is the earliest of these still to happen (nextDue); runDue
 * (policy-job.ts) acts on it and emits the events (policy-events.ts).
 */
import {
  IncompatiblePolicyException,
  InvalidPolicyAttributeException,
  InvalidPolicyTypeException,
  PoliciesLimitExceededException,
} from './errors.ts';

export const MAX_POLICIES = 10;

export interface ParameterPolicy {
  PolicyText: string;
  PolicyType: 'Expiration' | 'ExpirationNotification' | 'NoChangeNotification';
  PolicyStatus: 'Pending' | 'Finished' | 'Failed' | 'InProgress';
}

export interface ParsedPolicies {
  policies: ParameterPolicy[];
  /** Epoch ms of the Expiration policy, if any. */
  expiresAt: number | null;
}

const TYPES = ['Expiration', 'ExpirationNotification', 'NoChangeNotification'] as const;
const UNITS = ['Days', 'Hours'];

function attributeError(what: string): Error {
  return new InvalidPolicyAttributeException(`A policy attribute or its value is invalid: ${what}`);
}

export function parsePolicies(text: string): ParsedPolicies {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidPolicyTypeException('The policy document is not valid JSON.');
  }
  if (!Array.isArray(parsed)) throw new InvalidPolicyTypeException('The policy document must be a JSON array of policies.');
  if (parsed.length > MAX_POLICIES) throw new PoliciesLimitExceededException(`A parameter can have at most ${MAX_POLICIES} policies.`);
  const policies: ParameterPolicy[] = [];
  let expiresAt: number | null = null;
  const seen = new Set<string>();
  for (const p of parsed as unknown[]) {
    if (typeof p !== 'object' || p === null) throw new InvalidPolicyTypeException('A policy must be a JSON object.');
    const { Type: type, Version: version, Attributes: attrs } = p as Record<string, unknown>;
    if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type)) {
      throw new InvalidPolicyTypeException(`The policy type is not supported: ${String(type)}. Valid types: ${TYPES.join(', ')}.`);
    }
    if (version !== undefined && version !== '1.0') throw attributeError('Version');
    if (seen.has(type)) throw new IncompatiblePolicyException(`Only one ${type} policy is allowed.`);
    seen.add(type);
    if (typeof attrs !== 'object' || attrs === null) throw attributeError('Attributes');
    const a = attrs as Record<string, unknown>;
    if (type === 'Expiration') {
      const ms = typeof a.Timestamp === 'string' ? Date.parse(a.Timestamp) : NaN;
      if (Number.isNaN(ms)) throw attributeError('Timestamp');
      expiresAt = ms;
    } else {
      const n = type === 'ExpirationNotification' ? a.Before : a.After;
      if (typeof n !== 'string' || !/^[1-9][0-9]{0,5}$/.test(n)) throw attributeError(type === 'ExpirationNotification' ? 'Before' : 'After');
      if (typeof a.Unit !== 'string' || !UNITS.includes(a.Unit)) throw attributeError('Unit');
    }
    policies.push({ PolicyText: JSON.stringify(p), PolicyType: type as ParameterPolicy['PolicyType'], PolicyStatus: 'Pending' });
  }
  if (seen.has('ExpirationNotification') && !seen.has('Expiration')) {
    throw new IncompatiblePolicyException('An ExpirationNotification policy needs an Expiration policy.');
  }
  return { policies, expiresAt };
}

const HOUR_MS = 3_600_000;

/** What the row remembers of notifications already sent (ParamDoc.notified). */
export interface NotifiedState {
  /** The Expiration timestamp an ExpirationNotification was sent for (a new timestamp re-arms it). */
  expiration?: number;
  /** The version a NoChangeNotification was sent for (a new version re-arms it). */
  noChange?: number;
}

export interface PolicyTimes {
  expiresAt?: number;
  expirationNotifyAt?: number;
  noChangeNotifyAt?: number;
}

function attributes(p: ParameterPolicy): Record<string, unknown> {
  const o = JSON.parse(p.PolicyText) as { Attributes?: Record<string, unknown> };
  return o.Attributes ?? {};
}

function span(n: unknown, unit: unknown): number {
  return Number(n) * (unit === 'Hours' ? HOUR_MS : 24 * HOUR_MS);
}

/** When each policy of a version written at `writtenAt` acts (policies are already validated). */
export function policyTimes(policies: readonly ParameterPolicy[], writtenAt: number): PolicyTimes {
  const out: PolicyTimes = {};
  for (const p of policies) {
    const a = attributes(p);
    if (p.PolicyType === 'Expiration') out.expiresAt = Date.parse(String(a.Timestamp));
  }
  for (const p of policies) {
    const a = attributes(p);
    if (p.PolicyType === 'ExpirationNotification' && out.expiresAt !== undefined) out.expirationNotifyAt = out.expiresAt - span(a.Before, a.Unit);
    if (p.PolicyType === 'NoChangeNotification') out.noChangeNotifyAt = writtenAt + span(a.After, a.Unit);
  }
  return out;
}

/** The notifications due at `now` that were not sent yet. */
export function dueNotifications(t: PolicyTimes, notified: NotifiedState, version: number, now: number): ('ExpirationNotification' | 'NoChangeNotification')[] {
  const out: ('ExpirationNotification' | 'NoChangeNotification')[] = [];
  if (t.expirationNotifyAt !== undefined && t.expirationNotifyAt <= now && notified.expiration !== t.expiresAt) out.push('ExpirationNotification');
  if (t.noChangeNotifyAt !== undefined && t.noChangeNotifyAt <= now && notified.noChange !== version) out.push('NoChangeNotification');
  return out;
}

/** The row's dueAt: the earliest action still to happen, or null. */
export function nextDue(t: PolicyTimes, notified: NotifiedState, version: number): number | null {
  const times = [
    t.expiresAt,
    notified.expiration !== t.expiresAt ? t.expirationNotifyAt : undefined,
    notified.noChange !== version ? t.noChangeNotifyAt : undefined,
  ].filter((x): x is number => x !== undefined);
  return times.length === 0 ? null : Math.min(...times);
}
