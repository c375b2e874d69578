/**
 * Parses and validates a JSON policy document (a KMS key policy or an identity policy) into a typed,
 * normalised `PolicyDocument`. Pure: no I/O, no clock.
 *
 * Contract: `parsePolicy` either returns a document whose every statement the evaluator understands, or
 * throws `PolicyGrammarError` (a MalformedPolicyDocumentException, so the one error mapper at the edge
 * handles it unchanged; a caller that needs another code catches it by class, never by message).
 *
 * AWS: key policy format — at most 32 KiB; only printable ASCII, printable Basic Latin/Latin-1
 * Supplement, tab, LF and CR (KMS developer guide, "Key policy format"). A key policy statement that
 * lacks Action or Resource is accepted by PutKeyPolicy but has no effect (PutKeyPolicy API reference);
 * IAM refuses such identity policies, and so do we.
 */
import { MalformedPolicyDocumentException } from '../errors/errors.ts';
import { type BaseOperator, type ConditionClause, OPERATORS, parseConditionValue } from './conditions.ts';

export type PolicyKind = 'key' | 'identity';
export type PolicyVersion = '2012-10-17' | '2008-10-17';

/** The principals named by a Principal or NotPrincipal element, normalised to lists. */
export interface PrincipalSpec {
  /** `"Principal": "*"`: everyone, AWS principals and service principals alike. */
  readonly everyone: boolean;
  /** Entries of `{"AWS": …}`: "*", 12-digit account ids, root/user/role/assumed-role/federated-user ARNs. */
  readonly aws: readonly string[];
  /** Entries of `{"Service": …}`: service principal names such as secretsmanager.amazonaws.com. */
  readonly service: readonly string[];
  /** Entries of `{"Federated": …}`: accepted for compatibility; Trent has no federated callers, so they match nobody. */
  readonly federated: readonly string[];
}

export interface Statement {
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  readonly principal?: PrincipalSpec;
  readonly notPrincipal?: PrincipalSpec;
  readonly action?: readonly string[];
  readonly notAction?: readonly string[];
  readonly resource?: readonly string[];
  readonly notResource?: readonly string[];
  /** Every clause must hold (logical AND across operators and keys). */
  readonly conditions: readonly ConditionClause[];
}

export interface PolicyDocument {
  readonly kind: PolicyKind;
  /** Absent Version means 2008-10-17 (AWS), under which `${…}` policy variables are literal text. */
  readonly version: PolicyVersion;
  readonly id?: string;
  readonly statements: readonly Statement[];
}

/** A policy that breaks the grammar. `path` points at the offending element, e.g. `Statement[1].Condition`. */
export class PolicyGrammarError extends MalformedPolicyDocumentException {
  readonly path: string;
  constructor(message: string, path = '') {
    super(path ? `${message} (at ${path})` : message);
    this.path = path;
  }
}

/** AWS: KMS key policy limit, 32 KiB. The wire-level 131072 bound of the Policy member is the HTTP layer's. */
export const MAX_KEY_POLICY_LENGTH = 32768;
export const MAX_IDENTITY_POLICY_LENGTH = 32768;

export interface ParseOptions {
  /** Overrides the kind's default maximum length (in characters). */
  readonly maxLength?: number;
}

// AWS: [\u0009\u000A\u000D\u0020-\u00FF]+ — the IAM/KMS policy character pattern. We also refuse
// U+007F and the C1 controls U+0080–U+009F, which are not printable.
const ALLOWED_CHARS = /^[\t\n\r\u0020-\u007E\u00A0-\u00FF]*$/;

const TOP_LEVEL = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_MEMBERS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const PRINCIPAL_MEMBERS = new Set(['AWS', 'Service', 'Federated']);

const ACCOUNT_ID = /^\d{12}$/;
const PARTITION = 'aws(?:-[a-z]+)*';
const IAM_PRINCIPAL_ARN = new RegExp(`^arn:${PARTITION}:iam::\\d{12}:(?:root|(?:user|role)/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]+)$`);
const STS_PRINCIPAL_ARN = new RegExp(`^arn:${PARTITION}:sts::\\d{12}:(?:assumed-role/[\\w+=,.@-]+/[\\w+=,.@-]+|federated-user/[\\w+=,.@-]+)$`);
const SERVICE_PRINCIPAL = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/i;
const ACTION_PATTERN = /^(?:\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+)$/;
const CONDITION_KEY = /^[A-Za-z0-9-]+:[\x21-\x7E\u00A0-\u00FF]+$/;

