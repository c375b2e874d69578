/**
 * The request context a policy is evaluated against: who calls, and the condition keys of the call.
 *
 * AWS: condition key names are case-insensitive (including the tag-key or encryption-context-key part
 * after the prefix); values keep their case. Keys the caller did not supply are absent, which is not the
 * same as empty: see conditions.ts for how each operator treats an absent key.
 */

export type PrincipalType = 'User' | 'AssumedRole' | 'Role' | 'Root' | 'Service';

/**
 * The authenticated caller. Trusted: established by SigV4 (or by Trent itself for service principals).
 * - `arn`: the caller's ARN; for an assumed role, the session ARN
 *   (arn:aws:sts::111122223333:assumed-role/Role/session); for a service, its principal name
 *   (secretsmanager.amazonaws.com).
 * - `roleArn`: for an assumed role, the full IAM role ARN (with path). When absent it is derived from the
 *   session ARN, which carries no path, and role principals are then compared by account and role name.
 */
export interface CallerPrincipal {
  readonly arn: string;
  readonly accountId: string;
  readonly type: PrincipalType;
  readonly tags?: Readonly<Record<string, string>>;
  readonly username?: string;
  readonly userid?: string;
  readonly roleArn?: string;
}

export type ContextValue = string | readonly string[] | boolean | number | undefined;

/** A layer of condition keys: a finished record, or one built the first time a lookup reaches it. */
export type KeyLayer = Readonly<Record<string, ContextValue>> | (() => Readonly<Record<string, ContextValue>>);

/** A case-insensitive, read-only view of the condition keys, every value as a list of strings. */
export class RequestKeys {
  /**
   * A key is looked up when a condition or policy variable asks for it, and remembered: a decision asks for
   * two or three keys of the twenty-odd a request carries, and normalising them all into one map on the
   * first get() was a tenth of an authorization's CPU. The layers are read then, not copied now: callers
   * hand over finished objects and do not change them afterwards.
   */
  readonly #found = new Map<string, readonly string[] | undefined>();
  readonly #layers: KeyLayer[];

  constructor(...layers: KeyLayer[]) {
    this.#layers = layers;
  }

  /** The values of a key, or undefined when the request does not carry it. An empty list means "present but empty". */
  get(key: string): readonly string[] | undefined {
    const k = key.toLowerCase();
    if (this.#found.has(k)) return this.#found.get(k);
    const values = this.#lookUp(k);
    this.#found.set(k, values);
    return values;
  }

  /** True when the key is carried with at least one value (AWS treats missing and empty alike for sets and Null). */
  has(key: string): boolean {
    const v = this.get(key);
    return v !== undefined && v.length > 0;
  }

  /**
   * Keys are case-insensitive; the earlier layer wins (callers pass explicit keys first, derived defaults
   * after). Within a layer, names that differ only in case (an encryption context or tags with both `dept`
   * and `DEPT`) give the key every one of their values: with the first alone, a Deny on
   * kms:EncryptionContext:dept = secret missed {"DEPT": "public", "dept": "secret"}. A key whose value is
   * undefined is not carried.
   */
  #lookUp(lower: string): readonly string[] | undefined {
    for (let i = 0; i < this.#layers.length; i++) {
      let layer = this.#layers[i]!;
      if (typeof layer === 'function') this.#layers[i] = layer = layer();
      let found: readonly string[] | undefined;
      for (const name in layer) {
        // No length test first: lowercasing may change a name's length (İ → i̇).
        if (!Object.hasOwn(layer, name) || name.toLowerCase() !== lower) continue;
        const value = layer[name];
        if (value === undefined) continue;
        found = found === undefined ? normalise(value) : Object.freeze([...found, ...normalise(value)]);
      }
      if (found !== undefined) return found;
    }
    return undefined;
  }
}

function normalise(value: Exclude<ContextValue, undefined>): readonly string[] {
  if (Array.isArray(value)) return Object.freeze(value.map(String));
  return Object.freeze([String(value)]);
}

/** arn:aws:sts::A:assumed-role/Role/session → { partition, accountId, roleName }. */
export function parseAssumedRoleArn(arn: string): { partition: string; accountId: string; roleName: string } | undefined {
  const m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return m ? { partition: m[1]!, accountId: m[2]!, roleName: m[3]! } : undefined;
}

