/**
 * What the key service and the operations built on it (encryption-operations.ts, asymmetric-operations.ts)
 * share about a request: the resolveKey options, the condition keys a request carries, and DryRun.
 */
import { DryRunOperationException, type TrentError } from '../errors/errors.ts';
import type { Caller } from '../auth/caller.ts';
import type { ContextValue } from '../policy/index.ts';
import type { EncryptionContext } from './encryption-context.ts';
import type { Key } from './key-model.ts';

/**
 * Request quotas that depend on the key (AWS: cryptographic operations count against the quota of the
 * key's type — symmetric, RSA, ECC and SM2, ML-DSA — and GenerateDataKeyPair against one per KeyPairSpec).
 * `take` is called once the key is resolved and usable, before it is used; it throws ThrottlingException
 * when the caller's quota is spent. `spec` is the key's KeySpec, or the requested KeyPairSpec for
 * GenerateDataKeyPair(WithoutPlaintext).
 */
export interface KeyUseQuota {
  take(caller: Caller, operation: string, spec: string): void;
}

/** AWS: DryRun — every check passed; nothing was done. */
export function dryRunSucceeded(): TrentError {
  return new DryRunOperationException('The request would have succeeded, but the DryRun option is set.');
}

/**
 * The condition keys a request carries (src/kms/access-rules.ts declares which, per action), or a
 * function of the resolved key for those that depend on it (kms:ReEncryptOnSameKey).
 */
export type RequestKeys = Readonly<Record<string, ContextValue>> | ((key: Key) => Readonly<Record<string, ContextValue>>);

/** How resolveKey finds and authorises a key (see key-service.ts). */
export interface ResolveKeyOptions {
  allowAlias: boolean;
  action: string;
  encryptionContext?: EncryptionContext;
  authorize?: boolean;
  contextKeys?: RequestKeys;
}

/** AWS: kms:EncryptionAlgorithm is the request's algorithm, SYMMETRIC_DEFAULT when it names none. */
export function algorithmKey(algorithm: string | undefined): Record<string, ContextValue> {
  return { 'kms:EncryptionAlgorithm': algorithm ?? 'SYMMETRIC_DEFAULT' };
}

/** The encryption context as a resolveKey option (kms:EncryptionContext:* keys, grant constraints). */
export function ecOpt(context: EncryptionContext | undefined): { encryptionContext?: EncryptionContext } {
  return context ? { encryptionContext: context } : {};
}
