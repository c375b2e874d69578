/**
 * The authorization choke point of the services whose resources may carry their own policy (Secrets
 * Manager) or none (Parameter Store). Every operation of such a service is wrapped here: its rule names
 * the IAM action(s) and resource(s) of the request, each is decided by the one Authorizer
 * (authorizeResource: identity policies + the resource policy, the AWS way) before the operation runs,
 * and the operation then runs as the caller *through the service* — its KMS calls carry
 * `kms:ViaService`, so the key's policy, grants and the caller's identity policies decide them as AWS does.
 *
 * Fail closed: a service definition with an operation that has no rule does not start. The same holds for
 * the services whose rules are declared beside their owner (`withDeclaredAccessControl`: KMS in
 * src/kms/access-rules.ts, CloudTrail in src/audit/access-rules.ts, TrentAdmin in src/auth/admin-access-rules.ts).
 */
import type { Authorizer, ServiceResource } from '../auth/authorizer.ts';
import type { ContextValue } from '../policy/index.ts';
import { type Caller, viaServiceName } from '../auth/caller.ts';
import { ActionDeniedException, TrentError } from '../errors/errors.ts';
import { defineOperations, type Operation, type OperationContext, type ServiceDefinition } from './operation.ts';

/** The part of the Authorizer this choke point uses. */
export type ResourceAuthorizer = Pick<Authorizer, 'authorizeResource'>;

/** One authorization of a request: an IAM action on a resource. */
export interface AccessCheck {
  readonly action: string;
  readonly resource: ServiceResource;
}

/**
 * Names what a request needs. Reads its members with the operation's own InputReader rules, so a
 * malformed member is the same ValidationException/SerializationException the operation would raise;
 * may answer the service's own not-found error where AWS answers it before AccessDenied.
 */
export type AccessRule = (input: Record<string, unknown>, caller: Caller) => Promise<readonly AccessCheck[]>;

export interface ServiceAccess {
  /** The AWS service name in kms:ViaService (`secretsmanager`, `ssm`). */
  readonly viaService: string;
  /** One rule per operation name. */
  readonly rules: Readonly<Record<string, AccessRule>>;
  /**
   * What a KMS refusal inside an operation becomes (AWS: Secrets Manager says "Access to KMS is not
   * allowed"; Parameter Store passes KMS's message on).
   */
  readonly kmsDenied: (err: ActionDeniedException, ctx: OperationContext) => TrentError;
}

/** An action with no resource ("Resource": "*"), evaluated against identity policies alone. */
export function anyResource(caller: Caller, shownAs?: string | null): ServiceResource {
  return { arn: '*', accountId: caller.accountId, ...(shownAs !== undefined ? { shownAs } : {}) };
}

/** aws:RequestTag/… and aws:TagKeys for a request carrying tags (AWS global condition keys). */
export function requestTagKeys(tags: readonly { Key: string; Value: string }[] | undefined): Record<string, string | string[]> {
  if (!tags || tags.length === 0) return {};
  const keys: Record<string, string | string[]> = { 'aws:TagKeys': tags.map((t) => t.Key) };
  for (const t of tags) keys[`aws:RequestTag/${t.Key}`] = t.Value;
  return keys;
}

function guarded(op: Operation, rule: AccessRule, authorizer: ResourceAuthorizer, access: ServiceAccess): Operation {
  return {
    ...op,
    async handle(input, ctx) {
      for (const check of await rule(input, ctx.caller)) {
        await authorizer.authorizeResource(ctx.caller, check.action, check.resource);
      }
      const caller: Caller = { ...ctx.caller, viaService: viaServiceName(access.viaService, ctx.caller.region) };
      try {
        return await op.handle(input, { ...ctx, caller });
      } catch (err) {
        if (err instanceof ActionDeniedException && err.action.startsWith('kms:')) throw access.kmsDenied(err, ctx);
        throw err;
      }
    },
  };
}

/** Fail closed: throws (the server does not start) when a routed operation has no access rule. */
export function requireRuleForEveryOperation(service: ServiceDefinition, rules: Readonly<Record<string, unknown>>): void {
  for (const name of service.operations.keys()) {
    if (!Object.hasOwn(rules, name)) throw new Error(`${service.targetPrefix}.${name} has no access rule`);
  }
}

export function withServiceAccessControl(service: ServiceDefinition, authorizer: ResourceAuthorizer, access: ServiceAccess): ServiceDefinition {
  requireRuleForEveryOperation(service, access.rules);
  const ops = [...service.operations.values()].map((op) => guarded(op, access.rules[op.name]!, authorizer, access));
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
  requireRuleForEveryOperation(service, rules);
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
