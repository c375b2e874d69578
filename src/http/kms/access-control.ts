/**
 * Access control at the KMS edge: adds the key-policy and grant operations to the KMS service, and
 * authorises the actions that have no key (CreateKey, ListKeys, ListAliases, GenerateRandom,
 * ListRetirableGrants) against identity policies before the operation runs. Key-scoped actions are
 * authorised in KeyService.resolveKey; both go through the one Authorizer.
 */
import type { Authorizer } from '../../auth/authorizer.ts';
import type { GrantService } from '../../kms/grant-service.ts';
import type { KeyPolicyService } from '../../kms/key-policy-service.ts';
import { defineOperations, type Operation, type ServiceDefinition } from '../operation.ts';
import { grantOperations } from './grants.ts';
import { keyPolicyOperations } from './key-policies.ts';

/** AWS: these KMS actions have no resource; only identity policies can allow them ("Resource": "*"). */
export const IDENTITY_ONLY_ACTIONS: ReadonlySet<string> = new Set([
  'CreateKey', 'ListKeys', 'ListAliases', 'GenerateRandom', 'ListRetirableGrants', 'CreateCustomKeyStore',
  'DescribeCustomKeyStores', 'ConnectCustomKeyStore', 'DisconnectCustomKeyStore', 'DeleteCustomKeyStore', 'UpdateCustomKeyStore',
]);

function identityGuarded(op: Operation, authorizer: Authorizer, prefix: string): Operation {
  return {
    ...op,
    async handle(input, ctx) {
      await authorizer.authorize(ctx.caller, `${prefix}:${op.name}`);
      return op.handle(input, ctx);
    },
  };
}

/**
 * AWS: every member of GrantTokens must be a valid grant token (InvalidGrantTokenException). Trent is
 * strongly consistent, so a valid token adds nothing: the grant it names is already in effect.
 */
function withGrantTokenCheck(op: Operation, grants: GrantService): Operation {
  return {
    ...op,
    async handle(input, ctx) {
      const tokens = input.GrantTokens;
      if (Array.isArray(tokens) && tokens.every((t) => typeof t === 'string')) await grants.validateGrantTokens(tokens as string[]);
      return op.handle(input, ctx);
    },
  };
}

export function withAccessControl(
  kms: ServiceDefinition,
  deps: { authorizer: Authorizer; policies: KeyPolicyService; grants: GrantService },
): ServiceDefinition {
  const ops = [...kms.operations.values(), ...keyPolicyOperations(deps.policies), ...grantOperations(deps.grants)];
  return {
    ...kms,
    operations: defineOperations(ops.map((op) =>
      withGrantTokenCheck(IDENTITY_ONLY_ACTIONS.has(op.name) ? identityGuarded(op, deps.authorizer, 'kms') : op, deps.grants))),
  };
}
