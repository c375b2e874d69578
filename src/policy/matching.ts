/**
 * Wildcard matching for actions, resources and ARNs, policy-variable substitution, and principal matching.
 *
 * AWS semantics mirrored here:
 * - Actions: `*` and `?` wildcards, matched case-insensitively (service prefix and action name).
 * - Resources and ARN conditions: case-sensitive. ArnEquals/ArnLike check each of the six colon-delimited
 *   ARN components separately, so a wildcard never spans a colon before the resource part.
 * - Policy variables `${key}` (and `${key, 'default'}`, `${*}`, `${?}`, `${$}`) in Resource and in string
 *   and ARN condition values, under Version 2012-10-17 only. A variable naming a key the request lacks
 *   (or a multi-valued key) makes that one pattern match nothing, as in AWS.
 * - Principals: see `matchPrincipal` and `notPrincipalApplies`.
 */
import type { PrincipalSpec } from './policy-document.ts';
import { type CallerPrincipal, type RequestKeys, parseAssumedRoleArn, roleArnOf } from './context.ts';

type Token = { kind: 'lit'; text: string } | { kind: 'star' } | { kind: 'one' };

/**
 * Splits a pattern into literal text and wildcards, substituting policy variables when `keys` is given.
 * Returns undefined when a variable cannot be resolved. Substituted text is always literal.
 */
export function tokenize(pattern: string, keys: RequestKeys | undefined, wildcards: boolean): Token[] | undefined {
  const out: Token[] = [];
  const lit = (text: string) => {
    const last = out[out.length - 1];
    if (last?.kind === 'lit') out[out.length - 1] = { kind: 'lit', text: last.text + text };
    else out.push({ kind: 'lit', text });
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (keys && c === '$' && pattern[i + 1] === '{') {
      const end = pattern.indexOf('}', i + 2);
      if (end < 0) {
        lit(c);
        continue;
      }
      const value = resolveVariable(pattern.slice(i + 2, end), keys);
      if (value === undefined) return undefined;
      lit(value);
      i = end;
    } else if (wildcards && c === '*') out.push({ kind: 'star' });
    else if (wildcards && c === '?') out.push({ kind: 'one' });
    else lit(c);
  }
  return out;
}

function resolveVariable(body: string, keys: RequestKeys): string | undefined {
  const inner = body.trim();
  if (inner === '*' || inner === '?' || inner === '$') return inner;
  // ${aws:username, 'default'}
  const m = /^([^,]+?)\s*,\s*'([^']*)'$/.exec(inner);
  const name = (m ? m[1]! : inner).trim();
  const values = keys.get(name);
  if (values && values.length === 1) return values[0]!;
  return m ? m[2]! : undefined;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function tokensToRegExp(tokens: Token[], ignoreCase: boolean, arnComponents = false): RegExp {
  let src = '';
  let colons = 0;
  for (const t of tokens) {
    if (t.kind === 'lit') {
      src += escape(t.text);
      colons += t.text.split(':').length - 1;
    } else {
      // Within the first five ARN components a wildcard stays inside its component.
      const within = arnComponents && colons < 5;
      src += t.kind === 'star' ? (within ? '[^:]*' : '[\\s\\S]*') : within ? '[^:]' : '[\\s\\S]';
    }
  }
  return compiledRegExp(`^${src}$`, ignoreCase ? 'i' : '');
}

/**
 * Compiled patterns by source and flags: a policy's patterns are matched on every request (the profile
 * showed their compilation), and after variable substitution the same few sources recur. Bounded.
 */
const MAX_COMPILED = 1000;
const compiled = new Map<string, RegExp>();
function compiledRegExp(source: string, flags: string): RegExp {
  const id = `${flags}/${source}`;
  let re = compiled.get(id);
  if (!re) {
    re = new RegExp(source, flags);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(id, re);
  }
  return re;
}

