/**
 * Deleting a secret: DeleteSecret (a recovery window, or at once), RestoreSecret, and the purge job that
 * deletes secrets whose window has ended (and, on the same scan, finds rotations that are due).
 */
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import { DAY_MS } from '../clock.ts';
import { SECRET_ACCESS } from './access-rules.ts';
import { InvalidParameterException, markedForDeletion, notFound, primaryHasReplicas } from './errors.ts';
import type { SecretsManagerRequests as Requests } from './requests.ts';
import { randomArnSuffix, secretArn } from './secret-arn.ts';
import { toSecret, type Secret, type SecretContext } from './secret-context.ts';
import { findAuthorized, mutate, refuseReplica, resolve } from './secret-lookup.ts';
import type { SecretDoc } from './secret-model.ts';

/** AWS: DeleteSecret — a recovery window of 7–30 days (default 30), or ForceDeleteWithoutRecovery. */
export async function deleteSecret(ctx: SecretContext, caller: Caller, input: Requests['DeleteSecret']): Promise<{ arn: string; name: string; deletionDate: number }> {
  const s = await findAuthorized(ctx, caller, input.secretId, SECRET_ACCESS.DeleteSecret(input));
  if (input.force && input.recoveryWindowInDays !== undefined) {
    throw new InvalidParameterException("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
  }
  const days = input.recoveryWindowInDays ?? 30;
  if (days < 7 || days > 30) throw new InvalidParameterException('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
  const now = ctx.clock.now();
  if (s) {
    refuseReplica(s);
    // AWS: a primary is deleted only once its replicas are removed (RemoveRegionsFromReplication).
    if (s.doc.replicas?.length) throw primaryHasReplicas(s.arn, s.doc.replicas.map((r) => r.region));
  }
  if (input.force) {
    // AWS: force-deleting a secret that does not exist succeeds as if it did.
    const name = s?.name ?? input.secretId;
    if (s) await ctx.storage.transaction((tx) => tx.secrets.delete(s.scope, s.name));
    return { arn: s?.arn ?? (input.secretId.startsWith('arn:') ? input.secretId : secretArn(callerScope(caller), name, randomArnSuffix())), name, deletionDate: now };
  }
  if (!s) throw notFound();
  if (s.doc.deletedAt !== undefined) throw markedForDeletion();
  const purgeAt = now + days * DAY_MS;
  await mutate(ctx, caller, s.arn, (doc) => {
    doc.deletedAt = now;
    doc.purgeAt = purgeAt;
    return { result: undefined };
  }, { allowDeleted: false, primaryOnly: true });
  return { arn: s.arn, name: s.name, deletionDate: purgeAt };
}

export async function restoreSecret(ctx: SecretContext, caller: Caller, secretId: string): Promise<Secret> {
  await mutate(ctx, caller, secretId, (doc) => {
    if (doc.deletedAt === undefined) return { result: undefined, write: false };
    delete doc.deletedAt;
    delete doc.purgeAt;
    return { result: undefined };
  }, { allowDeleted: true, primaryOnly: true, access: SECRET_ACCESS.RestoreSecret() });
  return resolve(ctx, caller, secretId);
}

/** The purge job: secrets whose recovery window ended are deleted with all their versions. */
export async function purgeDue({ storage }: SecretContext, now: number): Promise<{ purged: number; rotationDue: Secret[] }> {
  const due = (await storage.read((r) => r.secrets.listDue(now, 100))).map(toSecret);
  let purged = 0;
  const rotationDue: Secret[] = [];
  for (const s of due) {
    if (s.doc.purgeAt !== undefined && s.doc.purgeAt <= now) {
      await storage.transaction(async (tx) => {
        const fresh = await tx.secrets.get(s.scope, s.name);
        if (fresh && fresh.arn === s.arn && (fresh.doc as unknown as SecretDoc).purgeAt !== undefined && (fresh.doc as unknown as SecretDoc).purgeAt! <= now) {
          await tx.secrets.delete(s.scope, s.name);
          purged++;
        }
      });
    } else if (s.doc.deletedAt === undefined && s.doc.rotation.enabled && (s.doc.rotation.claim?.leaseUntil ?? s.doc.rotation.nextRotationAt ?? Infinity) <= now) {
      rotationDue.push(s);
    }
  }
  return { purged, rotationDue };
}
