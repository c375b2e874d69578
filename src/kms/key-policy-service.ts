/**
 * AWS: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies. Every key has exactly one policy, named `default`,
 * kept in KeyDoc.policy (absent on keys created before policies existed: AWS's default key policy).
 */
import type { Authorizer } from '../auth/authorizer.ts';
import type { Caller } from '../auth/caller.ts';
import { NotFoundException } from '../errors/errors.ts';
import type { KeyService } from './key-service.ts';
import type { PaginationMarkers } from './markers.ts';

export const DEFAULT_POLICY_NAME = 'default';
const KEY_ONLY = { allowAlias: false } as const;

function requireDefaultName(policyName: string | undefined): void {
  // AWS: the only valid policy name is "default".
  if (policyName !== undefined && policyName !== DEFAULT_POLICY_NAME) throw new NotFoundException('No such policy exists');
}

export type KeyPolicyService = ReturnType<typeof createKeyPolicyService>;

export function createKeyPolicyService(deps: { keys: KeyService; authorizer: Authorizer; markers: PaginationMarkers }) {
  const { keys, authorizer, markers } = deps;

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

  /** AWS: ListKeyPolicies — one name per key, so a page never ends early; the Marker is still checked. */
  async function listKeyPolicies(caller: Caller, input: { keyId: string; limit?: number; marker?: string }): Promise<{ names: string[]; nextMarker?: string }> {
    await keys.resolveKey(caller, input.keyId, { ...KEY_ONLY, action: 'ListKeyPolicies' });
    const after = markers.decode('ListKeyPolicies', input.marker);
    const all = [DEFAULT_POLICY_NAME].filter((n) => after === undefined || n > after);
    const limit = input.limit ?? 100;
    const names = all.slice(0, limit);
    return { names, ...(all.length > limit ? { nextMarker: markers.encode('ListKeyPolicies', names[names.length - 1]!) } : {}) };
  }

  return { getKeyPolicy, putKeyPolicy, listKeyPolicies };
}
