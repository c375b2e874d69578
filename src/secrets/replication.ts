/**
 * Replicated secrets within one deployment (docs/secrets.md, "Replication"): ReplicateSecretToRegions,
 * CreateSecret's AddReplicaRegions, RemoveRegionsFromReplication, StopReplicationToReplica, and the
 * ReplicationStatus DescribeSecret shows. Keeping replicas in step afterwards is replica-sync.ts's.
 *
 * Every region this deployment serves lives in the one store, so a replica is created, removed or
 * promoted in the same transaction as the primary's record of it: there is no state in which the primary
 * lists a replica that does not exist, or a replica names a primary that does not list it (except a
 * replica marked Failed, which is listed with no secret behind it, as AWS lists it).
 */
import type { Caller } from '../auth/caller.ts';
import { TrentError } from '../errors/errors.ts';
import { DuplicateError } from '../storage/storage.ts';
import type { SecretRecord } from '../storage/secret-repo.ts';
import { SECRET_ACCESS } from './access-rules.ts';
import { invalidReplicaRegion, notAReplica, notFound } from './errors.ts';
import { enqueueRemoteDeletion, enqueueStopped, remoteRegionsOf } from './remote-replicas.ts';
import { creationEvents } from './replication-events.ts';
import {
  callerIn, failed, isReplicaOf, replicaArnOf, replicaDocOf, replicaRecord, replicaScope, sealForReplica, subjectOf, versionsToCopy, writeReplica,
} from './replica-sync.ts';
import type { ReplicaRegion, SecretsManagerRequests as Requests } from './requests.ts';
import { toSecret, type Secret, type SecretContext } from './secret-context.ts';
import { LostRace, mutate, resolve } from './secret-lookup.ts';
import { dueAtOf, type ReplicaState, type SecretDoc } from './secret-model.ts';
import { kmsKeyFor, type SealedValue } from './secret-sealing.ts';

/** AWS's KmsKeyId of a replica encrypted under its region's AWS managed key (ReplicateSecretToRegions' documented output). */
export const DEFAULT_REPLICA_KEY = 'alias/aws/secretsmanager';

/** One entry of ReplicationStatus, as the service gives it to the edge. */
export interface ReplicationStatusEntry {
  region: string;
  kmsKeyId: string;
  status: ReplicaState['status'];
  statusMessage?: string;
  lastAccessedAt?: number;
}

/**
 * AWS: a replica region must differ from the primary's ("Invalid replica region."). Trent gives the same
 * answer for a region neither it (TRENT_REGIONS) nor a linked peer serves, and for a region named twice in
 * one request.
 */
export async function checkReplicaRegions(ctx: SecretContext, primaryRegion: string, regions: readonly ReplicaRegion[]): Promise<void> {
  const seen = new Set<string>();
  const remote = await remoteRegionsOf(ctx, regions.map((r) => r.Region));
  for (const r of regions) {
    if (r.Region === primaryRegion || !(ctx.servesRegion(r.Region) || remote.has(r.Region)) || seen.has(r.Region)) throw invalidReplicaRegion();
    seen.add(r.Region);
  }
}

/** What one region of a request comes to before anything is written. */
type Prepared =
  | { region: string; kmsKeyId?: string; outcome: 'exists' }
  | { region: string; kmsKeyId?: string; outcome: 'remote' }
  | { region: string; kmsKeyId?: string; outcome: 'failed'; message: string }
  | { region: string; kmsKeyId?: string; outcome: 'create'; kmsKeyArn: string; sealed: Record<string, SealedValue>; overwrite?: SecretRecord };

/** A primary that changed between preparing and writing: prepare again. */
class Stale extends Error {}

async function prepareRegion(ctx: SecretContext, caller: Caller, s: Secret, r: ReplicaRegion, force: boolean): Promise<Prepared> {
  const base = { region: r.Region, ...(r.KmsKeyId ? { kmsKeyId: r.KmsKeyId } : {}) };
  const existing = await ctx.storage.read((x) => x.secrets.get(replicaScope(s, r.Region), s.name));
  if (existing) {
    if (isReplicaOf(existing, s)) return { ...base, outcome: 'exists' };
    const other = existing.doc as unknown as SecretDoc;
    // AWS: a secret of that name in the region fails the replica unless ForceOverwriteReplicaSecret; a
    // secret that is itself replicated (or a replica of another primary) is never overwritten.
    if (!force || other.replicas?.length || other.primaryRegion !== undefined) {
      return { ...base, outcome: 'failed', message: `Secret name ${s.name} already exists in region ${r.Region}.` };
    }
  }
  try {
    const kmsKeyArn = await kmsKeyFor(ctx, callerIn(caller, r.Region), r.KmsKeyId);
    const sealed = await sealForReplica(ctx, caller, s, r.Region, kmsKeyArn, versionsToCopy(s.doc, undefined), {});
    return { ...base, outcome: 'create', kmsKeyArn, sealed, ...(existing ? { overwrite: existing } : {}) };
  } catch (err) {
    // AWS replicates asynchronously: a key it cannot use shows as a Failed replica, not a failed call.
    if (err instanceof TrentError && err.fault === 'client') return { ...base, outcome: 'failed', message: err.message };
    throw err;
  }
}

