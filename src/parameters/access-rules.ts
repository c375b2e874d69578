/**
 * What each Parameter Store operation needs (AWS Service Authorization Reference, "Actions, resources,
 * and condition keys for AWS Systems Manager"): `ssm:<Operation>` on the parameter ARN
 * `arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>`, so identity policies like
 * `parameter/app/*` work whether or not the parameter exists (a name maps to one ARN; a missing one is
 * then ParameterNotFound). GetParameters and DeleteParameters check every name; GetParametersByPath checks
 * the path's ARN as given (`…:parameter/app/dev`); DescribeParameters is `ssm:DescribeParameters` on "*".
 * The keys each action carries are declared in access-keys.ts.
 *
 * The rules work from the typed request (requests.ts), read and validated once at the edge, and are
 * decided by the edge's choke point (src/http/access-control.ts) before the operation runs: a parameter
 * has no resource policy, so the name alone decides, and GetParameters and DeleteParameters are all or
 * nothing — every name is authorized before any is read or deleted.
 *
 * A parameter ARN of another account is AccessDenied ("because no resource-based policy allows"), whether
 * or not it exists. Malformed names are refused with the operation's own ValidationException or
 * ParameterNotFound before any authorization.
 */
import type { ServiceResource } from '../auth/authorizer.ts';
import { type Caller, callerScope } from '../auth/caller.ts';
import { type AccessCheck, type AccessRule, type AccessRules, anyResource, serviceRequestTagKeys } from '../auth/service-access.ts';
import { ValidationException } from '../errors/errors.ts';
import type { ContextValue } from '../policy/index.ts';
import { ParameterNotFound } from './errors.ts';
import { checkParameterName, normalizePath, parameterArn, parseParameterReference } from './names.ts';
import type { ParameterService } from './parameter-service.ts';
import type { ParameterStoreRequests } from './requests.ts';
import { isSecretReference, parseSecretReference, SECRET_REFERENCE_PREFIX } from './secret-reference.ts';

export function createParameterStoreAccessRules(parameters: Pick<ParameterService, 'tagsOf'>): AccessRules<ParameterStoreRequests> {
  /** The parameter a Name (name, ARN, with or without a :version/:label selector) refers to. */
  async function resourceOf(caller: Caller, ref: string, request?: object): Promise<ServiceResource> {
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
    for (const t of await parameters.tagsOf(scope, name, request)) keys[`aws:ResourceTag/${t.Key}`] = t.Value;
    return { arn: parameterArn(scope, name), accountId: scope.accountId, contextKeys: keys };
  }

  /**
   * `sharedRead`: the operation reads the same parameter row right after (GetParameter, GetParameters), so
   * the rule's read is made for the request and reused by the operation (request-reads.ts).
   */
  function onName(operation: string, sharedRead = false): AccessRule<{ name: string }> {
    return async (request, caller) => [{ action: `ssm:${operation}`, resource: await resourceOf(caller, request.name, sharedRead ? request : undefined) }];
  }

  /** Every name of a Names list; a name that names nothing the caller could see is left to the operation (InvalidParameters). */
  function onEachName(operation: string, sharedRead = false): AccessRule<{ names: string[] }> {
    return async (request, caller) => {
      const checks: AccessCheck[] = [];
      for (const ref of new Set(request.names)) {
        try {
          checks.push({ action: `ssm:${operation}`, resource: await resourceOf(caller, ref, sharedRead ? request : undefined) });
        } catch (err) {
          // A malformed pass-through reference is one of GetParameters' InvalidParameters, as AWS lists it.
          if (!(err instanceof ParameterNotFound) && !(err instanceof ValidationException && isSecretReference(ref))) throw err;
        }
      }
      return checks;
    };
  }

  /**
   * Tag operations name the parameter by ResourceId. Trent tags parameters only: for any other
   * ResourceType the operation refuses the request (InvalidResourceType) before it touches anything.
   */
  function onTagged<Request extends { resourceType: string; resourceId: string }>(
    operation: string, requestKeys?: (request: Request) => Record<string, ContextValue>,
  ): AccessRule<Request> {
    return async (request, caller) => {
      if (request.resourceType !== 'Parameter') return [];
      try {
        const resource = await resourceOf(caller, request.resourceId);
        const extra = requestKeys?.(request);
        return [{ action: `ssm:${operation}`, resource: extra ? { ...resource, contextKeys: { ...resource.contextKeys, ...extra } } : resource }];
      } catch (err) {
        // The operation answers InvalidResourceId for a ResourceId naming no parameter.
        if (err instanceof ParameterNotFound) return [];
        throw err;
      }
    };
  }

  return {
    GetParameter: onName('GetParameter', true),
    GetParameters: onEachName('GetParameters', true),
    DeleteParameter: onName('DeleteParameter'),
    DeleteParameters: onEachName('DeleteParameters'),
    GetParameterHistory: onName('GetParameterHistory'),
    LabelParameterVersion: onName('LabelParameterVersion'),
    UnlabelParameterVersion: onName('UnlabelParameterVersion'),
    DescribeParameters: async (_request, caller) => [{ action: 'ssm:DescribeParameters', resource: anyResource(caller) }],

    /** AWS: the path's own ARN, as given (a trailing slash stays); Recursive reaches below it with that one permission. */
    GetParametersByPath: async (request, caller) => {
      normalizePath(request.path);
      const scope = callerScope(caller);
      return [{
        action: 'ssm:GetParametersByPath',
        // AWS: ssm:Recursive lets a policy allow one level only.
        resource: {
          arn: `arn:aws:ssm:${scope.region}:${scope.accountId}:parameter${request.path}`,
          accountId: scope.accountId,
          contextKeys: { 'ssm:Recursive': String(request.recursive ?? false) },
        },
      }];
    },

    /** AWS: ssm:Overwrite ("true"/"false") and the request tags are condition keys of PutParameter. */
    PutParameter: async (request, caller) => {
      const name = request.name.trim();
      checkParameterName(callerScope(caller), name);
      const resource = await resourceOf(caller, name);
      return [{
        action: 'ssm:PutParameter',
        // AWS: ssm:Policies ("true"/"false") is whether the request attaches parameter policies.
        resource: {
          ...resource,
          contextKeys: {
            ...resource.contextKeys,
            'ssm:Overwrite': String(request.overwrite ?? false),
            'ssm:Policies': String(request.policies !== undefined),
            ...serviceRequestTagKeys(request.tags),
          },
        },
      }];
    },

    // AWS: the tags of the request (aws:RequestTag/…, aws:TagKeys) and the keys removed (aws:TagKeys).
    AddTagsToResource: onTagged('AddTagsToResource', (request) => serviceRequestTagKeys(request.tags)),
    RemoveTagsFromResource: onTagged('RemoveTagsFromResource', (request) => (request.tagKeys.length > 0 ? { 'aws:TagKeys': request.tagKeys } : {})),
    ListTagsForResource: onTagged('ListTagsForResource'),
  };
}
