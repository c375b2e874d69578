/** The policy evaluator's public surface. Pure: no I/O, no clock; see README.md. */
export {
  parsePolicy, policyFromJson, PolicyGrammarError, MAX_KEY_POLICY_LENGTH, MAX_IDENTITY_POLICY_LENGTH, INVALID_PRINCIPALS_MESSAGE,
  type PolicyDocument, type PolicyKind, type Statement, type PrincipalSpec,
} from './policy-document.ts';
export {
  evaluateKeyAccess, evaluateIdentityOnly, evaluateResourceAccess, accessDeniedMessage, accessDeniedError, lockoutSafetyCheck, LOCKOUT_MESSAGE,
  defaultKeyPolicy, defaultKeyPolicyText,
  type RequestContext, type KeyAccessInput, type AccessResult, type Decision,
} from './evaluate.ts';
export { type Grant, type GrantConstraints, GRANT_OPERATIONS, isGrantOperation, mayRetireGrant, constraintsSatisfied } from './grants.ts';
export { type CallerPrincipal, type PrincipalType, type ContextValue, requestContextKeys, requestTagKeys } from './context.ts';
export { grantsPublicAccess, awsManagedKeyPolicyText } from './resource-policy.ts';
