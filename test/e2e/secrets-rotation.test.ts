/**
 * Secrets Manager rotation end to end: the built-in PostgreSQL rotator against the real server on
 * 127.0.0.1:5432, HTTP webhook rotators (success, and failure at testSecret), and scheduled rotation run
 * by the job pass.
 *
 * What the PostgreSQL test proves: the test server uses `trust` authentication over TCP (pg_hba), so a
 * login succeeds with any password and testSecret's login check cannot fail there. The test therefore
 * checks the role's SCRAM-SHA-256 verifier in pg_authid: it changes, and it is the verifier of exactly the
 * password now stored under AWSCURRENT (recomputed from its salt and iteration count) — i.e. ALTER USER
 * ran with the new password. It does not prove that a password-checking server would accept it, beyond
 * that equivalence.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { DAY_MS, ManualClock } from '../../src/clock.ts';
import { probePostgres } from '../../src/storage/postgres/test-database.ts';
import { ADMIN, rawCall, REGION, startServer, type TestServer } from './harness.ts';

let server: TestServer;
let sm: SecretsManagerClient;
const clock = new ManualClock(Date.UTC(2026, 2, 1, 9));

before(async () => {
  server = await startServer({ clock });
  sm = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
});
after(async () => {
  sm.destroy();
  await server.stop(true);
});

const stagesOf = async (id: string) => (await sm.send(new DescribeSecretCommand({ SecretId: id }))).VersionIdsToStages ?? {};

/** The rotation service events (AwsServiceEvent) of a secret in the audit trail, oldest first. */
async function rotationEvents(arn: string): Promise<{ eventName: string; details: Record<string, unknown> }[]> {
  await server.app.audit.runOnce();
  const r = await rawCall(server.url, 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents', JSON.stringify({
    LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: arn }],
  }), { service: 'cloudtrail' });
  return (r.json.Events as { CloudTrailEvent: string }[])
    .map((e) => JSON.parse(e.CloudTrailEvent) as { eventType: string; eventName: string; serviceEventDetails: Record<string, unknown> })
    .filter((e) => e.eventType === 'AwsServiceEvent')
    .reverse()
    .map((e) => ({ eventName: e.eventName, details: e.serviceEventDetails }));
}

