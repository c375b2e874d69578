/**
 * Keeping replica secrets in step with their primary within one deployment (docs/secrets.md,
 * "Replication").
 *
 * A replica is an ordinary secret row in the replica region's scope: the same name, the primary's ARN
 * with the replica region (same random suffix, as AWS), a doc that carries `primaryRegion`, and its own
 * version rows sealed under the replica region's KMS key with the replica's ARN in the encryption context
 * (so a row copied between regions does not open). Every change of a primary (secret-lookup.ts `mutate`)
 * writes its replicas' new state in the same transaction as its own: values are sealed for each replica
 * before the transaction, as every KMS call is, and a replica whose sealing fails (its key disabled, the
 * caller without kms:GenerateDataKey there) is left as it was and marked Failed on the primary — the
 * primary's write still succeeds, as with AWS's asynchronous replication. The next change retries it.
 */
import { isDeepStrictEqual } from 'node:util';
import { type Caller, viaServiceName } from '../auth/caller.ts';
import { TrentError } from '../errors/errors.ts';
import type { SecretRecord } from '../storage/secret-repo.ts';
import type { Repos, Scope } from '../storage/storage.ts';
import { toSecret, type Secret, type SecretContext, type SecretValue } from './secret-context.ts';
import { dueAtOf, type ReplicaState, type SecretDoc } from './secret-model.ts';
import { open, seal, type SealedValue } from './secret-sealing.ts';
import { replicationEvent, type ReplicationEventSubject } from './replication-events.ts';
import type { ServiceEventFacts } from '../audit/service-event.ts';

/** The replica's ARN: the primary's with the replica region (AWS keeps the suffix). */
export function replicaArnOf(primaryArn: string, region: string): string {
  const parts = primaryArn.split(':');
  parts[3] = region;
  return parts.join(':');
}

export function replicaScope(primary: Secret, region: string): Scope {
  return { accountId: primary.scope.accountId, region };
}

/**
 * The caller as Secrets Manager in `region` acts for it: KMS calls for a replica are made in the replica's
 * region, through that region's Secrets Manager (kms:ViaService secretsmanager.<region>.amazonaws.com, as
 * aws/secretsmanager's key policy requires).
 */
export function callerIn(caller: Caller, region: string): Caller {
  return { ...caller, region, ...(caller.viaService !== undefined ? { viaService: viaServiceName('secretsmanager', region) } : {}) };
}

/** Whether `record` is the replica of `primary` in its region (and not another secret of the same name). */
export function isReplicaOf(record: SecretRecord | undefined, primary: Pick<Secret, 'arn' | 'scope'>): boolean {
  if (!record) return false;
  const doc = record.doc as unknown as SecretDoc;
  return doc.primaryRegion === primary.scope.region && record.arn === replicaArnOf(primary.arn, record.region);
}

/**
 * The replica's doc for the primary's `doc`: the primary's metadata, tags, resource policy, rotation
 * configuration and staging labels (AWS replicates metadata, tags and resource policies); its own KMS
 * key, creation date and access dates. `sealedUnder` names the key of each version sealed for this write;
 * versions the replica already holds keep theirs.
 */
/** A primary's rotation configuration as a replica shows it: the run in progress and its failures stay the primary's. */
export function shownRotation(r: SecretDoc['rotation']): Pick<SecretDoc['rotation'], 'enabled' | 'lambdaArn' | 'rules' | 'nextRotationAt'> {
  return {
    enabled: r.enabled,
    ...(r.lambdaArn !== undefined ? { lambdaArn: r.lambdaArn } : {}),
    ...(r.rules !== undefined ? { rules: r.rules } : {}),
    ...(r.nextRotationAt !== undefined ? { nextRotationAt: r.nextRotationAt } : {}),
  };
}

