/**
 * Parameter policies (Advanced tier only; AWS: "Assigning parameter policies", shared reference §4).
 * Expiration deletes the parameter at its Timestamp — the parameter row carries that due time and
 * runDue (parameter-service.ts) deletes it. ExpirationNotification and NoChangeNotification are
 * validated and recorded only: Trent has no EventBridge to notify.
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