/**
 * Replicates primary `s` to `regions` (checked with checkReplicaRegions): each region's replica is created
 * with the primary's versions sealed under that region's key, in the same transaction as the primary's
 * new ReplicationStatus. A region already holding this secret's replica is left as it is.
 */
async function addReplicas(ctx: SecretContext, caller: Caller, s: Secret, regions: readonly ReplicaRegion[], force: boolean): Promise<ReplicaState[]> {
  const remote = await remoteRegionsOf(ctx, regions.map((r) => r.Region));
  for (let attempt = 0; attempt < 8; attempt++) {
    const primary = attempt === 0 ? s : await resolve(ctx, caller, s.arn, { primaryOnly: true });
    const prepared: Prepared[] = [];
    for (const r of regions) {
      // A region a linked peer serves: the replica is made there when the record mutate appends arrives
      // (remote-replicas.ts); a replica already there (not Failed) is left as it is, as locally.
      if (!remote.has(r.Region)) prepared.push(await prepareRegion(ctx, caller, primary, r, force));
      else {
        const had = primary.doc.replicas?.find((x) => x.region === r.Region && x.remote);
        prepared.push({ region: r.Region, ...(r.KmsKeyId ? { kmsKeyId: r.KmsKeyId } : {}), outcome: had && had.status !== 'Failed' ? 'exists' : 'remote' });
      }
    }
    const now = ctx.clock.now();
    try {
      return await mutate(ctx, caller, primary.arn, (doc, cur) => {
        // The versions were sealed from `primary`: a change since then means sealing again.
        if (cur.revision !== primary.revision) throw new Stale();
        const replicas = doc.replicas ?? [];
        for (const p of prepared) {
          if (p.outcome === 'exists') continue;
          const state: ReplicaState = {
            region: p.region, ...(p.kmsKeyId ? { kmsKeyId: p.kmsKeyId } : {}),
            ...(p.outcome === 'failed' ? failed(p.message) : p.outcome === 'remote' ? { status: 'InProgress' as const, remote: true as const } : { status: 'InSync' as const }),
          };
          const at = replicas.findIndex((x) => x.region === p.region);
          if (at >= 0) replicas[at] = state;
          else replicas.push(state);
        }
        doc.replicas = replicas;
        return {
          result: regions.map((r) => replicas.find((x) => x.region === r.Region)!),
          // AWS: the replica's region records the replication's start and outcome (replication-events.ts);
          // a remote replica's are recorded by the peer when the record arrives.
          events: prepared.flatMap((p) => p.outcome === 'create' || p.outcome === 'failed'
            ? creationEvents(subjectOf(cur, p.region), now, p.outcome === 'failed' ? { failed: failed(p.message).statusMessage! } : {})
            : []),
          extra: async (tx) => {
            for (const p of prepared) {
              if (p.outcome !== 'create') continue;
              const scope = replicaScope(cur, p.region);
              if (p.overwrite) {
                const still = await tx.secrets.get(scope, cur.name);
                if (!still || still.arn !== p.overwrite.arn || still.revision !== p.overwrite.revision) throw new Stale();
                await tx.secrets.delete(scope, cur.name);
              }
              const rdoc = replicaDocOf(doc, cur.scope.region, { ...(p.kmsKeyId ? { kmsKeyId: p.kmsKeyId } : {}), kmsKeyArn: p.kmsKeyArn }, undefined,
                Object.fromEntries(Object.entries(p.sealed).map(([id, x]) => [id, x.kmsKeyArn])), now);
              await writeReplica(tx, replicaRecord(cur, p.region, rdoc, 1), undefined, p.sealed, [], rdoc.versions);
            }
          },
        };
      }, { primaryOnly: true });
    } catch (err) {
      // Another writer took the name in a replica region, or changed the primary: prepare again.
      if (err instanceof Stale || err instanceof DuplicateError) continue;
      throw err;
    }
  }
  throw new TrentError('InternalServiceError', 'The secret is being changed concurrently. Retry the request.', 'unavailable');
}

export async function replicateSecretToRegions(
  ctx: SecretContext, caller: Caller, input: Requests['ReplicateSecretToRegions'],
): Promise<{ secret: Secret; replicas: ReplicaState[] }> {
  const s = await resolve(ctx, caller, input.secretId, { primaryOnly: true, access: SECRET_ACCESS.ReplicateSecretToRegions(input) });
  await checkReplicaRegions(ctx, s.scope.region, input.addReplicaRegions);
  return { secret: s, replicas: await addReplicas(ctx, caller, s, input.addReplicaRegions, input.forceOverwrite ?? false) };
}

/** CreateSecret's AddReplicaRegions, once the secret exists (its regions were checked before it was created). */
export async function replicateNewSecret(ctx: SecretContext, caller: Caller, s: Secret, input: Requests['CreateSecret']): Promise<ReplicaState[]> {
  return addReplicas(ctx, caller, s, input.addReplicaRegions ?? [], input.forceOverwrite ?? false);
}

