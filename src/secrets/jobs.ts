/**
 * The Secrets Manager background job: purges secrets whose recovery window has ended and runs scheduled
 * rotations that are due. Called from app.ts's job pass; every change is compare-and-set, so several
 * nodes may run it at once.
 */
import type { Clock } from '../clock.ts';
import type { RotationRunner } from './rotation.ts';
import type { SecretService } from './secret-service.ts';

export function createSecretJobs({ secrets, rotation, clock }: { secrets: SecretService; rotation: RotationRunner; clock: Clock }) {
  async function runDue(): Promise<{ purged: number; rotated: number }> {
    const { purged, rotationDue } = await secrets.purgeDue(clock.now());
    const rotated = await rotation.rotateDue(rotationDue);
    return { purged, rotated };
  }
  return { runDue };
}
