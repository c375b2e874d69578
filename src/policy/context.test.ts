/**
 * RequestKeys looks a key up when a condition asks for it. These tests feed it the keys the server really
 * supplies (the declared tables docs/iam.md is rendered from: src/http/condition-key-table.ts) and compare
 * every answer with a map of all keys built eagerly, layer by layer, as the evaluator had it before.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN_ACCESS_RULES } from '../auth/admin-access-rules.ts';
import { IAM_ACCESS_RULES, STS_ACCESS_RULES } from '../auth/iam-access-rules.ts';
import { GLOBAL_KEYS, KEY_RESOURCE_KEYS, KMS_ACCESS_RULES } from '../kms/access-rules.ts';
import { PARAMETER_RESOURCE_KEYS, PARAMETER_STORE_ACTION_KEYS } from '../parameters/access-keys.ts';
import { SECRET_RESOURCE_KEYS, SECRETS_MANAGER_ACTION_KEYS } from '../secrets/access-keys.ts';
import { type CallerPrincipal, type ContextValue, encryptionContextKeys, principalContextKeys, RequestKeys } from './context.ts';

/** Every condition key name the server declares, a tag or encryption-context name in place of `*`. */
const DECLARED = [...new Set([
  ...GLOBAL_KEYS, ...KEY_RESOURCE_KEYS, ...SECRET_RESOURCE_KEYS, ...PARAMETER_RESOURCE_KEYS,
  ...Object.values(KMS_ACCESS_RULES).flatMap((r) => r.conditionKeys),
  ...Object.values(SECRETS_MANAGER_ACTION_KEYS).flatMap((r) => r.conditionKeys),
  ...Object.values(PARAMETER_STORE_ACTION_KEYS).flatMap((r) => r.conditionKeys),
  ...Object.values(ADMIN_ACCESS_RULES).flatMap((r) => r.conditionKeys),
  ...Object.values(IAM_ACCESS_RULES).flatMap((r) => r.conditionKeys),
  ...Object.values(STS_ACCESS_RULES).flatMap((r) => r.conditionKeys),
  // Supplied by the authorizer beside the tables: the alias a KMS request named its key by.
  'kms:RequestAlias',
].map((k) => k.replace(/\*$/, 'Team')))];

/** The keys derived from the principal and the encryption context come from their own layers, as evaluate.ts builds them. */
const principal: CallerPrincipal = {
  arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333', type: 'User', userid: 'AIDAALICE', tags: { Team: 'blue' },
};
const encryptionContext = { Team: 'red', SecretARN: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:s-AbCdEf' };
const DERIVED = new Set(Object.keys({ ...principalContextKeys(principal), ...encryptionContextKeys(encryptionContext) }).map((k) => k.toLowerCase()));

/** The request's own layer: every declared key not derived, each with a value of the kind the server gives it. */
function requestLayer(): Record<string, ContextValue> {
  const layer: Record<string, ContextValue> = {};
  DECLARED.forEach((key, i) => {
    if (DERIVED.has(key.toLowerCase())) return;
    layer[key] = i % 4 === 0 ? i % 8 === 0 : i % 4 === 1 ? [`v${i}`, `w${i}`] : i % 4 === 2 ? i : `value-${i}`;
  });
  return layer;
}

/** The map of every key the evaluator used to build on its first lookup: lower-cased names, earlier layer first. */
function eager(layers: readonly Readonly<Record<string, ContextValue>>[]): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (out.has(k.toLowerCase()) || v === undefined) continue;
      out.set(k.toLowerCase(), Array.isArray(v) ? v.map(String) : [String(v)]);
    }
  }
  return out;
}

test('every declared key, in any case, has the value an eagerly built map gives it', () => {
  const layers = [requestLayer(), principalContextKeys(principal), encryptionContextKeys(encryptionContext)];
  const reference = eager(layers);
  const keys = new RequestKeys(layers[0]!, () => layers[1]!, () => layers[2]!);
  for (const key of [...DECLARED, ...Object.keys(layers[1]!), ...Object.keys(layers[2]!)]) {
    for (const asked of [key, key.toLowerCase(), key.toUpperCase()]) {
      assert.deepEqual(keys.get(asked), reference.get(key.toLowerCase()), asked);
    }
    assert.notEqual(keys.get(key), undefined, `${key} is supplied`);
  }
  // A key the request does not carry is absent, not empty.
  const fewer = new RequestKeys({ 'aws:SourceIp': '10.0.0.1' }, () => ({}));
  assert.equal(fewer.get('kms:ViaService'), undefined);
  assert.equal(fewer.has('kms:ViaService'), false);
});

test('the earlier layer wins, a key with an undefined value is not carried, and names of one layer differing only in case give all their values', () => {
  const keys = new RequestKeys(
    { 'aws:ResourceTag/Env': 'prod', 'aws:ResourceTag/env': 'dev', 'kms:CallerAccount': undefined, 'aws:TagKeys': [] },
    { 'kms:calleraccount': '111122223333', 'aws:resourcetag/ENV': 'other' },
  );
  // Both tags of the first layer (a Deny on either value must fire), none of the later layer's.
  assert.deepEqual(keys.get('aws:resourcetag/env'), ['prod', 'dev']);
  assert.deepEqual(keys.get('kms:CallerAccount'), ['111122223333']);
  // Present but empty: get gives the empty list, has() says not carried (AWS treats them alike for sets and Null).
  assert.deepEqual(keys.get('aws:TagKeys'), []);
  assert.equal(keys.has('aws:TagKeys'), false);
});

test('a derived layer is built only when a lookup reaches it, and once', () => {
  let built = 0;
  const keys = new RequestKeys({ 'aws:SourceIp': '10.0.0.1' }, () => {
    built++;
    return principalContextKeys(principal);
  });
  assert.deepEqual(keys.get('aws:sourceip'), ['10.0.0.1']);
  assert.equal(built, 0);
  assert.deepEqual(keys.get('aws:PrincipalTag/team'), ['blue']);
  assert.deepEqual(keys.get('aws:username'), ['alice']);
  assert.equal(keys.get('kms:ViaService'), undefined);
  assert.equal(built, 1);
});

test('values are strings, frozen, and the same list on every lookup', () => {
  const keys = new RequestKeys({ 'aws:SecureTransport': false, 'aws:EpochTime': 1700000000, 'kms:GrantOperations': ['Decrypt', 'Encrypt'] });
  assert.deepEqual(keys.get('aws:SecureTransport'), ['false']);
  assert.deepEqual(keys.get('aws:epochtime'), ['1700000000']);
  const ops = keys.get('kms:GrantOperations')!;
  assert.deepEqual(ops, ['Decrypt', 'Encrypt']);
  assert.ok(Object.isFrozen(ops));
  assert.equal(keys.get('KMS:GRANTOPERATIONS'), ops);
});
