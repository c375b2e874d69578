/**
 * UpdatePrimaryRegion across linked deployments (docs/replication.md "Moving the primary"). The role moves
 * in two steps, never held by both sides at once:
 *
 * 1. The primary's side (movePrimaryToPeer): in one transaction every local copy takes the new
 *    configuration (its own copy becomes a replica, so it stops rotating and refuses RotateKeyOnDemand and
 *    ReplicateKey) and a 'primary-moved' record is appended to the outbox of the peer serving the new region.
 * 2. The peer (takePrimaryRole, when it applies the record, in order after every earlier record of the
 *    link): its copy becomes the primary with the schedule that moved with the role; from then on its
 *    rotations reach the old side through its own outbox.
 *
 * Conflict rule: the role is given up before it is taken, and each side's records are applied in order, so
 * no two copies are ever primary. A move is refused while material records of the key still wait for the
 * peer (the replica is Creating or Updating there: KMSInvalidStateException), since such a record is built
 * from the primary when it is sent. A peer that cannot take the role (its copy is gone, or neither Enabled
 * nor Disabled, as AWS requires of the new primary) hands it back with a 'primary-moved' record marked
 * returned; a returned move that cannot be taken either is dropped, not bounced again.
 */
import { KMSInvalidStateException, NotFoundException, UnsupportedOperationException } from '../errors/errors.ts';
import type { Repos, Storage } from '../storage/storage.ts';
import { keyArn } from './arn.ts';
import { keyFromRecord, multiRegionConfigOf, multiRegionKeyTypeOf, type Key, type KeyDoc, type MultiRegionConfig } from './key-model.ts';
import { requireEnabled } from './key-states.ts';
import { lockCopies, lockCopiesOfPrimary, scopeIn, writeCopies } from './multi-region-copies.ts';
import type { RemoteReplicas } from './remote-replicas.ts';

/** Step 1 (see the module comment); returns the caller's copy as it now is (a replica). */
export async function movePrimaryToPeer(deps: { storage: Storage; remote: RemoteReplicas }, primary: Key, target: string): Promise<Key> {
  const { storage, remote } = deps;
  const targetArn = keyArn(scopeIn(primary, target), primary.keyId);
  return storage.transaction(async (tx) => {
    const { copies, current } = await lockCopiesOfPrimary(tx, primary);
    requireEnabled(current);
    const old = multiRegionConfigOf(current);
    if (!old.replicaRegions.includes(target)) throw new NotFoundException(`Key '${targetArn}' does not exist`);
    const waiting = await remote.pendingFor(tx, target, current.scope.accountId, current.keyId);
    if (waiting) throw new KMSInvalidStateException(`${targetArn} is ${waiting === 'create' ? 'creating' : 'updating'}.`);
    const next: MultiRegionConfig = { primaryRegion: target, replicaRegions: [...old.replicaRegions.filter((r) => r !== target), old.primaryRegion] };
    const { rotation, onDemandRotations } = current.doc;
    const asReplica = (copy: Key): KeyDoc => {
      const { rotation: _r, onDemandRotations: _o, ...rest } = copy.doc;
      return { ...rest, multiRegionConfig: next };
    };
    await writeCopies(tx, copies, asReplica);
    const queued = await remote.enqueue(tx, {
      kind: 'primary-moved', accountId: current.scope.accountId, keyId: current.keyId, sourceRegion: current.scope.region, region: target,
      multiRegionConfig: next, ...(rotation ? { rotation } : {}), ...(onDemandRotations !== undefined ? { onDemandRotations } : {}),
    });
    if (!queued) throw new UnsupportedOperationException(`The Region ${target} is not served by this deployment.`);
    return { ...current, revision: current.revision + 1, doc: asReplica(current) };
  });
}

export interface PrimaryMove {
  accountId: string;
  keyId: string;
  /** The region of the copy that gave the role up (the peer's). */
  from: string;
  /** The region of the copy here that takes it. */
  to: string;
  multiRegionConfig: MultiRegionConfig;
  rotation?: KeyDoc['rotation'];
  onDemandRotations?: number;
}

/**
 * Step 2, inside the transaction applying the record: the copy in `move.to` becomes the primary and every
 * local copy takes the new configuration. Returns the new primary, or, when it cannot take the role (see
 * the module comment), undefined and changes nothing.
 */
export async function takePrimaryRole(tx: Repos, move: PrimaryMove): Promise<Key | undefined> {
  const r = await tx.keys.get({ accountId: move.accountId, region: move.to }, move.keyId);
  if (!r || !keyFromRecord(r).doc.multiRegion) return undefined;
  const copies = await lockCopies(tx, keyFromRecord(r));
  const mine = copies.find((c) => c.scope.region === move.to)!;
  if (multiRegionKeyTypeOf(mine) !== 'REPLICA' || multiRegionConfigOf(mine).primaryRegion !== move.from) return undefined;
  if (mine.doc.state !== 'Enabled' && mine.doc.state !== 'Disabled') return undefined;
  const config = move.multiRegionConfig;
  await writeCopies(tx, copies, (copy) => {
    const { rotation: _r, onDemandRotations: _o, ...rest } = copy.doc;
    const doc: KeyDoc = { ...rest, multiRegionConfig: config };
    if (copy.scope.region === move.to) {
      if (move.rotation) doc.rotation = move.rotation;
      if (move.onDemandRotations !== undefined) doc.onDemandRotations = move.onDemandRotations;
    }
    return doc;
  });
  return { ...mine, doc: { ...mine.doc, multiRegionConfig: config } };
}
