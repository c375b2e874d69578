/**
 * The audit log end to end: one CloudTrail event per request at the edge, whatever the outcome; no
 * secret in any event or in the store; fail closed when the audit store cannot be written; tampering
 * named by `trent audit verify`; LookupEvents through the AWS CLI; GetKeyLastUsage.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { chainHash, verifyChain } from '../../src/audit/chain.ts';
import { runCli } from '../../src/cli/main.ts';
import { FaultInjectingStorage } from '../../src/storage/fault-injection.ts';
import type { AuditEventRow } from '../../src/storage/audit-repo.ts';
import { awsCli, cliSkipReason } from './aws-cli.ts';
import { ADMIN, ACCOUNT_ID, E2E_STORAGE, rawCall, REGION, startServer, type TestServer } from './harness.ts';

const CT = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents';
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function allEvents(server: TestServer): Promise<AuditEventRow[]> {
  return server.app.storage.read((r) => r.audit.scan(0, 100_000));
}

function eventsOf(rows: AuditEventRow[], requestId: string): Record<string, unknown>[] {
  return rows.map((r) => JSON.parse(r.record) as Record<string, unknown>).filter((e) => e.requestID === requestId);
}

async function call(server: TestServer, op: string, body: Record<string, unknown>, opts: Parameters<typeof rawCall>[3] = {}) {
  const res = await rawCall(server.url, `TrentService.${op}`, JSON.stringify(body), opts);
  return { ...res, requestId: res.headers.get('x-amzn-requestid')! };
}

/** Asserts exactly one event for the response, with the fields CloudTrail would show. */
function assertOneEvent(rows: AuditEventRow[], res: { status: number; json: Record<string, unknown>; requestId: string }, op: string) {
  const found = eventsOf(rows, res.requestId);
  assert.equal(found.length, 1, `${op}: ${found.length} events for request ${res.requestId}`);
  const e = found[0]!;
  assert.equal(e.eventName, op);
  assert.equal(e.eventSource, 'kms.amazonaws.com');
  assert.equal(e.awsRegion, REGION);
  assert.equal(e.recipientAccountId, ACCOUNT_ID);
  assert.equal(e.eventType, 'AwsApiCall');
  assert.equal(e.eventCategory, 'Management');
  assert.equal(e.managementEvent, true);
  assert.equal(typeof e.eventID, 'string');
  assert.match(e.eventTime as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(e.sourceIPAddress, '127.0.0.1');
  assert.equal((e.userIdentity as Record<string, unknown>).accessKeyId, ADMIN.accessKeyId);
  if (res.status === 200) assert.equal(e.errorCode, undefined, `${op}: ${String(e.errorCode)}`);
  else assert.equal(e.errorCode, res.json.__type, op);
  return e;
}

describe('audit events at the edge', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop(true));

  test('every KMS operation type, called with an empty body, produces exactly one event with its outcome', async () => {
    const ops = [
      'CreateKey', 'DescribeKey', 'ListKeys', 'Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext',
      'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'GenerateRandom', 'Sign', 'Verify', 'GenerateMac', 'VerifyMac',
      'GetPublicKey', 'DeriveSharedSecret', 'EnableKey', 'DisableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion', 'EnableKeyRotation',
      'DisableKeyRotation', 'GetKeyRotationStatus', 'RotateKeyOnDemand', 'ListKeyRotations', 'CreateAlias', 'UpdateAlias', 'DeleteAlias',
      'ListAliases', 'TagResource', 'UntagResource', 'ListResourceTags', 'UpdateKeyDescription', 'GetKeyLastUsage', 'GetKeyPolicy',
      'PutKeyPolicy', 'CreateGrant', 'ListGrants', 'RevokeGrant', 'RetireGrant', 'ReplicateKey', 'UpdatePrimaryRegion',
    ];
    const responses = [];
    for (const op of ops) responses.push({ op, res: await call(server, op, {}) });
    const rows = await allEvents(server);
    for (const { op, res } of responses) assertOneEvent(rows, res, op);
  });

  test('success, validation error, bad signature, unknown access key and unknown operation each produce one event', async () => {
    const ok = await call(server, 'CreateKey', { Description: 'audited' });
    assert.equal(ok.status, 200);
    const keyArn = (ok.json.KeyMetadata as { Arn: string }).Arn;
    const invalid = await call(server, 'Encrypt', { KeyId: keyArn });
    assert.equal(invalid.json.__type, 'ValidationException');
    const badSig = await call(server, 'DescribeKey', { KeyId: keyArn }, { credentials: { accessKeyId: ADMIN.accessKeyId, secretAccessKey: 'wrong-secret-wrong-secret' } });
    assert.equal(badSig.json.__type, 'InvalidSignatureException');
    const unknownKey = await call(server, 'DescribeKey', { KeyId: keyArn }, { credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN01', secretAccessKey: 'x'.repeat(40) } });
    assert.equal(unknownKey.json.__type, 'UnrecognizedClientException');
    const unknownOp = await call(server, 'NoSuchOperation', {});
    assert.equal(unknownOp.json.__type, 'UnknownOperationException');
    const unsigned = await call(server, 'ListKeys', {}, { sign: false });
    assert.equal(unsigned.status, 400);

    const rows = await allEvents(server);
    const created = assertOneEvent(rows, ok, 'CreateKey');
    assert.equal(created.readOnly, false);
    assert.deepEqual(created.resources, [{ ARN: keyArn, type: 'AWS::KMS::Key', accountId: ACCOUNT_ID }]);
    assert.equal((created.requestParameters as Record<string, unknown>).description, 'audited');
    assert.equal(((created.responseElements as Record<string, unknown>).keyMetadata as Record<string, unknown>).arn, keyArn);
    const ident = created.userIdentity as Record<string, unknown>;
    assert.equal(ident.accountId, ACCOUNT_ID);
    assert.equal(typeof ident.arn, 'string');
    assert.equal(typeof ident.type, 'string');

    const v = assertOneEvent(rows, invalid, 'Encrypt');
    assert.equal(v.readOnly, true);
    assert.match(v.errorMessage as string, /plaintext/i);

    for (const [res, key] of [[badSig, ADMIN.accessKeyId], [unknownKey, 'AKIAUNKNOWNUNKNOWN01']] as const) {
      const [e] = eventsOf(rows, res.requestId);
      assert.ok(e, 'an event for a request that failed authentication');
      assert.equal(e.eventName, 'DescribeKey');
      assert.equal(e.errorCode, res.json.__type);
      // Authentication failed: the access key id is recorded, unverified, and no identity is claimed.
      assert.deepEqual(e.userIdentity, { type: 'Unknown', accessKeyId: key });
    }
    const [op] = eventsOf(rows, unknownOp.requestId);
    assert.equal(op?.eventName, 'NoSuchOperation');
    assert.equal(op?.errorCode, 'UnknownOperationException');
    assert.equal(eventsOf(rows, unsigned.requestId).length, 1);
  });

  test('an AccessDenied call produces one event naming the denied principal; the new access key secret is in no event', async () => {
    const admin = async (op: string, body: Record<string, unknown>) => {
      const r = await rawCall(server.url, `TrentAdmin.${op}`, JSON.stringify(body), { service: 'trent' });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return { ...r, requestId: r.headers.get('x-amzn-requestid')! };
    };
    await admin('CreateUser', { UserName: 'mallory' });
    const created = await admin('CreateAccessKey', { UserName: 'mallory' });
    const creds = (created.json.AccessKey as { AccessKeyId: string; SecretAccessKey: string });
    const key = (await call(server, 'CreateKey', {})).json.KeyMetadata as { Arn: string };
    const denied = await call(server, 'DescribeKey', { KeyId: key.Arn }, { credentials: { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey } });
    assert.equal(denied.json.__type, 'AccessDeniedException');
    const rows = await allEvents(server);
    const found = eventsOf(rows, denied.requestId);
    assert.equal(found.length, 1);
    const e = found[0]!;
    assert.equal(e.eventName, 'DescribeKey');
    assert.equal(e.errorCode, 'AccessDeniedException');
    assert.equal(e.errorMessage, denied.json.message);
    assert.deepEqual(
      { type: (e.userIdentity as Record<string, unknown>).type, userName: (e.userIdentity as Record<string, unknown>).userName, accessKeyId: (e.userIdentity as Record<string, unknown>).accessKeyId },
      { type: 'IAMUser', userName: 'mallory', accessKeyId: creds.AccessKeyId },
    );
    assert.deepEqual(e.resources, [{ ARN: key.Arn, type: 'AWS::KMS::Key', accountId: ACCOUNT_ID }]);
    assert.equal(eventsOf(rows, created.requestId).length, 1);
    assert.equal(JSON.stringify(rows).includes(creds.SecretAccessKey), false);
  });

  test('no plaintext, data key, random bytes or credential appears in any event or anywhere in the store', async () => {
    const secrets: string[] = [ADMIN.secretAccessKey];
    const plaintext = 'the-audit-must-never-see-this-plaintext';
    secrets.push(plaintext, b64(plaintext));
    const key = (await call(server, 'CreateKey', {})).json.KeyMetadata as { KeyId: string };
    const enc = await call(server, 'Encrypt', { KeyId: key.KeyId, Plaintext: b64(plaintext), EncryptionContext: { purpose: 'audit-test' } });
    const dec = await call(server, 'Decrypt', { CiphertextBlob: enc.json.CiphertextBlob, EncryptionContext: { purpose: 'audit-test' } });
    assert.equal(dec.json.Plaintext, b64(plaintext));
    const dk = await call(server, 'GenerateDataKey', { KeyId: key.KeyId, KeySpec: 'AES_256' });
    secrets.push(dk.json.Plaintext as string, Buffer.from(dk.json.Plaintext as string, 'base64').toString('hex'));
    const rnd = await call(server, 'GenerateRandom', { NumberOfBytes: 32 });
    secrets.push(rnd.json.Plaintext as string);
    const re = await call(server, 'ReEncrypt', { CiphertextBlob: enc.json.CiphertextBlob, SourceEncryptionContext: { purpose: 'audit-test' }, DestinationKeyId: key.KeyId });
    assert.equal(re.status, 200);
    // A failing call carrying a plaintext is recorded too, still without it.
    const failing = await call(server, 'Encrypt', { KeyId: 'alias/does-not-exist', Plaintext: b64(plaintext) });
    assert.equal(failing.status, 400);

    const rows = await allEvents(server);
    const look = await rawCall(server.url, CT, JSON.stringify({ MaxResults: 50 }), { service: 'cloudtrail' });
    const everything = [JSON.stringify(rows), JSON.stringify(look.json)].join('\n');
    for (const s of secrets) assert.equal(everything.includes(s), false, `secret found in the events: ${s.slice(0, 8)}…`);
    // The encryption context is not secret: CloudTrail shows it.
    assert.equal(eventsOf(rows, enc.requestId)[0]?.requestParameters && JSON.stringify(eventsOf(rows, enc.requestId)[0]!.requestParameters).includes('audit-test'), true);
    if (E2E_STORAGE === 'sqlite') {
      // The raw database file and its WAL: nothing of the secrets in any form.
      const raw = ['trent.db', 'trent.db-wal'].map((f) => join(server.dataDir, f)).filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('');
      for (const s of secrets) assert.equal(raw.includes(s), false, `secret found in the database file: ${s.slice(0, 8)}…`);
    }
  });

  test('Secrets Manager secret values and SecureString parameter values appear in no event', async () => {
    const secretValue = 'sm-secret-value-never-audited-7f3a';
    const paramValue = 'ssm-securestring-never-audited-91c2';
    const sm = async (op: string, body: Record<string, unknown>) => {
      const r = await rawCall(server.url, `secretsmanager.${op}`, JSON.stringify(body), { service: 'secretsmanager' });
      return { ...r, requestId: r.headers.get('x-amzn-requestid')! };
    };
    const ssm = async (op: string, body: Record<string, unknown>) => {
      const r = await rawCall(server.url, `AmazonSSM.${op}`, JSON.stringify(body), { service: 'ssm' });
      return { ...r, requestId: r.headers.get('x-amzn-requestid')! };
    };
    const created = await sm('CreateSecret', { Name: 'audit/db', SecretString: secretValue });
    const put = await sm('PutSecretValue', { SecretId: 'audit/db', SecretString: `${secretValue}-2` });
    const got = await sm('GetSecretValue', { SecretId: 'audit/db' });
    const param = await ssm('PutParameter', { Name: '/audit/p', Type: 'SecureString', Value: paramValue });
    const read = await ssm('GetParameter', { Name: '/audit/p', WithDecryption: true });
    const rows = await allEvents(server);
    for (const r of [created, put, got, param, read]) assert.equal(eventsOf(rows, r.requestId).length, 1, JSON.stringify(r.json));
    assert.equal(eventsOf(rows, created.requestId)[0]!.eventSource, 'secretsmanager.amazonaws.com');
    assert.equal(eventsOf(rows, param.requestId)[0]!.eventSource, 'ssm.amazonaws.com');
    const text = JSON.stringify(rows);
    for (const v of [secretValue, b64(secretValue), paramValue, b64(paramValue)]) assert.equal(text.includes(v), false, v);
  });

  test('GetKeyLastUsage answers from the audit log: the last successful cryptographic call and its event id', async () => {
    const key = (await call(server, 'CreateKey', {})).json.KeyMetadata as { KeyId: string; Arn: string; CreationDate: number };
    const before = await call(server, 'GetKeyLastUsage', { KeyId: key.KeyId });
    assert.equal(before.status, 200);
    assert.equal(before.json.KeyLastUsage, undefined);
    assert.equal(before.json.KeyCreationDate, key.CreationDate);
    const enc = await call(server, 'Encrypt', { KeyId: key.Arn, Plaintext: b64('x') });
    await call(server, 'Encrypt', { KeyId: key.Arn }); // a failed call does not count
    const after = await call(server, 'GetKeyLastUsage', { KeyId: key.KeyId });
    const usage = after.json.KeyLastUsage as { Operation: string; CloudTrailEventId: string; Timestamp: number };
    assert.equal(usage.Operation, 'Encrypt');
    const [encEvent] = eventsOf(await allEvents(server), enc.requestId);
    assert.equal(usage.CloudTrailEventId, encEvent!.eventID);
    assert.equal((await call(server, 'GetKeyLastUsage', { KeyId: 'alias/whatever' })).json.__type, 'NotFoundException');
  });

  test('LookupEvents filters by each attribute and pages with NextToken', async () => {
    const key = (await call(server, 'CreateKey', { Description: 'lookup' })).json.KeyMetadata as { Arn: string };
    const enc = await call(server, 'Encrypt', { KeyId: key.Arn, Plaintext: b64('y') });
    const look = async (body: Record<string, unknown>) => {
      const r = await rawCall(server.url, CT, JSON.stringify(body), { service: 'cloudtrail' });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return r.json as { Events: { EventId: string; EventName: string; ReadOnly: string; CloudTrailEvent: string; Resources: { ResourceName: string }[] }[]; NextToken?: string };
    };
    const byName = await look({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: key.Arn }] });
    assert.deepEqual(byName.Events.map((e) => e.EventName), ['Encrypt', 'CreateKey']);
    const encEventId = (JSON.parse(byName.Events[0]!.CloudTrailEvent) as { eventID: string; requestID: string });
    assert.equal(encEventId.requestID, enc.requestId);
    assert.equal((await look({ LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: byName.Events[0]!.EventId }] })).Events.length, 1);
    assert.ok((await look({ LookupAttributes: [{ AttributeKey: 'ReadOnly', AttributeValue: 'false' }] })).Events.every((e) => e.ReadOnly === 'false'));
    assert.ok((await look({ LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: ADMIN.accessKeyId }] })).Events.length > 0);
    assert.ok((await look({ LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 'kms.amazonaws.com' }] })).Events.length > 0);
    assert.ok((await look({ LookupAttributes: [{ AttributeKey: 'ResourceType', AttributeValue: 'AWS::KMS::Key' }] })).Events.length > 0);
    const p1 = await look({ MaxResults: 2 });
    assert.equal(p1.Events.length, 2);
    const p2 = await look({ MaxResults: 2, NextToken: p1.NextToken });
    assert.notEqual(p2.Events[0]!.EventId, p1.Events[1]!.EventId);
    const future = await look({ StartTime: Date.now() / 1000 + 3600 });
    assert.equal(future.Events.length, 0);
    const bad = await rawCall(server.url, CT, JSON.stringify({ MaxResults: 51 }), { service: 'cloudtrail' });
    assert.equal(bad.json.__type, 'InvalidMaxResultsException');
    const two = await rawCall(server.url, CT, JSON.stringify({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'a' }, { AttributeKey: 'EventName', AttributeValue: 'b' }] }), { service: 'cloudtrail' });
    assert.equal(two.json.__type, 'InvalidLookupAttributesException');
  });

  test('LookupEvents: EventTime is the record\'s whole second, and StartTime = EndTime = it finds the event', async () => {
    const key = (await call(server, 'CreateKey', { Description: 'to the second' })).json.KeyMetadata as { Arn: string };
    const look = async (body: Record<string, unknown>) =>
      (await rawCall(server.url, CT, JSON.stringify(body), { service: 'cloudtrail' })).json.Events as { EventTime: number; CloudTrailEvent: string }[];
    const [e] = await look({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: key.Arn }] });
    assert.equal(e!.EventTime * 1000, Date.parse((JSON.parse(e!.CloudTrailEvent) as { eventTime: string }).eventTime));
    const same = await look({ StartTime: e!.EventTime, EndTime: e!.EventTime, LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: key.Arn }] });
    assert.equal(same.length, 1);
  });

  test('a write refused before it runs (bad signature) is recorded as a write: LookupEvents ReadOnly=false finds it', async () => {
    const refused = await call(server, 'ScheduleKeyDeletion', { KeyId: 'alias/x' }, { credentials: { accessKeyId: ADMIN.accessKeyId, secretAccessKey: 'wrong-wrong-wrong-wrong' } });
    assert.equal(refused.json.__type, 'InvalidSignatureException');
    const [event] = eventsOf(await allEvents(server), refused.requestId);
    assert.equal(event!.readOnly, false);
    const writes = (await rawCall(server.url, CT, JSON.stringify({ LookupAttributes: [{ AttributeKey: 'ReadOnly', AttributeValue: 'false' }], MaxResults: 50 }), { service: 'cloudtrail' }))
      .json.Events as { CloudTrailEvent: string }[];
    assert.ok(writes.some((w) => (JSON.parse(w.CloudTrailEvent) as { requestID: string }).requestID === refused.requestId));
  });
});