/**
 * A pattern with no policy variable, compiled once into the regular expressions it is matched with: the
 * Action and Resource patterns of the policies in force are matched on every request, and tokenizing and
 * rebuilding each one per request was a fifth of an authorization (the expression cache above still
 * needed the source rebuilt to be found). Pure functions of the pattern text; bounded like `compiled`.
 */
interface CompiledGlob {
  readonly tokens: Token[];
  /** Colons in the literal text: five or more make a full ARN pattern, matched component-wise. */
  readonly literalColons: number;
  plain?: RegExp;
  ignoringCase?: RegExp;
  arn?: RegExp;
}
const globs = new Map<string, CompiledGlob>();
function compiledGlob(pattern: string): CompiledGlob {
  let g = globs.get(pattern);
  if (!g) {
    const tokens = tokenize(pattern, undefined, true)!;
    g = { tokens, literalColons: literalColons(tokens) };
    if (globs.size >= MAX_COMPILED) globs.clear();
    globs.set(pattern, g);
  }
  return g;
}

function literalColons(tokens: Token[]): number {
  return tokens.reduce((n, t) => n + (t.kind === 'lit' ? t.text.split(':').length - 1 : 0), 0);
}

/** A pattern that names no policy variable (or is matched without them): the compiled form applies. */
function variableFree(pattern: string, keys: RequestKeys | undefined): boolean {
  return keys === undefined || !pattern.includes('${');
}

/** Plain `*`/`?` glob, no variables. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  if (pattern === '*') return true;
  const g = compiledGlob(pattern);
  const re = ignoreCase ? (g.ignoringCase ??= tokensToRegExp(g.tokens, true)) : (g.plain ??= tokensToRegExp(g.tokens, false));
  return re.test(value);
}

/** Glob with policy variables; false if a variable is unresolvable. */
export function patternMatch(pattern: string, value: string, keys: RequestKeys | undefined, ignoreCase = false): boolean {
  if (variableFree(pattern, keys)) return globMatch(pattern, value, ignoreCase);
  const tokens = tokenize(pattern, keys, true);
  return tokens !== undefined && tokensToRegExp(tokens, ignoreCase).test(value);
}

/** The literal a policy value stands for after variable substitution (StringEquals and friends); undefined if unresolvable. */
export function resolveLiteral(value: string, keys: RequestKeys | undefined): string | undefined {
  if (!keys || !value.includes('${')) return value;
  const tokens = tokenize(value, keys, false);
  return tokens?.map((t) => (t.kind === 'lit' ? t.text : '')).join('');
}

/** AWS: ArnEquals/ArnLike — six colon-delimited components, each matched with wildcards, case-sensitive. */
export function arnMatch(pattern: string, arn: string, keys: RequestKeys | undefined): boolean {
  if (arn.split(':').length < 6) return false;
  const tokens = tokenize(pattern, keys, true);
  if (!tokens) return false;
  if (literalColons(tokens) < 5) return false;
  return tokensToRegExp(tokens, false, true).test(arn);
}

/** Action element: case-insensitive glob over "service:Action". */
export function actionMatches(patterns: readonly string[], action: string): boolean {
  return patterns.some((p) => globMatch(p, action, true));
}

/**
 * Resource element: "*" matches anything (including the '*' resource of CreateKey/ListKeys); a full ARN
 * pattern is matched component-wise like ArnLike; anything shorter falls back to a whole-string glob.
 */
export function resourceMatches(patterns: readonly string[], resource: string, keys: RequestKeys | undefined): boolean {
  return patterns.some((p) => {
    if (p === '*') return true;
    if (variableFree(p, keys)) {
      const g = compiledGlob(p);
      const re = g.literalColons >= 5 && resource.split(':').length >= 6
        ? (g.arn ??= tokensToRegExp(g.tokens, false, true))
        : (g.plain ??= tokensToRegExp(g.tokens, false));
      return re.test(resource);
    }
    const tokens = tokenize(p, keys, true);
    if (!tokens) return false;
    return tokensToRegExp(tokens, false, literalColons(tokens) >= 5 && resource.split(':').length >= 6).test(resource);
  });
}

// ---------------------------------------------------------------------------------------------------
// Principals

