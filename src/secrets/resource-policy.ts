/**
 * A secret's resource policy: PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy and
 * ValidateResourcePolicy. The policy is evaluated for every call on the secret (secret-lookup.ts
 * findAuthorized, access-rules.ts secretResource).
 */
import type { Caller } from '../auth/caller.ts';
import { anyResource } from '../auth/service-access.ts';
import { grantsPublicAccess, parsePolicy, type PolicyDocument } from '../policy/index.ts';
import { SECRET_ACCESS } from './access-rules.ts';
import { PublicPolicyException } from './errors.ts';
import type { SecretsManagerRequests as Requests } from './requests.ts';
import type { Secret, SecretContext } from './secret-context.ts';
import { findAuthorized, mutate, refuseReplica, resolve } from './secret-lookup.ts';

/** AWS: PutResourcePolicy ResourcePolicy is 1–20480 characters. */
const MAX_RESOURCE_POLICY_LENGTH = 20480;

/**
 * AWS: PutResourcePolicy/ValidateResourcePolicy — the policy must parse as a resource-based policy
 * (the policy evaluator's grammar: MalformedPolicyDocumentException).
 */
function parseResourcePolicy(text: string): PolicyDocument {
  return parsePolicy(text, 'key', { maxLength: MAX_RESOURCE_POLICY_LENGTH });
}

export async function putResourcePolicy(ctx: SecretContext, caller: Caller, input: Requests['PutResourcePolicy']): Promise<Secret> {
  refuseReplica(await findAuthorized(ctx, caller, input.secretId, SECRET_ACCESS.PutResourcePolicy(input)));
  const doc = parseResourcePolicy(input.policy);
  // AWS: with BlockPublicPolicy, a policy allowing a wildcard principal is refused (PublicPolicyException).
  if (input.blockPublicPolicy && grantsPublicAccess(doc)) {
    throw new PublicPolicyException('The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.');
  }
  await mutate(ctx, caller, input.secretId, (d) => {
    d.policy = input.policy;
    return { result: undefined };
  }, { primaryOnly: true });
  return resolve(ctx, caller, input.secretId);
}

export async function getResourcePolicy(ctx: SecretContext, caller: Caller, secretId: string): Promise<Secret> {
  return resolve(ctx, caller, secretId, { access: SECRET_ACCESS.GetResourcePolicy() });
}

export async function deleteResourcePolicy(ctx: SecretContext, caller: Caller, secretId: string): Promise<Secret> {
  await mutate(ctx, caller, secretId, (doc) => {
    delete doc.policy;
    return { result: undefined };
  }, { primaryOnly: true, access: SECRET_ACCESS.DeleteResourcePolicy() });
  return resolve(ctx, caller, secretId);
}

/**
 * AWS: ValidateResourcePolicy — grammar errors are MalformedPolicyDocumentException; a policy that
 * parses but allows broad access (a wildcard principal) fails validation with a ValidationErrors entry.
 */
export async function validateResourcePolicy(
  ctx: SecretContext, caller: Caller, input: Requests['ValidateResourcePolicy'],
): Promise<{ passed: boolean; errors: { CheckName: string; ErrorMessage: string }[] }> {
  const access = SECRET_ACCESS.ValidateResourcePolicy();
  if (input.secretId !== undefined) await resolve(ctx, caller, input.secretId, { access });
  else for (const action of access.actions) await ctx.authorizer.authorizeResource(caller, action, anyResource(caller));
  const doc = parseResourcePolicy(input.policy);
  const errors = grantsPublicAccess(doc)
    ? [{ CheckName: 'BROAD_ACCESS', ErrorMessage: 'The resource policy grants access to a wildcard principal without a condition limiting it to specific accounts or principals.' }]
    : [];
  return { passed: errors.length === 0, errors };
}
