/**
 * Key lifecycle: enable/disable, scheduled deletion, rotation (automatic and on demand) and the
 * background job that carries out what is due. Every state change goes through the transition table
 * (key-states.ts) and is stored with compare-and-set, so concurrent writers and several nodes never
 * lose a change or act twice: of two nodes racing to rotate or delete the same key, one CAS fails.
 */
import type { ContextValue } from '../policy/index.ts';
import type { JobEventRecorder } from '../audit/service-event.ts';
import type { Caller } from '../auth/caller.ts';
import { DAY_MS, type Clock } from '../clock.ts';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import {
  DisabledException,
  KMSInvalidStateException,
  LimitExceededException,
  UnsupportedOperationException,
} from '../errors/errors.ts';
import type { Barrier } from '../seal/barrier.ts';
import type { Storage } from '../storage/storage.ts';
import {
  epochSeconds, keyFromRecord, multiRegionConfigOf, multiRegionKeyTypeOf, recordFromKey, type ImportedVersion, type Key,
} from './key-model.ts';
import { expireImportedMaterial, importedMaterialExpired } from './key-import.ts';
import { materialAad, type KeyService } from './key-service.ts';
import { generateSymmetricMaterial } from './key-specs/symmetric.ts';
import { transition } from './key-states.ts';
import type { PaginationMarkers } from './markers.ts';
import type { MaterialCache } from './material-cache.ts';
import type { RemoteReplicas } from './remote-replicas.ts';
import { detachDestroyedCopy, followRotation, lockPrimaryFirst, requirePrimary } from './multi-region.ts';
import { synchronizeMultiRegionKeyEvent } from './multi-region-events.ts';

export const DEFAULT_ROTATION_DAYS = 365;
export const MAX_ON_DEMAND_ROTATIONS = 25;
const KEY_MGMT = { allowAlias: false } as const;

export interface KeyLifecycleDeps {
  storage: Storage;
  barrier: Barrier;
  clock: Clock;
  materialCache: MaterialCache;
  keys: KeyService;
  /** Told when a deleted key's HSM object could not be destroyed (it stays in the token; see docs/hsm.md). */
  warn?: (facts: Record<string, unknown>, message: string) => void;
  /** Authenticates pagination markers (markers.ts). */
  markers: PaginationMarkers;
  /** Replicas in linked peer deployments: a rotation reaches them through the outbox (absent: none). */
  remote?: RemoteReplicas;
  /** Records the service's own CloudTrail events (SynchronizeMultiRegionKey); absent: none, as in unit wiring. */
  events?: JobEventRecorder;
}

export type KeyLifecycle = ReturnType<typeof createKeyLifecycle>;