export function replicaDocOf(
  doc: SecretDoc, primaryRegion: string, key: { kmsKeyId?: string; kmsKeyArn: string }, prev: SecretDoc | undefined,
  sealedUnder: Record<string, string>, now: number,
): SecretDoc {
  const versions: SecretDoc['versions'] = {};
  for (const [id, v] of Object.entries(doc.versions)) {
    const had = prev?.versions[id];
    versions[id] = {
      stages: [...v.stages],
      createdAt: v.createdAt,
      kind: v.kind,
      kmsKeyArn: sealedUnder[id] ?? (had && !had.empty ? had.kmsKeyArn : key.kmsKeyArn),
      ...(had?.lastAccessedAt !== undefined ? { lastAccessedAt: had.lastAccessedAt } : {}),
      ...(v.empty ? { empty: true as const } : {}),
    };
  }
  return {
    ...(doc.description !== undefined ? { description: doc.description } : {}),
    ...(key.kmsKeyId !== undefined ? { kmsKeyId: key.kmsKeyId } : {}),
    kmsKeyArn: key.kmsKeyArn,
    tags: doc.tags.map((t) => ({ ...t })),
    ...(doc.tagged ? { tagged: true as const } : {}),
    versions,
    createdAt: prev?.createdAt ?? now,
    lastChangedAt: doc.lastChangedAt,
    ...(prev?.lastAccessedAt !== undefined ? { lastAccessedAt: prev.lastAccessedAt } : {}),
    ...(doc.lastRotatedAt !== undefined ? { lastRotatedAt: doc.lastRotatedAt } : {}),
    // The configuration is shown; the run in progress (claim), its failures and who runs it are the primary's.
    rotation: shownRotation(doc.rotation),
    ...(doc.policy !== undefined ? { policy: doc.policy } : {}),
    primaryRegion,
  };
}

/** The versions of `doc` that hold a value and that `prev` (the replica's doc, if any) has no value of. */
export function versionsToCopy(doc: SecretDoc, prev: SecretDoc | undefined): string[] {
  return Object.keys(doc.versions).filter((id) => !doc.versions[id]!.empty && (!prev?.versions[id] || prev.versions[id]!.empty));
}

/**
 * Seals the versions `ids` of `primary` for its replica in `region` under `kmsKeyArn`; `known` holds values
 * the caller already has (a version being added), others are opened from the primary.
 */
export async function sealForReplica(
  ctx: SecretContext, caller: Caller, primary: Secret, region: string, kmsKeyArn: string, ids: readonly string[], known: Readonly<Record<string, SecretValue>>,
): Promise<Record<string, SealedValue>> {
  const out: Record<string, SealedValue> = {};
  const there = callerIn(caller, region);
  const arn = replicaArnOf(primary.arn, region);
  for (const id of ids) {
    const value = known[id] ?? (await open(ctx, caller, primary, id));
    try {
      out[id] = await seal(ctx, there, kmsKeyArn, arn, id, value);
    } finally {
      if (value.kind === 'binary' && known[id] === undefined) value.bytes.fill(0);
    }
  }
  return out;
}

/** Writes a replica's rows: its new doc (compare-and-set on `prev`'s revision, or an insert), new version rows, dropped ones. */
export async function writeReplica(
  tx: Repos, record: SecretRecord, prevRevision: number | undefined, sealed: Record<string, SealedValue>, drop: readonly string[], kinds: SecretDoc['versions'],
): Promise<boolean> {
  if (drop.length > 0) await tx.secretVersions.delete(record.arn, drop);
  for (const [versionId, s] of Object.entries(sealed)) {
    await tx.secretVersions.insert({
      secretArn: record.arn, versionId, createdAt: kinds[versionId]!.createdAt, encryptedDataKey: s.encryptedDataKey, sealedValue: s.sealedValue,
      doc: { kind: kinds[versionId]!.kind },
    });
  }
  if (prevRevision === undefined) {
    await tx.secrets.insert(record);
    return true;
  }
  return tx.secrets.update(record, prevRevision);
}

