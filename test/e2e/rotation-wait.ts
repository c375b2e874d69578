/**
 * Test helpers: RotateSecret answers before the rotation has run (as AWS), so tests wait for its outcome,
 * bounded, as an operator would: by polling the audit trail (LookupEvents) for the run's
 * RotationSucceeded or RotationFailed service event, written once the outcome is recorded on the secret.
 */
import { rawCall } from './harness.ts';

export interface RotationServiceEvent {
  eventName: string;
  details: Record<string, unknown>;
}

/** The rotation service events (AwsServiceEvent) of a secret in the audit trail, oldest first. */
export async function rotationEvents(url: string, arn: string): Promise<RotationServiceEvent[]> {
  const events: RotationServiceEvent[] = [];
  let next: string | undefined;
  do {
    const r = await rawCall(url, 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents', JSON.stringify({
      LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: arn }], MaxResults: 50, ...(next ? { NextToken: next } : {}),
    }), { service: 'cloudtrail' });
    for (const e of (r.json.Events ?? []) as { CloudTrailEvent: string }[]) {
      const ev = JSON.parse(e.CloudTrailEvent) as { eventType: string; eventName: string; serviceEventDetails: Record<string, unknown> };
      if (ev.eventType === 'AwsServiceEvent') events.push({ eventName: ev.eventName, details: ev.serviceEventDetails });
    }
    next = r.json.NextToken as string | undefined;
  } while (next);
  return events.reverse();
}

export async function waitForRotation(url: string, arn: string, versionId: string, timeoutMs = 60_000): Promise<'succeeded' | 'failed'> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = (await rotationEvents(url, arn)).find((e) => e.details.versionId === versionId && (e.eventName === 'RotationSucceeded' || e.eventName === 'RotationFailed'));
    if (done) return done.eventName === 'RotationSucceeded' ? 'succeeded' : 'failed';
    if (Date.now() > deadline) throw new Error(`rotation ${versionId} of ${arn} did not finish within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
