/**
 * The one error hierarchy of Trent. Each error carries the AWS error code (the `__type` on the wire) and
 * whether it is the client's fault or the server's; the HTTP edge maps that to a status in one place
 * (src/http/error-mapper.ts). No HTTP here, and nobody branches on message text.
 */
export type Fault = 'client' | 'server' | 'unavailable';

export class TrentError extends Error {
  readonly code: string;
  readonly fault: Fault;
  constructor(code: string, message: string, fault: Fault = 'client') {
    super(message);
    this.code = code;
    this.fault = fault;
    this.name = code;
  }
}

/** A client-fault error class with a fixed AWS code; every service's codes are made here. */
export function clientError(code: string) {
  return class extends TrentError {
    constructor(message = '') {
      super(code, message, 'client');
    }
  };
}

// Wire-level and authentication errors (shared by every service).
export const SerializationException = clientError('SerializationException');
export const ValidationException = clientError('ValidationException');
export const UnknownOperationException = clientError('UnknownOperationException');
export const MissingAuthenticationTokenException = clientError('MissingAuthenticationTokenException');
export const IncompleteSignatureException = clientError('IncompleteSignatureException');
export const InvalidSignatureException = clientError('InvalidSignatureException');
export const UnrecognizedClientException = clientError('UnrecognizedClientException');
export const ExpiredTokenException = clientError('ExpiredTokenException');
export const AccessDeniedException = clientError('AccessDeniedException');

/**
 * An AccessDeniedException decided by the policy evaluator, carrying the IAM action it refused, so a
 * service that called KMS on the caller's behalf can tell a KMS refusal from its own by type, never by
 * message (AWS: Secrets Manager answers "Access to KMS is not allowed").
 */
export class ActionDeniedException extends AccessDeniedException {
  readonly action: string;
  constructor(message: string, action: string) {
    super(message);
    this.action = action;
  }
}
export const RequestEntityTooLargeException = clientError('RequestEntityTooLargeException');

// KMS (AWS: every client fault is HTTP 400 in practice, see shared reference §2.3).
export const NotFoundException = clientError('NotFoundException');
export const DisabledException = clientError('DisabledException');
export const KMSInvalidStateException = clientError('KMSInvalidStateException');
export const InvalidCiphertextException = clientError('InvalidCiphertextException');
export const IncorrectKeyException = clientError('IncorrectKeyException');
export const InvalidKeyUsageException = clientError('InvalidKeyUsageException');
export const InvalidArnException = clientError('InvalidArnException');
export const InvalidMarkerException = clientError('InvalidMarkerException');
export const InvalidAliasNameException = clientError('InvalidAliasNameException');
export const AlreadyExistsException = clientError('AlreadyExistsException');
export const LimitExceededException = clientError('LimitExceededException');
export const TagException = clientError('TagException');
export const UnsupportedOperationException = clientError('UnsupportedOperationException');
export const DryRunOperationException = clientError('DryRunOperationException');
/** AWS: Verify of a signature that does not verify (empty message; never SignatureValid false). */
export const KMSInvalidSignatureException = clientError('KMSInvalidSignatureException');
/** AWS: VerifyMac of a MAC that does not verify (empty message; never MacValid false). */
export const KMSInvalidMacException = clientError('KMSInvalidMacException');
export const InvalidGrantTokenException = clientError('InvalidGrantTokenException');
export const ConflictException = clientError('ConflictException');
export const MalformedPolicyDocumentException = clientError('MalformedPolicyDocumentException');
/**
 * AWS: CreateAlias/UpdateAlias under the reserved alias/aws/ prefix. Not in the KMS model; listed among
 * AWS's common errors (NotAuthorized, 400), and the code moto returns.
 */
