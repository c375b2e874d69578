/**
 * The declared condition-key tables against AWS's documented list, and the evaluator's tests against what
 * the server supplies.
 *
 * - For every action Trent serves, each condition key AWS documents for it (test/fixtures/aws-sar/, copied
 *   from the Service Authorization Reference) is in the table of keys the server supplies, or listed with
 *   its reason as not supplied. A key AWS documents that the server silently lacks is how a Deny fails open.
 * - The policy evaluator's own table tests (src/policy/*.test.ts) use only condition keys the server
 *   really supplies, so they cannot pass by injecting a key no request carries.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ADMIN_ACCESS_RULES } from '../auth/admin-access-rules.ts';
import { CLOUDTRAIL_ACCESS_RULES } from '../audit/access-rules.ts';
import { GLOBAL_KEYS, KEY_RESOURCE_KEYS, KMS_ACCESS_RULES, NOT_SUPPLIED } from '../kms/access-rules.ts';
import { PARAMETER_RESOURCE_KEYS, PARAMETER_STORE_ACTION_KEYS } from '../parameters/access-keys.ts';
import { withConditionKeyTable } from './condition-key-table.ts';
import { SECRET_RESOURCE_KEYS, SECRETS_MANAGER_ACTION_KEYS, SECRETS_MANAGER_NOT_SUPPLIED } from '../secrets/access-keys.ts';

interface Fixture { _source: string; resourceTypes?: Record<string, string[]>; actions: Record<string, { resourceTypes?: string[]; conditionKeys: string[] }> }
const fixture = (name: string): Fixture => JSON.parse(readFileSync(join('test/fixtures/aws-sar', `${name}.json`), 'utf8')) as Fixture;

/** AWS writes variable parts as ${TagKey}, ${EncryptionContextKey} or tag-key; the tables write '*'. */
function normalise(key: string): string {
  return key.replace(/\$\{[^}]+\}$/, '*').replace(/\/tag-key$/, '/*').replace(/^kms:RecipientAttestation:.*$/, 'kms:RecipientAttestation:*');
}

/** Whether `key` (a concrete key or a pattern) is covered by `supplied` (patterns end with '*'), case-insensitively. */
function covered(key: string, supplied: Iterable<string>): boolean {
  const k = key.toLowerCase();
  for (const s of supplied) {
    const l = s.toLowerCase();
    if (l === k || (l.endsWith('*') && k.startsWith(l.slice(0, -1)))) return true;
  }
  return false;
}

function kmsSupplied(op: string): string[] {
  const rule = KMS_ACCESS_RULES[op]!;
  return [...GLOBAL_KEYS, ...(rule.resource === 'key' ? KEY_RESOURCE_KEYS : []), ...rule.conditionKeys];
}

describe('KMS: every condition key AWS documents for an action Trent serves is supplied or explained', () => {
  const aws = fixture('kms');
  test('the fixture names its source', () => assert.match(aws._source, /Service Authorization Reference/));
  for (const [op, rule] of Object.entries(KMS_ACCESS_RULES)) {
    test(`${op}: ${rule.actions.join(', ')}`, () => {
      for (const action of rule.actions) {
        const documented = aws.actions[action];
        assert.ok(documented, `${action} is not an AWS action`);
        const onKey = (documented.resourceTypes ?? []).includes('key');
        assert.equal(rule.resource === 'key', onKey, `${action}: decided on ${rule.resource}, AWS: ${onKey ? 'key' : 'no resource'}`);
        const keys = [...documented.conditionKeys, ...(onKey ? aws.resourceTypes!.key! : [])].map(normalise);
        for (const key of keys) {
          const why = NOT_SUPPLIED[key] ?? NOT_SUPPLIED[`${key}@${op}`];
          assert.ok(covered(key, kmsSupplied(op)) || why !== undefined, `${action}: AWS documents ${key}, which the table does not supply`);
        }
      }
    });
  }
  test('every KMS action AWS documents for an operation Trent serves has a rule', () => {
    const ruled = new Set(Object.values(KMS_ACCESS_RULES).flatMap((r) => r.actions));
    for (const action of Object.keys(aws.actions)) assert.ok(ruled.has(action), `${action} has no rule`);
  });
});

