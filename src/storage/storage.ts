/**
 * The one storage interface. Adapters (SQLite, PostgreSQL) implement it and pass the contract suite
 * in storage/contract/. Storage is untrusted: it only ever sees sealed material.
 *
 * Every resource row is scoped by (account, region): state is regional, as in AWS.
 * Concurrency: rows that change carry a `revision`; updates are compare-and-set on it, so two writers
 * can never lose each other's update, whatever the isolation level of the adapter.
 */

import type { AuditRepo } from './audit-repo.ts';
import type { CustomKeyStoreRepo } from './custom-key-store-repo.ts';
import type { GrantRepo, PrincipalRepo } from './iam-repos.ts';
import type { ImportParametersRepo } from './import-repo.ts';
import type { NodeHeartbeatRepo } from './node-repo.ts';
import type { ParameterRepo } from './parameter-repo.ts';
import type { ReplicationRepo } from './replication-repo.ts';
import type { SecretRepo, SecretVersionRepo } from './secret-repo.ts';
import type { UnitOfWork } from './unit-of-work.ts';

export type Scope = { readonly accountId: string; readonly region: string };

export interface KeyRecord {
  accountId: string;
  region: string;
  keyId: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Denormalised from `doc` for queries by state (deletion and rotation jobs). */
  state: string;
  /** Epoch ms at which a background job must look at this key (deletion date, rotation date), or null. */
  dueAt: number | null;
  /** Incremented by every successful update. */
  revision: number;
  /** The key's metadata as the KMS service defines it; opaque to storage. */
  doc: Record<string, unknown>;
}

export interface MaterialRecord {
  accountId: string;
  region: string;
  keyId: string;
  version: number;
  createdAt: number;
  /** Sealed by the barrier; never plaintext. */
  sealed: Buffer;
  /** Non-secret facts about this material version (material id, rotation type); opaque to storage. */
  doc: Record<string, unknown>;
}

export interface AliasRecord {
  accountId: string;
  region: string;
  aliasName: string;
  targetKeyId: string;
  createdAt: number;
  updatedAt: number;
}

export interface AccessKeyRecord {
  accessKeyId: string;
  accountId: string;
  /** ARN of the principal that owns the key (user or role). */
  principalArn: string;
  /** The access key's secret, sealed by the barrier. */
  sealedSecret: Buffer;
  status: 'Active' | 'Inactive';
  createdAt: number;
  /** Epoch ms after which the key is refused (temporary credentials), or null. */
  expiresAt: number | null;
  doc: Record<string, unknown>;
}

export interface Page<T> {
  items: T[];
  /** The sort key of the last item when more items follow; absent on the last page. */
  next?: string;
}

export interface KeyRepo {
  insert(key: KeyRecord): Promise<void>;
  get(scope: Scope, keyId: string): Promise<KeyRecord | undefined>;
  /**
   * The key, held against other writers until the transaction ends (PostgreSQL: SELECT … FOR UPDATE;
   * SQLite: writers are serialised already), for a read-modify-write that must not lose its race: with
   * a mutating call's transaction open until its audit event commits, plain compare-and-set retries on a
   * hot key would keep colliding. Only inside Storage.transaction.
   */
  getForUpdate(scope: Scope, keyId: string): Promise<KeyRecord | undefined>;
  /** Keys of a scope in key id order, after `after` (exclusive). */
  list(scope: Scope, after: string | undefined, limit: number): Promise<Page<KeyRecord>>;
  /** Compare-and-set on revision; returns false when the stored revision differs (or the row is gone). */
  update(key: KeyRecord, expectedRevision: number): Promise<boolean>;
  delete(scope: Scope, keyId: string): Promise<void>;
  /** Keys in any scope whose dueAt ≤ now, oldest first. */
  listDue(now: number, limit: number): Promise<KeyRecord[]>;
  count(scope: Scope): Promise<number>;
}

export interface MaterialRepo {
  /** Fails with DuplicateError if (scope, keyId, version) exists. */
  insert(material: MaterialRecord): Promise<void>;
  get(scope: Scope, keyId: string, version: number): Promise<MaterialRecord | undefined>;
  /** All versions of a key, ascending. */
  list(scope: Scope, keyId: string): Promise<MaterialRecord[]>;
  deleteAll(scope: Scope, keyId: string): Promise<void>;
}

