/** KMS identifiers: key ids, key ARNs, alias names and alias ARNs, all carrying account and region. */
import type { Scope } from '../storage/storage.ts';

export const KEY_ID_PATTERN = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const ARN_PATTERN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/;

export function keyArn(scope: Scope, keyId: string): string {
  return `arn:aws:kms:${scope.region}:${scope.accountId}:key/${keyId}`;
}

export function aliasArn(scope: Scope, aliasName: string): string {
  return `arn:aws:kms:${scope.region}:${scope.accountId}:${aliasName}`;
}

export type KeyReference =
  | { kind: 'keyId'; scope: Scope; keyId: string }
  | { kind: 'alias'; scope: Scope; aliasName: string }
  | { kind: 'invalid' };

/**
 * Parses what a caller put in a KeyId member. Scope defaults to the caller's; an ARN names its own.
 * Anything that is neither a key id, a key ARN, an alias name nor an alias ARN is invalid.
 */
export function parseKeyReference(input: string, callerScope: Scope): KeyReference {
  const arn = ARN_PATTERN.exec(input);
  if (arn) {
    const scope = { region: arn[1]!, accountId: arn[2]! };
    if (arn[3] === 'key') return KEY_ID_PATTERN.test(arn[4]!) ? { kind: 'keyId', scope, keyId: arn[4]! } : { kind: 'invalid' };
    return { kind: 'alias', scope, aliasName: `alias/${arn[4]!}` };
  }
  if (input.startsWith('arn:')) return { kind: 'invalid' };
  if (input.startsWith('alias/')) return { kind: 'alias', scope: callerScope, aliasName: input };
  if (KEY_ID_PATTERN.test(input)) return { kind: 'keyId', scope: callerScope, keyId: input };
  return { kind: 'invalid' };
}
