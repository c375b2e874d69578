/**
 * Repositories of Secrets Manager: one row per secret (metadata, staging labels, rotation state) and one
 * row per secret version (the envelope-encrypted value). Part of the one storage interface (`Repos`);
 * both adapters implement it and pass storage/contract/secret-contract.ts.
 *
 * Storage is untrusted: a version row holds only a KMS-encrypted data key and an AES-256-GCM sealed
 * value, never plaintext. Labels live in the secret row's `doc`, so every label move or version-count
 * change is one compare-and-set on the secret's `revision` — two writers cannot both move AWSCURRENT.
 */
import type { Scope } from './storage.ts';

export interface SecretRecord {
  accountId: string;
  region: string;
  /** The secret's name, unique in its scope (also while scheduled for deletion). */
  name: string;
  /** arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random characters>; unique. */
  arn: string;
  createdAt: number;
  /** Epoch ms at which a background job must look at the secret (purge, scheduled rotation), or null. */
  dueAt: number | null;
  /** Incremented by every successful update. */
  revision: number;
  /** Metadata, labels, rotation configuration as the secrets service defines them; opaque to storage. */
  doc: Record<string, unknown>;
}

export interface SecretVersionRecord {
  /** The ARN of the secret the version belongs to (a name can be reused after a purge; an ARN cannot). */
  secretArn: string;
  versionId: string;
  createdAt: number;
  /** The data key, encrypted by KMS under the secret's KMS key. */
  encryptedDataKey: Buffer;
  /** The value sealed with the data key (AES-256-GCM, nonce inside). */
  sealedValue: Buffer;
  /** Non-secret facts (value kind, fingerprint for idempotency checks); opaque to storage. */
  doc: Record<string, unknown>;
}

export interface SecretRepo {
  /** Fails with DuplicateError if the name exists in the scope or the ARN exists. */
  insert(secret: SecretRecord): Promise<void>;
  get(scope: Scope, name: string): Promise<SecretRecord | undefined>;
  /** Every secret of a scope in name order (ListSecrets filters and sorts in the service). */
  listAll(scope: Scope): Promise<SecretRecord[]>;
  /** Compare-and-set on revision; false when the stored revision differs or the row is gone. */
  update(secret: SecretRecord, expectedRevision: number): Promise<boolean>;
  /** Deletes the secret and all its versions. */
  delete(scope: Scope, name: string): Promise<void>;
  /** Secrets in any scope whose dueAt ≤ now, earliest first. */
  listDue(now: number, limit: number): Promise<SecretRecord[]>;
}

export interface SecretVersionRepo {
  /** Fails with DuplicateError if (secretArn, versionId) exists. */
  insert(version: SecretVersionRecord): Promise<void>;
  get(secretArn: string, versionId: string): Promise<SecretVersionRecord | undefined>;
  /** Deletes the named versions of a secret (pruning deprecated versions). */
  delete(secretArn: string, versionIds: readonly string[]): Promise<void>;
}

export interface SecretRepos {
  readonly secrets: SecretRepo;
  readonly secretVersions: SecretVersionRepo;
}
