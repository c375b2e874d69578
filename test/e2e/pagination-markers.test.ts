/**
 * Pagination markers are authenticated (src/kms/markers.ts, docs/kms.md "Pagination markers"): in every
 * list operation of every service, a forged marker (well-formed, with a made-up MAC), a genuine marker
 * with one byte of its payload or its MAC altered, and a genuine marker of another operation are refused
 * with the service's own error, while genuine markers page through exactly what one unpaged call lists.
 * A marker issued by one node pages on another node of the same deployment, and is refused by another
 * deployment. Runs on SQLite, and on PostgreSQL with TRENT_E2E_STORAGE=postgres.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as kmsSdk from '@aws-sdk/client-kms';
import * as secretsSdk from '@aws-sdk/client-secrets-manager';
import * as ssmSdk from '@aws-sdk/client-ssm';
import { ACCOUNT_ID, rawCall, startServer, type TestServer } from './harness.ts';

const ROOT = `arn:aws:iam::${ACCOUNT_ID}:root`;

interface Family {
  prefix: string;
  service: string;
  tokenIn: 'Marker' | 'NextToken';
  tokenOut: 'NextMarker' | 'NextToken';
  error: string;
}
const KMS: Family = { prefix: 'TrentService', service: 'kms', tokenIn: 'Marker', tokenOut: 'NextMarker', error: 'InvalidMarkerException' };
const SM: Family = { prefix: 'secretsmanager', service: 'secretsmanager', tokenIn: 'NextToken', tokenOut: 'NextToken', error: 'InvalidNextTokenException' };
const SSM: Family = { prefix: 'AmazonSSM', service: 'ssm', tokenIn: 'NextToken', tokenOut: 'NextToken', error: 'InvalidNextToken' };
const CT: Family = { prefix: 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101', service: 'cloudtrail', tokenIn: 'NextToken', tokenOut: 'NextToken', error: 'InvalidNextTokenException' };

interface ListOperation {
  family: Family;
  name: string;
  /** The request of one page of `size` items. */
  body: (size: number) => Record<string, unknown>;
  items: string;
  /** False where no genuine marker can exist here (one item per key, or no HSM to make two). */
  pages?: false;
}

async function call(s: TestServer, f: Family, op: string, body: Record<string, unknown>) {
  return rawCall(s.url, `${f.prefix}.${op}`, JSON.stringify(body), { service: f.service });
}

async function ok(s: TestServer, f: Family, op: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await call(s, f, op, body);
  assert.equal(r.status, 200, `${op}: ${JSON.stringify(r.json)}`);
  return r.json;
}

/** One byte of the marker's payload (before the dot) or of its MAC (after it) changed. */
function alter(marker: string, part: 'payload' | 'mac'): string {
  const dot = marker.lastIndexOf('.');
  assert.ok(dot > 0, `a marker is <payload>.<mac>: ${marker}`);
  const i = part === 'payload' ? Math.floor(dot / 2) : dot + 1 + 5;
  const c = marker[i]!;
  return marker.slice(0, i) + (c === 'A' ? 'B' : 'A') + marker.slice(i + 1);
}

/** A well-formed marker naming `kind` and a resume point, as an attacker would build it without the key. */
function forge(kind: string, after: string): string {
  return `${Buffer.from(JSON.stringify({ k: kind, a: after })).toString('base64url')}.${'A'.repeat(22)}`;
}