export const INVALID_PRINCIPALS_MESSAGE = 'Policy contains a statement with one or more invalid principals.';

/**
 * Parses policy text. Checks, in order: length, characters, JSON syntax, then the policy grammar.
 * Throws PolicyGrammarError on the first problem found.
 */
export function parsePolicy(text: string, kind: PolicyKind, options: ParseOptions = {}): PolicyDocument {
  const max = options.maxLength ?? (kind === 'key' ? MAX_KEY_POLICY_LENGTH : MAX_IDENTITY_POLICY_LENGTH);
  if (typeof text !== 'string' || text.length === 0) throw new PolicyGrammarError('The policy document is empty.');
  if (text.length > max) throw new PolicyGrammarError(`The policy document exceeds the maximum length of ${max} characters.`);
  if (!ALLOWED_CHARS.test(text)) {
    const bad = [...text].find((c) => !ALLOWED_CHARS.test(c)) ?? '';
    const code = bad.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0') ?? '?';
    throw new PolicyGrammarError(`The policy document contains a character that is not allowed (U+${code}); only printable ASCII, Latin-1, tab, line feed and carriage return are.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PolicyGrammarError('The policy document is not valid JSON.');
  }
  return policyFromJson(json, kind);
}

/** Validates an already-parsed JSON value (e.g. a policy built in code). Same rules as `parsePolicy` after JSON.parse. */
export function policyFromJson(json: unknown, kind: PolicyKind): PolicyDocument {
  if (!isPlainObject(json)) throw new PolicyGrammarError('The policy document must be a JSON object.');
  for (const member of Object.keys(json)) {
    if (!TOP_LEVEL.has(member)) throw new PolicyGrammarError(`Unknown policy element "${member}".`, member);
  }
  let version: PolicyVersion = '2008-10-17';
  if (json.Version !== undefined) {
    if (json.Version !== '2012-10-17' && json.Version !== '2008-10-17') {
      throw new PolicyGrammarError('Version must be "2012-10-17" or "2008-10-17".', 'Version');
    }
    version = json.Version;
  }
  let id: string | undefined;
  if (json.Id !== undefined) {
    if (typeof json.Id !== 'string') throw new PolicyGrammarError('Id must be a string.', 'Id');
    id = json.Id;
  }
  const raw = json.Statement;
  if (raw === undefined) throw new PolicyGrammarError('The policy document must contain a Statement element.', 'Statement');
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new PolicyGrammarError('The policy document must contain at least one statement.', 'Statement');
  const statements = list.map((s, i) => parseStatement(s, kind, Array.isArray(raw) ? `Statement[${i}]` : 'Statement'));
  if (kind === 'identity') {
    // IAM: Sids in one policy must be unique.
    const seen = new Set<string>();
    for (const [i, s] of statements.entries()) {
      if (s.sid === undefined || s.sid === '') continue;
      if (seen.has(s.sid)) throw new PolicyGrammarError(`Statement ids (Sid) must be unique; "${s.sid}" repeats.`, `Statement[${i}].Sid`);
      seen.add(s.sid);
    }
  }
  return Object.freeze({ kind, version, ...(id !== undefined ? { id } : {}), statements: Object.freeze(statements) });
}

function parseStatement(raw: unknown, kind: PolicyKind, path: string): Statement {
  if (!isPlainObject(raw)) throw new PolicyGrammarError('Each statement must be a JSON object.', path);
  for (const member of Object.keys(raw)) {
    if (!STATEMENT_MEMBERS.has(member)) throw new PolicyGrammarError(`Unknown statement element "${member}".`, `${path}.${member}`);
  }
  let sid: string | undefined;
  if (raw.Sid !== undefined) {
    if (typeof raw.Sid !== 'string') throw new PolicyGrammarError('Sid must be a string.', `${path}.Sid`);
    // AWS: key policy Sids may contain spaces; IAM Sids are alphanumeric.
    if (kind === 'identity' && !/^[A-Za-z0-9]*$/.test(raw.Sid)) {
      throw new PolicyGrammarError('Sid in an identity policy may contain only letters and digits.', `${path}.Sid`);
    }
    sid = raw.Sid;
  }
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') {
    throw new PolicyGrammarError('Effect must be "Allow" or "Deny".', `${path}.Effect`);
  }
  const effect = raw.Effect;

  // Principal / NotPrincipal
  const hasP = raw.Principal !== undefined;
  const hasNP = raw.NotPrincipal !== undefined;
  if (kind === 'identity' && (hasP || hasNP)) {
    throw new PolicyGrammarError('Identity policies must not contain Principal or NotPrincipal.', `${path}.${hasP ? 'Principal' : 'NotPrincipal'}`);
  }
  if (kind === 'key' && hasP === hasNP) {
    throw new PolicyGrammarError(hasP ? 'A statement must not contain both Principal and NotPrincipal.' : 'Each key policy statement must contain a Principal or NotPrincipal.', path);
  }
  const principal = hasP ? parsePrincipal(raw.Principal, `${path}.Principal`) : undefined;
  const notPrincipal = hasNP ? parsePrincipal(raw.NotPrincipal, `${path}.NotPrincipal`) : undefined;

  // Action / NotAction
  if (raw.Action !== undefined && raw.NotAction !== undefined) {
    throw new PolicyGrammarError('A statement must not contain both Action and NotAction.', path);
  }
  if (kind === 'identity' && raw.Action === undefined && raw.NotAction === undefined) {
    throw new PolicyGrammarError('Each statement must contain an Action or NotAction.', path);
  }
  const action = raw.Action !== undefined ? parseActions(raw.Action, `${path}.Action`) : undefined;
  const notAction = raw.NotAction !== undefined ? parseActions(raw.NotAction, `${path}.NotAction`) : undefined;

  // Resource / NotResource
  if (raw.Resource !== undefined && raw.NotResource !== undefined) {
    throw new PolicyGrammarError('A statement must not contain both Resource and NotResource.', path);
  }
  if (kind === 'identity' && raw.Resource === undefined && raw.NotResource === undefined) {
    throw new PolicyGrammarError('Each statement must contain a Resource or NotResource.', path);
  }
  const resource = raw.Resource !== undefined ? parseResources(raw.Resource, `${path}.Resource`) : undefined;
  const notResource = raw.NotResource !== undefined ? parseResources(raw.NotResource, `${path}.NotResource`) : undefined;

  const conditions = raw.Condition !== undefined ? parseConditions(raw.Condition, `${path}.Condition`) : [];

  return Object.freeze({
    ...(sid !== undefined ? { sid } : {}),
    effect,
    ...(principal ? { principal } : {}),
    ...(notPrincipal ? { notPrincipal } : {}),
    ...(action ? { action } : {}),
    ...(notAction ? { notAction } : {}),
    ...(resource ? { resource } : {}),
    ...(notResource ? { notResource } : {}),
    conditions: Object.freeze(conditions),
  });
}

function parsePrincipal(raw: unknown, path: string): PrincipalSpec {
  if (raw === '*') return Object.freeze({ everyone: true, aws: [], service: [], federated: [] });
  if (!isPlainObject(raw)) throw new PolicyGrammarError(INVALID_PRINCIPALS_MESSAGE, path);
  const keys = Object.keys(raw);
  if (keys.length === 0) throw new PolicyGrammarError(INVALID_PRINCIPALS_MESSAGE, path);
  for (const k of keys) {
    if (!PRINCIPAL_MEMBERS.has(k)) throw new PolicyGrammarError(INVALID_PRINCIPALS_MESSAGE, `${path}.${k}`);
  }
  const aws = raw.AWS !== undefined ? stringList(raw.AWS, `${path}.AWS`, INVALID_PRINCIPALS_MESSAGE) : [];
  const service = raw.Service !== undefined ? stringList(raw.Service, `${path}.Service`, INVALID_PRINCIPALS_MESSAGE) : [];
  const federated = raw.Federated !== undefined ? stringList(raw.Federated, `${path}.Federated`, INVALID_PRINCIPALS_MESSAGE) : [];
  for (const p of aws) {
    // AWS: no partial wildcards in principals; "*" stands alone.
    if (p !== '*' && !ACCOUNT_ID.test(p) && !IAM_PRINCIPAL_ARN.test(p) && !STS_PRINCIPAL_ARN.test(p)) {
      throw new PolicyGrammarError(INVALID_PRINCIPALS_MESSAGE, `${path}.AWS`);
    }
  }
  for (const s of service) {
    if (!SERVICE_PRINCIPAL.test(s)) throw new PolicyGrammarError(INVALID_PRINCIPALS_MESSAGE, `${path}.Service`);
  }
  for (const f of federated) {
    if (f.length === 0 || f.includes('*')) throw new PolicyGrammarError(INVALID_PRINCIPALS_MESSAGE, `${path}.Federated`);
  }
  return Object.freeze({ everyone: false, aws, service, federated });
}

function parseActions(raw: unknown, path: string): string[] {
  const list = stringList(raw, path, 'Action must be a string or a non-empty array of strings.');
  for (const a of list) {
    if (!ACTION_PATTERN.test(a)) throw new PolicyGrammarError(`"${a}" is not a valid action; use "service:Action", wildcards * and ? allowed.`, path);
  }
  return list;
}

function parseResources(raw: unknown, path: string): string[] {
  const list = stringList(raw, path, 'Resource must be a string or a non-empty array of strings.');
  for (const r of list) {
    if (r !== '*' && !r.startsWith('arn:')) throw new PolicyGrammarError(`"${r}" is not a valid resource; use "*" or an ARN.`, path);
  }
  return list;
}

function parseConditions(raw: unknown, path: string): ConditionClause[] {
  if (!isPlainObject(raw)) throw new PolicyGrammarError('Condition must be a JSON object.', path);
  const clauses: ConditionClause[] = [];
  for (const [opName, block] of Object.entries(raw)) {
    const opPath = `${path}.${opName}`;
    const op = parseOperatorName(opName, opPath);
    if (!isPlainObject(block) || Object.keys(block).length === 0) {
      throw new PolicyGrammarError(`The ${opName} condition must be a non-empty JSON object of condition keys.`, opPath);
    }
    for (const [key, rawValues] of Object.entries(block)) {
      const keyPath = `${opPath}.${key}`;
      if (!CONDITION_KEY.test(key)) throw new PolicyGrammarError(`"${key}" is not a valid condition key.`, keyPath);
      const values = scalarList(rawValues, keyPath);
      for (const v of values) {
        const problem = parseConditionValue(op.base, v);
        if (problem) throw new PolicyGrammarError(`Invalid value "${v}" for ${opName}: ${problem}.`, keyPath);
      }
      clauses.push(Object.freeze({ operator: opName, ...op, key, values: Object.freeze(values) }));
    }
  }
  return clauses;
}

/** Splits "ForAnyValue:StringLikeIfExists" into its parts; operator names are matched case-insensitively. */
export function parseOperatorName(name: string, path = ''): Pick<ConditionClause, 'base' | 'qualifier' | 'ifExists'> {
  let rest = name;
  let qualifier: ConditionClause['qualifier'];
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const q = rest.slice(0, colon).toLowerCase();
    if (q === 'foranyvalue') qualifier = 'ForAnyValue';
    else if (q === 'forallvalues') qualifier = 'ForAllValues';
    else throw new PolicyGrammarError(`Unknown condition set qualifier in "${name}"; use ForAnyValue: or ForAllValues:.`, path);
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  if (rest.toLowerCase().endsWith('ifexists')) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  const base = OPERATORS.find((o) => o.toLowerCase() === rest.toLowerCase());
  if (!base) throw new PolicyGrammarError(`Unknown condition operator "${name}".`, path);
  if (base === 'Null' && (ifExists || qualifier)) {
    throw new PolicyGrammarError('The Null operator takes neither IfExists nor a set qualifier.', path);
  }
  return { base: base as BaseOperator, ifExists, ...(qualifier ? { qualifier } : {}) };
}

function stringList(raw: unknown, path: string, message: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0 || !list.every((x) => typeof x === 'string' && x.length > 0)) throw new PolicyGrammarError(message, path);
  return Object.freeze([...list]) as string[];
}

/** Condition values: strings, numbers or booleans (AWS accepts JSON true/false and numbers), or arrays of them. */
function scalarList(raw: unknown, path: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new PolicyGrammarError('A condition key needs at least one value.', path);
  return list.map((x) => {
    if (typeof x === 'string') return x;
    if (typeof x === 'boolean') return String(x);
    if (typeof x === 'number' && Number.isFinite(x)) return String(x);
    throw new PolicyGrammarError('Condition values must be strings, numbers or booleans.', path);
  });
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

