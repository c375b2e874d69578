import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_KEY_POLICY_LENGTH, PolicyGrammarError, type PolicyKind, parsePolicy, policyFromJson } from './policy-document.ts';
import { TrentError } from '../errors/errors.ts';

const BOB = 'arn:aws:iam::111122223333:user/bob';
const st = (over: Record<string, unknown> = {}) => ({ Effect: 'Allow', Principal: { AWS: BOB }, Action: 'kms:*', Resource: '*', ...over });
const idst = (over: Record<string, unknown> = {}) => ({ Effect: 'Allow', Action: 'kms:*', Resource: '*', ...over });
const doc = (...s: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: s });

interface GrammarCase { name: string; text: string; kind?: PolicyKind; error?: RegExp }

const cases: GrammarCase[] = [
  // Accepted
  { name: 'accepts the minimal key policy', text: doc(st()) },
  { name: 'accepts Statement as a single object', text: JSON.stringify({ Version: '2012-10-17', Statement: st() }) },
  { name: 'accepts Version 2008-10-17', text: JSON.stringify({ Version: '2008-10-17', Statement: [st()] }) },
  { name: 'accepts a missing Version', text: JSON.stringify({ Statement: [st()] }) },
  { name: 'accepts a top-level Id', text: JSON.stringify({ Version: '2012-10-17', Id: 'key-consolepolicy-3', Statement: [st()] }) },
  { name: 'accepts a key policy Sid with spaces', text: doc(st({ Sid: 'Allow use of the key' })) },
  { name: 'accepts Principal "*"', text: doc(st({ Principal: '*' })) },
  { name: 'accepts a bare account id principal', text: doc(st({ Principal: { AWS: '111122223333' } })) },
  { name: 'accepts role, assumed-role and federated-user principals', text: doc(st({ Principal: { AWS: ['arn:aws:iam::111122223333:role/path/to/R', 'arn:aws:sts::111122223333:assumed-role/R/s', 'arn:aws:sts::111122223333:federated-user/f'] } })) },
  { name: 'accepts principals in other partitions', text: doc(st({ Principal: { AWS: ['arn:aws-cn:iam::111122223333:root', 'arn:aws-us-gov:iam::111122223333:user/u'] } })) },
  { name: 'accepts service principals', text: doc(st({ Principal: { Service: ['secretsmanager.amazonaws.com', 'ssm.amazonaws.com'] } })) },
  { name: 'accepts NotPrincipal instead of Principal', text: doc(st({ Principal: undefined, NotPrincipal: { AWS: BOB } })) },
  { name: 'accepts NotAction and NotResource', text: doc(st({ Action: undefined, NotAction: 'kms:Decrypt', Resource: undefined, NotResource: 'arn:aws:kms:us-east-1:111122223333:key/x' })) },
  { name: 'accepts a key policy statement without Action (no effect, as AWS)', text: doc(st({ Action: undefined })) },
  { name: 'accepts a key policy statement without Resource (no effect, as AWS)', text: doc(st({ Resource: undefined })) },
  { name: 'accepts every condition operator with IfExists and set qualifiers', text: doc(st({ Condition: {
    StringEquals: { 'kms:ViaService': 'x' }, 'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': 'a*' }, 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['a'] },
    NumericLessThan: { 'custom:n': 5 }, DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' }, Bool: { 'aws:SecureTransport': true },
    BinaryEquals: { 'custom:b': 'QQ==' }, IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] }, NotIpAddressIfExists: { 'aws:SourceIp': '192.0.2.1' },
    ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/*' }, Null: { 'kms:EncryptionContextKeys': 'false' },
  } })) },
  { name: 'accepts printable Latin-1 characters', text: doc(st({ Sid: 'Schlüssel für Café' })) },
  { name: 'accepts tab, line feed and carriage return as whitespace', text: `{\t"Version": "2012-10-17",\r\n"Statement": [${JSON.stringify(st())}]}` },
  { name: 'accepts an identity policy', kind: 'identity', text: doc(idst()) },

  // Size, characters, JSON
  { name: 'refuses an empty document', text: '', error: /empty/ },
  { name: 'refuses a key policy over 32768 characters', text: doc(st({ Sid: 'x'.repeat(MAX_KEY_POLICY_LENGTH) })), error: /maximum length of 32768/ },
  { name: 'refuses characters outside Latin-1', text: doc(st({ Sid: 'key \u2013 dash' })), error: /U\+2013/ },
  { name: 'refuses control characters other than tab, LF and CR', text: doc(st({ Sid: 'a\u0001b' })).replace('\\u0001', '\u0001'), error: /U\+0001/ },
  { name: 'refuses emoji', text: doc(st({ Sid: '🔑' })), error: /not allowed/ },
  { name: 'refuses text that is not JSON', text: '{"Version": "2012-10-17", "Statement": [', error: /not valid JSON/ },
  { name: 'refuses a JSON array at the top level', text: '[]', error: /JSON object/ },

  // Top level
  { name: 'refuses an unknown Version', text: JSON.stringify({ Version: '2020-01-01', Statement: [st()] }), error: /Version/ },
  { name: 'refuses an unknown top-level member', text: JSON.stringify({ Version: '2012-10-17', Statement: [st()], Extra: 1 }), error: /Unknown policy element "Extra"/ },
  { name: 'refuses a missing Statement', text: JSON.stringify({ Version: '2012-10-17' }), error: /Statement/ },
  { name: 'refuses an empty Statement array', text: doc(), error: /at least one statement/ },
  { name: 'refuses a non-string Id', text: JSON.stringify({ Version: '2012-10-17', Id: 5, Statement: [st()] }), error: /Id must be a string/ },

  // Statements
  { name: 'refuses an unknown statement member', text: doc(st({ Actions: 'kms:*' })), error: /Unknown statement element "Actions"/ },
  { name: 'refuses Effect other than Allow or Deny', text: doc(st({ Effect: 'allow' })), error: /Effect/ },
  { name: 'refuses a missing Effect', text: doc(st({ Effect: undefined })), error: /Effect/ },
  { name: 'refuses a key policy statement without Principal or NotPrincipal', text: doc(st({ Principal: undefined })), error: /must contain a Principal/ },
  { name: 'refuses both Principal and NotPrincipal', text: doc(st({ NotPrincipal: { AWS: BOB } })), error: /both Principal and NotPrincipal/ },
  { name: 'refuses both Action and NotAction', text: doc(st({ NotAction: 'kms:Decrypt' })), error: /both Action and NotAction/ },
  { name: 'refuses both Resource and NotResource', text: doc(st({ NotResource: '*' })), error: /both Resource and NotResource/ },
  { name: 'refuses an empty Action list', text: doc(st({ Action: [] })), error: /Action/ },
  { name: 'refuses an action without a service prefix', text: doc(st({ Action: 'Encrypt' })), error: /not a valid action/ },
  { name: 'refuses a non-string action', text: doc(st({ Action: [1] })), error: /Action/ },
  { name: 'refuses a resource that is neither "*" nor an ARN', text: doc(st({ Resource: 'key/1234' })), error: /not a valid resource/ },
  { name: 'refuses a non-string Sid', text: doc(st({ Sid: 3 })), error: /Sid must be a string/ },

  // Principals
  { name: 'refuses a partial wildcard in a principal ARN', text: doc(st({ Principal: { AWS: 'arn:aws:iam::111122223333:user/*' } })), error: /invalid principals/ },
  { name: 'refuses a principal that is not an ARN or account id', text: doc(st({ Principal: { AWS: 'bob' } })), error: /invalid principals/ },
  { name: 'refuses an 11-digit account id', text: doc(st({ Principal: { AWS: '11112222333' } })), error: /invalid principals/ },
  { name: 'refuses an unknown principal type', text: doc(st({ Principal: { CanonicalUser: 'abc' } })), error: /invalid principals/ },
  { name: 'refuses an empty principal object', text: doc(st({ Principal: {} })), error: /invalid principals/ },
  { name: 'refuses a principal string other than "*"', text: doc(st({ Principal: BOB })), error: /invalid principals/ },
  { name: 'refuses a malformed service principal', text: doc(st({ Principal: { Service: 'secrets manager' } })), error: /invalid principals/ },

  // Conditions
  { name: 'refuses an unknown condition operator', text: doc(st({ Condition: { StringMatches: { 'aws:username': 'x' } } })), error: /Unknown condition operator "StringMatches"/ },
  { name: 'refuses an unknown set qualifier', text: doc(st({ Condition: { 'ForSomeValues:StringEquals': { 'aws:TagKeys': 'x' } } })), error: /set qualifier/ },
  { name: 'refuses Null with IfExists', text: doc(st({ Condition: { NullIfExists: { 'aws:TagKeys': 'true' } } })), error: /Null operator/ },
  { name: 'refuses Null with a set qualifier', text: doc(st({ Condition: { 'ForAnyValue:Null': { 'aws:TagKeys': 'true' } } })), error: /Null operator/ },
  { name: 'refuses a Null value other than true or false', text: doc(st({ Condition: { Null: { 'aws:TagKeys': 'yes' } } })), error: /Invalid value "yes"/ },
  { name: 'refuses a non-numeric value under a Numeric operator', text: doc(st({ Condition: { NumericLessThan: { 'custom:n': 'ten' } } })), error: /not a number/ },
  { name: 'refuses a non-date value under a Date operator', text: doc(st({ Condition: { DateLessThan: { 'aws:CurrentTime': 'tomorrow' } } })), error: /ISO 8601/ },
  { name: 'refuses a malformed CIDR under IpAddress', text: doc(st({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } })), error: /CIDR/ },
  { name: 'refuses a Bool value other than true or false', text: doc(st({ Condition: { Bool: { 'aws:SecureTransport': 'maybe' } } })), error: /Invalid value/ },
  { name: 'refuses a BinaryEquals value that is not base64', text: doc(st({ Condition: { BinaryEquals: { 'custom:b': 'not base64!' } } })), error: /base64/ },
  { name: 'refuses a condition key without a prefix', text: doc(st({ Condition: { StringEquals: { username: 'x' } } })), error: /not a valid condition key/ },
  { name: 'refuses an empty operator block', text: doc(st({ Condition: { StringEquals: {} } })), error: /non-empty JSON object/ },
  { name: 'refuses an empty list of condition values', text: doc(st({ Condition: { StringEquals: { 'aws:username': [] } } })), error: /at least one value/ },
  { name: 'refuses a nested object as a condition value', text: doc(st({ Condition: { StringEquals: { 'aws:username': { a: 1 } } } })), error: /strings, numbers or booleans/ },
  { name: 'refuses a Condition that is not an object', text: doc(st({ Condition: 'x' })), error: /Condition must be a JSON object/ },

  // Identity policies
  { name: 'refuses Principal in an identity policy', kind: 'identity', text: doc(idst({ Principal: '*' })), error: /must not contain Principal/ },
  { name: 'refuses NotPrincipal in an identity policy', kind: 'identity', text: doc(idst({ NotPrincipal: { AWS: BOB } })), error: /must not contain Principal/ },
  { name: 'refuses an identity statement without Action', kind: 'identity', text: doc(idst({ Action: undefined })), error: /Action or NotAction/ },
  { name: 'refuses an identity statement without Resource', kind: 'identity', text: doc(idst({ Resource: undefined })), error: /Resource or NotResource/ },
  { name: 'refuses spaces in an identity policy Sid', kind: 'identity', text: doc(idst({ Sid: 'a b' })), error: /letters and digits/ },
  { name: 'refuses duplicate Sids in an identity policy', kind: 'identity', text: doc(idst({ Sid: 'A' }), idst({ Sid: 'A' })), error: /unique/ },
];

for (const c of cases) {
  test(`grammar: ${c.name}`, () => {
    const kind = c.kind ?? 'key';
    if (!c.error) {
      assert.doesNotThrow(() => parsePolicy(c.text, kind));
      return;
    }
    assert.throws(() => parsePolicy(c.text, kind), (err: unknown) => {
      assert.ok(err instanceof PolicyGrammarError, `expected PolicyGrammarError, got ${String(err)}`);
      assert.match(err.message, c.error!);
      return true;
    });
  });
}

test('grammar errors are MalformedPolicyDocumentException TrentErrors with a path', () => {
  try {
    parsePolicy(doc(st(), st({ Effect: 'Maybe' })), 'key');
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(err instanceof TrentError);
    assert.equal(err.code, 'MalformedPolicyDocumentException');
    assert.ok(err instanceof PolicyGrammarError);
    assert.equal(err.path, 'Statement[1].Effect');
  }
});

test('parsed documents are normalised: lists everywhere, version defaulted, frozen', () => {
  const p = parsePolicy(JSON.stringify({ Statement: { Effect: 'Deny', Principal: { AWS: BOB, Service: 'ssm.amazonaws.com' }, Action: 'kms:Encrypt', Resource: '*', Condition: { 'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': ['a*', 'b'] }, NumericEquals: { 'custom:n': 5 } } } }), 'key');
  assert.equal(p.version, '2008-10-17');
  assert.equal(p.statements.length, 1);
  const s = p.statements[0]!;
  assert.deepEqual(s.principal, { everyone: false, aws: [BOB], service: ['ssm.amazonaws.com'], federated: [] });
  assert.deepEqual(s.action, ['kms:Encrypt']);
  assert.deepEqual(s.conditions.map((c) => [c.base, c.qualifier, c.ifExists, c.key, c.values]), [
    ['StringLike', 'ForAnyValue', true, 'aws:TagKeys', ['a*', 'b']],
    ['NumericEquals', undefined, false, 'custom:n', ['5']],
  ]);
  assert.ok(Object.isFrozen(p) && Object.isFrozen(p.statements) && Object.isFrozen(s));
});

test('policyFromJson validates an object built in code with the same rules', () => {
  assert.throws(() => policyFromJson({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] }, 'key'), PolicyGrammarError);
  assert.equal(policyFromJson({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] }, 'identity').kind, 'identity');
});

test('a custom maxLength overrides the default', () => {
  assert.throws(() => parsePolicy(doc(st()), 'key', { maxLength: 20 }), /maximum length of 20/);
});
