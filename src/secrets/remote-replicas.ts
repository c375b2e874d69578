/**
 * Port: replicas of secrets that live in a linked peer deployment (docs/replication.md, docs/secrets.md
 * "Replication"). secrets/ declares what it needs; src/replication/ implements it (the link's outbox) and
 * app.ts wires it in, so secrets/ never imports the replication layer — as kms/remote-replicas.ts.
 *
 * Contract: `enqueue` runs inside the caller's transaction, so the record commits with the secret change
 * (and its audit event) or not at all. Records name the secret and regions only: the values are read,
 * opened and wrapped when the record is sent, so no outbox row holds one.
 *
 * This file is the primary's side: which regions are remote, the records a change appends, the status an
 * acknowledgement sets, what a record carries when it is sent. The replica's side is replica-from-peer.ts.
 */
import { isDeepStrictEqual } from 'node:util';
import { type Caller, viaServiceName } from '../auth/caller.ts';
import { ConflictException, TrentError } from '../errors/errors.ts';
import type { Repos } from '../storage/storage.ts';
import { failed, replicaArnOf, shownRotation } from './replica-sync.ts';
import { toSecret, type Secret, type SecretContext } from './secret-context.ts';
import { dueAtOf, type ReplicaState, type SecretDoc, type Tag } from './secret-model.ts';
import { open } from './secret-sealing.ts';
import type { RotationRules } from './schedule.ts';

interface Named {
  accountId: string;
  /** The secret's name (the same in every region). */
  name: string;
  /** The ARN of the copy the record is about, in `sourceRegion`. */
  arn: string;
  /** The region of the side that appends the record. */
  sourceRegion: string;
  /** The region of the other side, served by the peer. */
  region: string;
}

/**
 * - `secret`: bring the replica in `region` to the primary's current state (create it if absent), acting
 *   as `principalArn` on the primary's side when the values are opened;
 * - `secret-replica-deleted`: RemoveRegionsFromReplication — delete the replica;
 * - `secret-replica-stopped`: the back channel — the replica (`arn`, in `sourceRegion`) was promoted by
 *   StopReplicationToReplica, so the primary in `region` stops listing it.
 */
export type RemoteSecretRecord =
  | (Named & { kind: 'secret'; principalArn: string })
  | (Named & { kind: 'secret-replica-deleted' | 'secret-replica-stopped' });

export interface RemoteSecretReplicas {
  /** The name of the linked peer that serves `region`, or undefined when no link does. */
  peerServing(region: string): Promise<string | undefined>;
  /** Inside `tx`: appends a record for the peer serving `record.region`; its sequence number, or undefined when no link serves it. */
  enqueue(tx: Repos, record: RemoteSecretRecord): Promise<number | undefined>;
}

/** What of a primary a replica shows (AWS replicates value, metadata, tags, resource policy): the part that crosses. */
export interface ReplicaView {
  description?: string;
  tags: Tag[];
  tagged?: true;
  policy?: string;
  rotation: { enabled: boolean; lambdaArn?: string; rules?: RotationRules; nextRotationAt?: number };
  versions: Record<string, { stages: string[]; createdAt: number; kind: 'string' | 'binary'; empty?: true }>;
  lastChangedAt: number;
  lastRotatedAt?: number;
}

export function viewOf(doc: SecretDoc): ReplicaView {
  return {
    ...(doc.description !== undefined ? { description: doc.description } : {}),
    tags: doc.tags.map((t) => ({ Key: t.Key, Value: t.Value })),
    ...(doc.tagged ? { tagged: true as const } : {}),
    ...(doc.policy !== undefined ? { policy: doc.policy } : {}),
    rotation: shownRotation(doc.rotation),
    versions: Object.fromEntries(Object.entries(doc.versions).map(([id, v]) => [id, {
      stages: [...v.stages], createdAt: v.createdAt, kind: v.kind, ...(v.empty ? { empty: true as const } : {}),
    }])),
    lastChangedAt: doc.lastChangedAt,
    ...(doc.lastRotatedAt !== undefined ? { lastRotatedAt: doc.lastRotatedAt } : {}),
  };
}

