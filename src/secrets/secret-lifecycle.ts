/**
 * Creating and changing a secret as a whole: CreateSecret, UpdateSecret (description, KMS key, and a new
 * value through secret-versions.ts) and DescribeSecret; CreateSecret's AddReplicaRegions through replication.ts.
 * KMS calls never run inside a storage transaction (the SQLite adapter serialises transactions, and KMS
 * reads storage): values are sealed first, then written.
 */
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import { AccessDeniedException, ValidationException } from '../errors/errors.ts';
import { DuplicateError } from '../storage/storage.ts';
import { createSecretCheck, replicateOnCreateCheck, SECRET_ACCESS } from './access-rules.ts';
import {
  DecryptionFailure,
  InvalidRequestException,
  ResourceExistsException,
  ResourceNotFoundException,
} from './errors.ts';
import { secretValueOf, type SecretsManagerRequests as Requests } from './requests.ts';
import { randomArnSuffix, secretArn } from './secret-arn.ts';
import { toSecret, type Secret, type SecretContext, type SecretValue } from './secret-context.ts';
import { findAuthorized, mutate, resolve, usable } from './secret-lookup.ts';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, type ReplicaState, type SecretDoc } from './secret-model.ts';
import { kmsKeyFor, open, sameValue, seal, type SealedValue } from './secret-sealing.ts';
import { checkReplicaRegions, replicateNewSecret } from './replication.ts';
import { checkTags } from './secret-tags.ts';
import { addVersion } from './secret-versions.ts';

const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]+$/;

/** AWS: secret names are 1–512 characters of ASCII letters, digits and /_+=.@- (recorded ValidationException). */
export function checkName(name: string): void {
  if (name.length < 1 || name.length > 512 || !NAME_PATTERN.test(name)) {
    throw new ValidationException('Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
  }
}

/**
 * secretsmanager:KmsKeyArn: the ARN of the key a KmsKeyId names, looked up without authorizing (KMS
 * decides the key's use when the operation encrypts); undefined when it names none.
 */
async function keyArnOf({ keys }: SecretContext, caller: Caller, kmsKeyId: string | undefined): Promise<string | undefined> {
  if (kmsKeyId === undefined) return undefined;
  try {
    return (await keys.resolveKey(caller, kmsKeyId, { allowAlias: true, action: 'DescribeKey', authorize: false })).arn;
  } catch {
    return undefined;
  }
}

export async function createSecret(
  ctx: SecretContext, caller: Caller, input: Requests['CreateSecret'],
): Promise<{ secret: Secret; versionId?: string; replicas?: ReplicaState[] }> {
  const scope = callerScope(caller);
  const arn = secretArn(scope, input.name, randomArnSuffix());
  const check = createSecretCheck(arn, scope.accountId, input, await keyArnOf(ctx, caller, input.kmsKeyId));
  await ctx.authorizer.authorizeResource(caller, check.action, check.resource);
  const replicate = replicateOnCreateCheck(arn, scope.accountId, input);
  if (replicate) await ctx.authorizer.authorizeResource(caller, replicate.action, replicate.resource);
  const value = secretValueOf(input);
  checkName(input.name);
  // Refused before anything is created; the replicas themselves are made once the secret exists.
  if (input.addReplicaRegions !== undefined) await checkReplicaRegions(ctx, scope.region, input.addReplicaRegions);
  if (value && input.token === undefined) {
    throw new InvalidRequestException('You must provide a ClientRequestToken value. We recommend a UUID-type value.');
  }
  const tags = input.tags ?? [];
  checkTags(tags);
  const existing = await ctx.storage.read((r) => r.secrets.get(scope, input.name));
  if (existing) {
    const s = toSecret(existing);
    if (s.doc.deletedAt !== undefined) {
      throw new InvalidRequestException("You can't create this secret because a secret with this name is already scheduled for deletion.");
    }
    // AWS: a retried CreateSecret (same token, same value) succeeds without change.
    if (value && input.token && s.doc.versions[input.token] && sameValue(await open(ctx, caller, s, input.token), value)) {
      return { secret: s, versionId: input.token };
    }
    throw new ResourceExistsException(`The operation failed because the secret ${input.name} already exists.`);
  }
  const kmsKeyArn = await kmsKeyFor(ctx, caller, input.kmsKeyId);
  const now = ctx.clock.now();
  const doc: SecretDoc = {
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.kmsKeyId ? { kmsKeyId: input.kmsKeyId } : {}),
    kmsKeyArn,
    tags,
    ...(tags.length > 0 ? { tagged: true as const } : {}),
    versions: {},
    createdAt: now,
    lastChangedAt: now,
    rotation: { enabled: false },
  };
  const versionId = value ? input.token! : undefined;
  const sealed = value && versionId ? await seal(ctx, caller, kmsKeyArn, arn, versionId, value) : undefined;
  if (versionId && sealed && value) {
    doc.versions[versionId] = { stages: [AWSCURRENT], createdAt: now, kind: value.kind, kmsKeyArn: sealed.kmsKeyArn };
  }
  try {
    await ctx.storage.transaction(async (tx) => {
      await tx.secrets.insert({ ...scope, name: input.name, arn, createdAt: now, dueAt: null, revision: 1, doc: doc as unknown as Record<string, unknown> });
      if (versionId && sealed) {
        await tx.secretVersions.insert({ secretArn: arn, versionId, createdAt: now, encryptedDataKey: sealed.encryptedDataKey, sealedValue: sealed.sealedValue, doc: { kind: value!.kind } });
      }
    });
  } catch (err) {
    if (err instanceof DuplicateError) throw new ResourceExistsException(`The operation failed because the secret ${input.name} already exists.`);
    throw err;
  }
  const secret: Secret = { scope, name: input.name, arn, revision: 1, doc };
  if (input.addReplicaRegions === undefined) return { secret, ...(versionId ? { versionId } : {}) };
  const replicas = await replicateNewSecret(ctx, caller, secret, input);
  return { secret, ...(versionId ? { versionId } : {}), replicas };
}

