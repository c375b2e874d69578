import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicies } from './policies.ts';

test('policies: Expiration gives the due time; notifications are recorded as Pending', () => {
  const text = JSON.stringify([
    { Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: '2030-01-02T00:00:00.000Z' } },
    { Type: 'ExpirationNotification', Version: '1.0', Attributes: { Before: '15', Unit: 'Days' } },
    { Type: 'NoChangeNotification', Version: '1.0', Attributes: { After: '20', Unit: 'Hours' } },
  ]);
  const parsed = parsePolicies(text);
  assert.equal(parsed.expiresAt, Date.parse('2030-01-02T00:00:00.000Z'));
  assert.deepEqual(parsed.policies.map((p) => [p.PolicyType, p.PolicyStatus]), [
    ['Expiration', 'Pending'], ['ExpirationNotification', 'Pending'], ['NoChangeNotification', 'Pending'],
  ]);
});

test('policies: unknown types, bad attributes, duplicates and more than 10 are refused with their codes', () => {
  assert.throws(() => parsePolicies('not json'), { code: 'InvalidPolicyTypeException' });
  assert.throws(() => parsePolicies('[{"Type":"Rotate"}]'), { code: 'InvalidPolicyTypeException' });
  assert.throws(() => parsePolicies('[{"Type":"Expiration","Attributes":{"Timestamp":"soon"}}]'), { code: 'InvalidPolicyAttributeException' });
  assert.throws(() => parsePolicies('[{"Type":"NoChangeNotification","Attributes":{"After":"0","Unit":"Days"}}]'), { code: 'InvalidPolicyAttributeException' });
  const exp = { Type: 'Expiration', Attributes: { Timestamp: '2030-01-01T00:00:00Z' } };
  assert.throws(() => parsePolicies(JSON.stringify([exp, exp])), { code: 'IncompatiblePolicyException' });
  assert.throws(() => parsePolicies('[{"Type":"ExpirationNotification","Attributes":{"Before":"1","Unit":"Days"}}]'), { code: 'IncompatiblePolicyException' });
  assert.throws(() => parsePolicies(JSON.stringify(Array.from({ length: 11 }, () => exp))), { code: 'PoliciesLimitExceededException' });
});

test('policy times: notification Before/After in Days or Hours; each fires once (per Expiration timestamp, per version)', async () => {
  const { policyTimes, dueNotifications, nextDue } = await import('./policies.ts');
  const written = Date.parse('2030-01-01T00:00:00.000Z');
  const { policies } = parsePolicies(JSON.stringify([
    { Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: '2030-01-20T00:00:00.000Z' } },
    { Type: 'ExpirationNotification', Version: '1.0', Attributes: { Before: '5', Unit: 'Days' } },
    { Type: 'NoChangeNotification', Version: '1.0', Attributes: { After: '36', Unit: 'Hours' } },
  ]));
  const t = policyTimes(policies, written);
  assert.deepEqual(t, {
    expiresAt: Date.parse('2030-01-20T00:00:00.000Z'),
    expirationNotifyAt: Date.parse('2030-01-15T00:00:00.000Z'),
    noChangeNotifyAt: Date.parse('2030-01-02T12:00:00.000Z'),
  });
  assert.equal(nextDue(t, {}, 1), t.noChangeNotifyAt);
  assert.deepEqual(dueNotifications(t, {}, 1, t.noChangeNotifyAt! - 1), []);
  assert.deepEqual(dueNotifications(t, {}, 1, t.noChangeNotifyAt!), ['NoChangeNotification']);
  assert.equal(nextDue(t, { noChange: 1 }, 1), t.expirationNotifyAt);
  assert.deepEqual(dueNotifications(t, { noChange: 1 }, 1, t.expiresAt!), ['ExpirationNotification']);
  assert.equal(nextDue(t, { noChange: 1, expiration: t.expiresAt! }, 1), t.expiresAt);
  // A new version re-arms NoChangeNotification; an unrelated earlier notification state does not.
  assert.deepEqual(dueNotifications(t, { noChange: 1, expiration: t.expiresAt! }, 2, t.expiresAt!), ['NoChangeNotification']);
});
