/**
 * Finding the secret a SecretId names, authorizing the caller on it, and changing it. Every change of a
 * secret (labels, versions, metadata) is one compare-and-set of the secret row's revision; a lost race
 * re-reads and re-applies.
 */
import type { ServiceEventFacts } from '../audit/service-event.ts';
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import { TrentError } from '../errors/errors.ts';
import type { SecretRecord } from '../storage/secret-repo.ts';
import type { Scope, Storage } from '../storage/storage.ts';
import { secretResource, type SecretAccess } from './access-rules.ts';
import { markedForDeletion, notFound, notPermittedOnReplica } from './errors.ts';
import { prepareRemoteSync } from './remote-replicas.ts';
import { prepareReplicaSync } from './replica-sync.ts';
import { parseSecretArn } from './secret-arn.ts';
import { toSecret, type Secret, type SecretContext, type SecretValue } from './secret-context.ts';
import { dueAtOf, type SecretDoc } from './secret-model.ts';

/** A compare-and-set that lost to a concurrent writer; the change is re-applied to a fresh read. */
export class LostRace extends Error {}

export interface ResolveOptions {
  allowDeleted?: boolean;
  access?: SecretAccess;
  /** A write: refused on a replica secret (AWS: replicas change only through their primary). */
  primaryOnly?: boolean;
}

/**
 * SecretId: a name, a full ARN, or a partial ARN (without the 6-character suffix; one that ends like a
 * suffix is read as a full ARN, as AWS does). An ARN may name a
 * secret of another account in the caller's region (AWS: cross-account access takes the ARN); whether
 * the caller may touch it is decided where the secret is resolved (access-rules.ts).
 */
export async function find({ storage }: SecretContext, caller: Caller, secretId: string): Promise<Secret | undefined> {
  const own = callerScope(caller);
  if (secretId.startsWith('arn:')) {
    const parts = parseSecretArn(secretId);
    if (!parts || parts.region !== own.region) return undefined;
    const scope: Scope = { accountId: parts.accountId, region: own.region };
    if (parts.full) {
      // AWS reads an ARN ending in `-` and 6 characters as a full ARN only, so a partial ARN of a secret whose
      // name ends that way finds nothing (recorded; AWS's docs warn against such names).
      const name = parts.full.name;
      const full = await storage.read((r) => r.secrets.get(scope, name));
      return full && full.arn === secretId ? toSecret(full) : undefined;
    }
    const partial = await storage.read((r) => r.secrets.get(scope, parts.partialName));
    return partial && toSecret(partial);
  }
  const r = await storage.read((repos) => repos.secrets.get(own, secretId));
  return r && toSecret(r);
}

/**
 * The secret a SecretId names, as found (undefined: none), once the caller is authorized for `access` on
 * it: AWS decides before it says whether the secret exists (access-rules.ts secretResource).
 */
export async function findAuthorized(ctx: SecretContext, caller: Caller, secretId: string, access: SecretAccess): Promise<Secret | undefined> {
  const s = await find(ctx, caller, secretId);
  const resource = secretResource(caller, secretId, s, access.requestKeys);
  for (const action of access.actions) await ctx.authorizer.authorizeResource(caller, action, resource);
  return s;
}

/** A write's check on the secret as found (none: decided later): a replica changes only through its primary. */
export function refuseReplica<S extends Secret | undefined>(s: S): S {
  if (s?.doc.primaryRegion !== undefined) throw notPermittedOnReplica();
  return s;
}

/**
 * The secret as found, if there is one, (unless allowDeleted) it is not scheduled for deletion and (with
 * primaryOnly) it is no replica.
 */
export function usable(s: Secret | undefined, opts: { allowDeleted?: boolean; primaryOnly?: boolean }): Secret {
  if (!s) throw notFound();
  if (opts.primaryOnly && s.doc.primaryRegion !== undefined) throw notPermittedOnReplica();
  if (!opts.allowDeleted && s.doc.deletedAt !== undefined) throw markedForDeletion();
  return s;
}

/** The secret a SecretId names; with `access`, the caller is authorized on it first. */
export async function resolve(ctx: SecretContext, caller: Caller, secretId: string, opts: ResolveOptions = {}): Promise<Secret> {
  return usable(opts.access ? await findAuthorized(ctx, caller, secretId, opts.access) : await find(ctx, caller, secretId), opts);
}

/**
 * What a change makes of the secret's doc: its result, whether to write (default yes), writes to commit
 * with it, and the values of the versions it adds (so its replicas are sealed without opening them again).
 */
export interface Change<T> {
  result: T;
  write?: boolean;
  extra?: Parameters<Storage['transaction']>[0];
  values?: Readonly<Record<string, SecretValue>>;
  /** The service's own CloudTrail events of the change (replication-events.ts), written in its transaction. */
  events?: readonly ServiceEventFacts[];
}

/**
 * Applies `change` to a fresh copy of the secret's doc and writes it with compare-and-set, retrying on
 * a lost race. `change` may return extra writes (version rows) to commit in the same transaction. A
 * primary's replicas are brought to the new doc in that same transaction (replica-sync.ts).
 */
export async function mutate<T>(
  ctx: SecretContext,
  caller: Caller,
  secretId: string,
  change: (doc: SecretDoc, s: Secret) => Change<T>,
  opts: ResolveOptions = {},
): Promise<T> {
  for (let attempt = 0; attempt < 32; attempt++) {
    // Back off a little, with jitter, after a lost race so a burst of writers spreads out.
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)));
    // A request is authorized once, on the first read; a retry re-reads the secret only.
    const s = await resolve(ctx, caller, secretId, attempt === 0 ? opts : { allowDeleted: opts.allowDeleted, primaryOnly: opts.primaryOnly });
    const doc = structuredClone(s.doc);
    const { result, write = true, extra, values = {}, events = [] } = change(doc, s);
    if (!write) return result;
    const trail = [...events];
    const replicas = doc.replicas?.length ? await prepareReplicaSync(ctx, caller, s, doc, values, trail) : undefined;
    // Replicas in a linked deployment: a record each in this transaction, run before the doc is written (it notes their sequence numbers).
    const remote = doc.replicas?.length ? prepareRemoteSync(ctx, caller, s, doc) : [];
    const record: SecretRecord = { ...s.scope, name: s.name, arn: s.arn, createdAt: s.doc.createdAt, dueAt: dueAtOf(doc), revision: s.revision, doc: doc as unknown as Record<string, unknown> };
    try {
      await ctx.storage.transaction(async (tx) => {
        if (extra) await extra(tx);
        if (replicas && !(await replicas(tx))) throw new LostRace();
        for (const w of remote) await w(tx);
        if (!(await tx.secrets.update(record, s.revision))) throw new LostRace();
        // Last, after the outbox's link rows (the order a call's unit takes them): the change and its trail commit together.
        for (const e of trail) await ctx.events?.recordIn(tx, e);
      });
      return result;
    } catch (err) {
      if (!(err instanceof LostRace)) throw err;
    }
  }
  throw new TrentError('InternalServiceError', 'The secret is being changed concurrently. Retry the request.', 'unavailable');
}
