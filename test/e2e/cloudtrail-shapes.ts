/**
 * Checks a record Trent wrote itself against AWS's documented example of it (test/fixtures/cloudtrail/):
 * the same members, the same fixed values, and the key ARN wherever AWS names the key.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'cloudtrail');

export function awsExample(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Record<string, unknown>;
}

/** `e` is a SynchronizeMultiRegionKey of `keyArn` in `region`, shaped as AWS's example (test/fixtures/cloudtrail). */
export function assertSynchronizeMultiRegionKey(e: Record<string, unknown>, keyArn: string, region: string, accountId: string): void {
  const aws = awsExample('synchronize-multi-region-key');
  assert.deepEqual(Object.keys(e).sort(), Object.keys(aws).sort(), 'the members of AWS\'s example');
  for (const m of ['eventSource', 'eventName', 'sourceIPAddress', 'userAgent', 'requestParameters', 'readOnly', 'eventType', 'managementEvent', 'eventCategory']) {
    assert.deepEqual(e[m], aws[m], m);
  }
  assert.deepEqual(e.userIdentity, { accountId, invokedBy: 'AWS Internal' });
  assert.equal(e.awsRegion, region);
  assert.equal(e.recipientAccountId, accountId);
  assert.deepEqual(e.responseElements, { keyId: keyArn });
  assert.deepEqual(e.resources, [{ accountId, type: 'AWS::KMS::Key', ARN: keyArn }]);
  assert.match(String(e.requestID), /^[0-9a-f-]{36}$/);
  assert.match(String(e.eventTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
}

/**
 * The audit chain links verify (TrentOperator.VerifyAuditTrail): Ok, or only an unsigned tail — a server on
 * a manual clock may not have reached its digest interval; every link is checked before that verdict.
 */
export function assertChainLinks(verified: Record<string, unknown>): void {
  const first = verified.FirstBreak as { Kind?: string } | undefined;
  assert.ok(verified.Ok === true || first?.Kind === 'unsigned', JSON.stringify(verified));
}