describe('fail closed: an unwritable audit store', () => {
  let server: TestServer;
  let faults: FaultInjectingStorage;
  before(async () => {
    server = await startServer({ wrapStorage: (s) => (faults = new FaultInjectingStorage(s)) });
  });
  after(() => server.stop(true));

  test('calls fail with an internal error and nothing they would have changed is visible afterwards', async () => {
    const key = (await call(server, 'CreateKey', {})).json.KeyMetadata as { KeyId: string };
    const keysBefore = (await call(server, 'ListKeys', {})).json.Keys as unknown[];
    faults.unwritable.add('audit');
    const attempts = [
      await call(server, 'CreateKey', { Description: 'must not exist' }),
      await call(server, 'ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: 7 }),
      await call(server, 'TagResource', { KeyId: key.KeyId, Tags: [{ TagKey: 'k', TagValue: 'v' }] }),
      await call(server, 'CreateAlias', { AliasName: 'alias/must-not-exist', TargetKeyId: key.KeyId }),
      await call(server, 'DisableKey', { KeyId: key.KeyId }),
      await call(server, 'Encrypt', { KeyId: key.KeyId, Plaintext: b64('z') }),
      await call(server, 'DescribeKey', { KeyId: 'not-even-valid' }),
    ];
    for (const a of attempts) {
      assert.equal(a.status, 500, JSON.stringify(a.json));
      assert.equal(a.json.__type, 'KMSInternalException');
    }
    faults.unwritable.delete('audit');
    assert.equal(((await call(server, 'ListKeys', {})).json.Keys as unknown[]).length, keysBefore.length);
    const described = (await call(server, 'DescribeKey', { KeyId: key.KeyId })).json.KeyMetadata as { KeyState: string };
    assert.equal(described.KeyState, 'Enabled');
    assert.deepEqual((await call(server, 'ListResourceTags', { KeyId: key.KeyId })).json.Tags, []);
    assert.deepEqual((await call(server, 'ListAliases', { KeyId: key.KeyId })).json.Aliases, []);
    const rows = await allEvents(server);
    for (const a of attempts) assert.equal(eventsOf(rows, a.requestId).length, 0);
  });

  test('a group-commit batch that cannot be written fails every call in it (503, no event); every call answered 200 has exactly one event; the chain verifies', async () => {
    const key = (await call(server, 'CreateKey', {})).json.KeyMetadata as { KeyId: string };
    // The group commit's write: one statement on PostgreSQL (AuditRepo.appendBatch), the event INSERT of a transaction on SQLite.
    const write = (await server.app.storage.read(async (r) => typeof r.audit.appendBatch === 'function')) ? 'audit.appendBatch' : 'audit.append';
    // Warm: the next batches are written the way a busy node writes them (on PostgreSQL, onto the head it expects).
    await Promise.all(Array.from({ length: 8 }, () => call(server, 'Encrypt', { KeyId: key.KeyId, Plaintext: b64('warm') })));
    faults.failNext(write, 1, 'unavailable');
    const answers = await Promise.all(Array.from({ length: 40 }, () => call(server, 'Encrypt', { KeyId: key.KeyId, Plaintext: b64('x') })));
    assert.equal(faults.pendingFaults(write), 0, 'the fault was never reached');
    const rows = await allEvents(server);
    const failed = answers.filter((a) => a.status !== 200);
    assert.ok(failed.length > 0, 'no call failed');
    for (const a of failed) {
      assert.equal(a.status, 503, JSON.stringify(a.json));
      assert.equal(a.json.__type, 'ServiceUnavailableException');
      assert.equal(eventsOf(rows, a.requestId).length, 0, 'a failed call has an event');
    }
    for (const a of answers.filter((x) => x.status === 200)) assert.equal(eventsOf(rows, a.requestId).length, 1, 'an answered call has no event, or two');
    // The batches after the failed one are written onto the real head (on PostgreSQL the failed write left it unknown).
    const after = await call(server, 'Encrypt', { KeyId: key.KeyId, Plaintext: b64('after') });
    assert.equal(after.status, 200);
    const all = await allEvents(server);
    assert.equal(eventsOf(all, after.requestId).length, 1);
    assert.equal(verifyChain(all, [], undefined).ok, true);
  });
});

describe('tampering is named by trent audit verify', { skip: E2E_STORAGE !== 'sqlite' && 'tamper tests edit the SQLite file directly' }, () => {
  let dir: string;
  let pristine: string;
  let rows: AuditEventRow[];
  before(async () => {
    const server = await startServer();
    for (let i = 0; i < 6; i++) await call(server, 'CreateKey', { Description: `k${i}` });
    rows = await allEvents(server);
    await server.stop();
    dir = mkdtempSync(join(tmpdir(), 'trent-tamper-'));
    pristine = join(server.dataDir, 'trent.db');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function verify(edit: (db: Database.Database) => void): Promise<{ code: number; out: string }> {
    const copy = mkdtempSync(join(dir, 'case-'));
    copyFileSync(pristine, join(copy, 'trent.db'));
    const db = new Database(join(copy, 'trent.db'));
    edit(db);
    db.close();
    let out = '';
    const sink = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) });
    const code = await runCli(['audit', 'verify', '--data-dir', copy], { env: {}, stdout: sink, stderr: sink });
    return { code, out };
  }

  test('the untouched store verifies (exit 0)', async () => {
    const r = await verify(() => undefined);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /audit chain OK/);
  });

  test('an edited field is named at its event', async () => {
    const r = await verify((db) => db.prepare("UPDATE audit_events SET record = replace(record, '\"k3\"', '\"kX\"') WHERE seq = 4").run());
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`\\(edited\\): event seq 4 \\(eventID ${rows[3]!.eventId}\\)`));
  });

  test('a deleted row is named by its seq', async () => {
    const r = await verify((db) => db.prepare('DELETE FROM audit_events WHERE seq = 3').run());
    assert.equal(r.code, 1);
    assert.match(r.out, /\(deleted\): event seq 3 was deleted/);
  });

  test('an inserted row is named as inserted', async () => {
    const r = await verify((db) => {
      db.prepare('UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 3').run();
      db.prepare('UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1000').run();
      const record = rows[1]!.record.replace(rows[1]!.eventId, 'forged-event');
      const prev = rows[1]!.hash;
      // Its columns copied from the event it imitates: they agree with its record, as a careful forger's would.
      db.prepare(`INSERT INTO audit_events (seq, event_id, event_time, event_name, event_source, recipient_account, aws_region, username,
        caller_access_key, read_only, error_code, resource_names, resource_types, record, prev_hash, hash)
        SELECT 3, 'forged-event', event_time, event_name, event_source, recipient_account, aws_region, username,
        caller_access_key, read_only, error_code, resource_names, resource_types, ?, ?, ? FROM audit_events WHERE seq = 2`)
        .run(record, prev, chainHash(prev, record));
    });
    assert.equal(r.code, 1);
    assert.match(r.out, /\(inserted\): event seq 3 \(eventID forged-event\)/);
  });

  test('two swapped rows are named as reordered at the first of them', async () => {
    const r = await verify((db) => {
      db.prepare('UPDATE audit_events SET seq = -1 WHERE seq = 2').run();
      db.prepare('UPDATE audit_events SET seq = 2 WHERE seq = 5').run();
      db.prepare('UPDATE audit_events SET seq = 5 WHERE seq = -1').run();
    });
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`\\(reordered\\): event seq 2 \\(eventID ${rows[4]!.eventId}\\)`));
  });

  test('trent audit export writes the events of a time range as JSON Lines; tail prints the newest', async () => {
    let out = '';
    const sink = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) });
    const file = join(dir, 'export.jsonl');
    const dataDir = join(pristine, '..');
    assert.equal(await runCli(['audit', 'export', '--data-dir', dataDir, '--from', '2000-01-01T00:00:00Z', '--out', file], { env: {}, stdout: sink, stderr: sink }), 0, out);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number; event: { eventID: string } });
    assert.deepEqual(lines.map((l) => l.event.eventID), rows.map((r) => r.eventId));
    out = '';
    assert.equal(await runCli(['audit', 'tail', '--data-dir', dataDir, '-n', '2'], { env: {}, stdout: sink, stderr: sink }), 0);
    assert.deepEqual(out.trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq), rows.slice(-2).map((r) => r.seq));
  });

  test('deleting the newest rows is caught by the digest signed at shutdown', async () => {
    const r = await verify((db) => db.prepare('DELETE FROM audit_events WHERE seq >= ?').run(rows.length - 1));
    assert.equal(r.code, 1);
    assert.match(r.out, /\(deleted\)/);
  });
});

