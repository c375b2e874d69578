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
  /**
   * Set (to the reason) when a mutating call must not run as one unit of work with its audit event
   * (docs/audit.md): it waits on something outside Trent that may call Trent back, and would hold its
   * transaction (on SQLite: every writer) open meanwhile. Such a call keeps the write-ahead protocol:
   * intent, its changes committed as it goes, then its event (a failed event leaves the intent).
   */
  readonly notAtomic?: string;
  handle(input: Record<string, unknown>, ctx: OperationContext): Promise<Record<string, unknown> | undefined>;
}

export interface ServiceDefinition {
  /** X-Amz-Target prefix: 'TrentService', 'secretsmanager', 'AmazonSSM'. */
  readonly targetPrefix: string;
  /** SigV4 credential-scope service name: 'kms', 'secretsmanager', 'ssm'. */
  readonly signingName: string;
  /** CloudTrail eventSource. */
  readonly eventSource: string;
  /** The error code this service uses for its own faults. */
  readonly internalErrorCode: string;
  readonly operations: ReadonlyMap<string, Operation>;
}

export function defineOperations(list: readonly Operation[]): ReadonlyMap<string, Operation> {
  return new Map(list.map((op) => [op.name, op]));
}
