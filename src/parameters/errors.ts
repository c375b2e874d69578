/**
 * The SSM Parameter Store error codes. They are TrentErrors like every other (src/errors/errors.ts), kept
 * here so this service's codes live with it; the edge maps them like any client fault (HTTP 400).
 */
import { clientError as ssmError } from '../errors/errors.ts';

export const ParameterNotFound = ssmError('ParameterNotFound');
export const ParameterVersionNotFound = ssmError('ParameterVersionNotFound');
export const ParameterAlreadyExists = ssmError('ParameterAlreadyExists');
export const ParameterLimitExceeded = ssmError('ParameterLimitExceeded');
export const ParameterMaxVersionLimitExceeded = ssmError('ParameterMaxVersionLimitExceeded');
export const ParameterPatternMismatchException = ssmError('ParameterPatternMismatchException');
export const ParameterVersionLabelLimitExceeded = ssmError('ParameterVersionLabelLimitExceeded');
export const HierarchyLevelLimitExceededException = ssmError('HierarchyLevelLimitExceededException');
export const HierarchyTypeMismatchException = ssmError('HierarchyTypeMismatchException');
export const InvalidAllowedPatternException = ssmError('InvalidAllowedPatternException');
export const UnsupportedParameterType = ssmError('UnsupportedParameterType');
export const InvalidKeyId = ssmError('InvalidKeyId');
export const TooManyUpdates = ssmError('TooManyUpdates');
export const PoliciesLimitExceededException = ssmError('PoliciesLimitExceededException');
export const InvalidPolicyTypeException = ssmError('InvalidPolicyTypeException');
export const InvalidPolicyAttributeException = ssmError('InvalidPolicyAttributeException');
export const IncompatiblePolicyException = ssmError('IncompatiblePolicyException');
export const InvalidFilterKey = ssmError('InvalidFilterKey');
export const InvalidFilterOption = ssmError('InvalidFilterOption');
export const InvalidFilterValue = ssmError('InvalidFilterValue');
export const InvalidNextToken = ssmError('InvalidNextToken');
export const InvalidResourceType = ssmError('InvalidResourceType');
export const InvalidResourceId = ssmError('InvalidResourceId');
export const TooManyTagsError = ssmError('TooManyTagsError');

/**
 * AWS: Parameter Store passes a KMS refusal of the key it used for the caller on, naming KMS (as reported
 * by SDK users), where Secrets Manager answers its own message.
 */
export function kmsDeniedMessage(kmsMessage: string, requestId: string): string {
  return `${kmsMessage} (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: ${requestId}; Proxy: null)`;
}
