import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withDeclaredAccessControl, withServiceAccessControl } from './access-control.ts';
import { defineOperations, type ServiceDefinition } from './operation.ts';

const service = (names: string[]): ServiceDefinition => ({
  targetPrefix: 'Example', signingName: 'example', eventSource: 'example.amazonaws.com', internalErrorCode: 'InternalFailure',
  operations: defineOperations(names.map((name) => ({ name, readOnly: true, handle: async () => ({}) }))),
});

test('fail closed: a service with an operation that has no access rule does not start', () => {
  const authorizer = { authorizeResource: async () => undefined };
  const access = { viaService: 'example', rules: { Known: async () => [] }, kmsDenied: (e: Error) => { throw e; } };
  assert.doesNotThrow(() => withServiceAccessControl(service(['Known']), authorizer, access));
  assert.throws(() => withServiceAccessControl(service(['Known', 'Forgotten']), authorizer, access), /Example\.Forgotten has no access rule/);
});

test('fail closed: a service whose rules are declared beside its owner (KMS, CloudTrail, TrentAdmin, TrentOperator) does not start without a rule per operation', () => {
  const authorizer = { authorize: async () => undefined };
  const rules = { Known: { actions: ['example:Known'], resource: '*', conditionKeys: [] } };
  assert.doesNotThrow(() => withDeclaredAccessControl(service(['Known']), authorizer, rules));
  assert.throws(() => withDeclaredAccessControl(service(['Known', 'Forgotten']), authorizer, rules), /Example\.Forgotten has no access rule/);
});
