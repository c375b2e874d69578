/**
 * Multi-Region keys within one deployment: ReplicateKey, UpdatePrimaryRegion, and the writes the lifecycle
 * makes to every copy of a multi-Region key (a rotation of the primary, the deletion of a replica).
 *
 * Model (docs/kms.md, "Multi-Region keys"): each copy is an ordinary key row of its own (account, region)
 * with the same key id; its policy, aliases, tags, grants, description, state and deletion schedule are its
 * own. What the copies share is written into every copy in one transaction: the set of related regions
 * (KeyDoc.multiRegionConfig) and the material versions. Material rows stay per (account, region), each
 * sealed by the barrier under its own region's AAD (materialAad): a replica's rows are the primary's
 * material unsealed and sealed again for the replica's region, never stored or logged in the clear. So
 * every region decrypts from its own rows, and the read path (withMaterial, the cache) is unchanged.
 */
import type { Authorizer } from '../auth/authorizer.ts';
import type { Caller } from '../auth/caller.ts';
import type { JobEventRecorder } from '../audit/service-event.ts';
import { DAY_MS, type Clock } from '../clock.ts';
import { timeOrderedUuid } from '../crypto/primitives.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import {
  AlreadyExistsException, ConflictException, DisabledException, NotFoundException, TagException, UnsupportedOperationException,
} from '../errors/errors.ts';
import { defaultKeyPolicyText, requestTagKeys, type ContextValue } from '../policy/index.ts';
import { unsealFresh, type Barrier } from '../seal/barrier.ts';
import type { MaterialRecord, Repos, Scope, Storage } from '../storage/storage.ts';
import { keyArn } from './arn.ts';
import {
  keyFromRecord, multiRegionConfigOf, multiRegionKeyTypeOf, recordFromKey, relatedRegionsOf, type Key, type KeyDoc, type MultiRegionConfig, type Tag,
} from './key-model.ts';
import { materialAad, type KeyService } from './key-service.ts';
import type { RemoteReplicas } from './remote-replicas.ts';
import { lockCopies, lockCopiesOfPrimary, requirePrimary, scopeIn, writeCopies } from './multi-region-copies.ts';
import { movePrimaryToPeer } from './multi-region-remote.ts';
import { requireEnabled, transition } from './key-states.ts';
import { checkNewTags, MAX_TAGS } from './tags.ts';

// key-lifecycle.ts asks for a primary through this module, as before the copies' helpers moved out.
export { requirePrimary };

export interface MultiRegionDeps {
  storage: Storage;
  barrier: Barrier;
  clock: Clock;
  keys: KeyService;
  authorizer: Authorizer;
  /** The regions this deployment serves (TRENT_REGIONS); absent: every well-formed region. */
  regions?: ReadonlySet<string>;
  /** Records the events CloudTrail writes in the other region of the call (absent: none, as in unit wiring). */
  events?: JobEventRecorder;
  /** Regions served by linked peer deployments (src/replication/); absent: none. */
  remote?: RemoteReplicas;
}

export interface ReplicateKeyInput {
  keyId: string;
  replicaRegion: string;
  description?: string;
  policy?: string;
  bypassPolicyLockoutSafetyCheck?: boolean;
  tags?: Tag[];
}

/**
 * Inside a rotation's transaction (key-lifecycle.ts): the primary's new material version `version` goes
 * into every replica, sealed for the replica's region, and becomes its current version, so a ciphertext
 * made after the rotation decrypts in every region. No-op for a key without replicas. Returns how many
 * replicas it reached (here, or queued for a linked deployment): the caller records the synchronization.
 */
export async function followRotation(
  tx: Repos, barrier: Barrier, primary: Key, material: SecretBytes, row: Omit<MaterialRecord, 'accountId' | 'region' | 'sealed'>,
  remote?: RemoteReplicas,
): Promise<number> {
  let reached = 0;
  for (const region of relatedRegionsOf(primary)) {
    const scope = scopeIn(primary, region);
    const r = await tx.keys.getForUpdate(scope, primary.keyId);
    if (!r) {
      // A replica in a linked deployment gets the new version through the outbox, in this transaction's order.
      if (await remote?.enqueue(tx, { accountId: primary.scope.accountId, keyId: primary.keyId, sourceRegion: primary.scope.region, region })) reached++;
      continue;
    }
    const replica = keyFromRecord(r);
    const doc: KeyDoc = { ...replica.doc, currentVersion: row.version, currentKeyMaterialId: primary.doc.currentKeyMaterialId };
    if (!(await tx.keys.update(recordFromKey({ ...replica, doc }), replica.revision))) {
      throw new ConflictException(`${replica.arn} is being changed by another request. Retry.`);
    }
    await tx.materials.insert({ ...scope, ...row, sealed: barrier.seal(material.expose(), materialAad(scope, primary.keyId, row.version)) });
    reached++;
  }
  return reached;
}