/** The regions of `regions` this deployment does not serve but a linked peer does. */
export async function remoteRegionsOf(ctx: SecretContext, regions: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (!ctx.remote) return out;
  for (const r of regions) if (!ctx.servesRegion(r) && (await ctx.remote.peerServing(r)) !== undefined) out.add(r);
  return out;
}

/**
 * For each remote replica of `primary` (as read) that `doc` (as it will be written) changes: marks it
 * InProgress and returns the write that appends its record in the change's transaction (and notes the
 * record's sequence number in the state, which the doc written after it carries). A change that leaves
 * what a replica shows as it was (a rotation lease renewed) appends nothing, unless the replica is new or
 * Failed (the next change retries it, as within one deployment).
 */
export function prepareRemoteSync(ctx: SecretContext, caller: Caller, primary: Secret, doc: SecretDoc): ((tx: Repos) => Promise<void>)[] {
  const writes: ((tx: Repos) => Promise<void>)[] = [];
  const unchanged = isDeepStrictEqual(viewOf(primary.doc), viewOf(doc));
  for (const state of doc.replicas ?? []) {
    if (!state.remote) continue;
    const before = primary.doc.replicas?.find((r) => r.region === state.region && r.remote);
    if (unchanged && before && before.status !== 'Failed') continue;
    state.status = 'InProgress';
    delete state.statusMessage;
    const record: RemoteSecretRecord = {
      kind: 'secret', accountId: primary.scope.accountId, name: primary.name, arn: primary.arn,
      sourceRegion: primary.scope.region, region: state.region, principalArn: caller.principalArn,
    };
    writes.push(async (tx) => {
      const seq = await ctx.remote?.enqueue(tx, record);
      if (seq === undefined) Object.assign(state, failed(`No linked deployment serves the Region ${state.region}.`));
      else state.seq = seq;
    });
  }
  return writes;
}

/** Inside `tx`: the record that deletes the remote replica `state` of `primary` (RemoveRegionsFromReplication). */
export async function enqueueRemoteDeletion(ctx: SecretContext, tx: Repos, primary: Secret, state: ReplicaState): Promise<void> {
  await ctx.remote?.enqueue(tx, {
    kind: 'secret-replica-deleted', accountId: primary.scope.accountId, name: primary.name, arn: primary.arn,
    sourceRegion: primary.scope.region, region: state.region,
  });
}

/** Inside `tx`: the back-channel record telling the primary in `primaryRegion` that `replica` was promoted. */
export async function enqueueStopped(ctx: SecretContext, tx: Repos, replica: Secret, primaryRegion: string): Promise<void> {
  await ctx.remote?.enqueue(tx, {
    kind: 'secret-replica-stopped', accountId: replica.scope.accountId, name: replica.name, arn: replica.arn,
    sourceRegion: replica.scope.region, region: primaryRegion,
  });
}

/** The primary a record names, if it is still there (the same ARN) in this deployment. */
async function primaryOf(ctx: SecretContext, r: Pick<Named, 'accountId' | 'name' | 'arn'> & { region: string }): Promise<Secret | undefined> {
  const rec = await ctx.storage.read((x) => x.secrets.get({ accountId: r.accountId, region: r.region }, r.name));
  return rec && rec.arn === r.arn ? toSecret(rec) : undefined;
}

/** Writes a primary's doc with compare-and-set, retrying a lost race on a fresh read; `change` false: nothing to write. */
async function updatePrimary(ctx: SecretContext, r: Pick<Named, 'accountId' | 'name' | 'arn'> & { region: string }, change: (doc: SecretDoc) => boolean): Promise<void> {
  for (let attempt = 0; attempt < 16; attempt++) {
    const s = await primaryOf(ctx, r);
    if (!s) return;
    const doc = structuredClone(s.doc);
    if (!change(doc)) return;
    const record = { ...s.scope, name: s.name, arn: s.arn, createdAt: s.doc.createdAt, dueAt: dueAtOf(doc), revision: s.revision, doc: doc as unknown as Record<string, unknown> };
    if (await ctx.storage.transaction((tx) => tx.secrets.update(record, s.revision))) return;
  }
  throw new ConflictException(`${r.arn} is being changed concurrently. Retry.`);
}

