/**
 * Creating and changing a secret as a whole: CreateSecret, UpdateSecret (description, KMS key, and a new
 * value through secret-versions.ts), DescribeSecret, and the replication operations Trent refuses.
 * KMS calls never run inside a storage transaction (the SQLite adapter serialises transactions, and KMS
 * reads storage): values are sealed first, then written.
 */
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import { AccessDeniedException, NotFoundException, ValidationException } from '../errors/errors.ts';
import { DuplicateError } from '../storage/storage.ts';
import { createSecretCheck, SECRET_ACCESS } from './access-rules.ts';
import {
  DecryptionFailure,
  InvalidParameterException,
  InvalidRequestException,
  ResourceExistsException,
  ResourceNotFoundException,
  replicationNotSupported,
} from './errors.ts';
import { secretValueOf, type SecretsManagerRequests as Requests } from './requests.ts';
import { randomArnSuffix, secretArn } from './secret-arn.ts';
import { toSecret, type Secret, type SecretContext, type SecretValue } from './secret-context.ts';
import { findAuthorized, mutate, resolve, usable } from './secret-lookup.ts';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, type SecretDoc } from './secret-model.ts';
import { open, sameValue, seal, type SealedValue } from './secret-sealing.ts';
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
 * The ARN of the KMS key a secret's values are sealed under: the one named, or aws/secretsmanager (AWS:
 * UpdateSecret with KmsKeyId "" goes back to it).
 */
async function kmsKeyFor({ keys, aliases }: SecretContext, caller: Caller, kmsKeyId: string | undefined): Promise<string> {
  if (!kmsKeyId) return (await aliases.awsManagedKey(caller, 'secretsmanager')).arn;
  // AWS: Secrets Manager uses a customer key only through GenerateDataKey and Decrypt (DescribeKey is the
  // console's), so naming a key needs the permission its first write will need.
  try {
    return (await keys.resolveKey(caller, kmsKeyId, { allowAlias: true, action: 'GenerateDataKey' })).arn;
  } catch (err) {
    // AWS: a KmsKeyId that names no key is Secrets Manager's InvalidParameterException, not KMS's
    // NotFoundException (Secrets Manager has no such error). No recording gives its text: KMS's is kept.
    if (err instanceof NotFoundException) throw new InvalidParameterException(err.message);
    throw err;
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

export async function createSecret(ctx: SecretContext, caller: Caller, input: Requests['CreateSecret']): Promise<{ secret: Secret; versionId?: string }> {
  const scope = callerScope(caller);
  const arn = secretArn(scope, input.name, randomArnSuffix());
  const check = createSecretCheck(arn, scope.accountId, input, await keyArnOf(ctx, caller, input.kmsKeyId));
  await ctx.authorizer.authorizeResource(caller, check.action, check.resource);
  const value = secretValueOf(input);
  if (input.addReplicaRegions !== undefined) throw replicationNotSupported('CreateSecret with AddReplicaRegions');
  checkName(input.name);
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
  return { secret: { scope, name: input.name, arn, revision: 1, doc }, ...(versionId ? { versionId } : {}) };
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
  const s = usable(found, {});
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

/**
 * Trent is a single-Region service: the replication operations resolve the secret (ResourceNotFoundException
 * first, as AWS), then answer replicationNotSupported.
 */
export async function refuseReplication(
  ctx: SecretContext, caller: Caller, operation: 'ReplicateSecretToRegions' | 'RemoveRegionsFromReplication' | 'StopReplicationToReplica', secretId: string,
): Promise<never> {
  await resolve(ctx, caller, secretId, { access: SECRET_ACCESS[operation]() });
  throw replicationNotSupported(operation);
}
