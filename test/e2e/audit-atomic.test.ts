/**
 * Atomic fail-closed (docs/audit.md): a mutating call's change and its audit event commit in one
 * transaction, or neither is visible. A fault is injected between the change and the event — the
 * storage decorator makes the `audit.append` of the call's event fail, after the call's own writes — for
 * each family of mutating calls (KMS keys, grants, aliases, secrets, parameters, IAM): the call answers
 * the service's 500 and nothing it would have changed is visible afterwards, through the API or in the
 * store. With no fault every acknowledged change has its event. Runs on SQLite and, with
 * TRENT_E2E_STORAGE=postgres, on PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { FaultInjectingStorage } from '../../src/storage/fault-injection.ts';
import { ACCOUNT_ID, ADMIN, REGION, rawCall, startServer, type TestServer } from './harness.ts';

const SCOPE = { accountId: ACCOUNT_ID, region: REGION };
const ADMIN_ARN = `arn:aws:iam::${ACCOUNT_ID}:user/admin`;
const SERVICES = {
  kms: { prefix: 'TrentService', signing: 'kms', internal: 'KMSInternalException' },
  secrets: { prefix: 'secretsmanager', signing: 'secretsmanager', internal: 'InternalServiceError' },
  ssm: { prefix: 'AmazonSSM', signing: 'ssm', internal: 'InternalServerError' },
  admin: { prefix: 'TrentAdmin', signing: 'trent', internal: 'ServiceFailure' },
} as const;
type Service = keyof typeof SERVICES;
type Reply = { status: number; json: Record<string, unknown>; requestId: string };

let server: TestServer;
let faults: FaultInjectingStorage;

before(async () => {
  server = await startServer({ wrapStorage: (s) => (faults = new FaultInjectingStorage(s)) });
});
after(() => server.stop(true));

async function call(service: Service, op: string, body: Record<string, unknown>): Promise<Reply> {
  const s = SERVICES[service];
  const res = await rawCall(server.url, `${s.prefix}.${op}`, JSON.stringify(body), { service: s.signing, credentials: ADMIN });
  return { status: res.status, json: res.json, requestId: res.headers.get('x-amzn-requestid')! };
}

async function ok(service: Service, op: string, body: Record<string, unknown>): Promise<Reply> {
  const res = await call(service, op, body);
  assert.equal(res.status, 200, `${op}: ${JSON.stringify(res.json)}`);
  return res;
}

async function eventsOf(requestId: string): Promise<Record<string, unknown>[]> {
  const rows = await server.app.storage.read((r) => r.audit.scan(0, 1_000_000));
  return rows.map((r) => JSON.parse(r.record) as Record<string, unknown>).filter((e) => e.requestID === requestId);
}

/**
 * The call with the write of its own event failing once: the call's writes have been made in its
 * transaction by then. It must answer the service's 500, and be recorded as failed — not as a success.
 */
async function faulted(service: Service, op: string, body: Record<string, unknown>): Promise<Reply> {
  faults.failNext('audit.append');
  const res = await call(service, op, body);
  assert.equal(faults.pendingFaults('audit.append'), 0, `${op}: the fault was never reached`);
  assert.equal(res.status, 500, `${op}: ${JSON.stringify(res.json)}`);
  assert.equal(res.json.__type, SERVICES[service].internal, op);
  const events = await eventsOf(res.requestId);
  assert.equal(events.length, 1, `${op}: ${events.length} events`);
  assert.equal(events[0]!.errorCode, SERVICES[service].internal, op);
  assert.equal(events[0]!.responseElements ?? null, null, `${op}: a rolled-back call shows no response`);
  return res;
}

async function assertAudited(res: Reply, op: string): Promise<void> {
  const events = await eventsOf(res.requestId);
  assert.equal(events.length, 1, `${op}: ${events.length} events for an acknowledged call`);
  assert.equal(events[0]!.eventName, op);
  assert.equal(events[0]!.errorCode, undefined, op);
}

async function noIntentLeft(): Promise<void> {
  assert.deepEqual(await server.app.storage.read((r) => r.audit.listIntents(Number.MAX_SAFE_INTEGER, 10)), []);
}

