/**
 * What each Parameter Store operation needs (AWS Service Authorization Reference, "Actions, resources,
 * and condition keys for AWS Systems Manager"): `ssm:<Operation>` on the parameter ARN
 * `arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>`, so identity policies like
 * `parameter/app/*` work whether or not the parameter exists (a name maps to one ARN; a missing one is
 * then ParameterNotFound). GetParameters and DeleteParameters check every name; GetParametersByPath checks
 * the path's ARN as given (`…:parameter/app/dev`); DescribeParameters is `ssm:DescribeParameters` on "*".
 *
 * Each rule reads its members with the operation's bounds and throws their ValidationException first.
 *
 * A parameter has no resource policy: a parameter ARN of another account is AccessDenied ("because no
 * resource-based policy allows"), whether or not it exists. Malformed names are refused with the
 * operation's own ValidationException/ParameterNotFound before any authorization.
 */
import type { ServiceResource } from '../../auth/authorizer.ts';
import { type Caller, callerScope } from '../../auth/caller.ts';
import { ActionDeniedException, ValidationException } from '../../errors/errors.ts';
import type { ContextValue } from '../../policy/index.ts';
import { ParameterNotFound } from '../../parameters/errors.ts';
import { checkParameterName, normalizePath, parameterArn, parseParameterReference } from '../../parameters/names.ts';
import { isSecretReference, parseSecretReference, SECRET_REFERENCE_PREFIX } from '../../parameters/secret-reference.ts';
import type { ParameterService } from '../../parameters/parameter-service.ts';
import { type AccessCheck, type AccessRule, anyResource, requestTagKeys, type ServiceAccess } from '../access-control.ts';
import { InputReader } from '../input.ts';
import { readName, readNames, readTags } from './common.ts';

/** AWS: Parameter Store passes KMS's refusal on, naming KMS (as reported by SDK users). */
function kmsDeniedMessage(message: string, requestId: string): string {
  return `${message} (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: ${requestId}; Proxy: null)`;
}

