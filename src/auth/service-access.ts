/**
 * The shape of the access rules of the services whose resources may carry their own policy (Secrets
 * Manager) or none (Parameter Store). Each service declares its rules beside itself
 * (src/secrets/access-rules.ts, src/parameters/access-rules.ts), over the typed request the edge reads
 * once; the edge's choke point (src/http/access-control.ts) applies them, and refuses to start when a
 * routed operation has none.
 */
import type { ServiceResource } from './authorizer.ts';
import type { Caller } from './caller.ts';
import { type ContextValue, requestTagKeys } from '../policy/index.ts';

/** One authorization of a request: an IAM action on a resource. */
export interface AccessCheck {
  readonly action: string;
  readonly resource: ServiceResource;
}

/**
 * What a request needs, decided before its operation runs. Works from the typed request (its members
 * already validated); may answer the service's own error where AWS answers it before AccessDenied.
 */
export type AccessRule<Request> = (request: Request, caller: Caller) => Promise<readonly AccessCheck[]>;

/** One rule per operation: `Requests` maps each operation name to its typed request. */
export type AccessRules<Requests> = { readonly [Operation in keyof Requests]: AccessRule<Requests[Operation]> };

/** An action with no resource ("Resource": "*"), evaluated against identity policies alone. */
export function anyResource(caller: Caller, shownAs?: string | null): ServiceResource {
  return { arn: '*', accountId: caller.accountId, ...(shownAs !== undefined ? { shownAs } : {}) };
}

/** aws:RequestTag/… and aws:TagKeys of a Secrets Manager or Parameter Store request's tag list ({Key, Value}). */
export function serviceRequestTagKeys(tags: readonly { Key: string; Value: string }[] | undefined): Record<string, ContextValue> {
  return requestTagKeys((tags ?? []).map((t) => [t.Key, t.Value]));
}