/** A webhook rotator that behaves like AWS's Lambda template, calling Trent back; `failAt` answers 500. */
async function startHook(failAt?: string): Promise<{ url: string; steps: string[]; close(): Promise<void> }> {
  const steps: string[] = [];
  const hook: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      void (async () => {
        const event = JSON.parse(body) as { Step: string; SecretId: string; ClientRequestToken: string };
        steps.push(event.Step);
        try {
          if (event.Step === failAt) throw new Error('test says no');
          if (event.Step === 'createSecret') {
            const cur = await sm.send(new GetSecretValueCommand({ SecretId: event.SecretId }));
            await sm.send(new PutSecretValueCommand({
              SecretId: event.SecretId, ClientRequestToken: event.ClientRequestToken, SecretString: `${cur.SecretString}+`, VersionStages: ['AWSPENDING'],
            }));
          } else if (event.Step === 'finishSecret') {
            const d = await sm.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
            const current = Object.entries(d.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
            await sm.send(new UpdateSecretVersionStageCommand({
              SecretId: event.SecretId, VersionStage: 'AWSCURRENT', MoveToVersionId: event.ClientRequestToken, ...(current ? { RemoveFromVersionId: current } : {}),
            }));
            await sm.send(new UpdateSecretVersionStageCommand({ SecretId: event.SecretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: event.ClientRequestToken }));
          }
          res.writeHead(200).end('{}');
        } catch {
          res.writeHead(500).end('{"error":"failed"}');
        }
      })();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/rotate`,
    steps,
    close: () => new Promise<void>((r) => hook.close(() => r())),
  };
}

test('webhook rotator: all four steps in order; AWSPENDING → AWSCURRENT, AWSPREVIOUS follows; LastRotatedDate and NextRotationDate set', async () => {
  const hook = await startHook();
  try {
    const created = await sm.send(new CreateSecretCommand({ Name: 'hook-ok', SecretString: 'v' }));
    const out = await sm.send(new RotateSecretCommand({ SecretId: 'hook-ok', RotationLambdaARN: hook.url, RotationRules: { AutomaticallyAfterDays: 10 } }));
    assert.deepEqual(hook.steps, ['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    assert.deepEqual(await stagesOf('hook-ok'), { [created.VersionId!]: ['AWSPREVIOUS'], [out.VersionId!]: ['AWSCURRENT'] });
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'hook-ok' }))).SecretString, 'v+');
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'hook-ok' }));
    assert.equal(d.RotationEnabled, true);
    assert.equal(d.RotationLambdaARN, hook.url);
    assert.equal(d.LastRotatedDate!.getTime(), clock.now());
    assert.equal(d.NextRotationDate!.getTime(), clock.now() + 10 * DAY_MS);

    // Scheduled rotation: the job pass rotates the secret once it is due.
    clock.advance(10 * DAY_MS + 1);
    await server.app.jobs.runOnce();
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'hook-ok' }))).SecretString, 'v++');
    assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: 'hook-ok' }))).LastRotatedDate!.getTime(), clock.now());
    // Both runs (on demand and scheduled) are in the audit trail as AWS's rotation service events.
    const events = await rotationEvents(created.ARN!);
    assert.deepEqual(events.map((e) => e.eventName), ['RotationStarted', 'RotationSucceeded', 'RotationStarted', 'RotationSucceeded']);
    assert.deepEqual(events[1]!.details, { secretId: created.ARN, versionId: out.VersionId });
  } finally {
    await hook.close();
  }
});

test('webhook rotator failing at testSecret leaves AWSCURRENT unchanged; the failure shows in DescribeSecret', async () => {
  const hook = await startHook('testSecret');
  try {
    const created = await sm.send(new CreateSecretCommand({ Name: 'hook-fail', SecretString: 'stay' }));
    const out = await sm.send(new RotateSecretCommand({ SecretId: 'hook-fail', RotationLambdaARN: hook.url }));
    assert.deepEqual(hook.steps, ['createSecret', 'setSecret', 'testSecret']);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'hook-fail' }))).SecretString, 'stay');
    assert.deepEqual(await stagesOf('hook-fail'), { [created.VersionId!]: ['AWSCURRENT'], [out.VersionId!]: ['AWSPENDING'] });
    const raw = await rawCall(server.url, 'secretsmanager.DescribeSecret', JSON.stringify({ SecretId: 'hook-fail' }), { service: 'secretsmanager' });
    const failure = raw.json.TrentRotationFailure as { Step: string; Message: string };
    assert.equal(failure.Step, 'testSecret');
    assert.match(failure.Message, /HTTP 500/);
    assert.equal(raw.json.LastRotatedDate, undefined);
    // The failure is in the audit trail too: RotationFailed names the step and the reason.
    const events = await rotationEvents(created.ARN!);
    assert.deepEqual(events.map((e) => e.eventName), ['RotationStarted', 'RotationFailed']);
    assert.equal(events[1]!.details.step, 'testSecret');
    assert.match(String(events[1]!.details.message), /HTTP 500 at step testSecret/);
    assert.equal(JSON.stringify(events).includes('stay'), false, 'no secret value in the events');
    // AWS: with AWSPENDING on another version, a new rotation is refused as still in progress.
    await assert.rejects(sm.send(new RotateSecretCommand({ SecretId: 'hook-fail' })), { name: 'InvalidRequestException' });
  } finally {
    await hook.close();
  }
});

/** The SCRAM-SHA-256 StoredKey of `password` under a verifier's salt and iterations (RFC 5802/7677). */
function scramMatches(verifier: string, password: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!m) return false;
  const salted = pbkdf2Sync(password, Buffer.from(m[2]!, 'base64'), Number(m[1]), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return createHash('sha256').update(clientKey).digest('base64') === m[3];
}

test('built-in PostgreSQL rotator (trent:rotator:postgres): ALTER USER runs with the new password; labels move', async (t) => {
  const probe = await probePostgres();
  if (probe.error !== undefined) {
    t.skip(`PostgreSQL not reachable: ${probe.error}`);
    return;
  }
  const role = `trent_rot_${process.pid}`;
  const admin = new pg.Client({ connectionString: probe.url });
  await admin.connect();
  const verifier = async () => (await admin.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role])).rows[0]?.rolpassword as string;
  try {
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'initial-Passw0rd'`);
    const before = await verifier();
    assert.ok(scramMatches(before, 'initial-Passw0rd'));
    const dbname = new URL(probe.url).pathname.slice(1) || 'postgres';
    const value = { engine: 'postgres', host: '127.0.0.1', port: 5432, username: role, password: 'initial-Passw0rd', dbname };
    const created = await sm.send(new CreateSecretCommand({ Name: 'pg/rot', SecretString: JSON.stringify(value) }));
    const out = await sm.send(new RotateSecretCommand({ SecretId: 'pg/rot', RotationLambdaARN: 'trent:rotator:postgres' }));

    const raw = await rawCall(server.url, 'secretsmanager.DescribeSecret', JSON.stringify({ SecretId: 'pg/rot' }), { service: 'secretsmanager' });
    assert.equal(raw.json.TrentRotationFailure, undefined, JSON.stringify(raw.json.TrentRotationFailure));
    assert.deepEqual(await stagesOf('pg/rot'), { [created.VersionId!]: ['AWSPREVIOUS'], [out.VersionId!]: ['AWSCURRENT'] });
    const now = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: 'pg/rot' }))).SecretString!) as typeof value;
    assert.notEqual(now.password, 'initial-Passw0rd');
    assert.equal(now.password.length, 32);
    assert.deepEqual({ ...now, password: '' }, { ...value, password: '' });
    const after = await verifier();
    assert.notEqual(after, before);
    assert.ok(scramMatches(after, now.password), 'the role verifier is that of the AWSCURRENT password');
    assert.ok(!scramMatches(after, 'initial-Passw0rd'));
    // The new credentials log in (under trust auth this shows the role and database are right, not the password).
    const c = new pg.Client({ host: '127.0.0.1', port: 5432, user: role, password: now.password, database: dbname });
    await c.connect();
    assert.equal((await c.query('SELECT current_user AS u')).rows[0].u, role);
    await c.end();
  } finally {
    await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await admin.end();
  }
});