/**
 * How a Principal element names the caller:
 * - 'direct': the caller itself (its ARN, its role for an assumed-role session, a service principal,
 *   or "*"), or the account root when the caller *is* the root user;
 * - 'account': the caller's account (12-digit id or arn:…:iam::<acct>:root). AWS: in a key policy this
 *   does not mean "every principal of the account"; it delegates to that account's IAM, so the caller
 *   also needs an identity policy that allows the action;
 * - 'none'.
 */
export type PrincipalMatch = 'direct' | 'account' | 'none';

const ROOT_ARN = /^arn:[^:]+:iam::(\d{12}):root$/;
const ROLE_ARN = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;

function accountNamedBy(entry: string): string | undefined {
  if (/^\d{12}$/.test(entry)) return entry;
  return ROOT_ARN.exec(entry)?.[1];
}

function roleEntryMatches(entry: string, p: CallerPrincipal): boolean {
  const role = ROLE_ARN.exec(entry);
  if (!role) return false;
  if (p.type === 'Role') return entry === p.arn;
  if (p.type !== 'AssumedRole') return false;
  if (p.roleArn) return entry === p.roleArn;
  // Session ARNs carry no role path: compare account and role name.
  const s = parseAssumedRoleArn(p.arn);
  return s !== undefined && s.accountId === role[1] && s.roleName === role[2];
}

/**
 * `{"AWS": "*"}` names every AWS principal but not service principals; `"Principal": "*"` names everyone.
 * Partial wildcards never reach here (the grammar refuses them).
 */
export function matchPrincipal(spec: PrincipalSpec, p: CallerPrincipal): PrincipalMatch {
  if (spec.everyone) return 'direct';
  if (p.type === 'Service') {
    return spec.service.some((s) => s.toLowerCase() === p.arn.toLowerCase()) ? 'direct' : 'none';
  }
  let best: PrincipalMatch = 'none';
  for (const entry of spec.aws) {
    if (entry === '*' || entry === p.arn || roleEntryMatches(entry, p)) return 'direct';
    const acct = accountNamedBy(entry);
    if (acct !== undefined && acct === p.accountId) {
      if (p.type === 'Root') return 'direct';
      best = 'account';
    }
  }
  return best;
}

/**
 * NotPrincipal: the statement applies unless every identity in the caller's chain is listed.
 * AWS: "when you use NotPrincipal with Deny, you must also specify the account ARN of the not-denied
 * principal", and for an assumed role the session ARN, the role ARN and the account. The chain is:
 * user → [user ARN, account]; assumed role → [session ARN, role ARN, account]; root → [account];
 * service → [service name].
 */
export function notPrincipalApplies(spec: PrincipalSpec, p: CallerPrincipal): boolean {
  if (spec.everyone) return false;
  if (p.type === 'Service') return !spec.service.some((s) => s.toLowerCase() === p.arn.toLowerCase());
  if (spec.aws.includes('*')) return false;
  const accountListed = spec.aws.some((e) => accountNamedBy(e) === p.accountId);
  const chain: boolean[] = [accountListed];
  if (p.type === 'User') chain.push(spec.aws.includes(p.arn));
  if (p.type === 'Role') chain.push(spec.aws.includes(p.arn));
  if (p.type === 'AssumedRole') {
    chain.push(spec.aws.includes(p.arn));
    const role = roleArnOf(p);
    chain.push(spec.aws.some((e) => e === role || roleEntryMatches(e, p)));
  }
  return chain.some((listed) => !listed);
}

/** Grantee and retiring principals of grants: one ARN (or service name) compared like a Principal entry. */
export function matchPrincipalString(entry: string, p: CallerPrincipal): PrincipalMatch {
  if (/^[a-z0-9.-]+\.amazonaws\.com(?:\.cn)?$/i.test(entry)) {
    return matchPrincipal({ everyone: false, aws: [], service: [entry], federated: [] }, p);
  }
  return matchPrincipal({ everyone: false, aws: [entry], service: [], federated: [] }, p);
}
