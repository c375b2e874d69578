/**
 * A secret's versions and their staging labels: adding a version (PutSecretValue, UpdateSecret with a
 * value, a rotation's createSecret step), reading one (GetSecretValue) and moving labels
 * (UpdateSecretVersionStage). Label rules themselves are in secret-model.ts.
 */
import type { Caller } from '../auth/caller.ts';
import { DuplicateError } from '../storage/storage.ts';
import { SECRET_ACCESS } from './access-rules.ts';
import {
  InvalidParameterException,
  InvalidRequestException,
  notFound,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsLimitExceededException,
} from './errors.ts';
import { secretValueOf, type SecretsManagerRequests as Requests } from './requests.ts';
import type { Authorization, Secret, SecretContext, SecretValue } from './secret-context.ts';
import { findAuthorized, LostRace, mutate, refuseReplica, resolve } from './secret-lookup.ts';
import {
  attachLabel,
  AWSCURRENT,
  AWSPENDING,
  makeCurrent,
  removeLabel,
  startOfUtcDay,
  versionsToPrune,
  versionWithStage,
} from './secret-model.ts';
import { open, sameValue, seal } from './secret-sealing.ts';

const MAX_STAGES_PER_VERSION = 20;

/**
 * Adds a version (AWS: PutSecretValue, UpdateSecret with a value, createSecret step). The token is the
 * VersionId; the same token with the same value succeeds and changes nothing, with another value it is
 * ResourceExistsException. Without `stages` the version becomes AWSCURRENT; so does the secret's first
 * version whatever `stages` says (AWS: PutSecretValue VersionStages).
 */
export async function addVersion(
  ctx: SecretContext, caller: Caller, secretId: string, token: string, value: SecretValue, stages: string[] | undefined,
): Promise<{ secret: Secret; versionId: string; stages: string[] }> {
  const labels = stages ?? [AWSCURRENT];
  if (labels.length > MAX_STAGES_PER_VERSION) throw new SecretsLimitExceededException('A version can have at most 20 staging labels.');
  const s = await resolve(ctx, caller, secretId, { primaryOnly: true });
  if (s.doc.versions[token] && !s.doc.versions[token]!.empty) {
    const existing = await open(ctx, caller, s, token);
    if (!sameValue(existing, value)) throw new ResourceExistsException("You can't modify an existing version, you can only create new versions.");
    return { secret: s, versionId: token, stages: s.doc.versions[token]!.stages };
  }
  const sealed = await seal(ctx, caller, s.doc.kmsKeyArn, s.arn, token, value);
  const now = ctx.clock.now();
  let outStages: string[] = [];
  await mutate(ctx, caller, s.arn, (doc, fresh) => {
    if (fresh.arn !== s.arn) throw notFound();
    const placeholder = doc.versions[token];
    if (placeholder && !placeholder.empty) throw new LostRace();
    // Filling a rotation's empty version keeps the labels it has (AWSPENDING) and its creation time.
    doc.versions[token] = { stages: placeholder?.stages ?? [], createdAt: placeholder?.createdAt ?? now, kind: value.kind, kmsKeyArn: sealed.kmsKeyArn };
    const wasCurrent = versionWithStage(doc, AWSCURRENT);
    for (const label of wasCurrent === undefined && !labels.includes(AWSCURRENT) ? [AWSCURRENT, ...labels] : labels) attachLabel(doc, token, label);
    // AWS (recorded): the version a new value takes AWSCURRENT from keeps AWSPREVIOUS only; an AWSPENDING it
    // still carried, left from a finished rotation, goes with AWSCURRENT.
    if (wasCurrent !== undefined && wasCurrent !== token && labels.includes(AWSCURRENT)) removeLabel(doc, wasCurrent, AWSPENDING);
    doc.lastChangedAt = now;
    const pruned = versionsToPrune(doc, now);
    for (const id of pruned) delete doc.versions[id];
    if (Object.keys(doc.versions).length > 100) {
      throw new SecretsLimitExceededException('You have exceeded the maximum number of versions of this secret. Try again after the older versions are deprecated.');
    }
    outStages = doc.versions[token]!.stages;
    return {
      result: undefined,
      values: { [token]: value },
      extra: async (tx) => {
        await tx.secretVersions.insert({ secretArn: s.arn, versionId: token, createdAt: now, encryptedDataKey: sealed.encryptedDataKey, sealedValue: sealed.sealedValue, doc: { kind: value.kind } });
        if (pruned.length) await tx.secretVersions.delete(s.arn, pruned);
      },
    };
  }, { primaryOnly: true }).catch(async (err: unknown) => {
    // Two writers with the same token: the loser re-checks as an idempotent retry.
    if (err instanceof LostRace || err instanceof DuplicateError) {
      const again = await resolve(ctx, caller, s.arn);
      if (again.doc.versions[token] && sameValue(await open(ctx, caller, again, token), value)) return;
      throw new ResourceExistsException("You can't modify an existing version, you can only create new versions.");
    }
    throw err;
  });
  return { secret: await resolve(ctx, caller, s.arn), versionId: token, stages: outStages };
}

