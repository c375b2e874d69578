/**
 * KMS aliases: friendly names for keys, unique per (account, region), each pointing at one key.
 *
 * Invariants (see also storage.ts):
 * - Uniqueness rests on the storage's unique constraint: CreateAlias inserts and maps DuplicateError
 *   to AlreadyExistsException; it never checks and then inserts.
 * - Every write that points an alias at a key runs in the same transaction as a compare-and-set
 *   "touch" of that key (updateKeyDoc), so it is serialised with the key's deletion (which removes the
 *   key's aliases) and with other alias writes on the key: no alias is left pointing at a destroyed
 *   key, and the per-key cap holds under concurrency.
 * - An alias keeps its key type for life: UpdateAlias only re-targets to a key of the same type family
 *   and key usage, so a stale read of the current target cannot let an incompatible update through.
 */
import type { Authorizer } from '../auth/authorizer.ts';
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import {
  AlreadyExistsException,
  ConflictException,
  InvalidAliasNameException,
  LimitExceededException,
  NotAuthorizedException,
  NotFoundException,
  TrentError,
  ValidationException,
} from '../errors/errors.ts';
import { DuplicateError, type AliasRecord, type Repos, type Scope, type Storage } from '../storage/storage.ts';
import { awsManagedKeyPolicyText, defaultKeyPolicyText } from '../policy/index.ts';
import { aliasArn } from './arn.ts';
import { keyFromRecord, type Key, type KeyDoc, type KeySpec } from './key-model.ts';
import type { KeyService } from './key-service.ts';
import { requireNotPendingDeletion, updateKeyDoc } from './key-updates.ts';
import type { PaginationMarkers } from './markers.ts';

export const ALIAS_PREFIX = 'alias/';
/** AWS: "The alias/aws/ prefix is reserved for AWS managed keys" (KMS Developer Guide, alias-create). */
export const AWS_MANAGED_ALIAS_PREFIX = 'alias/aws/';
/** AWS KMS resource quota "Aliases per KMS key": 50. */
export const MAX_ALIASES_PER_KEY = 50;

/**
 * The naming rules the service checks after the wire-level pattern ^[a-zA-Z0-9:/_-]+$ and length 1–256
 * (checked at the edge), in AWS's order: prefix, reserved prefix, characters.
 */
export function checkAliasName(name: string): void {
  if (!name.startsWith(ALIAS_PREFIX)) {
    // AWS [recorded]: test_kms.snapshot.json, TestKMS::test_create_alias
    throw new ValidationException(
      'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
    );
  }
  if (name.startsWith(AWS_MANAGED_ALIAS_PREFIX)) throw new NotAuthorizedException();
  // The wire pattern admits ':' (it also serves alias ARNs); an alias name may not contain one.
  // AWS text as mirrored by getmoto/moto, moto/kms/responses.py (_set_alias).
  if (name.includes(':')) throw new ValidationException(`${name} contains invalid characters for an alias`);
  // Not recorded: an empty name after the prefix would give an alias ARN no key reference can name.
  if (name.length === ALIAS_PREFIX.length) throw new InvalidAliasNameException('The specified alias name is not valid.');
}

export type KeyTypeFamily = 'SYMMETRIC' | 'ASYMMETRIC' | 'HMAC';

export function keyTypeFamily(spec: KeySpec): KeyTypeFamily {
  if (spec === 'SYMMETRIC_DEFAULT') return 'SYMMETRIC';
  if (spec.startsWith('HMAC_')) return 'HMAC';
  return 'ASYMMETRIC';
}

/**
 * AWS: UpdateAlias — "The current and new KMS key must be the same type (both symmetric or both
 * asymmetric or both HMAC), and they must have the same key usage" (UpdateAlias API reference).
 */
export function canRetarget(current: Pick<KeyDoc, 'keySpec' | 'keyUsage'>, next: Pick<KeyDoc, 'keySpec' | 'keyUsage'>): boolean {
  return keyTypeFamily(current.keySpec) === keyTypeFamily(next.keySpec) && current.keyUsage === next.keyUsage;
}

/** AWS: TargetKeyId of CreateAlias/UpdateAlias and KeyId of ListAliases take a key id or key ARN, never an alias. */
const KEY_ONLY = { allowAlias: false } as const;
const ALIASES_MARKER = 'ListAliases';

export interface AliasServiceDeps {
  storage: Storage;
  clock: Clock;
  keys: KeyService;
  markers: PaginationMarkers;
  authorizer: Authorizer;
}

export type AliasService = ReturnType<typeof createAliasService>;

