/**
 * The authorization choke point of every service at the edge. Each routed operation has a rule declared
 * beside the service that owns it; fail closed: a service with an operation that has no rule does not start.
 *
 * - Secrets Manager and Parameter Store (`withServiceAccessControl`, rules in src/secrets/access-rules.ts and
 *   src/parameters/access-rules.ts): an operation reads its input once into a typed request (parse: every
 *   member validated, as AWS validates before it authorizes); its rule works from that request, and each
 *   check it names is decided by the one Authorizer (authorizeResource: identity policies + the resource
 *   policy, the AWS way) before the operation runs on the same request. Actions on a secret are decided by
 *   SecretService where it resolves the secret (the rule has nothing to decide first), so the secret is
 *   read once. The operation runs as the caller *through the service*: its KMS calls carry
 *   `kms:ViaService`, so the key's policy, grants and the caller's identity policies decide them as AWS
 *   does, and a KMS refusal becomes the service's own answer (`kmsDenied`).
 * - KMS, CloudTrail, TrentAdmin, TrentOperator and TrentBackup (`withDeclaredAccessControl`, tables in
 *   src/kms/access-rules.ts, src/audit/access-rules.ts, src/auth/admin-access-rules.ts and
 *   src/auth/operator-access-rules.ts): actions on "*" are decided here, the others by the owning service
 *   once it has resolved the resource.
 */
import type { Authorizer } from '../auth/authorizer.ts';
import type { AccessRule, AccessRules } from '../auth/service-access.ts';
import type { ContextValue } from '../policy/index.ts';
import { callerViaService } from '../auth/caller.ts';
import { ActionDeniedException, TrentError } from '../errors/errors.ts';
import {
  defineOperations, type Operation, type OperationContext, type ParsedOperation, type ParsedOperations, type ServiceDefinition,
} from './operation.ts';

/** The part of the Authorizer this choke point uses. */
export type ResourceAuthorizer = Pick<Authorizer, 'authorizeResource'>;

export interface ServiceAccess<Requests> {
  /** The AWS service name in kms:ViaService (`secretsmanager`, `ssm`). */
  readonly viaService: string;
  /** One rule per operation name, declared beside the service that owns the operation. */
  readonly rules: AccessRules<Requests>;
  /**
   * What a KMS refusal inside an operation becomes (AWS: Secrets Manager says "Access to KMS is not
   * allowed"; Parameter Store passes KMS's message on).
   */
  readonly kmsDenied: (err: ActionDeniedException, ctx: OperationContext) => TrentError;
}

/**
 * The operation behind its rule: the input is read once (parse: every member validated, as AWS validates
 * before it authorizes), the rule's checks are decided on that typed request, and the operation runs on
 * the same request as the caller through the service.
 */
function guarded<Request>(
  name: string, op: ParsedOperation<Request>, rule: AccessRule<Request>, authorizer: ResourceAuthorizer,
  access: Pick<ServiceAccess<unknown>, 'viaService' | 'kmsDenied'>,
): Operation {
  return {
    name,
    readOnly: op.readOnly,
    async handle(input, ctx) {
      const request = op.parse(input);
      for (const check of await rule(request, ctx.caller)) {
        await authorizer.authorizeResource(ctx.caller, check.action, check.resource);
      }
      const caller = callerViaService(ctx.caller, access.viaService);
      try {
        return await op.handle(request, { caller, requestId: ctx.requestId });
      } catch (err) {
        if (err instanceof ActionDeniedException && err.action.startsWith('kms:')) throw access.kmsDenied(err, ctx);
        throw err;
      }
    },
  };
}

/** Fail closed: throws (the server does not start) when a routed operation has no access rule. */
export function requireRuleForEveryOperation(targetPrefix: string, operationNames: Iterable<string>, rules: Readonly<Record<string, unknown>>): void {
  for (const name of operationNames) {
    if (!Object.hasOwn(rules, name)) throw new Error(`${targetPrefix}.${name} has no access rule`);
  }
}

export function withServiceAccessControl<Requests>(
  service: Omit<ServiceDefinition, 'operations'>, operations: ParsedOperations<Requests>, authorizer: ResourceAuthorizer, access: ServiceAccess<Requests>,
): ServiceDefinition {
  const names = Object.keys(operations) as (keyof Requests & string)[];
  requireRuleForEveryOperation(service.targetPrefix, names, access.rules);
  const ops = names.map((name) => guarded(name, operations[name], access.rules[name], authorizer, access));
  return { ...service, operations: defineOperations(ops) };
}

/**
 * A declared rule: the IAM action(s) of an operation, where it is decided, and the condition keys its
 * requests carry. `resource: '*'` is decided here, against identity policies alone, before the operation
 * runs; any other resource is decided by the owning service once it has resolved the resource (a KMS
 * key from an alias or a ciphertext blob, an IAM principal), with the same Authorizer.
 */
export interface DeclaredAccessRule {
  readonly actions: readonly string[];
  readonly resource: string;
  readonly conditionKeys: readonly string[];
  readonly requestKeys?: (input: Readonly<Record<string, unknown>>) => Record<string, ContextValue>;
}

export function withDeclaredAccessControl(
  service: ServiceDefinition, authorizer: Pick<Authorizer, 'authorize'>, rules: Readonly<Record<string, DeclaredAccessRule>>,
): ServiceDefinition {
  requireRuleForEveryOperation(service.targetPrefix, service.operations.keys(), rules);
  const ops = [...service.operations.values()].map((op): Operation => {
    const rule = rules[op.name]!;
    if (rule.resource !== '*') return op;
    return {
      ...op,
      async handle(input, ctx) {
        const requestKeys = rule.requestKeys?.(input);
        for (const action of rule.actions) await authorizer.authorize(ctx.caller, action, undefined, requestKeys);
        return op.handle(input, ctx);
      },
    };
  });
  return { ...service, operations: defineOperations(ops) };
}
