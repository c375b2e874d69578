/**
 * What the CloudTrail operation Trent routes is authorized as. AWS: Service Authorization Reference,
 * "Actions, resources, and condition keys for AWS CloudTrail" — cloudtrail:LookupEvents has no resource
 * ("*") and no service-specific condition keys, so identity policies alone decide it, with the global keys.
 * The edge's choke point (src/http/access-control.ts withDeclaredAccessControl) applies it before the
 * lookup runs: the trail is the account's whole history, never readable by a caller with no policy.
 */
export const CLOUDTRAIL_ACCESS_RULES = {
  LookupEvents: { actions: ['cloudtrail:LookupEvents'], resource: '*', conditionKeys: [] as readonly string[] },
} as const;
