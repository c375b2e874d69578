/**
 * Import parameters of KMS keys with imported material (BYOK): one row per GetParametersForImport call,
 * holding the per-request RSA wrapping private key sealed by the barrier (AAD names account, region, key
 * id and token id), so the ImportToken only has to reference it. Part of the one storage interface
 * (`Repos`); both adapters implement it and pass storage/contract/import-contract.ts.
 *
 * Rows are never changed: they are inserted, read, and removed when they expire (the background job),
 * when the key is destroyed, or never needed again. Storage is untrusted: `sealed` is never plaintext.
 */
import type { Scope } from './storage.ts';

export interface ImportParametersRecord {
  accountId: string;
  region: string;
  keyId: string;
  /** Random id the import token carries (hex). */
  tokenId: string;
  createdAt: number;
  /** Epoch ms after which the token is refused (AWS: ParametersValidTo, 24 h). */
  expiresAt: number;
  /** The wrapping private key (PKCS#8 DER), sealed by the barrier. */
  sealed: Buffer;
  /** Non-secret facts (wrapping algorithm, wrapping key spec); opaque to storage. */
  doc: Record<string, unknown>;
}

export interface ImportParametersRepo {
  /** Fails with DuplicateError if (scope, keyId, tokenId) exists. */
  insert(record: ImportParametersRecord): Promise<void>;
  get(scope: Scope, keyId: string, tokenId: string): Promise<ImportParametersRecord | undefined>;
  deleteForKey(scope: Scope, keyId: string): Promise<void>;
  /** Removes every row (of any scope) whose expiresAt ≤ now; returns how many. */
  deleteExpired(now: number): Promise<number>;
}

export interface ImportRepos {
  readonly importParameters: ImportParametersRepo;
}
