/**
 * The one place that turns errors into HTTP. Client faults are 400 (as real AWS returns even where the
 * model says 404/409/412), Trent's own faults 500 with a generic message, unavailability 503.
 */
import { SecretZeroizedError } from '../crypto/secret-bytes.ts';
import { TrentError } from '../errors/errors.ts';
import { BarrierSealedError } from '../seal/barrier.ts';
import { StorageUnavailableError } from '../storage/storage.ts';

export interface WireError {
  status: number;
  code: string;
  message: string;
  /** True when the error is ours, not the caller's: it is logged with its stack. */
  internal: boolean;
}

/**
 * The awsJson1_1 error body: `__type` and the message under the member the service's AWS sends
 * (`message`; Secrets Manager `Message`). AWS sends no message member at all for the errors it gives no
 * message (recorded: KMSInvalidSignatureException, InvalidCiphertextException, an
 * UnsupportedOperationException of RotateKeyOnDemand): an empty message is left out rather than sent as "".
 */
export function jsonErrorBody(wire: Pick<WireError, 'code' | 'message'>, messageMember: 'message' | 'Message' = 'message'): Record<string, string> {
  return wire.message === '' ? { __type: wire.code } : { __type: wire.code, [messageMember]: wire.message };
}

export function toWireError(err: unknown, internalErrorCode: string): WireError {
  if (err instanceof TrentError) {
    const status = err.fault === 'client' ? (err.code === 'RequestEntityTooLargeException' ? 413 : 400) : err.fault === 'server' ? 500 : 503;
    return { status, code: err.code, message: err.message, internal: err.fault === 'server' };
  }
  if (err instanceof StorageUnavailableError) {
    return { status: 503, code: 'ServiceUnavailableException', message: 'The key store is temporarily unavailable. Retry the request.', internal: true };
  }
  if (err instanceof BarrierSealedError) {
    return { status: 503, code: 'ServiceUnavailableException', message: 'Trent is sealed. An operator must unseal it.', internal: false };
  }
  if (err instanceof SecretZeroizedError) {
    // A request that was running when the node sealed lost its key mid-way: retryable, like a sealed node.
    // Logged (internal) because outside a seal it would point at a use-after-zeroize bug.
    return { status: 503, code: 'ServiceUnavailableException', message: 'Trent is sealed. An operator must unseal it.', internal: true };
  }
  return { status: 500, code: internalErrorCode, message: 'An internal error occurred. Retry the request.', internal: true };
}