/**
 * AWS: changing a secret's KMS key re-encrypts the AWSCURRENT, AWSPENDING and AWSPREVIOUS versions
 * under the new key ("Change the encryption key for a secret"); other versions stay under the key they
 * were written with. A version the caller cannot decrypt with the old key (no kms:Decrypt, key disabled)
 * is left as it is, as AWS does. Trent replaces the stored copy (AWS keeps both), so once the old key is
 * disabled those three versions still read, and the others do not — as in AWS.
 */
async function resealLabelled(ctx: SecretContext, caller: Caller, s: Secret, newKeyArn: string) {
  const out: { versionId: string; sealed: SealedValue }[] = [];
  for (const versionId of Object.keys(s.doc.versions)) {
    const meta = s.doc.versions[versionId]!;
    if (!meta.stages.some((l) => l === AWSCURRENT || l === AWSPENDING || l === AWSPREVIOUS) || meta.kmsKeyArn === newKeyArn) continue;
    let value: SecretValue;
    try {
      value = await open(ctx, caller, s, versionId);
    } catch (err) {
      if (err instanceof DecryptionFailure || err instanceof AccessDeniedException || err instanceof ResourceNotFoundException) continue;
      throw err;
    }
    try {
      out.push({ versionId, sealed: await seal(ctx, caller, newKeyArn, s.arn, versionId, value) });
    } finally {
      if (value.kind === 'binary') value.bytes.fill(0);
    }
  }
  return out;
}

export async function updateSecret(ctx: SecretContext, caller: Caller, input: Requests['UpdateSecret']): Promise<{ secret: Secret; versionId?: string }> {
  const found = await findAuthorized(ctx, caller, input.secretId, SECRET_ACCESS.UpdateSecret(input, await keyArnOf(ctx, caller, input.kmsKeyId)));
  const value = secretValueOf(input);
  // AWS: a value without a token is refused before the secret is looked up (recorded on a missing secret).
  if (value && input.token === undefined) {
    throw new InvalidRequestException('You must provide a ClientRequestToken value. We recommend a UUID-type value.');
  }
  // AWS: "A replica secret can't be updated independently from its primary secret, except for its
  // encryption key" (user guide, replicated secrets): UpdateSecret with KmsKeyId alone is the one write a
  // replica takes; it re-encrypts the replica's own versions.
  const s = usable(found, { primaryOnly: value !== undefined || input.description !== undefined || input.kmsKeyId === undefined });
  if (input.description !== undefined || input.kmsKeyId !== undefined) {
    const kmsKeyArn = input.kmsKeyId !== undefined ? await kmsKeyFor(ctx, caller, input.kmsKeyId) : undefined;
    const resealed = kmsKeyArn !== undefined && kmsKeyArn !== s.doc.kmsKeyArn ? await resealLabelled(ctx, caller, s, kmsKeyArn) : [];
    await mutate(ctx, caller, s.arn, (doc) => {
      if (input.description !== undefined) doc.description = input.description;
      if (input.kmsKeyId !== undefined && kmsKeyArn) {
        if (input.kmsKeyId) doc.kmsKeyId = input.kmsKeyId;
        else delete doc.kmsKeyId;
        doc.kmsKeyArn = kmsKeyArn;
      }
      // Versions are immutable, so a re-sealed copy stays right even if labels moved meanwhile.
      const still = resealed.filter((r) => doc.versions[r.versionId] !== undefined);
      for (const r of still) doc.versions[r.versionId]!.kmsKeyArn = r.sealed.kmsKeyArn;
      doc.lastChangedAt = ctx.clock.now();
      return {
        result: undefined,
        extra: async (tx) => {
          for (const r of still) {
            const row = await tx.secretVersions.get(s.arn, r.versionId);
            if (!row) continue;
            await tx.secretVersions.delete(s.arn, [r.versionId]);
            await tx.secretVersions.insert({ ...row, encryptedDataKey: r.sealed.encryptedDataKey, sealedValue: r.sealed.sealedValue });
          }
        },
      };
    });
  }
  if (value) {
    const out = await addVersion(ctx, caller, s.arn, input.token!, value, undefined);
    return { secret: out.secret, versionId: out.versionId };
  }
  return { secret: await resolve(ctx, caller, s.arn) };
}

export async function describeSecret(ctx: SecretContext, caller: Caller, secretId: string): Promise<Secret> {
  return resolve(ctx, caller, secretId, { allowDeleted: true, access: SECRET_ACCESS.DescribeSecret() });
}