/** AWS: GetSecretValue — AWSCURRENT unless VersionId/VersionStage say otherwise; records LastAccessedDate (by day). */
export async function getSecretValue(
  ctx: SecretContext, caller: Caller, input: Requests['GetSecretValue'], { authorize = true }: Authorization = {},
): Promise<{ secret: Secret; versionId: string; value: SecretValue }> {
  const s = await resolve(ctx, caller, input.secretId, authorize ? { access: SECRET_ACCESS.GetSecretValue(input) } : {});
  let versionId: string | undefined;
  if (input.versionId !== undefined) {
    versionId = input.versionId;
    const meta = s.doc.versions[versionId];
    if (!meta) throw new ResourceNotFoundException(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
    if (input.versionStage !== undefined && !meta.stages.includes(input.versionStage)) {
      throw new InvalidRequestException('You provided a VersionStage that is not associated to the provided VersionId.');
    }
  } else {
    const stage = input.versionStage ?? AWSCURRENT;
    versionId = versionWithStage(s.doc, stage);
    // AWS: the empty version a rotation starts with has no value to read (the rotation templates'
    // createSecret relies on this ResourceNotFoundException).
    if (!versionId || s.doc.versions[versionId]!.empty) {
      throw new ResourceNotFoundException(`Secrets Manager can't find the specified secret value for staging label: ${stage}`);
    }
  }
  const value = await open(ctx, caller, s, versionId);
  const today = startOfUtcDay(ctx.clock.now());
  if (s.doc.lastAccessedAt !== today || s.doc.versions[versionId]!.lastAccessedAt !== today) {
    const id = versionId;
    await mutate(ctx, caller, s.arn, (doc) => {
      doc.lastAccessedAt = today;
      if (doc.versions[id]) doc.versions[id]!.lastAccessedAt = today;
      return { result: undefined };
    }).catch(() => undefined); // best effort: a read never fails for its bookkeeping
  }
  return { secret: s, versionId, value };
}

export async function putSecretValue(ctx: SecretContext, caller: Caller, input: Requests['PutSecretValue']) {
  refuseReplica(await findAuthorized(ctx, caller, input.secretId, SECRET_ACCESS.PutSecretValue()));
  const value = secretValueOf(input);
  if (!value) throw new InvalidRequestException('You must provide either SecretString or SecretBinary.');
  if (input.token === undefined) throw new InvalidRequestException('You must provide a ClientRequestToken value. We recommend a UUID-type value.');
  return addVersion(ctx, caller, input.secretId, input.token, value, input.stages);
}

/** AWS: UpdateSecretVersionStage — moving a label attached elsewhere needs RemoveFromVersionId. */
export async function updateSecretVersionStage(
  ctx: SecretContext, caller: Caller, input: Requests['UpdateSecretVersionStage'], { authorize = true }: Authorization = {},
): Promise<Secret> {
  await mutate(ctx, caller, input.secretId, (doc) => {
    const { stage, removeFrom, moveTo } = input;
    if (moveTo !== undefined && !doc.versions[moveTo]) {
      throw new InvalidParameterException(`The version ${moveTo} doesn't exist.`);
    }
    if (removeFrom !== undefined) {
      if (!doc.versions[removeFrom]?.stages.includes(stage)) {
        throw new InvalidRequestException('You provided a VersionStage that is not associated to the provided VersionId.');
      }
    }
    const holder = versionWithStage(doc, stage);
    if (moveTo !== undefined && holder !== undefined && holder !== moveTo && holder !== removeFrom) {
      throw new InvalidParameterException(
        `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder}, so you must explicitly reference that version in RemoveFromVersionId.`,
      );
    }
    if (stage === AWSCURRENT && moveTo === undefined && removeFrom !== undefined) {
      throw new InvalidParameterException(`You can only move staging label ${AWSCURRENT} to a different secret version. It can\u2019t be completely removed.`);
    }
    if (moveTo !== undefined && holder === moveTo) return { result: undefined, write: removeFrom !== undefined && removeFrom !== moveTo };
    if (removeFrom !== undefined && stage !== AWSCURRENT) removeLabel(doc, removeFrom, stage);
    if (moveTo !== undefined) {
      if (stage === AWSCURRENT) makeCurrent(doc, moveTo);
      else attachLabel(doc, moveTo, stage);
      if (doc.versions[moveTo]!.stages.length > MAX_STAGES_PER_VERSION) {
        throw new SecretsLimitExceededException('A version can have at most 20 staging labels.');
      }
    }
    doc.lastChangedAt = ctx.clock.now();
    return { result: undefined };
  }, { primaryOnly: true, ...(authorize ? { access: SECRET_ACCESS.UpdateSecretVersionStage(input) } : {}) });
  return resolve(ctx, caller, input.secretId);
}