test('AWS CLI: aws cloudtrail lookup-events returns the events of a scripted session', { skip: cliSkipReason() }, async () => {
  const server = await startServer();
  try {
    const cli = (args: string[]) => awsCli(server.url, args).then((out) => (out.trim() ? JSON.parse(out) : {}));
    const key = (await cli(['kms', 'create-key', '--description', 'cloudtrail tour'])).KeyMetadata;
    await cli(['kms', 'create-alias', '--alias-name', 'alias/ct-tour', '--target-key-id', key.KeyId]);
    await cli(['kms', 'encrypt', '--key-id', 'alias/ct-tour', '--plaintext', b64('tour')]);
    await cli(['kms', 'describe-key', '--key-id', key.Arn]);
    const all = await cli(['cloudtrail', 'lookup-events', '--max-results', '10']);
    const names = all.Events.map((e: { EventName: string }) => e.EventName);
    assert.deepEqual(names.slice(0, 4), ['DescribeKey', 'Encrypt', 'CreateAlias', 'CreateKey']);
    const created = all.Events.find((e: { EventName: string }) => e.EventName === 'CreateKey');
    assert.equal(created.EventSource, 'kms.amazonaws.com');
    assert.equal(created.AccessKeyId, ADMIN.accessKeyId);
    assert.equal(created.ReadOnly, 'false');
    assert.equal(JSON.parse(created.CloudTrailEvent).responseElements.keyMetadata.keyId, key.KeyId);
    const filtered = await cli(['cloudtrail', 'lookup-events', '--lookup-attributes', 'AttributeKey=EventName,AttributeValue=Encrypt']);
    assert.deepEqual(filtered.Events.map((e: { EventName: string }) => e.EventName), ['Encrypt']);
    assert.ok(filtered.Events[0].Resources.some((r: { ResourceName: string }) => r.ResourceName === key.Arn));
  } finally {
    await server.stop(true);
  }
});
