/**
 * The rotation claim: which process runs a secret's rotation, held in the secret's document and changed
 * only by the service's compare-and-set on the secret row's revision (secret-lookup.ts `mutate`), so of
 * any number of nodes and workers that try at once exactly one wins.
 *
 * A claim carries a lease. Its owner renews it while the steps run; a claim whose lease has passed
 * (its owner died or lost the database) is taken over by the next job pass, which resumes the same run
 * with the same ClientRequestToken — the steps are idempotent per token (AWS's rotation contract), so a
 * takeover finishes the one rotation instead of starting a second. The secret's due date (dueAtOf) is
 * the lease's end while a claim exists, so the job pass looks at it again exactly when it may be taken.
 *
 * Every function mutates a cloned doc; the caller writes it back with one compare-and-set.
 */
import { nextRotation, rotationWindowEnd } from './schedule.ts';
import { AWSPENDING, currentVersion, startPendingVersion, versionWithStage, type SecretDoc } from './secret-model.ts';

export interface RotationClaim {
  /** The run's ClientRequestToken (the new version's VersionId). */
  token: string;
  /** The process running it (a random id per rotation runner). */
  owner: string;
  /** Epoch ms after which another process may take the run over. */
  leaseUntil: number;
  startedAt: number;
}

export interface ClaimRequest {
  owner: string;
  leaseMs: number;
  now: number;
}

export type ScheduledClaim =
  | { kind: 'claimed'; token: string; resumed: boolean }
  /** AWS RotationRules.Duration: the window closed before any pass could start the run; the next is scheduled. */
  | { kind: 'window-missed'; dueAt: number }
  | { kind: 'none' };

export function liveClaim(doc: SecretDoc, now: number): RotationClaim | undefined {
  const c = doc.rotation.claim;
  return c && c.leaseUntil > now ? c : undefined;
}

/**
 * The job pass's claim: an expired claim is taken over (same token); otherwise a due rotation is started,
 * reattempting a run that left AWSPENDING on a version other than AWSCURRENT with that version's id (AWS:
 * "A previous rotation isn't complete. That rotation will be reattempted."), else with `newToken`, whose
 * empty version is created under AWSPENDING in the same write (startPendingVersion).
 */
export function claimScheduled(doc: SecretDoc, req: ClaimRequest & { newToken: string }): ScheduledClaim {
  const { owner, leaseMs, now } = req;
  if (doc.deletedAt !== undefined || !doc.rotation.enabled) return { kind: 'none' };
  const held = doc.rotation.claim;
  if (held && held.leaseUntil > now) return { kind: 'none' };
  if (held) {
    doc.rotation.claim = { ...held, owner, leaseUntil: now + leaseMs };
    return { kind: 'claimed', token: held.token, resumed: true };
  }
  const dueAt = doc.rotation.nextRotationAt;
  if (dueAt === undefined || dueAt > now) return { kind: 'none' };
  const rules = doc.rotation.rules;
  const windowEnd = rules ? rotationWindowEnd(rules, dueAt) : undefined;
  if (windowEnd !== undefined && now > windowEnd) {
    const next = rules ? nextRotation(rules, now) : undefined;
    if (next !== undefined) doc.rotation.nextRotationAt = next;
    else delete doc.rotation.nextRotationAt;
    return { kind: 'window-missed', dueAt };
  }
  const pending = versionWithStage(doc, AWSPENDING);
  const token = pending !== undefined && pending !== currentVersion(doc) ? pending : req.newToken;
  startPendingVersion(doc, token, now);
  doc.rotation.claim = { token, owner, leaseUntil: now + leaseMs, startedAt: now };
  return { kind: 'claimed', token, resumed: false };
}

/** Extends the lease if `owner` still holds the run of `token`; false when it has lost it. */
export function renewClaim(doc: SecretDoc, owner: string, token: string, req: ClaimRequest): boolean {
  const c = doc.rotation.claim;
  if (!c || c.owner !== owner || c.token !== token) return false;
  c.leaseUntil = req.now + req.leaseMs;
  return true;
}

/** True when `owner` holds the run of `token` (whatever its lease): only then may it record the outcome. */
export function holdsClaim(doc: SecretDoc, owner: string, token: string): boolean {
  const c = doc.rotation.claim;
  return c !== undefined && c.owner === owner && c.token === token;
}
