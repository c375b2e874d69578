/**
 * Rotation: the four steps of AWS's rotation protocol — createSecret, setSecret, testSecret,
 * finishSecret — each given the same event {Step, SecretId, ClientRequestToken}. createSecret puts the new
 * value under AWSPENDING with VersionId = token; finishSecret moves AWSCURRENT to it (AWSPREVIOUS follows).
 * A failed step stops the run: AWSCURRENT is untouched, AWSPENDING stays on the new version (as in AWS,
 * so the next attempt resumes with it), and the failure is recorded on the secret (DescribeSecret shows it).
 *
 * As in AWS, RotateSecret answers at once with the new VersionId and the steps run in the background.
 * Every run is claimed exactly once across nodes and workers (rotation-claim.ts: compare-and-set on the
 * secret's rotation state, with a lease its runner renews; an abandoned run is taken over by a job pass
 * once the lease has passed).
 *
 * RotationLambdaARN names the rotator (docs/secrets.md):
 * - `trent:rotator:postgres` — built-in single-user PostgreSQL rotator (postgres-rotator.ts);
 * - `trent:rotator:mysql` (alias `trent:rotator:mariadb`) — built-in single-user MySQL/MariaDB rotator (mysql-rotator.ts);
 * - `arn:aws:lambda:<region>:<account>:function:<name>` in the secret's Region and account, where
 *   `<name>` is a webhook rotator the operator listed in TRENT_ROTATORS (webhook-rotator.ts).
 * Anything else — a URL, an unlisted name — is refused with AWS's answer for a Lambda function it cannot
 * invoke: AccessDeniedException "Secrets Manager cannot invoke the specified Lambda function…" (recorded,
 * shared/reference/aws-recorded test_rotate_secret_invalid_lambda_arn).
 *
 * Every run is recorded in the audit trail as AWS's rotation service events (Secrets Manager user guide,
 * "Log entries for rotation"): RotationStarted, then RotationSucceeded or RotationFailed (with the failed
 * step and its message, never a secret value) — through the job-event path (audit/service-event.ts),
 * whether the run came from RotateSecret or from the schedule.
 */
import { type Caller, viaServiceName } from '../auth/caller.ts';
import type { JobEventRecorder } from '../audit/service-event.ts';
import type { Clock } from '../clock.ts';
import { randomUuid, timeOrderedUuid } from '../crypto/primitives.ts';
import type { Scope } from '../storage/storage.ts';
import { afterCommit } from '../storage/unit-of-work.ts';
import { SECRET_ACCESS } from './access-rules.ts';
import { InvalidParameterException } from './errors.ts';
import type { SecretsManagerRequests } from './requests.ts';
import { accessDeniedForRotator, type Secret, type SecretService } from './secret-service.ts';
import { parseLambdaArn, webhookRotator, type WebhookRotatorConfig } from './webhook-rotator.ts';

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
export const ROTATION_STEPS: readonly RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

export interface RotationEvent {
  Step: RotationStep;
  SecretId: string;
  ClientRequestToken: string;
}

/** A rotation function. `run` throws to fail the step; its message is recorded (never a secret value). */
export interface Rotator {
  run(event: RotationEvent, caller: Caller): Promise<void>;
}

export type BuiltInRotatorFactory = (secrets: SecretService) => Rotator;

export const BUILT_IN_PREFIX = 'trent:rotator:';

/** How long a claim outlives a runner that stopped renewing it (a dead node's run waits this long). */
export const ROTATION_LEASE_MS = 30_000;

export interface RotationDeps {
  secrets: SecretService;
  clock: Clock;
  /** The real time, for request signatures a rotator checks against its own clock. */
  wallClock: Clock;
  builtIns: Record<string, BuiltInRotatorFactory>;
  /** TRENT_ROTATORS: the webhook rotators a RotationLambdaARN may name, by function name. */
  webhooks: Readonly<Record<string, WebhookRotatorConfig>>;
  /** Where rotation events go (the audit trail); absent: nowhere. */
  events?: JobEventRecorder;
  /** A background run that failed for a reason other than a step (storage down, …); its claim lapses and is retried. */
  onError?: (err: unknown, secretArn: string) => void;
  leaseMs?: number;
}

export type RotationRunner = ReturnType<typeof createRotationRunner>;

class ClaimLost extends Error {}

