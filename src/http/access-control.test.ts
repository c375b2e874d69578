import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Caller } from '../auth/caller.ts';
import { anyResource } from '../auth/service-access.ts';
import { withDeclaredAccessControl, withServiceAccessControl } from './access-control.ts';
import { defineOperations, type ParsedOperation, type ServiceDefinition } from './operation.ts';

const header = { targetPrefix: 'Example', signingName: 'example', eventSource: 'example.amazonaws.com', internalErrorCode: 'InternalFailure' };
const service = (names: string[]): ServiceDefinition => ({
  ...header,
  operations: defineOperations(names.map((name) => ({ name, readOnly: true, handle: async () => ({}) }))),
});
const kmsDenied = (e: Error) => {
  throw e;
};

test('fail closed: a service with an operation that has no access rule does not start', () => {
  const authorizer = { authorizeResource: async () => undefined };
  const op: ParsedOperation<object> = { readOnly: true, parse: () => ({}), handle: async () => ({}) };
  const access = { viaService: 'example', rules: { Known: async () => [] }, kmsDenied };
  assert.doesNotThrow(() => withServiceAccessControl(header, { Known: op }, authorizer, access));
  // The types ask for a rule per operation; the check holds whatever a caller's types say.
  const unruled = { Known: op, Forgotten: op } as { Known: typeof op };
  assert.throws(() => withServiceAccessControl(header, unruled, authorizer, access), /Example\.Forgotten has no access rule/);
});

test('the input is read once: the rule decides on the typed request the operation then handles, as the caller through the service', async () => {
  const caller: Caller = { accountId: '111122223333', region: 'eu-west-1', principalArn: 'arn:aws:iam::111122223333:user/u', accessKeyId: 'AKIDEXAMPLE' };
  const steps: string[] = [];
  const requests: object[] = [];
  const op: ParsedOperation<{ name: string }> = {
    readOnly: true,
    parse(input) {
      steps.push('parse');
      return { name: String(input.Name) };
    },
    async handle(request, ctx) {
      requests.push(request);
      steps.push(`handle ${request.name} via ${ctx.caller.viaService}`);
      return {};
    },
  };
  const rule = async (request: { name: string }, ruleCaller: Caller) => {
    requests.push(request);
    steps.push(`rule ${request.name}`);
    return [{ action: 'example:Read', resource: anyResource(ruleCaller) }];
  };
  const authorizer = {
    authorizeResource: async (who: Caller, action: string) => {
      steps.push(`authorize ${action} for ${who.viaService ?? 'the caller'}`);
    },
  };
  const wrapped = withServiceAccessControl(header, { Read: op }, authorizer, { viaService: 'example', rules: { Read: rule }, kmsDenied });
  await wrapped.operations.get('Read')!.handle({ Name: 'x' }, { caller, requestId: 'r' });
  assert.deepEqual(steps, ['parse', 'rule x', 'authorize example:Read for the caller', 'handle x via example.eu-west-1.amazonaws.com']);
  assert.equal(requests[0], requests[1], 'the rule and the operation share one request object');
});

test('fail closed: a service whose rules are declared beside its owner (KMS, CloudTrail, TrentAdmin, TrentOperator) does not start without a rule per operation', () => {
  const authorizer = { authorize: async () => undefined };
  const rules = { Known: { actions: ['example:Known'], resource: '*', conditionKeys: [] } };
  assert.doesNotThrow(() => withDeclaredAccessControl(service(['Known']), authorizer, rules));
  assert.throws(() => withDeclaredAccessControl(service(['Known', 'Forgotten']), authorizer, rules), /Example\.Forgotten has no access rule/);
});