export interface AliasRepo {
  /** Fails with DuplicateError if the alias name exists in the scope. */
  insert(alias: AliasRecord): Promise<void>;
  get(scope: Scope, aliasName: string): Promise<AliasRecord | undefined>;
  /** Aliases of a scope in name order, optionally only those of one key. */
  list(scope: Scope, targetKeyId: string | undefined, after: string | undefined, limit: number): Promise<Page<AliasRecord>>;
  /** Re-targets an alias; returns false if it does not exist. */
  update(scope: Scope, aliasName: string, targetKeyId: string, updatedAt: number): Promise<boolean>;
  delete(scope: Scope, aliasName: string): Promise<boolean>;
  deleteForKey(scope: Scope, keyId: string): Promise<void>;
}

export interface AccessKeyRepo {
  /** Fails with DuplicateError if the access key id exists. */
  insert(key: AccessKeyRecord): Promise<void>;
  get(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  /** Replaces the row of the same access key id, or inserts it. */
  upsert(key: AccessKeyRecord): Promise<void>;
  count(): Promise<number>;
  /** The keys of one principal (IAM ListAccessKeys), in access key id order. */
  listForPrincipal(principalArn: string): Promise<AccessKeyRecord[]>;
  /** Returns false when no such key exists. */
  delete(accessKeyId: string): Promise<boolean>;
}

/** Small named values of the deployment (root-key check value, schema facts). */
export interface MetaRepo {
  get(name: string): Promise<string | undefined>;
  /** Sets only if absent; returns the value now stored (the given one, or the one a racing node wrote). */
  putIfAbsent(name: string, value: string): Promise<string>;
  /** Replaces the value only if it still equals `expected`; false when another writer changed it first. */
  compareAndSet(name: string, expected: string, value: string): Promise<boolean>;
}

export interface Repos {
  readonly keys: KeyRepo;
  readonly materials: MaterialRepo;
  readonly aliases: AliasRepo;
  readonly accessKeys: AccessKeyRepo;
  readonly meta: MetaRepo;
  readonly principals: PrincipalRepo;
  readonly grants: GrantRepo;
  readonly audit: AuditRepo;
  readonly secrets: SecretRepo;
  readonly secretVersions: SecretVersionRepo;
  readonly parameters: ParameterRepo;
  readonly customKeyStores: CustomKeyStoreRepo;
  readonly importParameters: ImportParametersRepo;
  readonly nodes: NodeHeartbeatRepo;
  readonly replication: ReplicationRepo;
}

export interface Storage {
  readonly kind: 'sqlite' | 'postgres';
  /** Applies pending migrations; safe to call from several nodes at once. */
  migrate(): Promise<void>;
  /**
   * Runs `fn` in one transaction: all its writes commit together or none do. `fn` must use only the
   * repos it is given, and must not wait on anything but them (no network, no timers): adapters may
   * serialise transactions.
   */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` outside any write transaction; each call of a repo method is atomic on its own. It sees
   * committed state only, except inside a unit of work that has written: there it reads through the
   * unit's transaction (its own writes).
   */
  read<T>(fn: (repos: Repos) => Promise<T>): Promise<T>;
  /**
   * Runs `body` as one unit of work (unit-of-work.ts), then `finish` in the same transaction, then
   * commits: every transaction() and read() of this store made from body's async context joins it, a
   * transaction() becoming a savepoint (a failing one undoes only its own writes). If body or finish
   * throws, or the commit fails, nothing body wrote becomes visible and the error is rethrown.
   * The transaction starts at body's first write, so a body that only reads holds no lock; it is held
   * from there to the commit (adapters may serialise units: SQLite does). `finish` must only use `tx`.
   * Resolves after the commit is durable, as transaction() does.
   */
  unitOfWork<T>(body: (unit: UnitOfWork) => Promise<T>, finish: (tx: Repos, result: T) => Promise<void>): Promise<T>;
  /**
   * This process's name among the writers of the store, held until close(): write-ahead intents carry
   * it, so that intent recovery can tell a dead writer's intents from a live writer's calls in flight.
   */
  writerId(): Promise<string>;
  /**
   * False once the process that held `writerId` has gone (crashed or stopped): its intents can no longer
   * complete. True for this process's own id, and whenever the adapter cannot tell.
   */
  writerAlive(writerId: string): Promise<boolean>;
  /**
   * Adapters that keep a connection pool say how it is used (GET /metrics): connections open, idle,
   * and calls waiting for one. Absent on SQLite (one file, no pool); a repo decorator reports its adapter's.
   */
  poolUse?(): PoolUse;
  close(): Promise<void>;
}

export interface PoolUse {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

/** A unique constraint was violated (a racing writer got there first). */
export class DuplicateError extends Error {
  constructor(what: string) {
    super(`duplicate ${what}`);
  }
}

/** The store cannot be reached or failed; the request may be retried. */
export class StorageUnavailableError extends Error {}