describe('a fault between the change and its event rolls the change back', () => {
  let keyId: string;
  before(async () => {
    keyId = ((await ok('kms', 'CreateKey', { Description: 'atomic' })).json.KeyMetadata as { KeyId: string }).KeyId;
  });

  test('KMS keys: CreateKey and ScheduleKeyDeletion', async () => {
    const listed = ((await ok('kms', 'ListKeys', {})).json.Keys as unknown[]).length;
    const stored = await server.app.storage.read((r) => r.keys.count(SCOPE));
    await faulted('kms', 'CreateKey', { Description: 'must not exist' });
    assert.equal(((await ok('kms', 'ListKeys', {})).json.Keys as unknown[]).length, listed);
    assert.equal(await server.app.storage.read((r) => r.keys.count(SCOPE)), stored);

    await faulted('kms', 'ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: 7 });
    assert.equal(((await ok('kms', 'DescribeKey', { KeyId: keyId })).json.KeyMetadata as { KeyState: string }).KeyState, 'Enabled');
    assert.equal((await server.app.storage.read((r) => r.keys.get(SCOPE, keyId)))!.state, 'Enabled');
    // The key is usable: nothing of the rolled-back deletion stayed in a cache either.
    await ok('kms', 'Encrypt', { KeyId: keyId, Plaintext: Buffer.from('still usable').toString('base64') });
    await noIntentLeft();
  });

  test('KMS keys: a rolled-back EnableKey leaves the key disabled, in the store and in every cache', async () => {
    const id = ((await ok('kms', 'CreateKey', { Description: 'disabled' })).json.KeyMetadata as { KeyId: string }).KeyId;
    await ok('kms', 'DisableKey', { KeyId: id });
    await faulted('kms', 'EnableKey', { KeyId: id });
    // Served from the read cache if anything of the rolled-back enable had stayed in it.
    const refused = await call('kms', 'Encrypt', { KeyId: id, Plaintext: Buffer.from('no').toString('base64') });
    assert.equal(refused.json.__type, 'DisabledException');
    assert.equal(((await ok('kms', 'DescribeKey', { KeyId: id })).json.KeyMetadata as { KeyState: string }).KeyState, 'Disabled');
    assert.equal((await server.app.storage.read((r) => r.keys.get(SCOPE, id)))!.state, 'Disabled');
    await noIntentLeft();
  });

  test('KMS keys: a rotation reaching a replica, whose SynchronizeMultiRegionKey (written in the rotation\'s transaction) fails — nothing of it stays', async () => {
    const id = ((await ok('kms', 'CreateKey', { MultiRegion: true })).json.KeyMetadata as { KeyId: string }).KeyId;
    await ok('kms', 'ReplicateKey', { KeyId: id, ReplicaRegion: 'eu-west-1' });
    const copies = () => server.app.storage.read(async (r) => [
      (await r.keys.get(SCOPE, id))!.doc, (await r.keys.get({ ...SCOPE, region: 'eu-west-1' }, id))!.doc,
    ].map((d) => (d as { currentVersion: number }).currentVersion));
    const syncs = async () => (await server.app.storage.read((r) => r.audit.scan(0, 1_000_000)))
      .filter((e) => e.eventName === 'SynchronizeMultiRegionKey' && e.record.includes(id)).length;
    const before = await copies();
    await faulted('kms', 'RotateKeyOnDemand', { KeyId: id });
    assert.deepEqual(await copies(), before);
    assert.equal(await syncs(), 0);
    await ok('kms', 'RotateKeyOnDemand', { KeyId: id });
    assert.deepEqual(await copies(), before.map((v) => v + 1));
    assert.equal(await syncs(), 1);
    await noIntentLeft();
  });

  test('grants: CreateGrant and RevokeGrant', async () => {
    await faulted('kms', 'CreateGrant', { KeyId: keyId, GranteePrincipal: ADMIN_ARN, Operations: ['Encrypt'] });
    assert.deepEqual((await ok('kms', 'ListGrants', { KeyId: keyId })).json.Grants, []);
    assert.deepEqual(await server.app.storage.read((r) => r.grants.listForKey(SCOPE, keyId)), []);

    const grantId = (await ok('kms', 'CreateGrant', { KeyId: keyId, GranteePrincipal: ADMIN_ARN, Operations: ['Encrypt'] })).json.GrantId as string;
    await faulted('kms', 'RevokeGrant', { KeyId: keyId, GrantId: grantId });
    assert.deepEqual(((await ok('kms', 'ListGrants', { KeyId: keyId })).json.Grants as { GrantId: string }[]).map((g) => g.GrantId), [grantId]);
    assert.ok(await server.app.storage.read((r) => r.grants.get(grantId)));
    await noIntentLeft();
  });

  test('aliases: CreateAlias', async () => {
    await faulted('kms', 'CreateAlias', { AliasName: 'alias/atomic-never', TargetKeyId: keyId });
    assert.deepEqual((await ok('kms', 'ListAliases', { KeyId: keyId })).json.Aliases, []);
    assert.equal(await server.app.storage.read((r) => r.aliases.get(SCOPE, 'alias/atomic-never')), undefined);
    await noIntentLeft();
  });

  test('secrets: CreateSecret and PutSecretValue', async () => {
    await faulted('secrets', 'CreateSecret', { Name: 'atomic-never', SecretString: 'v', ClientRequestToken: randomUUID() });
    assert.equal((await call('secrets', 'DescribeSecret', { SecretId: 'atomic-never' })).json.__type, 'ResourceNotFoundException');
    assert.equal(await server.app.storage.read((r) => r.secrets.get(SCOPE, 'atomic-never')), undefined);

    await ok('secrets', 'CreateSecret', { Name: 'atomic-kept', SecretString: 'first', ClientRequestToken: randomUUID() });
    const before = (await server.app.storage.read((r) => r.secrets.get(SCOPE, 'atomic-kept')))!;
    await faulted('secrets', 'PutSecretValue', { SecretId: 'atomic-kept', SecretString: 'second', ClientRequestToken: randomUUID() });
    assert.equal((await ok('secrets', 'GetSecretValue', { SecretId: 'atomic-kept' })).json.SecretString, 'first');
    assert.equal(((await ok('secrets', 'ListSecretVersionIds', { SecretId: 'atomic-kept' })).json.Versions as unknown[]).length, 1);
    // GetSecretValue stamps lastAccessedAt, so compare the versions, not the whole record.
    const versions = (s: typeof before) => Object.keys((s.doc as { versions: Record<string, unknown> }).versions).sort();
    assert.deepEqual(versions((await server.app.storage.read((r) => r.secrets.get(SCOPE, 'atomic-kept')))!), versions(before));
    await noIntentLeft();
  });

  test('secrets: replication — a replica is created, updated and removed in its primary\'s unit, or not at all', async () => {
    const replica = { accountId: ACCOUNT_ID, region: 'eu-west-1' };
    const stored = (name: string) => server.app.storage.read((r) => r.secrets.get(replica, name));
    await faulted('secrets', 'CreateSecret', { Name: 'atomic-born', SecretString: 'v', ClientRequestToken: randomUUID(), AddReplicaRegions: [{ Region: 'eu-west-1' }] });
    assert.equal(await server.app.storage.read((r) => r.secrets.get(SCOPE, 'atomic-born')), undefined);
    assert.equal(await stored('atomic-born'), undefined);

    await ok('secrets', 'CreateSecret', { Name: 'atomic-repl', SecretString: 'first', ClientRequestToken: randomUUID() });
    await faulted('secrets', 'ReplicateSecretToRegions', { SecretId: 'atomic-repl', AddReplicaRegions: [{ Region: 'eu-west-1' }] });
    assert.equal(await stored('atomic-repl'), undefined);
    assert.equal((await ok('secrets', 'DescribeSecret', { SecretId: 'atomic-repl' })).json.ReplicationStatus, undefined);

    await ok('secrets', 'ReplicateSecretToRegions', { SecretId: 'atomic-repl', AddReplicaRegions: [{ Region: 'eu-west-1' }] });
    const before = (await stored('atomic-repl'))!;
    await faulted('secrets', 'PutSecretValue', { SecretId: 'atomic-repl', SecretString: 'second', ClientRequestToken: randomUUID() });
    assert.deepEqual(await stored('atomic-repl'), before, 'the replica is as it was');
    await faulted('secrets', 'RemoveRegionsFromReplication', { SecretId: 'atomic-repl', RemoveReplicaRegions: ['eu-west-1'] });
    assert.deepEqual(await stored('atomic-repl'), before);
    await noIntentLeft();
  });

  test('parameters: PutParameter and DeleteParameter', async () => {
    await faulted('ssm', 'PutParameter', { Name: '/atomic/never', Value: 'v', Type: 'String' });
    assert.equal((await call('ssm', 'GetParameter', { Name: '/atomic/never' })).json.__type, 'ParameterNotFound');
    assert.equal(await server.app.storage.read((r) => r.parameters.get(SCOPE, '/atomic/never')), undefined);

    await ok('ssm', 'PutParameter', { Name: '/atomic/kept', Value: 'first', Type: 'String' });
    await faulted('ssm', 'PutParameter', { Name: '/atomic/kept', Value: 'second', Type: 'String', Overwrite: true });
    await faulted('ssm', 'DeleteParameter', { Name: '/atomic/kept' });
    const p = (await ok('ssm', 'GetParameter', { Name: '/atomic/kept' })).json.Parameter as { Value: string; Version: number };
    assert.deepEqual([p.Value, p.Version], ['first', 1]);
    assert.equal((await server.app.storage.read((r) => r.parameters.listVersions(SCOPE, '/atomic/kept'))).length, 1);
    await noIntentLeft();
  });

  test('IAM: CreateUser, PutUserPolicy and CreateAccessKey', async () => {
    await faulted('admin', 'CreateUser', { UserName: 'atomic-never' });
    assert.notEqual((await call('admin', 'GetUser', { UserName: 'atomic-never' })).status, 200);
    assert.equal(await server.app.storage.read((r) => r.principals.get(`arn:aws:iam::${ACCOUNT_ID}:user/atomic-never`)), undefined);

    await ok('admin', 'CreateUser', { UserName: 'atomic-kept' });
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] });
    await faulted('admin', 'PutUserPolicy', { UserName: 'atomic-kept', PolicyName: 'p', PolicyDocument: policy });
    assert.deepEqual(((await ok('admin', 'GetUser', { UserName: 'atomic-kept' })).json.User as { PolicyNames: string[] }).PolicyNames, []);

    const keys = await server.app.storage.read((r) => r.accessKeys.count());
    const refused = await faulted('admin', 'CreateAccessKey', { UserName: 'atomic-kept' });
    assert.equal(refused.json.AccessKey, undefined);
    assert.equal(await server.app.storage.read((r) => r.accessKeys.count()), keys);
    await noIntentLeft();
  });

  test('with the event write failing for good, the call fails, nothing is visible and its intent is left for recovery', async () => {
    const stored = await server.app.storage.read((r) => r.keys.count(SCOPE));
    // Every way an event is written: a unit's append, and the group commit's (appendBatch on PostgreSQL).
    const writes = ['audit.append', 'audit.appendBatch'];
    for (const w of writes) faults.failing.add(w);
    let res: Reply;
    try {
      res = await call('kms', 'CreateKey', { Description: 'must not exist either' });
    } finally {
      for (const w of writes) faults.failing.delete(w);
    }
    assert.equal(res.status, 500);
    assert.equal(res.json.__type, 'KMSInternalException');
    assert.equal(await server.app.storage.read((r) => r.keys.count(SCOPE)), stored);
    assert.deepEqual(await eventsOf(res.requestId), []);
    const intents = await server.app.storage.read((r) => r.audit.listIntents(Number.MAX_SAFE_INTEGER, 10));
    assert.equal(intents.length, 1);
    assert.equal((JSON.parse(intents[0]!.record) as { requestId: string }).requestId, res.requestId);
    await server.app.storage.transaction((tx) => tx.audit.deleteIntents([intents[0]!.intentId]));
  });
});

