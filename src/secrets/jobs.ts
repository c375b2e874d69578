/**
 * The Secrets Manager background job: purges secrets whose recovery window has ended and runs scheduled
 * rotations that are due (or abandoned by a dead node). Called from app.ts's job pass; every change is
 * compare-and-set and every rotation run is claimed once (rotation-claim.ts), so several nodes and
 * workers may run it at once.
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
