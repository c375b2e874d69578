import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionMatches, arnMatch, globMatch, matchPrincipal, notPrincipalApplies, resolveLiteral, resourceMatches } from './matching.ts';
import { RequestKeys } from './context.ts';
import type { PrincipalSpec } from './policy-document.ts';
import { adminSession, bob, root, secretsManager } from './test-support.ts';

const spec = (aws: string[] = [], service: string[] = [], everyone = false): PrincipalSpec => ({ everyone, aws, service, federated: [] });

test('glob: * matches any run including the empty one, ? exactly one character', () => {
  assert.ok(globMatch('a*c', 'ac'));
  assert.ok(globMatch('a*c', 'abbbc'));
  assert.ok(globMatch('a?c', 'abc'));
  assert.ok(!globMatch('a?c', 'ac'));
  assert.ok(!globMatch('a?c', 'abbc'));
});

test('glob: regular-expression metacharacters in patterns are literal', () => {
  assert.ok(globMatch('a.b+(c)', 'a.b+(c)'));
  assert.ok(!globMatch('a.b', 'axb'));
  assert.ok(globMatch('[x]', '[x]'));
});

test('glob: * matches across newlines', () => {
  assert.ok(globMatch('a*b', 'a\nb'));
});

test('actions match case-insensitively, resources case-sensitively', () => {
  assert.ok(actionMatches(['KMS:ENCRYPT'], 'kms:Encrypt'));
  assert.ok(!resourceMatches(['arn:aws:kms:us-east-1:111122223333:key/ABC'], 'arn:aws:kms:us-east-1:111122223333:key/abc', undefined));
});

test('ARN matching keeps wildcards inside their component until the resource part', () => {
  assert.ok(arnMatch('arn:aws:kms:*:111122223333:key/*', 'arn:aws:kms:us-east-1:111122223333:key/abc', undefined));
  assert.ok(!arnMatch('arn:aws:kms:*:key/*', 'arn:aws:kms:us-east-1:111122223333:key/abc', undefined));
  assert.ok(arnMatch('arn:aws:sns:us-east-1:111122223333:*', 'arn:aws:sns:us-east-1:111122223333:topic:sub-id', undefined));
});

test('policy variables: substitution, defaults, escapes, unresolvable keys', () => {
  const keys = new RequestKeys({ 'aws:username': 'bob', 'aws:TagKeys': ['a', 'b'] });
  assert.equal(resolveLiteral('home/${aws:username}', keys), 'home/bob');
  assert.equal(resolveLiteral('${AWS:USERNAME}', keys), 'bob');
  assert.equal(resolveLiteral("${aws:userid, 'anon'}", keys), 'anon');
  assert.equal(resolveLiteral('${*}${?}${$}', keys), '*?$');
  assert.equal(resolveLiteral('${aws:userid}', keys), undefined);
  assert.equal(resolveLiteral('${aws:TagKeys}', keys), undefined, 'multi-valued keys are not variables');
  assert.equal(resolveLiteral('${aws:username}', undefined), '${aws:username}', 'no substitution without keys');
});

test('a substituted value is literal even if it contains wildcard characters', () => {
  const keys = new RequestKeys({ 'aws:username': '*' });
  assert.ok(!resourceMatches(['arn:aws:s3:::home/${aws:username}'], 'arn:aws:s3:::home/bob', keys));
  assert.ok(resourceMatches(['arn:aws:s3:::home/${aws:username}'], 'arn:aws:s3:::home/*', keys));
});

test('principal: account entries delegate for IAM identities and are direct for the root user', () => {
  assert.equal(matchPrincipal(spec(['111122223333']), bob), 'account');
  assert.equal(matchPrincipal(spec(['arn:aws:iam::111122223333:root']), bob), 'account');
  assert.equal(matchPrincipal(spec(['arn:aws:iam::111122223333:root']), root), 'direct');
  assert.equal(matchPrincipal(spec(['arn:aws:iam::444455556666:root']), bob), 'none');
});

test('principal: a direct entry wins over an account entry in the same list', () => {
  assert.equal(matchPrincipal(spec(['111122223333', bob.arn]), bob), 'direct');
});

test('principal: service principals match only Service entries or "*"', () => {
  assert.equal(matchPrincipal(spec(['*']), secretsManager), 'none');
  assert.equal(matchPrincipal(spec([], [], true), secretsManager), 'direct');
  assert.equal(matchPrincipal(spec([], ['secretsmanager.amazonaws.com']), secretsManager), 'direct');
});

test('NotPrincipal: applies unless the whole identity chain is listed', () => {
  const chain = [adminSession.arn, 'arn:aws:iam::111122223333:role/ops/Admin', 'arn:aws:iam::111122223333:root'];
  assert.equal(notPrincipalApplies(spec(chain), adminSession), false);
  assert.equal(notPrincipalApplies(spec(chain.slice(0, 2)), adminSession), true);
  assert.equal(notPrincipalApplies(spec(['*']), bob), false);
});