/**
 * Inside a transaction that is about to write a replica and then its other copies (destroyKey): takes the
 * primary's row lock first, the order every writer of several copies follows (ReplicateKey, rotation,
 * UpdatePrimaryRegion lock the primary, then the replicas), so two such transactions never deadlock.
 */
export async function lockPrimaryFirst(tx: Repos, key: Key): Promise<void> {
  if (multiRegionKeyTypeOf(key) !== 'REPLICA') return;
  await tx.keys.getForUpdate(scopeIn(key, multiRegionConfigOf(key).primaryRegion), key.keyId);
}

/**
 * Inside the transaction that destroys `key` (key-lifecycle.ts destroyKey): the other copies forget its
 * region. AWS: a primary PendingReplicaDeletion whose last replica goes becomes PendingDeletion, its
 * waiting period starting now. Copies in linked peer deployments are told through the outbox, in this
 * transaction (docs/replication.md "Changes reported back").
 */
export async function detachDestroyedCopy(tx: Repos, key: Key, now: number, remote?: RemoteReplicas): Promise<void> {
  if (!key.doc.multiRegion || key.doc.multiRegionConfig === undefined) return;
  const others: Key[] = [];
  for (const region of relatedRegionsOf(key)) {
    const r = await tx.keys.getForUpdate(scopeIn(key, region), key.keyId);
    if (r) others.push(keyFromRecord(r));
    else await remote?.enqueue(tx, { kind: 'key-replica-deleted', accountId: key.scope.accountId, keyId: key.keyId, sourceRegion: key.scope.region, region });
  }
  await writeWithoutRegion(tx, others, key.scope.region, now);
}

/** Writes into `copies` their config without `gone`; a primary PendingReplicaDeletion left without replicas starts its waiting period. */
async function writeWithoutRegion(tx: Repos, copies: readonly Key[], gone: string, now: number): Promise<void> {
  for (const copy of copies) {
    const old = multiRegionConfigOf(copy);
    if (old.primaryRegion === gone || !old.replicaRegions.includes(gone)) continue;
    const config: MultiRegionConfig = { ...old, replicaRegions: old.replicaRegions.filter((r) => r !== gone) };
    const doc: KeyDoc = { ...copy.doc, multiRegionConfig: config };
    if (copy.scope.region === config.primaryRegion && copy.doc.state === 'PendingReplicaDeletion' && config.replicaRegions.length === 0) {
      doc.state = transition(copy, 'LastReplicaDeleted');
      doc.deletionDate = now + (copy.doc.pendingWindowInDays ?? 30) * DAY_MS;
    }
    if (!(await tx.keys.update(recordFromKey({ ...copy, doc }), copy.revision))) {
      throw new ConflictException(`${copy.arn} is being changed by another request. Retry.`);
    }
  }
}

/**
 * Inside the transaction that applies a peer's report (src/replication/): the replica of `keyId` in
 * `gone`, a region the peer serves, was deleted there. Every copy this deployment holds forgets the
 * region, as detachDestroyedCopy does within one deployment. `localRegions` are the regions served here;
 * false when no copy of the key is here (nothing to change).
 */
export async function forgetRemoteCopy(
  tx: Repos, accountId: string, keyId: string, gone: string, localRegions: Iterable<string>, now: number,
): Promise<boolean> {
  let any: Key | undefined;
  for (const region of localRegions) {
    const r = await tx.keys.get({ accountId, region }, keyId);
    if (r) {
      any = keyFromRecord(r);
      break;
    }
  }
  if (!any || !any.doc.multiRegion) return false;
  const copies = await lockCopies(tx, any);
  await writeWithoutRegion(tx, copies, gone, now);
  return true;
}

export type MultiRegionService = ReturnType<typeof createMultiRegionService>;