for (const [service, table, resourceKeys, notSupplied] of [
  ['secretsmanager', SECRETS_MANAGER_ACTION_KEYS, SECRET_RESOURCE_KEYS, SECRETS_MANAGER_NOT_SUPPLIED],
  ['ssm', PARAMETER_STORE_ACTION_KEYS, PARAMETER_RESOURCE_KEYS, {}],
] as const) {
  describe(`${service}: every condition key AWS documents for an action Trent serves is supplied or explained`, () => {
    const aws = fixture(service);
    test('the fixture names its source and the actions Trent serves', () => {
      assert.match(aws._source, /Service Authorization Reference/);
      assert.deepEqual(Object.keys(aws.actions).sort(), Object.keys(table).sort());
    });
    for (const [action, declared] of Object.entries(table)) {
      test(action, () => {
        const supplied = [...GLOBAL_KEYS, ...(declared.resource === 'secret' || declared.resource === 'parameter' ? resourceKeys : []), ...declared.conditionKeys];
        for (const key of aws.actions[action]!.conditionKeys.map(normalise)) {
          assert.ok(covered(key, supplied) || (notSupplied as Record<string, string>)[key] !== undefined, `${action}: AWS documents ${key}, which the table does not supply`);
        }
      });
    }
  });
}

/** Every key the server supplies for some action. */
function allSupplied(): string[] {
  return [
    ...GLOBAL_KEYS, ...KEY_RESOURCE_KEYS, 'kms:CallerAccount', 'kms:RequestAlias', 'kms:ViaService',
    ...Object.values(KMS_ACCESS_RULES).flatMap((r) => r.conditionKeys),
    ...SECRET_RESOURCE_KEYS, ...Object.values(SECRETS_MANAGER_ACTION_KEYS).flatMap((r) => r.conditionKeys),
    ...PARAMETER_RESOURCE_KEYS, ...Object.values(PARAMETER_STORE_ACTION_KEYS).flatMap((r) => r.conditionKeys),
  ];
}

/** The condition keys and policy variables a test file names: quoted `prefix:Name…` strings that are not actions. */
function keysNamedIn(source: string, actions: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const m of source.matchAll(/['"`]((?:aws|kms|secretsmanager|ssm):[A-Za-z][\w:/.-]*)['"`]/g)) out.add(m[1]!);
  for (const m of source.matchAll(/\$\{((?:aws|kms|secretsmanager|ssm):[^},\s]+)/g)) out.add(m[1]!);
  return new Set([...out].filter((k) => !actions.has(k.toLowerCase()) && !k.includes('*')));
}

describe('the evaluator tests use only condition keys the server supplies', () => {
  const actions = new Set([
    ...Object.values(KMS_ACCESS_RULES).flatMap((r) => r.actions), ...Object.keys(SECRETS_MANAGER_ACTION_KEYS), ...Object.keys(PARAMETER_STORE_ACTION_KEYS),
    ...Object.values(ADMIN_ACCESS_RULES).flatMap((r) => r.actions), ...Object.values(CLOUDTRAIL_ACCESS_RULES).flatMap((r) => r.actions),
  ].map((a) => a.toLowerCase()));
  const dir = 'src/policy';
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.test.ts'))) {
    test(file, () => {
      const unsupplied = [...keysNamedIn(readFileSync(join(dir, file), 'utf8'), actions)].filter((k) => !covered(k, allSupplied()));
      assert.deepEqual(unsupplied, [], `${file} tests keys no request carries`);
    });
  }
});

test('docs/iam.md lists the condition keys per action exactly as the tables declare them (npm run docs:condition-keys)', () => {
  const doc = readFileSync('docs/iam.md', 'utf8');
  assert.equal(withConditionKeyTable(doc), doc);
});