export function createRotationRunner({ secrets, clock, wallClock, builtIns, webhooks, events, onError, leaseMs = ROTATION_LEASE_MS }: RotationDeps) {
  /** This runner's identity in claims: one per process generation. */
  const owner = randomUuid();
  const inflight = new Set<Promise<void>>();

  async function event(s: Secret, eventName: string, details: Record<string, unknown>): Promise<void> {
    await events?.record({
      eventId: timeOrderedUuid(),
      eventTime: clock.now(),
      eventSource: 'secretsmanager.amazonaws.com',
      eventName,
      accountId: s.scope.accountId,
      region: s.scope.region,
      resources: [{ ARN: s.arn, type: 'AWS::SecretsManager::Secret', accountId: s.scope.accountId }],
      details: { secretId: s.arn, ...details },
    });
  }

  /** The rotator a RotationLambdaARN names for a secret in `scope`; AccessDeniedException when there is none. */
  function rotatorFor(lambdaArn: string, scope: Scope): Rotator {
    if (lambdaArn.startsWith(BUILT_IN_PREFIX)) {
      const factory = builtIns[lambdaArn.slice(BUILT_IN_PREFIX.length)];
      if (factory) return factory(secrets);
    } else {
      const fn = parseLambdaArn(lambdaArn);
      // AWS: the rotation function is in the secret's Region; Trent has no function policies, so a
      // function of another account is one it cannot invoke.
      const hook = fn && fn.region === scope.region && fn.accountId === scope.accountId && Object.hasOwn(webhooks, fn.name) ? webhooks[fn.name] : undefined;
      if (hook) return webhookRotator(hook, wallClock);
    }
    throw accessDeniedForRotator();
  }

  /**
   * Runs the four steps of the claimed run `token`, renewing the lease meanwhile; records the outcome.
   * Never throws for a failed step (AWS reports those in DescribeSecret and the audit trail). Stops,
   * recording nothing, when the claim is lost (cancelled, or taken over after a lapsed lease).
   */
  async function run(caller: Caller, s: Secret, token: string): Promise<{ ok: boolean; failedStep?: RotationStep }> {
    let lost = false;
    let renewing: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      renewing = secrets.renewRotationClaim(caller, s.arn, owner, token, leaseMs).then((held) => {
        if (!held) lost = true;
      }, () => undefined); // a failed renewal is retried at the next tick; the lease covers the gap
    }, Math.max(1, Math.floor(leaseMs / 3)));
    timer.unref();
    const outcome = async (result: { ok: true } | { ok: false; step: RotationStep; message: string }) => {
      clearInterval(timer);
      await renewing;
      if (!(await secrets.recordRotation(caller, s.arn, { owner, token }, result))) throw new ClaimLost();
    };
    try {
      await event(s, 'RotationStarted', { versionId: token });
      for (const step of ROTATION_STEPS) {
        if (lost) throw new ClaimLost();
        try {
          const rotator = rotatorFor(s.doc.rotation.lambdaArn!, s.scope);
          await rotator.run({ Step: step, SecretId: s.arn, ClientRequestToken: token }, caller);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          await outcome({ ok: false, step, message });
          await event(s, 'RotationFailed', { versionId: token, step, message });
          return { ok: false, failedStep: step };
        }
      }
      await outcome({ ok: true });
      await event(s, 'RotationSucceeded', { versionId: token });
      return { ok: true };
    } finally {
      clearInterval(timer);
    }
  }

  /** Runs in the background; `drain` waits for every such run (a clean stop or seal). */
  function inBackground(caller: Caller, s: Secret, token: string): void {
    // The run needs the claim RotateSecret records, which commits with the call's audit event.
    afterCommit(() => {
      const p: Promise<void> = run(caller, s, token)
        .then(() => undefined, (err: unknown) => {
          if (!(err instanceof ClaimLost)) onError?.(err, s.arn);
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    });
  }

  /**
   * AWS: RotateSecret — records the configuration and (RotateImmediately, the default) claims a run and
   * answers at once with its VersionId; the steps run in the background (AWS invokes the function
   * asynchronously), so a failed step does not fail the call: it shows in DescribeSecret and the audit trail.
   */
  async function rotateSecret(caller: Caller, input: SecretsManagerRequests['RotateSecret']): Promise<{ secret: Secret; versionId?: string }> {
    // AWS: a raw RotateSecret without ClientRequestToken is InvalidParameterException (recorded, with this
    // text, before the secret is looked up); the SDKs and the CLI always send one.
    if (input.token === undefined) throw new InvalidParameterException('You must provide a ClientRequestToken value. We recommend a UUID-type value.');
    // The rotator is checked before anything changes: one named now, or the one configured before.
    const target = await secrets.resolve(caller, input.secretId, { primaryOnly: true, access: SECRET_ACCESS.RotateSecret(input) });
    const lambdaArn = input.lambdaArn ?? target.doc.rotation.lambdaArn;
    if (lambdaArn !== undefined) rotatorFor(lambdaArn, target.scope);
    const immediate = input.rotateImmediately !== false;
    const token = input.token;
    const { secret, started } = await secrets.configureRotation(caller, {
      secretId: input.secretId,
      ...(input.lambdaArn !== undefined ? { lambdaArn: input.lambdaArn } : {}),
      ...(input.rules ? { rules: input.rules } : {}),
      ...(immediate ? { claim: { owner, token, leaseMs } } : {}),
    });
    if (!immediate) return { secret };
    if (started) inBackground(caller, secret, token);
    return { secret, versionId: token };
  }

  function scheduledCaller(s: Secret): Caller {
    return {
      accountId: s.scope.accountId,
      region: s.scope.region,
      principalArn: s.doc.rotation.principalArn ?? `arn:aws:iam::${s.scope.accountId}:root`,
      accessKeyId: 'trent-scheduled-rotation',
      // The scheduled run is Secrets Manager's own, on the configuring principal's behalf (kms:ViaService).
      viaService: viaServiceName('secretsmanager', s.scope.region),
    };
  }

  /**
   * The job pass: for each secret listed as due, claim its due (or abandoned) run and run it to the end.
   * Of all the nodes and workers looking at one secret at once, one claim wins; the others skip it.
   */
  async function rotateDue(due: Secret[]): Promise<number> {
    let n = 0;
    for (const s of due) {
      const caller = scheduledCaller(s);
      try {
        const claim = await secrets.claimScheduledRotation(caller, s.arn, { owner, leaseMs, newToken: randomUuid() });
        if (claim.kind !== 'claimed') continue;
        await run(caller, await secrets.resolve(caller, s.arn, { allowDeleted: true }), claim.token);
        n++;
      } catch (err) {
        if (err instanceof ClaimLost) continue;
        onError?.(err, s.arn);
      }
    }
    return n;
  }

  /** Waits for the background runs started here. */
  async function drain(): Promise<void> {
    while (inflight.size > 0) await Promise.all([...inflight]);
  }

  return { rotateSecret, rotateDue, drain };
}