export function createMultiRegionService({ storage, barrier, clock, keys, authorizer, regions, events, remote }: MultiRegionDeps) {
  /** AWS: the region must be one KMS serves for the account; Trent's are TRENT_REGIONS. */
  function requireServed(region: string): void {
    if (regions && !regions.has(region)) throw new UnsupportedOperationException(`The Region ${region} is not served by this deployment.`);
  }

  /**
   * ReplicateKey needs an enabled primary (AWS lists DisabledException for a disabled one; other states get
   * their KMSInvalidStateException). An EXTERNAL primary is also accepted while PendingImport once it has had
   * material (its material id is what each replica's own import must match); one that never had material is
   * refused, so no replica can fix its material before the primary does.
   */
  function requireReplicable(key: Key): void {
    if (key.doc.state === 'PendingImport' && key.doc.origin === 'EXTERNAL' && key.doc.currentKeyMaterialId !== '') return;
    requireEnabled(key);
  }

  /** The sealed material rows of the primary, sealed again for `scope` (read and re-sealed outside the transaction). */
  async function resealedMaterial(primary: Key, scope: Scope): Promise<MaterialRecord[]> {
    const rows = await storage.read((r) => r.materials.list(primary.scope, primary.keyId));
    const out: MaterialRecord[] = [];
    for (const m of rows) {
      const plain = await unsealFresh(barrier, m.sealed, materialAad(primary.scope, primary.keyId, m.version));
      try {
        out.push({ ...m, ...scope, sealed: barrier.seal(plain.expose(), materialAad(scope, primary.keyId, m.version)) });
      } finally {
        plain.zeroize();
      }
    }
    return out;
  }

  async function recordEvent(eventName: string, scope: Scope, arn: string, details: Record<string, unknown>): Promise<void> {
    if (!events) return;
    await events.record({
      eventId: timeOrderedUuid(), eventTime: clock.now(), eventSource: 'kms.amazonaws.com', eventName,
      accountId: scope.accountId, region: scope.region,
      resources: [{ accountId: scope.accountId, type: 'AWS::KMS::Key', ARN: arn }],
      details,
    });
  }

  /**
   * AWS ReplicateKey: a replica of a multi-Region primary key in another region, with the same key id and
   * material versions and its own description, policy and tags. Needs kms:ReplicateKey on the primary (with
   * kms:ReplicaRegion) and, in the replica region, kms:CreateKey (and kms:TagResource with Tags) by identity
   * policy, as AWS. The replica is usable when the call returns; the response shows it as AWS does at that
   * moment (KeyState Creating, recorded: test_replicate_key).
   */
  async function replicateKey(caller: Caller, input: ReplicateKeyInput): Promise<{ replica: Key; policy: string; tags: Tag[] }> {
    const tags = input.tags ?? [];
    const tagKeys = requestTagKeys(tags.map((t) => [t.TagKey, t.TagValue]));
    const primary = await keys.resolveKey(caller, input.keyId, {
      allowAlias: false, action: 'ReplicateKey', contextKeys: { 'kms:ReplicaRegion': input.replicaRegion, ...tagKeys },
    });
    requirePrimary(primary);
    if (primary.doc.state === 'Disabled') throw new DisabledException(`${primary.arn} is disabled.`);
    requireReplicable(primary);
    const region = input.replicaRegion;
    const replicaScope = scopeIn(primary, region);
    const replicaArn = keyArn(replicaScope, primary.keyId);
    const config = multiRegionConfigOf(primary);
    if (region === config.primaryRegion || config.replicaRegions.includes(region)) throw new AlreadyExistsException(`${replicaArn} already exists`);
    // A region this deployment does not serve may be served by a linked peer: the replica is made there.
    const peer = regions && !regions.has(region) ? await remote?.peerServing(region) : undefined;
    if (!peer) requireServed(region);
    // Imported material travels with a remote replica (the peer could not check a re-import's material id,
    // a MAC under this deployment's key), so the primary must hold it now.
    if (peer && primary.doc.origin === 'EXTERNAL') requireEnabled(primary);
    if (tags.length > MAX_TAGS) throw new TagException('Too many tags');
    checkNewTags(tags);

    const replicaCaller: Caller = { ...caller, region };
    const createKeys: Record<string, ContextValue> = {
      'kms:KeySpec': primary.doc.keySpec, 'kms:KeyUsage': primary.doc.keyUsage, 'kms:KeyOrigin': primary.doc.origin,
      'kms:MultiRegion': true, 'kms:MultiRegionKeyType': 'REPLICA',
      'kms:BypassPolicyLockoutSafetyCheck': input.bypassPolicyLockoutSafetyCheck === true, ...tagKeys,
    };
    for (const t of tags) createKeys[`aws:ResourceTag/${t.TagKey}`] = t.TagValue;
    await authorizer.authorize(replicaCaller, 'kms:CreateKey', undefined, createKeys);
    if (tags.length > 0) await authorizer.authorize(replicaCaller, 'kms:TagResource', undefined, tagKeys);
    const policy = input.policy !== undefined
      ? await authorizer.checkNewKeyPolicy(replicaCaller, input.policy, { keyArn: replicaArn, ...(input.bypassPolicyLockoutSafetyCheck ? { bypassLockoutCheck: true } : {}) })
      : defaultKeyPolicyText(primary.scope.accountId);

    if (peer) return replicateRemote(primary, region, replicaArn, { description: input.description ?? '', policy, tags });
    // Generated material is copied now; imported material is imported into each replica by its owner (AWS).
    const external = primary.doc.origin === 'EXTERNAL';
    const rows = external ? [] : await resealedMaterial(primary, replicaScope);
    const replica = await storage.transaction(async (tx) => {
      const { copies, current } = await lockCopiesOfPrimary(tx, primary);
      requireReplicable(current);
      const now = multiRegionConfigOf(current);
      if (now.replicaRegions.includes(region)) throw new AlreadyExistsException(`${replicaArn} already exists`);
      if (!external) {
        const versions = (await tx.materials.list(current.scope, current.keyId)).map((m) => m.version).join();
        if (versions !== rows.map((m) => m.version).join()) throw new ConflictException(`${current.arn} is being changed by another request. Retry.`);
      }
      const next: MultiRegionConfig = { primaryRegion: now.primaryRegion, replicaRegions: [...now.replicaRegions, region] };
      const d = current.doc;
      const doc: KeyDoc = {
        description: input.description ?? '',
        keyUsage: d.keyUsage, keySpec: d.keySpec, origin: d.origin, keyManager: 'CUSTOMER',
        state: external ? 'PendingImport' : 'Enabled',
        currentVersion: d.currentVersion, currentKeyMaterialId: d.currentKeyMaterialId,
        multiRegion: true, tags, policy, multiRegionConfig: next,
      };
      const made: Key = { scope: replicaScope, keyId: current.keyId, arn: replicaArn, createdAt: clock.now(), revision: 1, doc };
      if (await tx.keys.get(replicaScope, current.keyId)) throw new AlreadyExistsException(`${replicaArn} already exists`);
      await tx.keys.insert(recordFromKey(made));
      for (const m of rows) await tx.materials.insert(m);
      await writeCopies(tx, copies, (copy) => ({ ...copy.doc, multiRegionConfig: next }));
      return made;
    });
    // AWS CloudTrail: a ReplicateKey request is a ReplicateKey event in the primary's region (the edge records
    // it) and a CreateKey in the replica's region (this one, in the same unit of work as the call).
    await recordEvent('CreateKey', replicaScope, replicaArn, { replicateKeyFrom: primary.arn, requestedBy: caller.principalArn });
    return { replica, policy, tags };
  }

  /**
   * ReplicateKey to a region a linked peer serves: the primary (and every local copy) lists the region at
   * once, and an outbox record in the same transaction asks the peer to create the replica; the replica is
   * Creating until the peer has applied it (docs/replication.md). The peer records its CloudTrail CreateKey.
   */
  async function replicateRemote(
    primary: Key, region: string, replicaArn: string, create: { description: string; policy: string; tags: Tag[] },
  ): Promise<{ replica: Key; policy: string; tags: Tag[] }> {
    return storage.transaction(async (tx) => {
      const { copies, current } = await lockCopiesOfPrimary(tx, primary);
      requireReplicable(current);
      const now = multiRegionConfigOf(current);
      if (now.replicaRegions.includes(region)) throw new AlreadyExistsException(`${replicaArn} already exists`);
      const next: MultiRegionConfig = { primaryRegion: now.primaryRegion, replicaRegions: [...now.replicaRegions, region] };
      await writeCopies(tx, copies, (copy) => ({ ...copy.doc, multiRegionConfig: next }));
      const queued = await remote!.enqueue(tx, { accountId: current.scope.accountId, keyId: current.keyId, sourceRegion: current.scope.region, region, create });
      if (!queued) throw new UnsupportedOperationException(`The Region ${region} is not served by this deployment.`);
      const d = current.doc;
      const doc: KeyDoc = {
        description: create.description, keyUsage: d.keyUsage, keySpec: d.keySpec, origin: d.origin, keyManager: 'CUSTOMER',
        state: 'Creating', currentVersion: d.currentVersion, currentKeyMaterialId: d.currentKeyMaterialId,
        multiRegion: true, tags: create.tags, policy: create.policy, multiRegionConfig: next,
      };
      return { replica: { scope: scopeIn(primary, region), keyId: current.keyId, arn: replicaArn, createdAt: clock.now(), revision: 1, doc }, policy: create.policy, tags: create.tags };
    });
  }

  /**
   * AWS UpdatePrimaryRegion: the replica in `primaryRegion` becomes the primary and the primary a replica,
   * in one transaction over every copy. Needs kms:UpdatePrimaryRegion on both keys (kms:PrimaryRegion).
   * The automatic rotation schedule is the primary's, so it moves with the role.
   */
  async function updatePrimaryRegion(caller: Caller, input: { keyId: string; primaryRegion: string }): Promise<Key> {
    const contextKeys = { 'kms:PrimaryRegion': input.primaryRegion };
    const primary = await keys.resolveKey(caller, input.keyId, { allowAlias: false, action: 'UpdatePrimaryRegion', contextKeys });
    requirePrimary(primary);
    if (primary.doc.state === 'Disabled') throw new DisabledException(`${primary.arn} is disabled.`);
    requireEnabled(primary);
    const target = input.primaryRegion;
    const config = multiRegionConfigOf(primary);
    const targetScope = scopeIn(primary, target);
    if (target === primary.scope.region) throw new UnsupportedOperationException(`${primary.arn} is already the primary key.`);
    // A replica in a linked peer deployment: the role moves through the outbox (multi-region-remote.ts).
    const peer = regions && !regions.has(target) && config.replicaRegions.includes(target) ? await remote?.peerServing(target) : undefined;
    if (peer) {
      // The replica's key policy is the peer's: here the caller's identity policies decide in its region.
      await authorizer.authorize({ ...caller, region: target }, 'kms:UpdatePrimaryRegion', undefined, contextKeys);
      return movePrimaryToPeer({ storage, remote: remote! }, primary, target);
    }
    const record = config.replicaRegions.includes(target) ? await storage.read((r) => r.keys.get(targetScope, primary.keyId)) : undefined;
    if (!record) throw new NotFoundException(`Key '${keyArn(targetScope, primary.keyId)}' does not exist`);
    const replica = keyFromRecord(record);
    await authorizer.authorize({ ...caller, region: target }, 'kms:UpdatePrimaryRegion', { key: replica, contextKeys });
    if (replica.doc.state !== 'Disabled') requireEnabled(replica);

    const updated = await storage.transaction(async (tx) => {
      const { copies, current } = await lockCopiesOfPrimary(tx, primary);
      requireEnabled(current);
      const old = multiRegionConfigOf(current);
      if (!old.replicaRegions.includes(target) || !copies.some((c) => c.scope.region === target)) {
        throw new NotFoundException(`Key '${keyArn(targetScope, primary.keyId)}' does not exist`);
      }
      const next: MultiRegionConfig = {
        primaryRegion: target,
        replicaRegions: [...old.replicaRegions.filter((r) => r !== target), old.primaryRegion],
      };
      const { rotation, onDemandRotations } = current.doc;
      await writeCopies(tx, copies, (copy) => {
        const { rotation: _r, onDemandRotations: _o, ...rest } = copy.doc;
        const doc: KeyDoc = { ...rest, multiRegionConfig: next };
        if (copy.scope.region === target) {
          if (rotation) doc.rotation = rotation;
          if (onDemandRotations !== undefined) doc.onDemandRotations = onDemandRotations;
        }
        return doc;
      });
      return { ...current, revision: current.revision + 1, doc: { ...current.doc, multiRegionConfig: next } };
    });
    // AWS CloudTrail: UpdatePrimaryRegion writes an entry in both regions; the edge records the caller's.
    await recordEvent('UpdatePrimaryRegion', targetScope, keyArn(targetScope, primary.keyId), {
      keyId: primary.keyId, primaryRegion: target, requestedBy: caller.principalArn,
    });
    return updated;
  }

  return { replicateKey, updatePrimaryRegion };
}