export const NotAuthorizedException = clientError('NotAuthorizedException');
export const CustomKeyStoreNotFoundException = clientError('CustomKeyStoreNotFoundException');
export const CustomKeyStoreInvalidStateException = clientError('CustomKeyStoreInvalidStateException');
export const CustomKeyStoreNameInUseException = clientError('CustomKeyStoreNameInUseException');
export const CustomKeyStoreHasCMKsException = clientError('CustomKeyStoreHasCMKsException');
export const CloudHsmClusterNotFoundException = clientError('CloudHsmClusterNotFoundException');
export const CloudHsmClusterInUseException = clientError('CloudHsmClusterInUseException');
export const CloudHsmClusterNotRelatedException = clientError('CloudHsmClusterNotRelatedException');
export const IncorrectTrustAnchorException = clientError('IncorrectTrustAnchorException');
// KMS imported key material (BYOK).
export const ExpiredImportTokenException = clientError('ExpiredImportTokenException');
export const InvalidImportTokenException = clientError('InvalidImportTokenException');
export const IncorrectKeyMaterialException = clientError('IncorrectKeyMaterialException');

// CloudTrail LookupEvents (AWS: CloudTrail API reference, LookupEvents errors).
export const InvalidLookupAttributesException = clientError('InvalidLookupAttributesException');
export const InvalidTimeRangeException = clientError('InvalidTimeRangeException');
export const InvalidMaxResultsException = clientError('InvalidMaxResultsException');
export const InvalidNextTokenException = clientError('InvalidNextTokenException');
export const InvalidEventCategoryException = clientError('InvalidEventCategoryException');

// Operator API of the seal (docs/seal.md); not AWS operations, so the codes are Trent's own.
/** Init on an initialized deployment, unseal of an unsealed node, an operation the seal mode does not have. */
export const InvalidSealStateException = clientError('InvalidSealStateException');
/** The shares of an unseal or rekey attempt did not reconstruct the unseal key; the attempt was reset. */
export const UnsealFailedException = clientError('UnsealFailedException');
/** A share sent with the nonce of an attempt that is no longer the current one. */
export const InvalidNonceException = clientError('InvalidNonceException');
/**
 * A rate limit: too many unseal or rekey attempts from one source address, or a request over its quota
 * (src/http/quotas.ts). AWS answers it with HTTP 400 and the SDKs retry it with backoff.
 */
export const ThrottlingException = clientError('ThrottlingException');
/** The share is not one of the deployment's current shares (an old share, or not a share at all). */
export const InvalidShareException = clientError('InvalidShareException');

/**
 * Why an HSM (src/hsm/) could not serve a call. Custom key stores report these as AWS's
 * ConnectionErrorCode; the seal reports them at start. The message never carries a PIN.
 */
export type HsmFailure =
  | 'MODULE_UNAVAILABLE' // the PKCS#11 library cannot be loaded or initialised
  | 'TOKEN_NOT_FOUND' // no token with that label
  | 'INVALID_CREDENTIALS' // C_Login refused the PIN
  | 'PIN_LOCKED'
  | 'DEVICE_ERROR' // the token failed even after reopening sessions and logging in again
  | 'KEY_NOT_FOUND'
  | 'INTERNAL';

/** An HSM fault. On the wire it is a server fault with a generic text; callers branch on `failure`. */
export class HsmError extends TrentError {
  readonly failure: HsmFailure;
  constructor(failure: HsmFailure, message: string) {
    super('KMSInternalException', message, 'server');
    this.failure = failure;
  }
}

/**
 * AES-GCM in the HSM refused a blob (tampered, wrong AAD, wrong key, truncated). One error for every
 * cause, as for software AEAD (src/crypto/aead.ts), so nothing says which check failed.
 */
export class HsmDecryptionError extends TrentError {
  constructor() {
    super('InvalidCiphertextException', '', 'client');
  }
}

/** A fault of Trent itself: the message is generic so nothing internal leaks. */
export class InternalError extends TrentError {
  constructor(code = 'KMSInternalException', message = 'An internal error occurred.') {
    super(code, message, 'server');
  }
}

/** The service cannot answer now (sealed, database down); clients should retry. */
export class ServiceUnavailableError extends TrentError {
  constructor(message = 'The service is unavailable. Try again later.', code = 'ServiceUnavailableException') {
    super(code, message, 'unavailable');
  }
}

