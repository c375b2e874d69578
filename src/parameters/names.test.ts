import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkParameterName, normalizePath, parameterArn, parseParameterReference } from './names.ts';

const S = { accountId: '111122223333', region: 'us-east-1' };

test('a parameter ARN has one slash between "parameter" and the name, hierarchical or not', () => {
  assert.equal(parameterArn(S, '/a/b'), 'arn:aws:ssm:us-east-1:111122223333:parameter/a/b');
  assert.equal(parameterArn(S, 'flat'), 'arn:aws:ssm:us-east-1:111122223333:parameter/flat');
});

test('names: allowed characters, no aws/ssm prefix, fully qualified hierarchies, at most 15 levels', () => {
  for (const ok of ['a', 'a.b-c_d', '/x/y', `/${Array.from({ length: 15 }, (_, i) => `l${i}`).join('/')}`, 'awkward', '/ssmx'.replace('ssm', 'sm')]) {
    assert.doesNotThrow(() => checkParameterName(S, ok), ok);
  }
  for (const bad of ['a b', 'a*', 'aws-x', 'SSM', '/aws/x', 'x/y', '/a//b', '/a/']) {
    assert.throws(() => checkParameterName(S, bad), { code: 'ValidationException' }, bad);
  }
  assert.throws(() => checkParameterName(S, `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`), { code: 'HierarchyLevelLimitExceededException' });
});

test('names: at most 1011 characters counting the ARN prefix', () => {
  const room = 1011 - 'arn:aws:ssm:us-east-1:111122223333:parameter'.length;
  assert.doesNotThrow(() => checkParameterName(S, `/${'a'.repeat(room - 1)}`));
  assert.throws(() => checkParameterName(S, `/${'a'.repeat(room)}`), { code: 'ValidationException' });
});

test('references: name, ARN, :version and :label selectors; an ARN of another region names nothing', () => {
  assert.deepEqual(parseParameterReference(S, '/a/b'), { name: '/a/b' });
  assert.deepEqual(parseParameterReference(S, '/a/b:3'), { name: '/a/b', selector: { version: 3 }, selectorText: ':3' });
  assert.deepEqual(parseParameterReference(S, 'flat:prod'), { name: 'flat', selector: { label: 'prod' }, selectorText: ':prod' });
  assert.deepEqual(parseParameterReference(S, 'arn:aws:ssm:us-east-1:111122223333:parameter/a/b:prod'), {
    name: '/a/b', selector: { label: 'prod' }, selectorText: ':prod',
  });
  assert.deepEqual(parseParameterReference(S, 'arn:aws:ssm:us-east-1:111122223333:parameter/flat'), { name: 'flat' });
  assert.throws(() => parseParameterReference(S, 'arn:aws:ssm:eu-west-1:111122223333:parameter/a'), { code: 'ParameterNotFound' });
});

test('paths: must start with a slash; a trailing slash is dropped', () => {
  assert.equal(normalizePath('/'), '/');
  assert.equal(normalizePath('/a/b/'), '/a/b');
  assert.throws(() => normalizePath('a/b'), { code: 'ValidationException' });
});
