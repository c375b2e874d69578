/**
 * The rotation state a secret records: its configuration (RotateSecret, CancelRotateSecret), the claim of
 * a run and its lease (rotation-claim.ts decides; this writes it with the secret's compare-and-set), and
 * the outcome of a run. The runs themselves are in rotation.ts.
 */
import type { Caller } from '../auth/caller.ts';
import { SECRET_ACCESS } from './access-rules.ts';
import { InvalidRequestException } from './errors.ts';
import { claimScheduled, holdsClaim, liveClaim, renewClaim, type ScheduledClaim } from './rotation-claim.ts';
import { nextRotation, validateRules, type RotationRules } from './schedule.ts';
import type { Secret, SecretContext } from './secret-context.ts';
import { mutate, resolve } from './secret-lookup.ts';
import { AWSPENDING, currentVersion, removeLabel, startPendingVersion, versionWithStage } from './secret-model.ts';

/**
 * Records rotation configuration (RotateSecret). With `claim` (RotateImmediately) the run is claimed in
 * the same compare-and-set: refused while another run holds the secret, as AWS refuses a RotateSecret
 * while a rotation is in progress; a retry with the running token changes nothing (`started` false).
 */
export async function configureRotation(
  ctx: SecretContext,
  caller: Caller,
  input: { secretId: string; lambdaArn?: string; rules?: RotationRules; claim?: { owner: string; token: string; leaseMs: number } },
): Promise<{ secret: Secret; started: boolean }> {
  if (input.rules) validateRules(input.rules);
  const started = await mutate(ctx, caller, input.secretId, (doc) => {
    const now = ctx.clock.now();
    const lambdaArn = input.lambdaArn ?? doc.rotation.lambdaArn;
    if (lambdaArn === undefined) throw new InvalidRequestException('No Lambda rotation function ARN is associated with this secret.');
    const running = liveClaim(doc, now);
    if (running && input.claim && running.token === input.claim.token) return { result: false, write: false };
    const pending = versionWithStage(doc, AWSPENDING);
    if (running || (pending !== undefined && pending !== currentVersion(doc))) {
      throw new InvalidRequestException("A previous rotation isn't complete. That rotation will be reattempted.");
    }
    const rules = input.rules ?? doc.rotation.rules;
    doc.rotation = {
      ...doc.rotation,
      enabled: true,
      lambdaArn,
      principalArn: caller.principalArn,
      ...(rules ? { rules } : {}),
    };
    const next = rules ? nextRotation(rules, now) : undefined;
    if (next !== undefined) doc.rotation.nextRotationAt = next;
    if (input.claim) {
      startPendingVersion(doc, input.claim.token, now);
      doc.rotation.claim = { token: input.claim.token, owner: input.claim.owner, leaseUntil: now + input.claim.leaseMs, startedAt: now };
    } else {
      delete doc.rotation.claim;
    }
    return { result: input.claim !== undefined };
  });
  return { secret: await resolve(ctx, caller, input.secretId), started };
}

/** The job pass's claim of a due (or abandoned) rotation; see rotation-claim.ts. */
export async function claimScheduledRotation(
  ctx: SecretContext, caller: Caller, arn: string, req: { owner: string; leaseMs: number; newToken: string },
): Promise<ScheduledClaim> {
  return mutate(ctx, caller, arn, (doc) => {
    const out = claimScheduled(doc, { ...req, now: ctx.clock.now() });
    return { result: out, write: out.kind !== 'none' };
  }, { allowDeleted: true });
}

/** Extends the lease of a run `owner` holds; false when the run is no longer its own (taken over, cancelled). */
export async function renewRotationClaim(ctx: SecretContext, caller: Caller, arn: string, owner: string, token: string, leaseMs: number): Promise<boolean> {
  return mutate(ctx, caller, arn, (doc) => {
    const held = renewClaim(doc, owner, token, { owner, leaseMs, now: ctx.clock.now() });
    return { result: held, write: held };
  }, { allowDeleted: true });
}

/**
 * Records the outcome of a run and releases its claim (success: LastRotatedDate, next date; failure: the
 * failed step). Only the claim's holder records; false when the run was taken over or cancelled meanwhile.
 */
export async function recordRotation(
  ctx: SecretContext, caller: Caller, arn: string, run: { owner: string; token: string }, outcome: { ok: true } | { ok: false; step: string; message: string },
): Promise<boolean> {
  const now = ctx.clock.now();
  return mutate(ctx, caller, arn, (doc) => {
    if (!holdsClaim(doc, run.owner, run.token)) return { result: false, write: false };
    delete doc.rotation.claim;
    if (outcome.ok) {
      doc.lastRotatedAt = now;
      delete doc.rotation.lastFailure;
    } else {
      doc.rotation.lastFailure = { step: outcome.step, message: outcome.message, at: now, token: run.token };
    }
    const next = doc.rotation.rules ? nextRotation(doc.rotation.rules, now) : undefined;
    if (next !== undefined) doc.rotation.nextRotationAt = next;
    else delete doc.rotation.nextRotationAt;
    return { result: true };
  }, { allowDeleted: true });
}

export async function cancelRotateSecret(ctx: SecretContext, caller: Caller, secretId: string): Promise<{ secret: Secret; versionId?: string }> {
  let pendingId: string | undefined;
  await mutate(ctx, caller, secretId, (doc) => {
    pendingId = versionWithStage(doc, AWSPENDING);
    doc.rotation = { enabled: false, ...(doc.rotation.lambdaArn ? { lambdaArn: doc.rotation.lambdaArn } : {}), ...(doc.rotation.rules ? { rules: doc.rotation.rules } : {}) };
    // AWS: CancelRotateSecret removes AWSPENDING from a version that is not AWSCURRENT.
    if (pendingId !== undefined && pendingId !== currentVersion(doc)) removeLabel(doc, pendingId, AWSPENDING);
    return { result: undefined };
  }, { primaryOnly: true, access: SECRET_ACCESS.CancelRotateSecret() });
  return { secret: await resolve(ctx, caller, secretId), ...(pendingId ? { versionId: pendingId } : {}) };
}
