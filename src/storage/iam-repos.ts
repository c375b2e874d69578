/**
 * Repositories of the IAM side of Trent: principals (users and roles, with tags and attached identity
 * policies) and KMS grants. Part of the one storage interface (see storage.ts, `Repos`); both adapters
 * implement them and pass storage/contract/iam-contract.ts.
 *
 * Storage is untrusted and opaque here too: `doc` holds what the services define (policy texts, tags,
 * grant operations and constraints) and is never interpreted by an adapter.
 */
import type { Scope } from './storage.ts';

/** Users and roles are principals; groups and managed policies (IAM entities without credentials) share the table. */
export type PrincipalKind = 'user' | 'role' | 'group' | 'policy';

export interface PrincipalRecord {
  /** arn:aws:iam::<account>:user/<name> or …:role/<name>; unique. */
  arn: string;
  accountId: string;
  kind: PrincipalKind;
  name: string;
  createdAt: number;
  /** Incremented by every successful update (compare-and-set, as for keys). */
  revision: number;
  /** Tags, attached identity policies (name → JSON text) and the like; opaque to storage. */
  doc: Record<string, unknown>;
}

export interface PrincipalRepo {
  /** Fails with DuplicateError if the ARN exists. */
  insert(p: PrincipalRecord): Promise<void>;
  get(arn: string): Promise<PrincipalRecord | undefined>;
  /** Principals of an account in ARN order. */
  list(accountId: string): Promise<PrincipalRecord[]>;
  /** Compare-and-set on revision; false when the stored revision differs or the row is gone. */
  update(p: PrincipalRecord, expectedRevision: number): Promise<boolean>;
  /** Compare-and-set delete on revision; false when the stored revision differs or the row is gone. */
  delete(arn: string, expectedRevision: number): Promise<boolean>;
}

export interface GrantRecord {
  accountId: string;
  region: string;
  keyId: string;
  /** Unique across the deployment. */
  grantId: string;
  granteePrincipal: string;
  retiringPrincipal: string | null;
  /** The CreateGrant Name, for idempotency; null when absent. */
  name: string | null;
  createdAt: number;
  /** Operations, constraints, issuing account, token; opaque to storage. */
  doc: Record<string, unknown>;
}

export interface GrantRepo {
  /** Fails with DuplicateError if the grant id exists. */
  insert(g: GrantRecord): Promise<void>;
  get(grantId: string): Promise<GrantRecord | undefined>;
  /** Grants of one key, in grant id order. */
  listForKey(scope: Scope, keyId: string): Promise<GrantRecord[]>;
  /** Grants whose retiring principal is exactly `principal`, in any scope, in grant id order. */
  listByRetiringPrincipal(principal: string): Promise<GrantRecord[]>;
  /** Returns false when no such grant exists. */
  delete(grantId: string): Promise<boolean>;
  deleteForKey(scope: Scope, keyId: string): Promise<void>;
}

export interface IamRepos {
  readonly principals: PrincipalRepo;
  readonly grants: GrantRepo;
}