/**
 * AWS: RemoveRegionsFromReplication deletes the replicas in those regions at once (no recovery window) and
 * answers the replication that remains. A region that holds no replica is passed over (moto: idempotent).
 */
export async function removeRegionsFromReplication(
  ctx: SecretContext, caller: Caller, input: Requests['RemoveRegionsFromReplication'],
): Promise<{ secret: Secret; replicas: ReplicaState[] }> {
  const s = await resolve(ctx, caller, input.secretId, { primaryOnly: true, access: SECRET_ACCESS.RemoveRegionsFromReplication() });
  const replicas = await mutate(ctx, caller, s.arn, (doc, cur) => {
    const removed = (doc.replicas ?? []).filter((r) => input.removeReplicaRegions.includes(r.region));
    if (removed.length === 0) return { result: doc.replicas ?? [], write: false };
    doc.replicas = doc.replicas!.filter((r) => !removed.includes(r));
    if (doc.replicas.length === 0) delete doc.replicas;
    return {
      result: doc.replicas ?? [],
      extra: async (tx) => {
        for (const r of removed) {
          // A replica in a linked deployment is deleted there when this record arrives.
          if (r.remote) {
            await enqueueRemoteDeletion(ctx, tx, cur, r);
            continue;
          }
          const rec = await tx.secrets.get(replicaScope(cur, r.region), cur.name);
          if (isReplicaOf(rec, cur)) await tx.secrets.delete(replicaScope(cur, r.region), cur.name);
        }
      },
    };
  }, { primaryOnly: true });
  return { secret: s, replicas };
}

/**
 * AWS: StopReplicationToReplica, called in the replica's region, promotes the replica to a standalone
 * secret (it keeps its name, ARN, versions and key) and the primary stops listing the region — both in
 * one transaction here. Rotation stays off until configured in the new secret's region (Trent's choice:
 * AWS documents none).
 */
export async function stopReplicationToReplica(ctx: SecretContext, caller: Caller, secretId: string): Promise<Secret> {
  const s = await resolve(ctx, caller, secretId, { access: SECRET_ACCESS.StopReplicationToReplica() });
  if (s.doc.primaryRegion === undefined) throw notAReplica();
  await mutate(ctx, caller, s.arn, (doc, cur) => {
    if (cur.arn !== s.arn) throw notFound();
    const primaryRegion = doc.primaryRegion;
    if (primaryRegion === undefined) return { result: undefined, write: false };
    delete doc.primaryRegion;
    // Its rotation was its primary's (a rotator of the primary's region, run by whoever configured it
    // there): the standalone secret keeps the configuration but rotates only once RotateSecret is called
    // in its own region.
    doc.rotation = { ...doc.rotation, enabled: false };
    delete doc.rotation.nextRotationAt;
    return {
      result: undefined,
      extra: async (tx) => {
        const scope = { accountId: cur.scope.accountId, region: primaryRegion };
        const p = await tx.secrets.get(scope, cur.name);
        // A primary in a linked deployment learns of it through the back channel (remote-replicas.ts).
        if (!p && !ctx.servesRegion(primaryRegion)) return enqueueStopped(ctx, tx, cur, primaryRegion);
        // The primary's ARN is the replica's with the primary's region (the same suffix).
        if (!p || p.arn !== replicaArnOf(cur.arn, primaryRegion)) return;
        const pdoc = structuredClone(p.doc) as unknown as SecretDoc;
        pdoc.replicas = (pdoc.replicas ?? []).filter((r) => r.region !== cur.scope.region);
        if (pdoc.replicas.length === 0) delete pdoc.replicas;
        if (!(await tx.secrets.update({ ...p, dueAt: dueAtOf(pdoc), doc: pdoc as unknown as Record<string, unknown> }, p.revision))) throw new LostRace();
      },
    };
  });
  return resolve(ctx, caller, s.arn);
}

/**
 * A primary's ReplicationStatus (DescribeSecret): each replica's key and state, and its LastAccessedDate
 * (the replica's own, read from its region). Undefined for a secret that is not a replicated primary.
 */
export async function replicationStatusOf(ctx: SecretContext, s: Secret): Promise<ReplicationStatusEntry[] | undefined> {
  if (!s.doc.replicas?.length) return undefined;
  const out: ReplicationStatusEntry[] = [];
  for (const state of s.doc.replicas) {
    const rec = await ctx.storage.read((r) => r.secrets.get(replicaScope(s, state.region), s.name));
    const replica = rec && isReplicaOf(rec, s) ? toSecret(rec).doc : undefined;
    // The replica's key can be changed in its region (UpdateSecret KmsKeyId), so its own record says which.
    const kmsKeyId = replica ? replica.kmsKeyId : state.kmsKeyId;
    out.push({
      region: state.region,
      kmsKeyId: kmsKeyId ?? DEFAULT_REPLICA_KEY,
      status: state.status,
      ...(state.statusMessage !== undefined ? { statusMessage: state.statusMessage } : {}),
      ...(replica?.lastAccessedAt !== undefined ? { lastAccessedAt: replica.lastAccessedAt } : {}),
    });
  }
  return out;
}

