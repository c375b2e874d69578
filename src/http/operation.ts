/** What the edge knows of an operation and of a service speaking awsJson1_1. */
import type { Caller } from '../auth/caller.ts';

export interface OperationContext {
  readonly caller: Caller;
  readonly requestId: string;
}

export interface Operation {
  /** e.g. 'Encrypt' — the part of X-Amz-Target after the prefix. */
  readonly name: string;
  /** Whether the call only reads (CloudTrail's readOnly). */
  readonly readOnly: boolean;
  handle(input: Record<string, unknown>, ctx: OperationContext): Promise<Record<string, unknown> | undefined>;
}

/**
 * An operation that reads its JSON input once (one InputReader pass) into the typed request its access
 * rule and its handler then share (src/http/access-control.ts withServiceAccessControl).
 */
export interface ParsedOperation<Request> {
  readonly readOnly: boolean;
  parse(input: Record<string, unknown>): Request;
  handle(request: Request, ctx: OperationContext): Promise<Record<string, unknown> | undefined>;
}

/** One parsed operation per operation name: `Requests` maps each name to its typed request. */
export type ParsedOperations<Requests> = { readonly [Operation in keyof Requests]: ParsedOperation<Requests[Operation]> };

export interface ServiceDefinition {
  /** X-Amz-Target prefix: 'TrentService', 'secretsmanager', 'AmazonSSM'. */
  readonly targetPrefix: string;
  /**
   * Other X-Amz-Target prefixes that name the same service: AWS answers more than one for some services
   * (CloudTrail takes the SDK v3's short `CloudTrail_20131101` as the CLI's fully qualified prefix).
   */
  readonly targetPrefixAliases?: readonly string[];
  /** SigV4 credential-scope service name: 'kms', 'secretsmanager', 'ssm'. */
  readonly signingName: string;
  /** CloudTrail eventSource. */
  readonly eventSource: string;
  /** The error code this service uses for its own faults. */
  readonly internalErrorCode: string;
  /**
   * The JSON error body's member for the message (default `message`). Secrets Manager's recorded errors
   * carry `Message`, the member its model gives every exception. An empty message is left out, as AWS
   * sends none for the errors that have no text (e.g. KMSInvalidSignatureException).
   */
  readonly errorMessageMember?: 'message' | 'Message';
  readonly operations: ReadonlyMap<string, Operation>;
}

export function defineOperations(list: readonly Operation[]): ReadonlyMap<string, Operation> {
  return new Map(list.map((op) => [op.name, op]));
}
