/**
 * Access control at the KMS edge: adds the key-policy and grant operations to the KMS service and puts
 * every operation behind the one choke point (withDeclaredAccessControl) with its rule from
 * src/kms/access-rules.ts: actions without a key (CreateKey, ListKeys, …) are decided there, before the
 * operation runs; key-scoped actions by KeyService.resolveKey once the key is known. A routed operation
 * without a rule stops the server from starting.
 */
import type { Authorizer } from '../../auth/authorizer.ts';
import { KMS_ACCESS_RULES } from '../../kms/access-rules.ts';
import type { GrantService } from '../../kms/grant-service.ts';
import type { KeyPolicyService } from '../../kms/key-policy-service.ts';
import { withDeclaredAccessControl } from '../access-control.ts';
import { defineOperations, type Operation, type ServiceDefinition } from '../operation.ts';
import { grantOperations } from './grants.ts';
import { keyPolicyOperations } from './key-policies.ts';

/**
 * AWS: every member of GrantTokens must be a valid grant token (InvalidGrantTokenException). Trent is
 * strongly consistent, so a valid token adds nothing: the grant it names is already in effect.
 */
function withGrantTokenCheck(op: Operation, grants: GrantService): Operation {
  return {
    ...op,
    // Not an async function: a request without grant tokens (nearly all) goes straight to the operation.
    handle(input, ctx) {
      const tokens = input.GrantTokens;
      if (Array.isArray(tokens) && tokens.every((t) => typeof t === 'string')) {
        return grants.validateGrantTokens(tokens as string[]).then(() => op.handle(input, ctx));
      }
      return op.handle(input, ctx);
    },
  };
}

export function withAccessControl(
  kms: ServiceDefinition,
  deps: { authorizer: Authorizer; policies: KeyPolicyService; grants: GrantService },
): ServiceDefinition {
  const ops = [...kms.operations.values(), ...keyPolicyOperations(deps.policies), ...grantOperations(deps.grants)];
  const withTokens = { ...kms, operations: defineOperations(ops.map((op) => withGrantTokenCheck(op, deps.grants))) };
  return withDeclaredAccessControl(withTokens, deps.authorizer, KMS_ACCESS_RULES);
}