/** The role an assumed-role session belongs to, as an IAM role ARN (path unknown unless `roleArn` is given). */
export function roleArnOf(p: CallerPrincipal): string | undefined {
  if (p.type === 'Role') return p.arn;
  if (p.type !== 'AssumedRole') return undefined;
  if (p.roleArn) return p.roleArn;
  const s = parseAssumedRoleArn(p.arn);
  return s ? `arn:${s.partition}:iam::${s.accountId}:role/${s.roleName}` : undefined;
}

/**
 * The global keys AWS derives from the principal: aws:PrincipalArn (the role ARN for an assumed role),
 * aws:PrincipalAccount, aws:PrincipalType, aws:PrincipalServiceName, aws:username (IAM users only),
 * aws:userid, aws:PrincipalTag/*, kms:CallerAccount.
 */
export function principalContextKeys(p: CallerPrincipal): Record<string, ContextValue> {
  const keys: Record<string, ContextValue> = {};
  if (p.type === 'Service') {
    keys['aws:PrincipalServiceName'] = p.arn;
    return keys;
  }
  keys['aws:PrincipalArn'] = p.type === 'AssumedRole' ? roleArnOf(p) ?? p.arn : p.arn;
  keys['aws:PrincipalAccount'] = p.accountId;
  keys['kms:CallerAccount'] = p.accountId;
  keys['aws:PrincipalType'] = p.type === 'Root' ? 'Account' : p.type === 'Role' ? 'AssumedRole' : p.type;
  if (p.type === 'User') keys['aws:username'] = p.username ?? p.arn.slice(p.arn.lastIndexOf('/') + 1);
  if (p.userid !== undefined) keys['aws:userid'] = p.userid;
  else if (p.type === 'Root') keys['aws:userid'] = p.accountId;
  for (const [k, v] of Object.entries(p.tags ?? {})) keys[`aws:PrincipalTag/${k}`] = v;
  return keys;
}

/**
 * kms:EncryptionContext:<key> for each pair and kms:EncryptionContextKeys (multi-valued) for the keys.
 * AWS: with no encryption context, neither key is present.
 */
export function encryptionContextKeys(ec: Readonly<Record<string, string>> | undefined): Record<string, ContextValue> {
  const keys: Record<string, ContextValue> = {};
  const names = Object.keys(ec ?? {});
  if (names.length === 0) return keys;
  for (const name of names) keys[`kms:EncryptionContext:${name}`] = ec![name];
  keys['kms:EncryptionContextKeys'] = names;
  return keys;
}

/**
 * AWS global keys of a request carrying tags, given as (key, value) pairs in request order:
 * aws:RequestTag/<key> for each and aws:TagKeys (multi-valued). None when the request carries no tag.
 */
export function requestTagKeys(tags: readonly (readonly [key: string, value: string])[]): Record<string, ContextValue> {
  if (tags.length === 0) return {};
  const keys: Record<string, ContextValue> = { 'aws:TagKeys': tags.map(([k]) => k) };
  for (const [k, v] of tags) keys[`aws:RequestTag/${k}`] = v;
  return keys;
}

/**
 * Helper for callers: the request-level global keys Trent knows at the edge. The clock is the caller's
 * (policy/ reads none): without `now`, aws:CurrentTime is absent and Date conditions on it do not match.
 */
export function requestContextKeys(opts: { now?: Date; sourceIp?: string; secureTransport?: boolean; userAgent?: string }): Record<string, ContextValue> {
  const keys: Record<string, ContextValue> = {};
  if (opts.now) {
    keys['aws:CurrentTime'] = opts.now.toISOString();
    keys['aws:EpochTime'] = Math.floor(opts.now.getTime() / 1000);
  }
  if (opts.sourceIp !== undefined) keys['aws:SourceIp'] = opts.sourceIp;
  if (opts.secureTransport !== undefined) keys['aws:SecureTransport'] = opts.secureTransport;
  if (opts.userAgent !== undefined) keys['aws:UserAgent'] = opts.userAgent;
  return keys;
}
