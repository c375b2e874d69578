/**
 * Rotation: the four steps of AWS's rotation protocol — createSecret, setSecret, testSecret,
 * finishSecret — each given the same event {Step, SecretId, ClientRequestToken}. createSecret puts the new
 * value under AWSPENDING with VersionId = token; finishSecret moves AWSCURRENT to it (AWSPREVIOUS follows).
 * A failed step stops the run: AWSCURRENT is untouched, AWSPENDING stays on the new version (as in AWS,
 * so the next attempt resumes with it), and the failure is recorded on the secret (DescribeSecret shows it).
 *
 * RotationLambdaARN names the rotator (docs/secrets.md):
 * - `trent:rotator:postgres` — built-in single-user PostgreSQL rotator (postgres-rotator.ts);
 * - `trent:rotator:mysql` (alias `trent:rotator:mariadb`) — built-in single-user MySQL/MariaDB rotator (mysql-rotator.ts);
 * - an `http://` or `https://` URL — a webhook that receives each step's event as a JSON POST and
 *   answers 2xx on success; like a Lambda, it calls Trent's API itself (PutSecretValue with AWSPENDING,
 *   UpdateSecretVersionStage) with its own credentials.
 * Anything else is refused with AWS's "cannot invoke the specified Lambda function" AccessDeniedException.
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
import { InvalidRequestException } from './errors.ts';
import { accessDeniedForRotator, type Secret, type SecretService } from './secret-service.ts';
import type { RotationRules } from './schedule.ts';

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

/** POSTs the event to a URL; 2xx is success. No secret value is sent: the hook reads and writes through the API. */
export function webhookRotator(url: string, timeoutMs = 30_000): Rotator {
  return {
    async run(event) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(event),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new Error(`the rotation webhook could not be reached: ${(err as Error).message}`);
      }
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) throw new Error(`the rotation webhook answered HTTP ${res.status} at step ${event.Step}`);
    },
  };
}

export interface RotationDeps {
  secrets: SecretService;
  clock: Clock;
  builtIns: Record<string, BuiltInRotatorFactory>;
  /** Where rotation events go (the audit trail); absent: nowhere. */
  events?: JobEventRecorder;
}

export type RotationRunner = ReturnType<typeof createRotationRunner>;

export function createRotationRunner({ secrets, clock, builtIns, events }: RotationDeps) {
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

  function rotatorFor(lambdaArn: string): Rotator {
    if (lambdaArn.startsWith(BUILT_IN_PREFIX)) {
      const factory = builtIns[lambdaArn.slice(BUILT_IN_PREFIX.length)];
      if (factory) return factory(secrets);
    } else if (/^https?:\/\//.test(lambdaArn)) {
      return webhookRotator(lambdaArn);
    }
    throw accessDeniedForRotator();
  }

  /** Runs the four steps; records the outcome. Never throws for a failed step (AWS reports those later). */
  async function rotate(caller: Caller, s: Secret, token: string): Promise<{ ok: boolean; failedStep?: RotationStep }> {
    const rotator = rotatorFor(s.doc.rotation.lambdaArn!);
    await event(s, 'RotationStarted', { versionId: token });
    for (const step of ROTATION_STEPS) {
      try {
        await rotator.run({ Step: step, SecretId: s.arn, ClientRequestToken: token }, caller);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        await secrets.recordRotation(caller, s.arn, { ok: false, step, message, token });
        await event(s, 'RotationFailed', { versionId: token, step, message });
        return { ok: false, failedStep: step };
      }
    }
    await secrets.recordRotation(caller, s.arn, { ok: true });
    await event(s, 'RotationSucceeded', { versionId: token });
    return { ok: true };
  }

  /**
   * AWS: RotateSecret — records the configuration, then (RotateImmediately, the default) rotates now.
   * Trent runs the steps before answering, so the caller sees the labels already moved; a failed step does
   * not fail the call (as with AWS's asynchronous Lambda), it shows in DescribeSecret.
   */
  async function rotateSecret(
    caller: Caller,
    input: { secretId: string; token?: string; lambdaArn?: string; rules?: RotationRules; rotateImmediately?: boolean },
  ): Promise<{ secret: Secret; versionId?: string }> {
    if (input.lambdaArn !== undefined) rotatorFor(input.lambdaArn);
    const s = await secrets.configureRotation(caller, {
      secretId: input.secretId,
      ...(input.lambdaArn !== undefined ? { lambdaArn: input.lambdaArn } : {}),
      ...(input.rules ? { rules: input.rules } : {}),
    });
    if (input.rotateImmediately === false) return { secret: s };
    const token = input.token ?? randomUuid();
    await rotate(caller, s, token);
    return { secret: await secrets.resolve(caller, s.arn), versionId: token };
  }

  /** Scheduled rotations that are due, run as the principal that configured them. */
  async function rotateDue(due: Secret[]): Promise<number> {
    let n = 0;
    for (const s of due) {
      const caller: Caller = {
        accountId: s.scope.accountId,
        region: s.scope.region,
        principalArn: s.doc.rotation.principalArn ?? `arn:aws:iam::${s.scope.accountId}:root`,
        accessKeyId: 'trent-scheduled-rotation',
        // The scheduled run is Secrets Manager's own, on the configuring principal's behalf (kms:ViaService).
        viaService: viaServiceName('secretsmanager', s.scope.region),
      };
      try {
        await rotate(caller, s, randomUuid());
        n++;
      } catch (err) {
        if (!(err instanceof InvalidRequestException)) throw err;
      }
    }
    return n;
  }

  return { rotateSecret, rotateDue };
}
