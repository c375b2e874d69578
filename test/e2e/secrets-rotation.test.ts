/**
 * Secrets Manager rotation end to end, through the real server and the AWS SDK:
 * - rotators are chosen by the operator: a RotationLambdaARN naming a URL, an unlisted function, another
 *   Region or account is refused with AWS's AccessDeniedException, and nothing is called;
 * - a listed webhook rotator (an HTTPS server made here, its certificate trusted through the rotator's
 *   caFile) receives signed requests and checks every signature; a rotator configured with the wrong
 *   shared secret, or without trust in the rotator's certificate, fails the run at its first step;
 * - RotateSecret answers at once with the VersionId while the steps run in the background (held open
 *   here), DescribeSecret shows the run as AWS does, a failed step leaves AWSCURRENT as it was and is in
 *   the audit trail;
 * - schedules run from the job pass: cron() with `#`, and a Duration window that closed is not started.
 * The built-in database rotators are in secrets-rotation-postgres.test.ts and secrets-rotation-mysql.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DAY_MS, ManualClock } from '../../src/clock.ts';
import { ACCOUNT_ID, awsError, REGION, type TestServer } from './harness.ts';
import { describeRaw, type SecretsFixture, stagesOf, startSecretsServer } from './secrets-fixture.ts';
import { startTestRotator, type TestRotator } from './rotator-server.ts';
import { rotationEvents, waitForRotation } from './rotation-wait.ts';

let fixture: SecretsFixture;
let server: TestServer;
let sm: SecretsManagerClient;
let rotator: TestRotator;
const clock = new ManualClock(Date.UTC(2026, 2, 1, 9));
const SHARED_SECRET = 'rotator-shared-secret-for-the-e2e-test-0123456789';
const fn = (name: string, region = REGION, account = ACCOUNT_ID) => `arn:aws:lambda:${region}:${account}:function:${name}`;
const APP_ROTATOR = fn('app-rotator');
const HOUR_MS = 3_600_000;

before(async () => {
  rotator = await startTestRotator(SHARED_SECRET);
  const dir = mkdtempSync(join(tmpdir(), 'trent-rotator-ca-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, rotator.caPem);
  fixture = await startSecretsServer({
    clock,
    env: {
      TRENT_JOB_INTERVAL_MS: '0',
      TRENT_ROTATORS: JSON.stringify({
        'app-rotator': { url: rotator.url, secret: SHARED_SECRET, caFile },
        // Same endpoint, another shared secret: every request it sends fails the rotator's check.
        'wrong-secret': { url: rotator.url, secret: 'not-the-secret-the-rotator-knows-0123456789', caFile },
        // Same endpoint, its self-signed certificate not trusted: the TLS handshake fails.
        'untrusted': { url: rotator.url, secret: SHARED_SECRET },
      }),
    },
  });
  ({ server, sm } = fixture);
  rotator.trentUrls = [server.url];
});
after(async () => {
  await fixture.stop();
  await rotator.close();
});

test('RotateSecret naming a URL, an unlisted function, a function of another Region or account, or a malformed ARN is refused with AccessDeniedException; nothing changes and nothing is called', async () => {
  await sm.send(new CreateSecretCommand({ Name: 'refused', SecretString: 'v' }));
  const before = rotator.requests.length;
  for (const arn of [
    rotator.url, // the listed rotator's own URL, named directly
    'http://169.254.169.254/latest/meta-data/',
    fn('not-listed'),
    fn('app-rotator', 'eu-west-1'),
    fn('app-rotator', REGION, '444455556666'),
    `${APP_ROTATOR}:live`,
    'arn:aws:lambda:us-east-1:111122223333:app-rotator',
    'trent:rotator:oracle',
    'app-rotator',
  ]) {
    const e = await awsError(() => sm.send(new RotateSecretCommand({ SecretId: 'refused', RotationLambdaARN: arn })));
    // AWS (recorded: test_rotate_secret_invalid_lambda_arn): HTTP 400 AccessDeniedException, this message.
    assert.deepEqual(e, {
      name: 'AccessDeniedException',
      message: 'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.',
      status: 400,
    }, arn);
  }
  const d = await sm.send(new DescribeSecretCommand({ SecretId: 'refused' }));
  assert.equal(d.RotationEnabled, undefined);
  assert.equal(d.RotationLambdaARN, undefined);
  assert.equal(Object.keys(d.VersionIdsToStages ?? {}).length, 1);
  assert.equal(rotator.requests.length, before, 'a refused rotator was called');
});

test('RotateSecret answers at once with the VersionId, its version created empty under AWSPENDING, while the four signed steps run in the background; the outcome and the next scheduled run follow', async () => {
  const created = await sm.send(new CreateSecretCommand({ Name: 'hook-ok', SecretString: 'v' }));
  rotator.hold('createSecret');
  let out;
  try {
    out = await sm.send(new RotateSecretCommand({ SecretId: 'hook-ok', RotationLambdaARN: APP_ROTATOR, RotationRules: { AutomaticallyAfterDays: 10 } }));
    assert.match(out.VersionId!, /^[0-9a-f-]{36}$/);
    // The call has been answered while createSecret is still held open by the rotator.
    await rotator.arrived('createSecret');
    const during = await sm.send(new DescribeSecretCommand({ SecretId: 'hook-ok' }));
    assert.equal(during.RotationEnabled, true);
    assert.equal(during.RotationLambdaARN, APP_ROTATOR);
    assert.deepEqual(during.VersionIdsToStages, { [created.VersionId!]: ['AWSCURRENT'], [out.VersionId!]: ['AWSPENDING'] });
    assert.equal(during.LastRotatedDate, undefined);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'hook-ok' }))).SecretString, 'v');
    // AWS: the run's version exists from the start, under AWSPENDING, with no value until createSecret fills it.
    const pending = await awsError(() => sm.send(new GetSecretValueCommand({ SecretId: 'hook-ok', VersionStage: 'AWSPENDING' })));
    assert.equal(pending.name, 'ResourceNotFoundException');
    // AWS: a second RotateSecret while one is in progress is refused.
    const again = await awsError(() => sm.send(new RotateSecretCommand({ SecretId: 'hook-ok' })));
    assert.equal(again.name, 'InvalidRequestException');
    // A retry of the same call (same ClientRequestToken) answers the same VersionId and starts nothing.
    const retry = await sm.send(new RotateSecretCommand({ SecretId: 'hook-ok', ClientRequestToken: out.VersionId, RotationLambdaARN: APP_ROTATOR, RotationRules: { AutomaticallyAfterDays: 10 } }));
    assert.equal(retry.VersionId, out.VersionId);
  } finally {
    rotator.release();
  }
  assert.equal(await waitForRotation(server.url, created.ARN!, out.VersionId!), 'succeeded');
  const mine = rotator.requests.filter((r) => r.secretId === created.ARN);
  assert.deepEqual(mine.map((r) => [r.step, r.token, r.refused]), ['createSecret', 'setSecret', 'testSecret', 'finishSecret'].map((s) => [s, out.VersionId, undefined]));
  assert.deepEqual(await stagesOf(sm, 'hook-ok'), { [created.VersionId!]: ['AWSPREVIOUS'], [out.VersionId!]: ['AWSCURRENT'] });
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'hook-ok' }))).SecretString, 'v+');
  const d = await sm.send(new DescribeSecretCommand({ SecretId: 'hook-ok' }));
  assert.equal(d.LastRotatedDate!.getTime(), clock.now());
  assert.equal(d.NextRotationDate!.getTime(), clock.now() + 10 * DAY_MS);

  // Scheduled rotation: the job pass rotates the secret once it is due, with signed requests too.
  clock.advance(10 * DAY_MS + 1);
  await server.app.jobs.runOnce();
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'hook-ok' }))).SecretString, 'v++');
  assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: 'hook-ok' }))).LastRotatedDate!.getTime(), clock.now());
  // A second pass finds nothing due: one rotation per due time.
  await server.app.jobs.runOnce();
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'hook-ok' }))).SecretString, 'v++');
  assert.deepEqual(rotator.requests.filter((r) => r.secretId === created.ARN && r.refused !== undefined), []);
  const events = await rotationEvents(server.url, created.ARN!);
  assert.deepEqual(events.map((e) => e.eventName), ['RotationStarted', 'RotationSucceeded', 'RotationStarted', 'RotationSucceeded']);
  assert.deepEqual(events[1]!.details, { secretId: created.ARN, versionId: out.VersionId });
});

test('a step that fails leaves AWSCURRENT as it was; the failure shows in DescribeSecret and as RotationFailed in the audit trail', async () => {
  const created = await sm.send(new CreateSecretCommand({ Name: 'hook-fail', SecretString: 'stay' }));
  rotator.failAt = 'testSecret';
  try {
    const out = await sm.send(new RotateSecretCommand({ SecretId: 'hook-fail', RotationLambdaARN: APP_ROTATOR }));
    assert.equal(await waitForRotation(server.url, created.ARN!, out.VersionId!), 'failed');
    assert.deepEqual(rotator.requests.filter((r) => r.secretId === created.ARN).map((r) => r.step), ['createSecret', 'setSecret', 'testSecret']);
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'hook-fail' }))).SecretString, 'stay');
    assert.deepEqual(await stagesOf(sm, 'hook-fail'), { [created.VersionId!]: ['AWSCURRENT'], [out.VersionId!]: ['AWSPENDING'] });
    const raw = await describeRaw(server.url, 'hook-fail');
    const failure = raw.TrentRotationFailure as { Step: string; Message: string };
    assert.equal(failure.Step, 'testSecret');
    assert.match(failure.Message, /HTTP 500/);
    assert.equal(raw.LastRotatedDate, undefined);
    const events = await rotationEvents(server.url, created.ARN!);
    assert.deepEqual(events.map((e) => e.eventName), ['RotationStarted', 'RotationFailed']);
    assert.equal(events[1]!.details.step, 'testSecret');
    assert.match(String(events[1]!.details.message), /HTTP 500 at step testSecret/);
    assert.equal(JSON.stringify(events).includes('stay'), false, 'no secret value in the events');
    // AWS: with AWSPENDING on another version, a new rotation is refused as still in progress.
    await assert.rejects(sm.send(new RotateSecretCommand({ SecretId: 'hook-fail' })), { name: 'InvalidRequestException' });
  } finally {
    rotator.failAt = undefined;
  }
});

test('the rotator refuses requests signed with another shared secret (401), and Trent refuses a rotator whose certificate it does not trust: either run fails at createSecret with AWSCURRENT unchanged', async () => {
  for (const [name, expected] of [['wrong-secret', /HTTP 401 at step createSecret/], ['untrusted', /could not be reached: .*certificate/]] as const) {
    const created = await sm.send(new CreateSecretCommand({ Name: `hook-${name}`, SecretString: 'keep' }));
    const out = await sm.send(new RotateSecretCommand({ SecretId: created.ARN!, RotationLambdaARN: fn(name) }));
    assert.equal(await waitForRotation(server.url, created.ARN!, out.VersionId!), 'failed', name);
    const failure = (await describeRaw(server.url, created.ARN!)).TrentRotationFailure as { Step: string; Message: string };
    assert.equal(failure.Step, 'createSecret', name);
    assert.match(failure.Message, expected, name);
    // AWS: an unsuccessful rotation leaves AWSPENDING on the empty version the run started with.
    assert.deepEqual(await stagesOf(sm, created.ARN!), { [created.VersionId!]: ['AWSCURRENT'], [out.VersionId!]: ['AWSPENDING'] }, name);
    const empty = await awsError(() => sm.send(new GetSecretValueCommand({ SecretId: created.ARN!, VersionStage: 'AWSPENDING' })));
    assert.deepEqual([empty.name, empty.message], ['ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSPENDING"], name);
    const seen = rotator.requests.filter((r) => r.secretId === created.ARN);
    if (name === 'wrong-secret') assert.deepEqual(seen.map((r) => r.refused), ['signature does not match']);
    else assert.deepEqual(seen, [], 'nothing reached the rotator over an untrusted connection');
  }
});

test('scheduled rotation: cron() with n#k runs at its due time; a Duration window that closed before any pass ran is not started, the next one is', async () => {
  const created = await sm.send(new CreateSecretCommand({ Name: 'hook-window', SecretString: 'w' }));
  // 08:00 UTC on the first Monday of each month, within a 2-hour window.
  await sm.send(new RotateSecretCommand({
    SecretId: 'hook-window', RotationLambdaARN: APP_ROTATOR, RotateImmediately: false,
    RotationRules: { ScheduleExpression: 'cron(0 8 ? * 2#1 *)', Duration: '2h' },
  }));
  const firstDue = (await sm.send(new DescribeSecretCommand({ SecretId: 'hook-window' }))).NextRotationDate!;
  const isFirstMonday8 = (d: Date) => d.getUTCDay() === 1 && d.getUTCDate() <= 7 && d.getUTCHours() === 8 && d.getUTCMinutes() === 0;
  assert.ok(isFirstMonday8(firstDue) && firstDue.getTime() > clock.now(), firstDue.toISOString());

  // Every pass missed the window: at due + 3 h nothing starts, and the next first Monday is scheduled.
  clock.set(firstDue.getTime() + 3 * HOUR_MS);
  await server.app.jobs.runOnce();
  assert.deepEqual(rotator.requests.filter((r) => r.secretId === created.ARN), []);
  const secondDue = (await sm.send(new DescribeSecretCommand({ SecretId: 'hook-window' }))).NextRotationDate!;
  assert.ok(isFirstMonday8(secondDue) && secondDue.getTime() > firstDue.getTime() + 20 * DAY_MS, secondDue.toISOString());
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'hook-window' }))).SecretString, 'w');

  // Within the next window (due + 1 h) the rotation runs.
  clock.set(secondDue.getTime() + HOUR_MS);
  await server.app.jobs.runOnce();
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'hook-window' }))).SecretString, 'w+');
  const d = await sm.send(new DescribeSecretCommand({ SecretId: 'hook-window' }));
  assert.equal(d.LastRotatedDate!.getTime(), clock.now());
  assert.ok(isFirstMonday8(d.NextRotationDate!) && d.NextRotationDate!.getTime() > clock.now());
});
