/**
 * AWS: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies. Every key has exactly one policy, named `default`,
 * kept in KeyDoc.policy (absent on keys created before policies existed: AWS's default key policy).
 */
import type { Authorizer } from '../auth/authorizer.ts';
import type { Caller } from '../auth/caller.ts';
import { NotFoundException } from '../errors/errors.ts';
import type { KeyService } from './key-service.ts';

export const DEFAULT_POLICY_NAME = 'default';
const KEY_ONLY = { allowAlias: false } as const;

function requireDefaultName(policyName: string | undefined): void {
  // AWS: the only valid policy name is "default".
  if (policyName !== undefined && policyName !== DEFAULT_POLICY_NAME) throw new NotFoundException('No such policy exists');
}

export type KeyPolicyService = ReturnType<typeof createKeyPolicyService>;

export function createKeyPolicyService(deps: { keys: KeyService; authorizer: Authorizer }) {
  const { keys, authorizer } = deps;

  async function getKeyPolicy(caller: Caller, keyId: string, policyName?: string): Promise<{ policy: string; policyName: string }> {
    const key = await keys.resolveKey(caller, keyId, { ...KEY_ONLY, action: 'GetKeyPolicy' });
    requireDefaultName(policyName);
    return { policy: authorizer.keyPolicyText(key), policyName: DEFAULT_POLICY_NAME };
  }

  /** Validates (MalformedPolicyDocumentException) and, unless bypassed, runs the lockout safety check. */
  async function putKeyPolicy(caller: Caller, input: { keyId: string; policy: string; policyName?: string; bypassPolicyLockoutSafetyCheck?: boolean }): Promise<void> {
    const key = await keys.resolveKey(caller, input.keyId, {
      ...KEY_ONLY, action: 'PutKeyPolicy', contextKeys: { 'kms:BypassPolicyLockoutSafetyCheck': input.bypassPolicyLockoutSafetyCheck === true },
    });
    requireDefaultName(input.policyName);
    const policy = await authorizer.checkNewKeyPolicy(caller, input.policy, {
      keyArn: key.arn,
      ...(input.bypassPolicyLockoutSafetyCheck ? { bypassLockoutCheck: true } : {}),
    });
    await keys.mutateKey(key, (k) => ({ ...k, doc: { ...k.doc, policy } }));
  }

  async function listKeyPolicies(caller: Caller, keyId: string): Promise<string[]> {
    await keys.resolveKey(caller, keyId, { ...KEY_ONLY, action: 'ListKeyPolicies' });
    return [DEFAULT_POLICY_NAME];
  }

  return { getKeyPolicy, putKeyPolicy, listKeyPolicies };
}