describe('pagination markers are authenticated in every list operation', () => {
  let s: TestServer;
  let keyId: string;
  let ops: ListOperation[];

  before(async () => {
    s = await startServer();
    const keys: string[] = [];
    for (let i = 0; i < 3; i++) keys.push(String(((await ok(s, KMS, 'CreateKey', {})).KeyMetadata as Record<string, unknown>).KeyId));
    keyId = keys[0]!;
    for (let i = 0; i < 3; i++) await ok(s, KMS, 'CreateAlias', { AliasName: `alias/pm-${i}`, TargetKeyId: keys[i] });
    for (let i = 0; i < 3; i++) await ok(s, KMS, 'CreateGrant', { KeyId: keyId, GranteePrincipal: ROOT, RetiringPrincipal: ROOT, Operations: ['Encrypt'], Name: `pm-${i}` });
    await ok(s, KMS, 'TagResource', { KeyId: keyId, Tags: [0, 1, 2].map((i) => ({ TagKey: `k${i}`, TagValue: `v${i}` })) });
    for (let i = 0; i < 2; i++) await ok(s, KMS, 'RotateKeyOnDemand', { KeyId: keyId });
    for (let i = 0; i < 3; i++) await ok(s, SM, 'CreateSecret', { Name: `pm-${i}`, SecretString: `value ${i}`, ClientRequestToken: randomUUID() });
    await ok(s, SM, 'PutSecretValue', { SecretId: 'pm-0', SecretString: 'second', ClientRequestToken: randomUUID() });
    for (let i = 0; i < 3; i++) await ok(s, SSM, 'PutParameter', { Name: `/pm/p${i}`, Value: `v${i}`, Type: 'String' });
    for (let v = 0; v < 2; v++) await ok(s, SSM, 'PutParameter', { Name: '/pm/p0', Value: `v0.${v}`, Type: 'String', Overwrite: true });

    const limit = (n: number) => ({ Limit: n });
    const max = (n: number) => ({ MaxResults: n });
    ops = [
      { family: KMS, name: 'ListKeys', body: limit, items: 'Keys' },
      { family: KMS, name: 'ListAliases', body: limit, items: 'Aliases' },
      { family: KMS, name: 'ListGrants', body: (n) => ({ KeyId: keyId, Limit: n }), items: 'Grants' },
      { family: KMS, name: 'ListRetirableGrants', body: (n) => ({ RetiringPrincipal: ROOT, Limit: n }), items: 'Grants' },
      { family: KMS, name: 'ListKeyPolicies', body: (n) => ({ KeyId: keyId, Limit: n }), items: 'PolicyNames', pages: false },
      { family: KMS, name: 'ListResourceTags', body: (n) => ({ KeyId: keyId, Limit: n }), items: 'Tags' },
      { family: KMS, name: 'ListKeyRotations', body: (n) => ({ KeyId: keyId, Limit: n }), items: 'Rotations' },
      // Two stores need an HSM (test/e2e/custom-key-store.test.ts pages them on SoftHSM2); refusals need none.
      { family: KMS, name: 'DescribeCustomKeyStores', body: limit, items: 'CustomKeyStores', pages: false },
      { family: SM, name: 'ListSecrets', body: max, items: 'SecretList' },
      { family: SM, name: 'ListSecretVersionIds', body: (n) => ({ SecretId: 'pm-0', MaxResults: n }), items: 'Versions' },
      { family: SM, name: 'BatchGetSecretValue', body: (n) => ({ Filters: [{ Key: 'name', Values: ['pm-'] }], MaxResults: n }), items: 'SecretValues' },
      { family: SSM, name: 'DescribeParameters', body: max, items: 'Parameters' },
      { family: SSM, name: 'GetParametersByPath', body: (n) => ({ Path: '/pm', MaxResults: n }), items: 'Parameters' },
      { family: SSM, name: 'GetParameterHistory', body: (n) => ({ Name: '/pm/p0', MaxResults: n }), items: 'Parameters' },
      { family: CT, name: 'LookupEvents', body: (n) => ({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateKey' }], MaxResults: n }), items: 'Events' },
    ];
  });
  after(() => s.stop(true));

  /** A genuine marker of `op`: its first page of one item. */
  async function firstMarker(op: ListOperation): Promise<string> {
    const page = await ok(s, op.family, op.name, op.body(1));
    const marker = page[op.family.tokenOut];
    assert.equal(typeof marker, 'string', `${op.name} with one item a page has a next page`);
    return marker as string;
  }

  test('the list is complete: every operation the AWS SDKs paginate that Trent serves is in it', async () => {
    const covered = new Set(ops.map((o) => `${o.family.prefix}.${o.name}`));
    for (const [family, sdk] of [[KMS, kmsSdk], [SM, secretsSdk], [SSM, ssmSdk]] as const) {
      const paginated = Object.keys(sdk).filter((k) => k.startsWith('paginate')).map((k) => k.slice('paginate'.length));
      assert.ok(paginated.length > 0);
      for (const name of paginated) {
        if (covered.has(`${family.prefix}.${name}`)) continue;
        const r = await call(s, family, name, {});
        assert.equal(r.json.__type, 'UnknownOperationException', `Trent serves ${family.prefix}.${name}, which pages, but this test does not cover it`);
      }
    }
  });

  test('a genuine marker pages through exactly what one unpaged call lists, in every list operation that can have two pages', async () => {
    for (const op of ops.filter((o) => o.pages !== false)) {
      const whole = await ok(s, op.family, op.name, op.body(10));
      assert.equal(whole[op.family.tokenOut], undefined, `${op.name}: one call of 10 lists everything`);
      const expected = (whole[op.items] as unknown[]).map((i) => JSON.stringify(i));
      assert.ok(expected.length >= 2, `${op.name}: the fixture makes at least two items`);
      const seen: string[] = [];
      let marker: string | undefined;
      let pages = 0;
      do {
        const page = await ok(s, op.family, op.name, { ...op.body(1), ...(marker ? { [op.family.tokenIn]: marker } : {}) });
        seen.push(...(page[op.items] as unknown[]).map((i) => JSON.stringify(i)));
        marker = page[op.family.tokenOut] as string | undefined;
        pages++;
      } while (marker !== undefined && pages < 100);
      assert.deepEqual(seen, expected, `${op.name} paged one at a time`);
    }
  });

  test('a forged, an altered (payload or MAC) and another operation\'s marker are each refused with the service\'s error, in every list operation', async () => {
    const listKeysMarker = await firstMarker(ops[0]!);
    for (const op of ops) {
      const genuine = op.pages === false ? undefined : await firstMarker(op);
      const bad: Record<string, string> = {
        'garbage': 'not-a-marker',
        'forged, unsigned': forge(op.name, '').split('.')[0]!,
        'forged': forge(op.name, ''),
        'forged, MAC of another marker': `${forge(op.name, 'zzz').split('.')[0]}.${listKeysMarker.split('.')[1]}`,
        ...(genuine ? { 'altered payload': alter(genuine, 'payload'), 'altered MAC': alter(genuine, 'mac'), 'truncated MAC': genuine.slice(0, -1) } : {}),
        ...(op.name !== 'ListKeys' ? { "another operation's": listKeysMarker } : { "another operation's": await firstMarker(ops[1]!) }),
      };
      for (const [what, marker] of Object.entries(bad)) {
        const r = await call(s, op.family, op.name, { ...op.body(1), [op.family.tokenIn]: marker });
        assert.equal(r.status, 400, `${op.name}, ${what} marker: ${JSON.stringify(r.json)}`);
        assert.equal(r.json.__type, op.family.error, `${op.name}, ${what} marker`);
      }
    }
  });
});

describe('markers across nodes and deployments', () => {
  test('a marker from one node pages on another node of the deployment; another deployment refuses it', async () => {
    const a = await startServer();
    const b = await startServer({ dataDir: a.dataDir });
    const other = await startServer();
    try {
      for (let i = 0; i < 2; i++) await ok(a, KMS, 'CreateKey', {});
      const first = await ok(a, KMS, 'ListKeys', { Limit: 1 });
      const marker = first.NextMarker as string;
      const rest = await ok(b, KMS, 'ListKeys', { Limit: 1, Marker: marker });
      assert.equal((rest.Keys as unknown[]).length, 1);
      assert.notDeepEqual(rest.Keys, first.Keys);
      const refused = await call(other, KMS, 'ListKeys', { Limit: 1, Marker: marker });
      assert.deepEqual([refused.status, refused.json.__type], [400, 'InvalidMarkerException']);
    } finally {
      await other.stop(true);
      await b.stop();
      await a.stop(true);
    }
  });
});
