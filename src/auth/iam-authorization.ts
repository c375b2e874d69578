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
import type { Storage } from '../storage/storage.ts';

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

  return { resourceTags, authorizeOn };
}