/** Who a replication event of `primary`'s replica in `region` is about. */
export function subjectOf(primary: Pick<Secret, 'arn' | 'scope'>, region: string): ReplicationEventSubject {
  return { accountId: primary.scope.accountId, primaryArn: primary.arn, replicaArn: replicaArnOf(primary.arn, region), primaryRegion: primary.scope.region, region };
}

/** A replica's record for `doc` in `scope`. */
export function replicaRecord(primary: Secret, region: string, doc: SecretDoc, revision: number): SecretRecord {
  return {
    ...replicaScope(primary, region), name: primary.name, arn: replicaArnOf(primary.arn, region), createdAt: doc.createdAt,
    dueAt: dueAtOf(doc), revision, doc: doc as unknown as Record<string, unknown>,
  };
}

export function failed(message: string): Pick<ReplicaState, 'status' | 'statusMessage'> {
  return { status: 'Failed', statusMessage: `Replication failed: ${message}` };
}

/**
 * Prepares bringing every replica of `primary` (as it was read) to `doc` (as it will be written): seals
 * what each lacks, updates each replica's status in `doc`, and returns the writes to commit in the same
 * transaction as the primary. A write that loses a compare-and-set on a replica answers false (the caller
 * retries the whole change). Replicas whose row is not (or not yet) there are left alone.
 */
export async function prepareReplicaSync(
  ctx: SecretContext, caller: Caller, primary: Secret, doc: SecretDoc, known: Readonly<Record<string, SecretValue>>,
  trail: ServiceEventFacts[] = [],
): Promise<(tx: Repos) => Promise<boolean>> {
  const writes: ((tx: Repos) => Promise<boolean>)[] = [];
  const now = ctx.clock.now();
  for (const state of doc.replicas ?? []) {
    const rec = await ctx.storage.read((r) => r.secrets.get(replicaScope(primary, state.region), primary.name));
    if (!rec || !isReplicaOf(rec, primary)) continue;
    const prev = toSecret(rec).doc;
    const copy = versionsToCopy(doc, prev);
    let sealed: Record<string, SealedValue>;
    try {
      sealed = await sealForReplica(ctx, caller, primary, state.region, prev.kmsKeyArn, copy, known);
    } catch (err) {
      // A KMS refusal (key disabled, no permission there) fails this replica only; anything else (storage) fails the write.
      if (!(err instanceof TrentError) || err.fault !== 'client') throw err;
      Object.assign(state, failed(err.message));
      trail.push(replicationEvent('ReplicationFailed', subjectOf(primary, state.region), now, { statusMessage: state.statusMessage! }));
      continue;
    }
    // A replica that had failed is replicated again: the trail says so in its region (replication-events.ts).
    if (state.status === 'Failed') trail.push(replicationEvent('ReplicationSucceeded', subjectOf(primary, state.region), now));
    state.status = 'InSync';
    delete state.statusMessage;
    const sealedUnder = Object.fromEntries(Object.entries(sealed).map(([id, s]) => [id, s.kmsKeyArn]));
    const next = replicaDocOf(doc, primary.scope.region, { ...(prev.kmsKeyId !== undefined ? { kmsKeyId: prev.kmsKeyId } : {}), kmsKeyArn: prev.kmsKeyArn }, prev, sealedUnder, now);
    const drop = Object.keys(prev.versions).filter((id) => !doc.versions[id] && !prev.versions[id]!.empty);
    if (copy.length === 0 && drop.length === 0 && isDeepStrictEqual(JSON.parse(JSON.stringify(next)), JSON.parse(JSON.stringify(prev)))) continue;
    const record = replicaRecord(primary, state.region, next, rec.revision + 1);
    writes.push((tx) => writeReplica(tx, record, rec.revision, sealed, drop, next.versions));
  }
  return async (tx) => {
    for (const w of writes) if (!(await w(tx))) return false;
    return true;
  };
}