export function createKeyLifecycle({ storage, barrier, clock, materialCache, keys, warn, markers, remote, events }: KeyLifecycleDeps) {
  const resolve = (caller: Caller, keyId: string, action: string, contextKeys?: Record<string, ContextValue>) =>
    keys.resolveKey(caller, keyId, { ...KEY_MGMT, action, ...(contextKeys ? { contextKeys } : {}) });

  async function changeState(caller: Caller, keyId: string, event: 'EnableKey' | 'DisableKey'): Promise<Key> {
    const key = await resolve(caller, keyId, event);
    return keys.mutateKey(key, (k) => {
      const state = transition(k, event);
      // AWS: a key re-enabled past its rotation date rotates at once, so the due date stands.
      return { ...k, doc: { ...k.doc, state } };
    });
  }

  async function scheduleKeyDeletion(caller: Caller, keyId: string, pendingWindowInDays = 30): Promise<Key> {
    const key = await resolve(caller, keyId, 'ScheduleKeyDeletion', { 'kms:ScheduleKeyDeletionPendingWindowInDays': pendingWindowInDays });
    const deletionDate = clock.now() + pendingWindowInDays * DAY_MS;
    return keys.mutateKey(key, (k) => {
      // AWS: scheduling again while pending deletion is refused ("is pending deletion").
      if (k.doc.state === 'PendingDeletion') throw new KMSInvalidStateException(`${k.arn} is pending deletion.`);
      // AWS: a multi-Region primary with replicas waits for them (PendingReplicaDeletion, no DeletionDate yet);
      // its waiting period starts when the last replica is deleted (multi-region.ts detachDestroyedCopy).
      if (multiRegionKeyTypeOf(k) === 'PRIMARY' && multiRegionConfigOf(k).replicaRegions.length > 0) {
        const state = transition(k, 'ScheduleKeyDeletionWithReplicas');
        const { deletionDate: _d, ...rest } = k.doc;
        return { ...k, doc: { ...rest, state, pendingWindowInDays } };
      }
      const state = transition(k, 'ScheduleKeyDeletion');
      return { ...k, doc: { ...k.doc, state, deletionDate, pendingWindowInDays } };
    });
  }

  async function cancelKeyDeletion(caller: Caller, keyId: string): Promise<Key> {
    const key = await resolve(caller, keyId, 'CancelKeyDeletion');
    return keys.mutateKey(key, (k) => {
      // An EXTERNAL key whose material is not imported must not become Disabled (EnableKey would then
      // enable a key that has no material): it returns to PendingImport.
      const withoutMaterial = k.doc.origin === 'EXTERNAL' && k.doc.importedMaterial === undefined;
      const state = transition(k, withoutMaterial ? 'CancelKeyDeletionWithoutMaterial' : 'CancelKeyDeletion');
      const { deletionDate: _d, pendingWindowInDays: _p, ...rest } = k.doc;
      return { ...k, doc: { ...rest, state } };
    });
  }

  /**
   * AWS: rotation is for symmetric keys whose material KMS generated; every other key is Unsupported.
   * RotateKeyOnDemand refuses a key of another spec with no message (recorded:
   * test_rotate_key_on_demand_raises_error_given_non_symmetric_key). RotateKeyOnDemand and ListKeyRotations
   * also take a symmetric EXTERNAL key (AWS, 2025: rotation to imported material pending rotation).
   */
  function requireRotatable(key: Key, operation?: 'RotateKeyOnDemand' | 'ListKeyRotations' | 'GetKeyRotationStatus'): void {
    // AWS: a multi-Region key rotates as one, from its primary; the replicas follow (their rotation status is the primary's).
    if ((operation === undefined || operation === 'RotateKeyOnDemand') && multiRegionKeyTypeOf(key) === 'REPLICA') requirePrimary(key);
    if (key.doc.keySpec !== 'SYMMETRIC_DEFAULT') {
      throw new UnsupportedOperationException(operation === 'RotateKeyOnDemand' ? '' : `${key.arn} key spec ${key.doc.keySpec} is not valid for this operation.`);
    }
    if (key.doc.origin !== 'AWS_KMS' && !((operation === 'RotateKeyOnDemand' || operation === 'ListKeyRotations') && key.doc.origin === 'EXTERNAL')) {
      throw new UnsupportedOperationException(`${key.arn} origin is ${key.doc.origin} which is not valid for this operation.`);
    }
  }

  function requireEnabledForRotationChange(key: Key): void {
    if (key.doc.state === 'Disabled') throw new DisabledException(`${key.arn} is disabled.`);
    if (key.doc.state !== 'Enabled') transition(key, 'EnableKey'); // throws the state's AWS error
  }

  async function enableKeyRotation(caller: Caller, keyId: string, periodDays = DEFAULT_ROTATION_DAYS): Promise<void> {
    const key = await resolve(caller, keyId, 'EnableKeyRotation', { 'kms:RotationPeriodInDays': periodDays });
    requireEnabledForRotationChange(key);
    requireRotatable(key);
    const nextRotationAt = clock.now() + periodDays * DAY_MS;
    await keys.mutateKey(key, (k) => ({ ...k, doc: { ...k.doc, rotation: { enabled: true, periodDays, nextRotationAt } } }));
  }

  async function disableKeyRotation(caller: Caller, keyId: string): Promise<void> {
    const key = await resolve(caller, keyId, 'DisableKeyRotation');
    requireEnabledForRotationChange(key);
    requireRotatable(key);
    await keys.mutateKey(key, (k) => ({
      ...k,
      doc: { ...k.doc, rotation: { enabled: false, periodDays: k.doc.rotation?.periodDays ?? DEFAULT_ROTATION_DAYS } },
    }));
  }

  /** A replica's rotation settings are its primary's (the replica stores none): read from the primary's row. */
  async function rotationOf(key: Key): Promise<Key['doc']['rotation']> {
    if (multiRegionKeyTypeOf(key) !== 'REPLICA') return key.doc.rotation;
    const primaryScope = { accountId: key.scope.accountId, region: multiRegionConfigOf(key).primaryRegion };
    const primary = await storage.read((r) => r.keys.get(primaryScope, key.keyId));
    return primary ? keyFromRecord(primary).doc.rotation : undefined;
  }

  async function getKeyRotationStatus(caller: Caller, keyId: string): Promise<Record<string, unknown>> {
    const key = await keys.resolveKey(caller, keyId, { allowAlias: false, action: 'GetKeyRotationStatus' });
    if (key.doc.state === 'PendingDeletion') throw new KMSInvalidStateException(`${key.arn} is pending deletion.`);
    requireRotatable(key, 'GetKeyRotationStatus');
    const r = await rotationOf(key);
    // AWS (recorded): the KeyId of GetKeyRotationStatus is the key ARN, as RotateKeyOnDemand's.
    return {
      KeyId: key.arn,
      KeyRotationEnabled: r?.enabled ?? false,
      ...(r?.enabled ? { RotationPeriodInDays: r.periodDays } : {}),
      ...(r?.enabled && r.nextRotationAt !== undefined ? { NextRotationDate: epochSeconds(r.nextRotationAt) } : {}),
    };
  }

  /**
   * Appends a new material version and makes it current, in one transaction gated by compare-and-set
   * on the key's revision. Returns the rotated key, or undefined when another writer changed the key
   * first (the caller decides whether to retry).
   */
  async function rotateOnce(key: Key, type: 'AUTOMATIC' | 'ON_DEMAND'): Promise<Key | undefined> {
    const now = clock.now();
    const version = key.doc.currentVersion + 1;
    const materialId = randomBytesBuffer(32).toString('hex');
    const rotation = key.doc.rotation;
    const next: Key = {
      ...key,
      doc: {
        ...key.doc,
        currentVersion: version,
        currentKeyMaterialId: materialId,
        ...(type === 'ON_DEMAND' ? { onDemandRotations: (key.doc.onDemandRotations ?? 0) + 1 } : {}),
        // AWS: an on-demand rotation does not move the automatic schedule.
        ...(type === 'AUTOMATIC' && rotation ? { rotation: { ...rotation, nextRotationAt: now + rotation.periodDays * DAY_MS } } : {}),
      },
    };
    const material = generateSymmetricMaterial();
    try {
      const sealed = barrier.seal(material.expose(), materialAad(key.scope, key.keyId, version));
      const stored = await storage.transaction(async (tx) => {
        if (!(await tx.keys.update(recordFromKey(next), key.revision))) return false;
        const row = { keyId: key.keyId, version, createdAt: now, doc: { keyMaterialId: materialId, rotationType: type } };
        await tx.materials.insert({ ...key.scope, ...row, sealed });
        // The replicas of a multi-Region primary get the same version in the same transaction, and the
        // synchronization is in the trail with it (AWS: one SynchronizeMultiRegionKey in the primary's region).
        if ((await followRotation(tx, barrier, next, material, row, remote)) > 0) {
          await events?.recordIn(tx, synchronizeMultiRegionKeyEvent(key.scope, key.keyId, now));
        }
        return true;
      });
      return stored ? { ...next, revision: key.revision + 1 } : undefined;
    } finally {
      material.zeroize();
    }
  }

  /**
   * RotateKeyOnDemand of an EXTERNAL key: the material pending rotation becomes current, the current one
   * is kept, decrypt only (key-import.ts). Only the key document changes: the material rows are already
   * there. Compare-and-set on the revision as rotateOnce.
   */
  async function rotateImportedOnce(key: Key): Promise<Key | undefined> {
    const pending = key.doc.pendingMaterial!;
    const now = clock.now();
    const { pendingMaterial: _p, currentRotatedAt, importedMaterial, ...rest } = key.doc;
    const outgoing: ImportedVersion = {
      version: key.doc.currentVersion,
      keyMaterialId: key.doc.currentKeyMaterialId,
      expirationModel: importedMaterial!.expirationModel,
      ...(importedMaterial!.validTo !== undefined ? { validTo: importedMaterial!.validTo } : {}),
      ...(importedMaterial!.description !== undefined ? { description: importedMaterial!.description } : {}),
      ...(currentRotatedAt !== undefined ? { rotatedAt: currentRotatedAt } : {}),
      imported: true,
    };
    const next: Key = {
      ...key,
      doc: {
        ...rest,
        currentVersion: pending.version,
        currentKeyMaterialId: pending.keyMaterialId,
        currentRotatedAt: now,
        importedMaterial: {
          expirationModel: pending.expirationModel,
          ...(pending.validTo !== undefined ? { validTo: pending.validTo } : {}),
          ...(pending.description !== undefined ? { description: pending.description } : {}),
        },
        previousMaterials: [...(key.doc.previousMaterials ?? []), outgoing],
        onDemandRotations: (key.doc.onDemandRotations ?? 0) + 1,
      },
    };
    const stored = await storage.transaction((tx) => tx.keys.update(recordFromKey(next), key.revision));
    return stored ? { ...next, revision: key.revision + 1 } : undefined;
  }

  async function rotateKeyOnDemand(caller: Caller, keyId: string): Promise<Key> {
    let key = await resolve(caller, keyId, 'RotateKeyOnDemand');
    for (let attempt = 0; attempt < 8; attempt++) {
      if (key.doc.state === 'Disabled') throw new DisabledException(`${key.arn} is disabled.`);
      if (key.doc.state !== 'Enabled') transition(key, 'EnableKey');
      requireRotatable(key, 'RotateKeyOnDemand');
      const external = key.doc.origin === 'EXTERNAL';
      // AWS (recorded: test_rotate_key_on_demand_raises_for_no_pending_key_material).
      if (external && key.doc.pendingMaterial?.imported !== true) {
        throw new KMSInvalidStateException(`No available key material pending rotation for the key: ${key.arn}.`);
      }
      if ((key.doc.onDemandRotations ?? 0) >= MAX_ON_DEMAND_ROTATIONS) {
        throw new LimitExceededException(
          `The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: ${key.arn}`,
        );
      }
      const rotated = external ? await rotateImportedOnce(key) : await rotateOnce(key, 'ON_DEMAND');
      if (rotated) return rotated;
      key = await resolve(caller, keyId, 'RotateKeyOnDemand');
    }
    throw new KMSInvalidStateException(`${key.arn} is being changed by another request. Retry.`);
  }

  /**
   * ListKeyRotations of an EXTERNAL key: every imported material from the key document, with its import
   * state and expiry (AWS RotationsListEntry). ROTATIONS_ONLY (the default) lists the materials that became
   * current by a rotation; ALL_KEY_MATERIAL adds the first one and the one pending rotation.
   */
  function importedRotations(key: Key, includeAll: boolean): Array<{ version: number; entry: Record<string, unknown> }> {
    const d = key.doc;
    const listed: Array<{ m: ImportedVersion; state: 'CURRENT' | 'NON_CURRENT' | 'PENDING_ROTATION' }> = (d.previousMaterials ?? [])
      .map((m) => ({ m, state: 'NON_CURRENT' as const }));
    listed.push({
      m: {
        version: d.currentVersion, keyMaterialId: d.currentKeyMaterialId, imported: d.importedMaterial !== undefined,
        expirationModel: d.importedMaterial?.expirationModel ?? 'KEY_MATERIAL_DOES_NOT_EXPIRE',
        ...(d.importedMaterial?.validTo !== undefined ? { validTo: d.importedMaterial.validTo } : {}),
        ...(d.importedMaterial?.description !== undefined ? { description: d.importedMaterial.description } : {}),
        ...(d.currentRotatedAt !== undefined ? { rotatedAt: d.currentRotatedAt } : {}),
      },
      state: 'CURRENT',
    });
    if (d.pendingMaterial) listed.push({ m: d.pendingMaterial, state: 'PENDING_ROTATION' });
    return listed
      .filter(({ m }) => includeAll || m.rotatedAt !== undefined)
      .sort((a, b) => a.m.version - b.m.version)
      .map(({ m, state }) => ({
        version: m.version,
        entry: {
          KeyId: key.keyId,
          KeyMaterialId: m.keyMaterialId,
          ...(m.description !== undefined ? { KeyMaterialDescription: m.description } : {}),
          ImportState: m.imported ? 'IMPORTED' : 'PENDING_IMPORT',
          KeyMaterialState: state,
          // A deleted material's expiry is unknown until it is imported again (AWS omits both then).
          ...(m.imported ? { ExpirationModel: m.expirationModel } : {}),
          ...(m.imported && m.validTo !== undefined ? { ValidTo: epochSeconds(m.validTo) } : {}),
          ...(m.rotatedAt !== undefined ? { RotationDate: epochSeconds(m.rotatedAt), RotationType: 'ON_DEMAND' } : {}),
        },
      }));
  }

  /** ListKeyRotations of a key whose material KMS generates: one entry per material row. */
  async function generatedRotations(key: Key, after: number, includeAll: boolean): Promise<Array<{ version: number; entry: Record<string, unknown> }>> {
    const all = await storage.read((r) => r.materials.list(key.scope, key.keyId));
    return all
      .filter((m) => m.version > after && (includeAll || m.version > 1))
      .map((m) => ({
        version: m.version,
        entry: {
          KeyId: key.keyId,
          KeyMaterialId: String(m.doc.keyMaterialId ?? ''),
          KeyMaterialState: m.version === key.doc.currentVersion ? 'CURRENT' : 'NON_CURRENT',
          ...(m.version > 1 ? { RotationDate: epochSeconds(m.createdAt), RotationType: String(m.doc.rotationType ?? 'AUTOMATIC') } : {}),
        },
      }));
  }

  async function listKeyRotations(
    caller: Caller,
    input: { keyId: string; includeKeyMaterial?: 'ALL_KEY_MATERIAL' | 'ROTATIONS_ONLY'; limit: number; marker?: string },
  ): Promise<{ rotations: Record<string, unknown>[]; nextMarker?: string }> {
    const key = await resolve(caller, input.keyId, 'ListKeyRotations');
    if (key.doc.state === 'PendingDeletion') throw new KMSInvalidStateException(`${key.arn} is pending deletion.`);
    requireRotatable(key, 'ListKeyRotations');
    const after = Number(markers.decode('ListKeyRotations', input.marker) ?? '0');
    const listed = key.doc.origin === 'EXTERNAL'
      ? importedRotations(key, input.includeKeyMaterial === 'ALL_KEY_MATERIAL').filter((r) => r.version > after)
      : await generatedRotations(key, after, input.includeKeyMaterial === 'ALL_KEY_MATERIAL');
    const page = listed.slice(0, input.limit);
    const more = listed.length > input.limit;
    return {
      rotations: page.map((p) => p.entry),
      ...(more ? { nextMarker: markers.encode('ListKeyRotations', String(page[page.length - 1]!.version)) } : {}),
    };
  }

  /** Destroys a key whose deletion date has passed: material, aliases and the key row, in one transaction. */
  async function destroyKey(key: Key): Promise<boolean> {
    const destroyed = await storage.transaction(async (tx) => {
      await lockPrimaryFirst(tx, key);
      // The CAS makes a racing CancelKeyDeletion (or another node's job) win or lose cleanly.
      if (!(await tx.keys.update(recordFromKey(key), key.revision))) return false;
      await tx.materials.deleteAll(key.scope, key.keyId);
      await tx.aliases.deleteForKey(key.scope, key.keyId);
      await tx.grants.deleteForKey(key.scope, key.keyId);
      await tx.importParameters.deleteForKey(key.scope, key.keyId);
      await tx.keys.delete(key.scope, key.keyId);
      await detachDestroyedCopy(tx, key, clock.now(), remote);
      return true;
    });
    if (!destroyed) return false;
    materialCache.evictKey(key.scope.accountId, key.scope.region, key.keyId);
    // Outside custody (an HSM object) goes after the rows: a failure here never leaves a key whose
    // material is gone while its row remains.
    try {
      await keys.custodyOf(key).destroy(key);
    } catch (err) {
      warn?.({ keyId: key.keyId, customKeyStoreId: key.doc.customKeyStoreId, reason: (err as Error).message },
        'deleted key: its HSM object could not be destroyed and remains in the token');
    }
    return true;
  }

  /**
   * One pass of the background job: deletes and rotates what is due, deletes imported material past its
   * ValidTo (AWS: the key becomes PendingImport) and drops import parameters past their 24 h. Safe to
   * run on several nodes at once.
   */
  async function runDueJobs(): Promise<{ deleted: number; rotated: number; expired: number }> {
    const now = clock.now();
    let deleted = 0;
    let rotated = 0;
    let expired = 0;
    await storage.transaction((tx) => tx.importParameters.deleteExpired(now));
    for (;;) {
      const due = await storage.read((r) => r.keys.listDue(now, 100));
      let acted = 0;
      for (const record of due) {
        const key = keyFromRecord(record);
        if (key.doc.state === 'PendingDeletion' && (key.doc.deletionDate ?? Infinity) <= now) {
          if (await destroyKey(key)) {
            deleted++;
            acted++;
          }
        } else if (key.doc.state === 'Enabled' && key.doc.rotation?.enabled && (key.doc.rotation.nextRotationAt ?? Infinity) <= now) {
          if (await rotateOnce(key, 'AUTOMATIC')) {
            rotated++;
            acted++;
          }
        } else if (importedMaterialExpired(key.doc, now)) {
          if (await expireImportedMaterial(storage, materialCache, key, now)) {
            expired++;
            acted++;
          }
        }
      }
      if (due.length < 100 || acted === 0) break;
    }
    return { deleted, rotated, expired };
  }

  return {
    enableKey: (caller: Caller, keyId: string) => changeState(caller, keyId, 'EnableKey'),
    disableKey: (caller: Caller, keyId: string) => changeState(caller, keyId, 'DisableKey'),
    scheduleKeyDeletion,
    cancelKeyDeletion,
    enableKeyRotation,
    disableKeyRotation,
    getKeyRotationStatus,
    rotateKeyOnDemand,
    listKeyRotations,
    runDueJobs,
  };
}
