/**
 * Parameter policy events end to end: ExpirationNotification, NoChangeNotification and Expiration
 * reach a real local HTTP receiver (TRENT_PARAMETER_EVENTS_WEBHOOK) as EventBridge "Parameter Store Policy
 * Action" events, and the audit trail as AwsServiceEvent records (LookupEvents), with the clock advanced
 * and the job pass run by hand. Delivery is at least once: a receiver that fails gets the same event
 * (same id) on the next pass, and a delivered one is not sent again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ManualClock } from '../../src/clock.ts';
import { FaultInjectingStorage } from '../../src/storage/fault-injection.ts';
import { ACCOUNT_ID, ADMIN, awsError, rawCall, REGION, startServer, type TestServer } from './harness.ts';

const HOUR = 3_600_000;
const clock = new ManualClock(Date.parse('2030-03-01T00:00:00Z'));
let receiver: Server;
let received: Record<string, unknown>[] = [];
let answer = 200;
let server: TestServer;
let ssm: SSMClient;
let faults: FaultInjectingStorage;

before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (answer === 200) received.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
  server = await startServer({ clock, env: { TRENT_PARAMETER_EVENTS_WEBHOOK: url }, wrapStorage: (st) => (faults = new FaultInjectingStorage(st)) });
  ssm = new SSMClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
});
after(async () => {
  ssm.destroy();
  await server.stop(true);
  await new Promise<void>((r) => receiver.close(() => r()));
});

const arnOf = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter${name}`;
const detailOf = (e: Record<string, unknown>) => e.detail as Record<string, string>;

async function auditEvents(name: string): Promise<Record<string, unknown>[]> {
  const r = await rawCall(server.url, 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents', JSON.stringify({
    LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: arnOf(name) }],
  }), { service: 'cloudtrail' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return (r.json.Events as { CloudTrailEvent: string }[])
    .map((e) => JSON.parse(e.CloudTrailEvent) as Record<string, unknown>)
    .filter((e) => e.eventType === 'AwsServiceEvent')
    .reverse();
}

test('NoChangeNotification: one event After the period unchanged, to the webhook (EventBridge shape) and the audit trail; an overwrite re-arms it', async () => {
  received = [];
  const name = '/events/nochange';
  const policy = { Type: 'NoChangeNotification', Version: '1.0', Attributes: { After: '2', Unit: 'Hours' } };
  await ssm.send(new PutParameterCommand({ Name: name, Value: 'quiet-value-1', Type: 'SecureString', Tier: 'Advanced', Policies: JSON.stringify([policy]) }));

  clock.advance(2 * HOUR - 1000);
  await server.app.jobs.runOnce();
  assert.equal(received.length, 0, 'not before the period');

  clock.advance(1000);
  await server.app.jobs.runOnce();
  assert.equal(received.length, 1);
  const e = received[0]!;
  assert.match(String(e.id), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual({ ...e, id: '' }, {
    version: '0', id: '', 'detail-type': 'Parameter Store Policy Action', source: 'aws.ssm', account: ACCOUNT_ID,
    time: new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), region: REGION, resources: [arnOf(name)],
    detail: {
      'parameter-name': name, 'parameter-type': 'SecureString', 'policy-type': 'NoChangeNotification',
      'policy-content': JSON.stringify(policy), 'action-status': 'Finished',
      'action-reason': 'The parameter has not changed since 2030-03-01T00:00:00.000Z (NoChangeNotification policy).',
    },
  });
  assert.equal(JSON.stringify(e).includes('quiet-value'), false, 'no parameter value in the event');

  const audited = await auditEvents(name);
  assert.equal(audited.length, 1);
  const a = audited[0]!;
  assert.deepEqual([a.eventType, a.eventSource, a.eventName, a.readOnly], ['AwsServiceEvent', 'ssm.amazonaws.com', 'ParameterStorePolicyAction', false]);
  assert.deepEqual(a.userIdentity, { accountId: ACCOUNT_ID, invokedBy: 'AWS Internal' });
  assert.deepEqual([a.sourceIPAddress, a.userAgent, a.requestParameters, a.responseElements], ['AWS Internal', 'AWS Internal', null, null]);
  assert.deepEqual(a.serviceEventDetails, { ...detailOf(e), 'event-id': e.id });
  assert.equal(JSON.stringify(a).includes('quiet-value'), false);

  // Sent once per version: later passes stay quiet.
  clock.advance(5 * HOUR);
  await server.app.jobs.runOnce();
  assert.equal(received.length, 1);

  // A new version starts a new unchanged period.
  await ssm.send(new PutParameterCommand({ Name: name, Value: 'quiet-value-2', Overwrite: true }));
  clock.advance(2 * HOUR);
  await server.app.jobs.runOnce();
  assert.equal(received.length, 2);
  assert.notEqual(received[1]!.id, e.id);
  assert.equal((await auditEvents(name)).length, 2);
});

test('ExpirationNotification Before the Expiration, then Expiration deletes the parameter and announces it', async () => {
  received = [];
  const name = '/events/expiring';
  const expiresAt = clock.now() + 48 * HOUR;
  const policies = [
    { Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: new Date(expiresAt).toISOString() } },
    { Type: 'ExpirationNotification', Version: '1.0', Attributes: { Before: '1', Unit: 'Days' } },
  ];
  await ssm.send(new PutParameterCommand({ Name: name, Value: 'v', Type: 'String', Tier: 'Advanced', Policies: JSON.stringify(policies) }));

  clock.advance(24 * HOUR - 1000);
  await server.app.jobs.runOnce();
  assert.equal(received.length, 0);
  clock.advance(1000);
  await server.app.jobs.runOnce();
  assert.deepEqual(received.map((e) => detailOf(e)['policy-type']), ['ExpirationNotification']);
  assert.equal(detailOf(received[0]!)['action-reason'], `The parameter expires at ${new Date(expiresAt).toISOString()} (ExpirationNotification policy).`);
  assert.equal((await ssm.send(new GetParameterCommand({ Name: name }))).Parameter!.Value, 'v');

  clock.advance(24 * HOUR);
  await server.app.jobs.runOnce();
  assert.deepEqual(received.map((e) => detailOf(e)['policy-type']), ['ExpirationNotification', 'Expiration']);
  assert.equal((await awsError(() => ssm.send(new GetParameterCommand({ Name: name })))).name, 'ParameterNotFound');
  assert.deepEqual((await auditEvents(name)).map((a) => (a.serviceEventDetails as Record<string, string>)['policy-type']), ['ExpirationNotification', 'Expiration']);
});

test('a failing webhook leaves the notification pending: the next pass delivers the same event (same id) once', async () => {
  received = [];
  const name = '/events/retry';
  await ssm.send(new PutParameterCommand({
    Name: name, Value: 'v', Type: 'String', Tier: 'Advanced',
    Policies: JSON.stringify([{ Type: 'NoChangeNotification', Version: '1.0', Attributes: { After: '1', Unit: 'Hours' } }]),
  }));
  clock.advance(HOUR);
  answer = 503;
  try {
    await server.app.jobs.runOnce();
  } finally {
    answer = 200;
  }
  assert.equal(received.length, 0);
  assert.equal((await auditEvents(name)).length, 0, 'not audited as sent while undelivered');
  clock.advance(1000);
  await server.app.jobs.runOnce();
  await server.app.jobs.runOnce();
  assert.equal(received.length, 1);
  const audited = await auditEvents(name);
  assert.equal(audited.length, 1);
  assert.equal((audited[0]!.serviceEventDetails as Record<string, string>)['event-id'], received[0]!.id);
});

describe('an Expiration is never a deletion the audit trail misses', () => {
  const expiring = (name: string) => ssm.send(new PutParameterCommand({
    Name: name, Value: 'v', Type: 'String', Tier: 'Advanced',
    Policies: JSON.stringify([{ Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: new Date(clock.now() + HOUR).toISOString() } }]),
  }));
  const exists = async (name: string) => (await rawCall(server.url, 'AmazonSSM.GetParameter', JSON.stringify({ Name: name }), { service: 'ssm' })).status === 200;
  const expirations = async (name: string) => (await auditEvents(name)).filter((e) => (e.serviceEventDetails as Record<string, string>)['policy-type'] === 'Expiration');

  test('with the webhook failing, the parameter is deleted and the deletion recorded (the post is not retried)', async () => {
    received = [];
    const name = '/events/expire-webhook-down';
    await expiring(name);
    clock.advance(HOUR + 1000);
    answer = 503;
    try {
      await server.app.jobs.runOnce();
    } finally {
      answer = 200;
    }
    assert.equal(await exists(name), false);
    assert.equal((await expirations(name)).length, 1);
    await server.app.jobs.runOnce();
    assert.equal(received.length, 0);
  });

  test('with its audit event failing, nothing is deleted; the next pass deletes it with its event', async () => {
    received = [];
    const name = '/events/expire-audit-down';
    await expiring(name);
    clock.advance(HOUR + 1000);
    faults.failNext('audit.append');
    // The pass fails (the job loop logs it and runs again); the deletion rolled back with the event.
    await assert.rejects(server.app.jobs.runOnce(), /injected fault: audit\.append/);
    assert.equal(faults.pendingFaults('audit.append'), 0, 'the fault was reached');
    assert.equal(await exists(name), true, 'deleted without its event');
    assert.equal((await expirations(name)).length, 0);
    await server.app.jobs.runOnce();
    assert.equal(await exists(name), false);
    assert.equal((await expirations(name)).length, 1);
    assert.equal(received.filter((e) => detailOf(e)['parameter-name'] === name).length, 1);
  });
});
