/**
 * The replica's side of a secret replicated from a linked peer deployment (docs/secrets.md "Replication",
 * docs/replication.md): what a record from the primary's deployment makes of the replica here. The
 * replication layer authenticates the record, unwraps each value and applies the writes returned here in
 * its own transaction (with the link's sequence number), so a record is applied fully or not at all.
 *
 * The replica is the same row as within one deployment (replica-sync.ts): the primary's name, its ARN with
 * this region, a doc carrying `primaryRegion`, versions sealed under this region's KMS key — the KmsKeyId
 * the primary's caller gave for this region, else aws/secretsmanager here — with the replica's ARN in the
 * encryption context. Sealing runs as this deployment's account through Secrets Manager (kms:ViaService),
 * since the peer's principal is not one of ours; a key that cannot be used fails the replica (the answer
 * says why, and the primary shows it as Failed), not the record.
 */
import { type Caller, viaServiceName } from '../auth/caller.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import { ConflictException, TrentError } from '../errors/errors.ts';
import type { Repos } from '../storage/storage.ts';
import type { ReplicaView } from './remote-replicas.ts';
import { failed, replicaArnOf, replicaDocOf, replicaRecord, versionsToCopy, writeReplica } from './replica-sync.ts';
import type { Secret, SecretContext } from './secret-context.ts';
import type { SecretDoc } from './secret-model.ts';
import { kmsKeyFor, seal, type SealedValue } from './secret-sealing.ts';

export interface IncomingReplica {
  accountId: string;
  name: string;
  /** The primary's ARN (in `primaryRegion`). */
  primaryArn: string;
  primaryRegion: string;
  /** The replica's region: one this deployment serves. */
  region: string;
  kmsKeyId?: string;
  view: ReplicaView;
}

/** `created`: the record makes (or, Failed, would have made) the replica here, rather than update it. */
export type IncomingOutcome =
  | { status: 'InSync'; created: boolean; write: (tx: Repos) => Promise<void> }
  | { status: 'Failed'; created: boolean; statusMessage: string };

/** The account's own Secrets Manager in `region`, acting for a peer's record. */
function serviceCaller(accountId: string, region: string): Caller {
  return {
    accountId, region, principalArn: `arn:aws:iam::${accountId}:root`, accessKeyId: 'trent-replication',
    viaService: viaServiceName('secretsmanager', region),
  };
}

/** The primary's view as a doc replica-sync.ts's functions read (they take no key or dates of it). */
function docOfView(view: ReplicaView): SecretDoc {
  return {
    ...view, kmsKeyArn: '', createdAt: 0,
    versions: Object.fromEntries(Object.entries(view.versions).map(([id, v]) => [id, { ...v, kmsKeyArn: '' }])),
  };
}

/**
 * Prepares bringing the replica to the primary's view: seals each version it lacks (its value taken from
 * `unwrap`, zeroed once sealed) and returns the write to commit, which fails with ConflictException if
 * the replica changed since it was read. Failed (nothing written) when a secret of that name that is not
 * this primary's replica is here (AWS: "Secret name … already exists in region …"; a replica promoted by
 * StopReplicationToReplica is such a secret) or the replica's key cannot be used.
 */
export async function prepareIncomingReplica(ctx: SecretContext, r: IncomingReplica, unwrap: (versionId: string) => SecretBytes): Promise<IncomingOutcome> {
  const scope = { accountId: r.accountId, region: r.region };
  const arn = replicaArnOf(r.primaryArn, r.region);
  const existing = await ctx.storage.read((x) => x.secrets.get(scope, r.name));
  const prev = existing?.doc as unknown as SecretDoc | undefined;
  if (existing && (existing.arn !== arn || prev!.primaryRegion !== r.primaryRegion)) {
    return { status: 'Failed', created: true, statusMessage: failed(`Secret name ${r.name} already exists in region ${r.region}.`).statusMessage! };
  }
  const doc = docOfView(r.view);
  const caller = serviceCaller(r.accountId, r.region);
  const sealed: Record<string, SealedValue> = {};
  // A key missing, disabled or not usable here fails the replica (AWS reports a replica it cannot encrypt
  // as Failed), not the record; a value whose box fails authentication (unwrap throws) refuses the record.
  const failedBy = (err: unknown): IncomingOutcome => {
    if (err instanceof TrentError && err.fault === 'client') return { status: 'Failed', created: !existing, statusMessage: failed(err.message).statusMessage! };
    throw err;
  };
  let key: { kmsKeyId?: string; kmsKeyArn: string };
  try {
    key = prev
      ? { ...(prev.kmsKeyId !== undefined ? { kmsKeyId: prev.kmsKeyId } : {}), kmsKeyArn: prev.kmsKeyArn }
      : { ...(r.kmsKeyId ? { kmsKeyId: r.kmsKeyId } : {}), kmsKeyArn: await kmsKeyFor(ctx, caller, r.kmsKeyId) };
  } catch (err) {
    return failedBy(err);
  }
  for (const id of versionsToCopy(doc, prev)) {
    const plain = unwrap(id);
    try {
      // The bytes as they are: the version's kind (string or binary) is in its doc, not in how it is sealed.
      sealed[id] = await seal(ctx, caller, key.kmsKeyArn, arn, id, { kind: 'binary', bytes: plain.expose() });
    } catch (err) {
      return failedBy(err);
    } finally {
      plain.zeroize();
    }
  }
  const now = ctx.clock.now();
  const sealedUnder = Object.fromEntries(Object.entries(sealed).map(([id, s]) => [id, s.kmsKeyArn]));
  const next = replicaDocOf(doc, r.primaryRegion, key, prev, sealedUnder, now);
  const drop = prev ? Object.keys(prev.versions).filter((id) => !doc.versions[id] && !prev.versions[id]!.empty) : [];
  const primary: Secret = { scope: { accountId: r.accountId, region: r.primaryRegion }, name: r.name, arn: r.primaryArn, revision: 0, doc };
  const record = replicaRecord(primary, r.region, next, existing ? existing.revision + 1 : 1);
  return {
    status: 'InSync',
    created: !existing,
    write: async (tx) => {
      if (!(await writeReplica(tx, record, existing?.revision, sealed, drop, next.versions))) {
        throw new ConflictException(`${arn} is being changed by another request. Retry.`);
      }
    },
  };
}

/** Inside `tx`: deletes the replica of `primaryArn` here, if it is still that primary's replica (RemoveRegionsFromReplication). */
export async function deleteIncomingReplica(tx: Repos, r: Pick<IncomingReplica, 'accountId' | 'name' | 'primaryArn' | 'primaryRegion' | 'region'>): Promise<boolean> {
  const scope = { accountId: r.accountId, region: r.region };
  const rec = await tx.secrets.get(scope, r.name);
  if (!rec || rec.arn !== replicaArnOf(r.primaryArn, r.region) || (rec.doc as unknown as SecretDoc).primaryRegion !== r.primaryRegion) return false;
  await tx.secrets.delete(scope, r.name);
  return true;
}

/** Whether the replica of `primaryArn` is here (a duplicate record's answer). */
export async function isIncomingReplicaHere(ctx: SecretContext, r: Pick<IncomingReplica, 'accountId' | 'name' | 'primaryArn' | 'primaryRegion' | 'region'>): Promise<boolean> {
  const rec = await ctx.storage.read((x) => x.secrets.get({ accountId: r.accountId, region: r.region }, r.name));
  return !!rec && rec.arn === replicaArnOf(r.primaryArn, r.region) && (rec.doc as unknown as SecretDoc).primaryRegion === r.primaryRegion;
}