test('with no fault, every acknowledged change of every family has its event', async () => {
  const done: [Reply, string][] = [];
  const run = async (service: Service, op: string, body: Record<string, unknown>) => {
    const res = await ok(service, op, body);
    done.push([res, op]);
    return res;
  };
  const keyId = ((await run('kms', 'CreateKey', {})).json.KeyMetadata as { KeyId: string }).KeyId;
  const grantId = (await run('kms', 'CreateGrant', { KeyId: keyId, GranteePrincipal: ADMIN_ARN, Operations: ['Decrypt'] })).json.GrantId as string;
  await run('kms', 'RevokeGrant', { KeyId: keyId, GrantId: grantId });
  await run('kms', 'CreateAlias', { AliasName: 'alias/atomic-ok', TargetKeyId: keyId });
  await run('kms', 'ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: 7 });
  await run('secrets', 'CreateSecret', { Name: 'atomic-ok', SecretString: 'a', ClientRequestToken: randomUUID() });
  await run('secrets', 'PutSecretValue', { SecretId: 'atomic-ok', SecretString: 'b', ClientRequestToken: randomUUID() });
  await run('ssm', 'PutParameter', { Name: '/atomic/ok', Value: 'a', Type: 'String' });
  await run('ssm', 'DeleteParameter', { Name: '/atomic/ok' });
  await run('admin', 'CreateUser', { UserName: 'atomic-ok' });
  await run('admin', 'PutUserPolicy', { UserName: 'atomic-ok', PolicyName: 'p', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' }] }) });
  await run('admin', 'CreateAccessKey', { UserName: 'atomic-ok' });
  for (const [res, op] of done) await assertAudited(res, op);
  await noIntentLeft();
  // And the changes are there.
  assert.equal(((await ok('kms', 'DescribeKey', { KeyId: keyId })).json.KeyMetadata as { KeyState: string }).KeyState, 'PendingDeletion');
  assert.equal((await ok('secrets', 'GetSecretValue', { SecretId: 'atomic-ok' })).json.SecretString, 'b');
});
