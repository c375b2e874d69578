/**
 * Repository of SSM Parameter Store parameters (src/parameters/). Part of the one storage interface
 * (storage.ts, `Repos`); both adapters implement it and pass storage/contract/parameter-contract.ts.
 *
 * A parameter is one row (its name, the number of its latest version, a revision for compare-and-set,
 * and the due time of its Expiration policy) plus one row per kept version. Version numbers are handed
 * out by compare-and-set on the parameter row: a writer reads `version`, updates the row with
 * `version + 1` where the revision is unchanged, and inserts that version in the same transaction, so
 * concurrent writers never reuse a number and never lose a version.
 *
 * Storage is untrusted: a SecureString version's `value` is KMS ciphertext (base64), never plaintext.
 * `doc` is opaque here (type, tier, key id, tags, policies… as the parameter service defines them).
 */
import type { Page, Scope } from './storage.ts';

export interface ParameterRecord {
  accountId: string;
  region: string;
  /** The full name as given at creation (`/a/b` or `a`); unique per scope. */
  name: string;
  /** The latest version number (1 at creation). */
  version: number;
  /** Incremented by every successful update. */
  revision: number;
  /** Epoch ms at which an Expiration policy deletes the parameter, or null. */
  dueAt: number | null;
  createdAt: number;
  /** Parameter-level facts (tags); opaque to storage. */
  doc: Record<string, unknown>;
}

export interface ParameterVersionRecord {
  accountId: string;
  region: string;
  name: string;
  version: number;
  createdAt: number;
  /** The value: plaintext for String/StringList, base64 KMS ciphertext for SecureString. */
  value: string;
  /** Labels of this version; a label is on at most one version of a parameter. */
  labels: string[];
  /** Version metadata (type, tier, key id, description, policies…); opaque to storage. */
  doc: Record<string, unknown>;
}

export interface ParameterRepo {
  /** Fails with DuplicateError if the name exists in the scope. */
  insert(p: ParameterRecord): Promise<void>;
  get(scope: Scope, name: string): Promise<ParameterRecord | undefined>;
  /**
   * The parameter and its latest version (the one `version` names; absent if that row is missing) in one
   * statement: GetParameter(s) without a selector read them with two, a third of their storage time.
   */
  getLatest(scope: Scope, name: string): Promise<{ parameter: ParameterRecord; latest: ParameterVersionRecord | undefined } | undefined>;
  /** Compare-and-set on revision; false when the stored revision differs or the row is gone. */
  update(p: ParameterRecord, expectedRevision: number): Promise<boolean>;
  /**
   * Deletes the parameter and all its versions; with `expectedRevision`, only if the revision still
   * matches. Returns whether a parameter was deleted.
   */
  delete(scope: Scope, name: string, expectedRevision?: number): Promise<boolean>;
  /** Parameters of a scope whose name starts with `prefix`, in name order (bytewise), after `after`. */
  list(scope: Scope, prefix: string, after: string | undefined, limit: number): Promise<Page<ParameterRecord>>;
  /** Parameters in any scope whose dueAt ≤ now, earliest first. */
  listDue(now: number, limit: number): Promise<ParameterRecord[]>;

  /** Fails with DuplicateError if the version exists. */
  insertVersion(v: ParameterVersionRecord): Promise<void>;
  getVersion(scope: Scope, name: string, version: number): Promise<ParameterVersionRecord | undefined>;
  /** Kept versions of a parameter, ascending. */
  listVersions(scope: Scope, name: string): Promise<ParameterVersionRecord[]>;
  /** Replaces the labels of one version; false if the version does not exist. */
  setLabels(scope: Scope, name: string, version: number, labels: string[]): Promise<boolean>;
  deleteVersion(scope: Scope, name: string, version: number): Promise<void>;
}