export function createAliasService({ storage, clock, keys, markers, authorizer }: AliasServiceDeps) {
  /**
   * AWS ("Controlling access to aliases"): CreateAlias, UpdateAlias and DeleteAlias are authorized on the
   * alias too, by identity policies alone (an alias has no policy of its own): an IAM policy scoped to
   * `arn:…:alias/<name>` (or a Deny on it) decides which names a principal may manage. The key side is
   * resolveKey's (key policy, identity policies, grants). access-rules.ts: `alsoOnAlias`.
   */
  function authorizeOnAlias(caller: Caller, action: 'CreateAlias' | 'UpdateAlias' | 'DeleteAlias', aliasName: string): Promise<void> {
    return authorizer.authorize(caller, `kms:${action}`, aliasArn(callerScope(caller), aliasName));
  }

  /** Thrown when an alias was re-pointed between the authorization on its key and the write. */
  function aliasChanged(scope: Scope, aliasName: string): TrentError {
    return new ConflictException(`${aliasArn(scope, aliasName)} is being changed by another request. Retry.`);
  }

  function aliasNotFound(scope: Scope, aliasName: string): TrentError {
    // AWS [recorded] message shape (the alias ARN, not its name), as in resolveKey.
    return new NotFoundException(`Alias ${aliasArn(scope, aliasName)} is not found.`);
  }

  /** Refuses to point one more alias at `key` when it already has the maximum. */
  async function requireAliasRoom(tx: Repos, key: Key): Promise<void> {
    const page = await tx.aliases.list(key.scope, key.keyId, undefined, MAX_ALIASES_PER_KEY);
    if (page.items.length >= MAX_ALIASES_PER_KEY) {
      throw new LimitExceededException(`${key.arn} already has ${MAX_ALIASES_PER_KEY} aliases, the most a KMS key can have.`);
    }
  }

  /**
   * The AWS-managed key `alias/aws/<service>` of the caller's account and region, created on first use
   * by Trent's own services (Secrets Manager, Parameter Store), with KeyManager AWS. Of two callers racing
   * to create it, the alias insert of one fails; that one destroys the key it made and uses the winner's.
   */
  async function awsManagedKey(caller: Caller, service: string): Promise<Key> {
    const scope = callerScope(caller);
    const aliasName = `${AWS_MANAGED_ALIAS_PREFIX}${service}`;
    for (let attempt = 0; attempt < 3; attempt++) {
      const alias = await storage.read((r) => r.aliases.get(scope, aliasName));
      const record = alias && (await storage.read((r) => r.keys.get(scope, alias.targetKeyId)));
      if (record) return withManagedPolicy(keyFromRecord(record), service);
      const key = await keys.createKey(caller, {
        description: `Default key that protects my ${service} data when no other key is defined`,
        keyManager: 'AWS',
        policy: awsManagedKeyPolicyText(scope.accountId, scope.region, service),
        // AWS-managed keys are administered by the service, not by the caller: no lockout check applies.
        bypassPolicyLockoutSafetyCheck: true,
      });
      const now = clock.now();
      try {
        await storage.transaction((tx) => tx.aliases.insert({ ...scope, aliasName, targetKeyId: key.keyId, createdAt: now, updatedAt: now }));
        return key;
      } catch (err) {
        if (!(err instanceof DuplicateError)) throw err;
        await storage.transaction(async (tx) => {
          await tx.materials.deleteAll(scope, key.keyId);
          await tx.keys.delete(scope, key.keyId);
        });
      }
    }
    throw new NotFoundException(`Alias ${aliasArn(scope, aliasName)} is not found.`);
  }

  /**
   * AWS-managed keys made before Trent gave them AWS's managed key policy carry the default key policy;
   * the first use moves them to the managed one (nobody can change a managed key's policy, so the
   * default text marks exactly those keys).
   */
  async function withManagedPolicy(key: Key, service: string): Promise<Key> {
    if (key.doc.keyManager !== 'AWS' || key.doc.policy !== defaultKeyPolicyText(key.scope.accountId)) return key;
    const policy = awsManagedKeyPolicyText(key.scope.accountId, key.scope.region, service);
    return updateKeyDoc(storage, key.scope, key.keyId, (current) => (current.doc.policy === defaultKeyPolicyText(key.scope.accountId) ? { ...current.doc, policy } : current.doc));
  }

  /** AWS: CreateAlias — a new name for a key of the caller's account and region. */
  async function createAlias(caller: Caller, aliasName: string, targetKeyId: string): Promise<void> {
    checkAliasName(aliasName);
    await authorizeOnAlias(caller, 'CreateAlias', aliasName);
    const target = await keys.resolveKey(caller, targetKeyId, { ...KEY_ONLY, action: 'CreateAlias' });
    const scope = target.scope;
    const now = clock.now();
    try {
      await updateKeyDoc(storage, scope, target.keyId, async (key, tx) => {
        requireNotPendingDeletion(key);
        await requireAliasRoom(tx, key);
        await tx.aliases.insert({ ...scope, aliasName, targetKeyId: key.keyId, createdAt: now, updatedAt: now });
        return key.doc;
      });
    } catch (err) {
      // AWS: the message names the alias ARN ("An alias with the name arn:aws:kms:…:alias/x already exists"),
      // per localstack/localstack services/kms/provider.py and getmoto/moto kms/responses.py.
      if (err instanceof DuplicateError) throw new AlreadyExistsException(`An alias with the name ${aliasArn(scope, aliasName)} already exists`);
      throw err;
    }
  }

  /**
   * AWS: UpdateAlias — points an existing alias at another key of the same type and usage. The new key
   * must not be pending deletion; the current one may be in any state (key-state table, footnote 10).
   * AWS authorizes kms:UpdateAlias on the alias, on its current key and on the new key: a principal with
   * rights on its own key only cannot take over an alias others encrypt under.
   */
  async function updateAlias(caller: Caller, aliasName: string, targetKeyId: string): Promise<void> {
    checkAliasName(aliasName);
    const scope = callerScope(caller);
    await authorizeOnAlias(caller, 'UpdateAlias', aliasName);
    const existing = await storage.read((r) => r.aliases.get(scope, aliasName));
    if (!existing) throw aliasNotFound(scope, aliasName);
    await keys.resolveKey(caller, existing.targetKeyId, { ...KEY_ONLY, action: 'UpdateAlias' });
    const target = await keys.resolveKey(caller, targetKeyId, { ...KEY_ONLY, action: 'UpdateAlias' });
    const now = clock.now();
    await updateKeyDoc(storage, target.scope, target.keyId, async (key, tx) => {
      const alias = await tx.aliases.get(scope, aliasName);
      if (!alias) throw aliasNotFound(scope, aliasName);
      // The current key authorized above must still be the current key.
      if (alias.targetKeyId !== existing.targetKeyId) throw aliasChanged(scope, aliasName);
      requireNotPendingDeletion(key);
      if (alias.targetKeyId !== key.keyId) {
        const current = await tx.keys.get(scope, alias.targetKeyId);
        const currentDoc = current?.doc as unknown as KeyDoc | undefined;
        if (currentDoc && !canRetarget(currentDoc, key.doc)) {
          // Not recorded against AWS: the exception and its text are ours (the rule is AWS's, see canRetarget).
          throw new ValidationException(
            `Alias ${aliasArn(scope, aliasName)} cannot be associated with ${key.arn}: its current key is ` +
              `${currentDoc.keySpec}/${currentDoc.keyUsage} and the new key is ${key.doc.keySpec}/${key.doc.keyUsage}. ` +
              'The current and new key must be the same type (symmetric, asymmetric or HMAC) and have the same key usage.',
          );
        }
        await requireAliasRoom(tx, key);
      }
      if (!(await tx.aliases.update(scope, aliasName, key.keyId, now))) throw aliasNotFound(scope, aliasName);
      return key.doc;
    });
  }

  /** AWS: DeleteAlias — allowed whatever the state of the key it points at. */
  async function deleteAlias(caller: Caller, aliasName: string): Promise<void> {
    checkAliasName(aliasName);
    const scope = callerScope(caller);
    await authorizeOnAlias(caller, 'DeleteAlias', aliasName);
    // AWS: DeleteAlias needs kms:DeleteAlias on the key the alias points at too (authorised by resolveKey).
    const alias = await storage.read((r) => r.aliases.get(scope, aliasName));
    if (!alias) throw aliasNotFound(scope, aliasName);
    await keys.resolveKey(caller, alias.targetKeyId, { ...KEY_ONLY, action: 'DeleteAlias' });
    const deleted = await storage.transaction(async (tx) => {
      const current = await tx.aliases.get(scope, aliasName);
      if (current && current.targetKeyId !== alias.targetKeyId) throw aliasChanged(scope, aliasName);
      return tx.aliases.delete(scope, aliasName);
    });
    if (!deleted) throw aliasNotFound(scope, aliasName);
  }

  /** AWS: ListAliases — in alias name order; with a key, only the aliases pointing at it. */
  async function listAliases(
    caller: Caller,
    input: { keyId?: string; limit: number; marker?: string },
  ): Promise<{ aliases: AliasRecord[]; nextMarker?: string }> {
    const after = markers.decode(ALIASES_MARKER, input.marker);
    const scope = callerScope(caller);
    const targetKeyId = input.keyId === undefined
      ? undefined
      : (await keys.resolveKey(caller, input.keyId, { ...KEY_ONLY, action: 'ListAliases' })).keyId;
    const page = await storage.read((r) => r.aliases.list(scope, targetKeyId, after, input.limit));
    return {
      aliases: page.items,
      ...(page.next !== undefined ? { nextMarker: markers.encode(ALIASES_MARKER, page.next) } : {}),
    };
  }

  return { createAlias, updateAlias, deleteAlias, listAliases, awsManagedKey };
}