export function createParameterAccess(parameters: ParameterService) {
  /** The parameter a Name (name, ARN, with or without a :version/:label selector) refers to. */
  async function resourceOf(caller: Caller, ref: string): Promise<ServiceResource> {
    const scope = callerScope(caller);
    if (ref.startsWith('arn:')) {
      const parts = ref.split(':');
      if (parts.length >= 6 && parts[2] === 'ssm' && /^\d{12}$/.test(parts[4]!) && parts[4] !== scope.accountId) {
        return { arn: parts.slice(0, 6).join(':'), accountId: parts[4]! };
      }
    }
    // `/aws/reference/secretsmanager/<secret-id>[:selector]`: the secret id may hold ':' and '/', so it
    // has its own syntax (and error text); the secret itself is authorized by the pass-through.
    if (isSecretReference(ref)) {
      const { secretId } = parseSecretReference(ref);
      return { arn: parameterArn(scope, `${SECRET_REFERENCE_PREFIX}${secretId}`), accountId: scope.accountId };
    }
    const { name } = parseParameterReference(scope, ref);
    const keys: Record<string, ContextValue> = {};
    for (const t of await parameters.tagsOf(scope, name)) keys[`aws:ResourceTag/${t.Key}`] = t.Value;
    return { arn: parameterArn(scope, name), accountId: scope.accountId, contextKeys: keys };
  }

  function onName(operation: string): AccessRule {
    return async (input, caller) => {
      const r = new InputReader(input);
      const name = readName(r);
      r.done();
      return [{ action: `ssm:${operation}`, resource: await resourceOf(caller, name!) }];
    };
  }

  /** Every name of a Names list; a name that names nothing the caller could see is left to the operation (InvalidParameters). */
  function onEachName(operation: string): AccessRule {
    return async (input, caller) => {
      const r = new InputReader(input);
      const names = readNames(r);
      r.done();
      const checks: AccessCheck[] = [];
      for (const ref of new Set(names!)) {
        try {
          checks.push({ action: `ssm:${operation}`, resource: await resourceOf(caller, ref) });
        } catch (err) {
          // A malformed pass-through reference is one of GetParameters' InvalidParameters, as AWS lists it.
          if (!(err instanceof ParameterNotFound) && !(err instanceof ValidationException && isSecretReference(ref))) throw err;
        }
      }
      return checks;
    };
  }

  const rules: Record<string, AccessRule> = {
    GetParameter: onName('GetParameter'),
    GetParameters: onEachName('GetParameters'),
    DeleteParameter: onName('DeleteParameter'),
    DeleteParameters: onEachName('DeleteParameters'),
    GetParameterHistory: onName('GetParameterHistory'),
    LabelParameterVersion: onName('LabelParameterVersion'),
    UnlabelParameterVersion: onName('UnlabelParameterVersion'),
    DescribeParameters: async (_input, caller) => [{ action: 'ssm:DescribeParameters', resource: anyResource(caller) }],

    /** AWS: the path's own ARN, as given (a trailing slash stays); Recursive reaches below it with that one permission. */
    GetParametersByPath: async (input, caller) => {
      const r = new InputReader(input);
      const path = r.string('Path', { required: true, min: 1, max: 2048 })!;
      const recursive = r.boolean('Recursive');
      r.done();
      normalizePath(path);
      const scope = callerScope(caller);
      return [{
        action: 'ssm:GetParametersByPath',
        // AWS: ssm:Recursive lets a policy allow one level only.
        resource: { arn: `arn:aws:ssm:${scope.region}:${scope.accountId}:parameter${path}`, accountId: scope.accountId, contextKeys: { 'ssm:Recursive': String(recursive ?? false) } },
      }];
    },

    /** AWS: ssm:Overwrite ("true"/"false") and the request tags are condition keys of PutParameter. */
    PutParameter: async (input, caller) => {
      const r = new InputReader(input);
      const rawName = readName(r);
      const overwrite = r.boolean('Overwrite');
      const policies = r.string('Policies', { min: 1, max: 4096 });
      const tags = readTags(r);
      r.done();
      const name = rawName!.trim();
      const scope = callerScope(caller);
      checkParameterName(scope, name);
      const resource = await resourceOf(caller, name);
      return [{
        action: 'ssm:PutParameter',
        // AWS: ssm:Policies ("true"/"false") is whether the request attaches parameter policies.
        resource: {
          ...resource,
          contextKeys: { ...resource.contextKeys, 'ssm:Overwrite': String(overwrite ?? false), 'ssm:Policies': String(policies !== undefined), ...requestTagKeys(tags) },
        },
      }];
    },

    // AWS: the tags of the request (aws:RequestTag/…, aws:TagKeys) and the keys removed (aws:TagKeys).
    AddTagsToResource: onTagged('AddTagsToResource', (input) => {
      const tags = Array.isArray(input.Tags) ? (input.Tags as unknown[]).filter((t): t is { Key: string; Value: string } =>
        typeof t === 'object' && t !== null && typeof (t as { Key?: unknown }).Key === 'string' && typeof (t as { Value?: unknown }).Value === 'string') : [];
      return requestTagKeys(tags);
    }),
    RemoveTagsFromResource: onTagged('RemoveTagsFromResource', (input) => {
      const keys = Array.isArray(input.TagKeys) ? (input.TagKeys as unknown[]).filter((k): k is string => typeof k === 'string') : [];
      return keys.length > 0 ? { 'aws:TagKeys': keys } : {};
    }),
    ListTagsForResource: onTagged('ListTagsForResource'),
  };

  /**
   * Tag operations name the parameter by ResourceId. Trent tags parameters only: for any other
   * ResourceType the operation refuses the request (InvalidResourceType) before it touches anything.
   */
  function onTagged(operation: string, requestKeys?: (input: Readonly<Record<string, unknown>>) => Record<string, ContextValue>): AccessRule {
    return async (input, caller) => {
      const r = new InputReader(input);
      if (r.string('ResourceType') !== 'Parameter') return [];
      const id = r.string('ResourceId', { required: true, min: 1, max: 2048 });
      r.done();
      try {
        const resource = await resourceOf(caller, id!);
        const extra = requestKeys?.(input);
        return [{ action: `ssm:${operation}`, resource: extra ? { ...resource, contextKeys: { ...resource.contextKeys, ...extra } } : resource }];
      } catch (err) {
        // The operation answers InvalidResourceId for a ResourceId naming no parameter.
        if (err instanceof ParameterNotFound) return [];
        throw err;
      }
    };
  }

  const access: ServiceAccess = {
    viaService: 'ssm',
    rules,
    kmsDenied: (err, ctx) => new ActionDeniedException(kmsDeniedMessage(err.message, ctx.requestId), err.action),
  };
  return access;
}