/**
 * The peer's answer to record `seq` for the replica in `replicaRegion`: InSync, or Failed with its message.
 * A newer record sent since keeps the replica InProgress (its own answer sets the status).
 */
export async function recordRemoteStatus(
  ctx: SecretContext, r: Named & { seq: number; status: 'InSync' | 'Failed'; statusMessage?: string },
): Promise<void> {
  await updatePrimary(ctx, { accountId: r.accountId, name: r.name, arn: r.arn, region: r.sourceRegion }, (doc) => {
    const state = doc.replicas?.find((x) => x.region === r.region && x.remote);
    if (!state || (state.seq ?? 0) > r.seq) return false;
    state.status = r.status;
    if (r.status === 'Failed' && r.statusMessage !== undefined) state.statusMessage = r.statusMessage;
    else delete state.statusMessage;
    return true;
  });
}

/**
 * Inside `tx` (the receiver's, with the link's sequence number): the replica `replicaArn` in `replicaRegion`
 * was promoted on the peer; the primary in `region` stops listing it (AWS: StopReplicationToReplica).
 */
export async function dropStoppedReplica(tx: Repos, r: { accountId: string; name: string; replicaArn: string; replicaRegion: string; region: string }): Promise<boolean> {
  const scope = { accountId: r.accountId, region: r.region };
  const rec = await tx.secrets.get(scope, r.name);
  if (!rec || rec.arn !== replicaArnOf(r.replicaArn, r.region)) return false;
  const doc = structuredClone(rec.doc) as unknown as SecretDoc;
  const left = (doc.replicas ?? []).filter((x) => !(x.region === r.replicaRegion && x.remote));
  if (left.length === (doc.replicas ?? []).length) return false;
  if (left.length > 0) doc.replicas = left;
  else delete doc.replicas;
  if (!(await tx.secrets.update({ ...rec, dueAt: dueAtOf(doc), doc: doc as unknown as Record<string, unknown> }, rec.revision))) {
    throw new ConflictException(`${rec.arn} is being changed by another request. Retry.`);
  }
  return true;
}

/** A record as it is sent: what the replica shows and each version's value (the caller wraps and zeroes them). */
export type RemoteSnapshot =
  | { kind: 'send'; kmsKeyId?: string; view: ReplicaView; values: { versionId: string; value: Buffer }[] }
  | { kind: 'failed'; message: string }
  | { kind: 'gone' };

/**
 * Reads the primary a `secret` record names, now: its view and every version's value, opened as the
 * principal whose change appended the record, through Secrets Manager (kms:ViaService), as a scheduled
 * rotation acts. `gone`: the primary, or its replica in that region, no longer exists (nothing to send);
 * `failed`: a value could not be opened (its key disabled, the principal's permission withdrawn).
 */
export async function remoteSnapshot(ctx: SecretContext, r: Named & { principalArn: string }): Promise<RemoteSnapshot> {
  const s = await primaryOf(ctx, { ...r, region: r.sourceRegion });
  const state = s?.doc.replicas?.find((x) => x.region === r.region && x.remote);
  if (!s || !state) return { kind: 'gone' };
  const caller: Caller = {
    accountId: r.accountId, region: r.sourceRegion, principalArn: r.principalArn, accessKeyId: 'trent-replication',
    viaService: viaServiceName('secretsmanager', r.sourceRegion),
  };
  const values: { versionId: string; value: Buffer }[] = [];
  try {
    for (const [id, v] of Object.entries(s.doc.versions)) {
      if (v.empty) continue;
      const value = await open(ctx, caller, s, id);
      values.push({ versionId: id, value: value.kind === 'binary' ? value.bytes : Buffer.from(value.text, 'utf8') });
    }
  } catch (err) {
    for (const v of values) v.value.fill(0);
    if (err instanceof TrentError && err.fault === 'client') return { kind: 'failed', message: failed(err.message).statusMessage! };
    throw err;
  }
  return { kind: 'send', ...(state.kmsKeyId !== undefined ? { kmsKeyId: state.kmsKeyId } : {}), view: viewOf(s.doc), values };
}
