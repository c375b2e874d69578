/**
 * Repository of KMS custom key stores (src/kms/custom-key-stores.ts). Part of the one storage
 * interface (storage.ts, `Repos`); both adapters implement it and pass
 * storage/contract/custom-key-store-contract.ts.
 *
 * A store is scoped by (account, region) like keys; its id is unique everywhere, its name unique in
 * its scope, and its cluster id (the name of a configured HSM) unique in the whole deployment, since one
 * token backs at most one store (AWS: one CloudHSM cluster per custom key store).
 *
 * Storage is untrusted: the key store password (the token's user PIN) is sealed by the barrier.
 * `doc` is opaque here (type, desired connection state, trust anchor… as the KMS service defines them).
 */
import type { Page, Scope } from './storage.ts';

export interface CustomKeyStoreRecord {
  accountId: string;
  region: string;
  /** `cks-` followed by 17 hex digits, as AWS. */
  id: string;
  name: string;
  clusterId: string;
  createdAt: number;
  /** Incremented by every successful update. */
  revision: number;
  /** The key store password, sealed by the barrier; never plaintext. */
  sealedPassword: Buffer;
  doc: Record<string, unknown>;
}

export interface CustomKeyStoreRepo {
  /** Fails with DuplicateError if the id, the name in the scope, or the cluster id exists. */
  insert(r: CustomKeyStoreRecord): Promise<void>;
  get(scope: Scope, id: string): Promise<CustomKeyStoreRecord | undefined>;
  getByName(scope: Scope, name: string): Promise<CustomKeyStoreRecord | undefined>;
  /** The store using a cluster id, in any scope. */
  getByCluster(clusterId: string): Promise<CustomKeyStoreRecord | undefined>;
  /** Stores of a scope in id order, after `after` (exclusive). */
  list(scope: Scope, after: string | undefined, limit: number): Promise<Page<CustomKeyStoreRecord>>;
  /**
   * Compare-and-set on revision (name, password and doc may change; id, scope, cluster stay); false when
   * the stored revision differs or the row is gone. DuplicateError when the new name is taken.
   */
  update(r: CustomKeyStoreRecord, expectedRevision: number): Promise<boolean>;
  /** Deletes only if the revision still matches; returns whether a row was deleted. */
  delete(scope: Scope, id: string, expectedRevision: number): Promise<boolean>;
}
