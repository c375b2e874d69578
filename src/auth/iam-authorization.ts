/**
 * How the IAM services (iam-service.ts, iam-managed.ts) decide an `iam:*` action on an entity: identity
 * policies (the Authorizer), with the condition keys AWS documents for IAM actions on users and roles —
 * the entity's tags as `aws:ResourceTag/<key>` and `iam:ResourceTag/<key>` — and a request's tags as
 * `aws:RequestTag/<key>` and `aws:TagKeys`. Groups and managed policies carry no tags in Trent, so an
 * action on one has only the request's keys. The declared table is src/auth/iam-access-rules.ts.
 */
import type { Authorizer } from './authorizer.ts';
import type { Caller } from './caller.ts';
import type { PrincipalDoc } from './authorizer.ts';
import { type ContextValue, requestTagKeys } from '../policy/index.ts';
import type { PrincipalKind, PrincipalRecord } from '../storage/iam-repos.ts';
import type { Storage } from '../storage/storage.ts';
import { ValidationException } from '../errors/errors.ts';

/** AWS: an IAM path is `/` or begins and ends with `/`, printable ASCII, 1–512 characters. */
const PATH = /^(?:\/|\/[\x21-\x7e]+\/)$/;
/** AWS: a PathPrefix begins with `/`. */
const PATH_PREFIX = /^\/[\x21-\x7f]*$/;

/** A Path member (CreateUser, CreateRole, CreateGroup, CreatePolicy), validated as AWS does; `/` when absent. */
export function checkPath(path: string | undefined): string {
  if (path === undefined) return '/';
  if (path.length > 512 || !PATH.test(path)) {
    throw new ValidationException(`1 validation error detected: Value '${path}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)`);
  }
  return path;
}

/** A PathPrefix member (List{Users,Roles,Groups,Policies}); undefined when absent. */
export function checkPathPrefix(prefix: string | undefined): string | undefined {
  if (prefix === undefined) return undefined;
  if (prefix.length > 512 || !PATH_PREFIX.test(prefix)) {
    throw new ValidationException(`1 validation error detected: Value '${prefix}' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*`);
  }
  return prefix;
}

/** AWS: `arn:aws:iam::<account>:<kind>/<path without its leading slash><name>`, e.g. user/engineering/alice. */
export function entityArn(accountId: string, kind: PrincipalKind, name: string, path = '/'): string {
  return `arn:aws:iam::${accountId}:${kind}/${path.slice(1)}${name}`;
}

/** The path of an entity's ARN: `/` or `/engineering/`. */
export function pathOf(arn: string): string {
  const rest = arn.slice(arn.indexOf('/') + 1);
  return `/${rest.slice(0, rest.lastIndexOf('/') + 1)}`;
}

/** aws:RequestTag/… and aws:TagKeys of an IAM request's tags (a map once read from the request). */
export function iamRequestTags(tags: Readonly<Record<string, string>> | undefined): Record<string, ContextValue> {
  return requestTagKeys(Object.entries(tags ?? {}));
}

export function createIamAuthorization(deps: { storage: Storage; authorizer: Pick<Authorizer, 'authorize'> }) {
  /** aws:ResourceTag/<key> (and iam:ResourceTag/<key>) of the entity an action names; none when it does not exist. */
  async function resourceTags(arn: string): Promise<Record<string, ContextValue>> {
    const rec = await deps.storage.read((r) => r.principals.get(arn));
    const keys: Record<string, ContextValue> = {};
    for (const [n, v] of Object.entries((rec?.doc as PrincipalDoc | undefined)?.tags ?? {})) {
      keys[`aws:ResourceTag/${n}`] = v;
      keys[`iam:ResourceTag/${n}`] = v;
    }
    return keys;
  }

  /** Authorizes an action on an entity of the caller's account, with its resource tags and the request's keys. */
  async function authorizeOn(caller: Caller, action: string, arn: string, requestKeys: Record<string, ContextValue> = {}): Promise<void> {
    await deps.authorizer.authorize(caller, action, arn, { ...requestKeys, ...(await resourceTags(arn)) });
  }

  /**
   * The entity of a kind named `name` in an account, whatever its path. Names are unique per kind in an
   * account (AWS), so the path-less ARN is tried first (one read); an entity created with a path is found
   * by listing the account's entities.
   */
  async function findEntity(accountId: string, kind: PrincipalKind, name: string): Promise<PrincipalRecord | undefined> {
    const direct = await deps.storage.read((r) => r.principals.get(entityArn(accountId, kind, name)));
    if (direct?.kind === kind) return direct;
    return (await deps.storage.read((r) => r.principals.list(accountId))).find((p) => p.kind === kind && p.name === name);
  }

  /**
   * Whether a new entity of `kind` may not take `name`: AWS IAM names are unique in the account without
   * regard to case ("you cannot create resources named both MyResource and myresource"), whatever the path.
   */
  async function nameTaken(accountId: string, kind: PrincipalKind, name: string): Promise<boolean> {
    if (await findEntity(accountId, kind, name)) return true;
    const lower = name.toLowerCase();
    return (await deps.storage.read((r) => r.principals.list(accountId))).some((p) => p.kind === kind && p.name.toLowerCase() === lower);
  }

  /** The ARN an action on the named entity is decided on: its own (with its path), or the path-less one when it does not exist. */
  async function arnFor(accountId: string, kind: PrincipalKind, name: string): Promise<string> {
    return (await findEntity(accountId, kind, name))?.arn ?? entityArn(accountId, kind, name);
  }

  return { resourceTags, authorizeOn, findEntity, nameTaken, arnFor };
}
