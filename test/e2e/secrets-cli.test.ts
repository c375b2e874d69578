import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { awsCli, cliSkipReason } from './aws-cli.ts';
import { startServer, type TestServer } from './harness.ts';

const skip = cliSkipReason();
let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.stop(true);
});

test('AWS CLI tour: secretsmanager create-secret, get-secret-value, put-secret-value, rotate-secret (a failing built-in rotation leaves AWSCURRENT), describe', { skip }, async () => {
  const cli = (args: string[]) => awsCli(server.url, ['secretsmanager', ...args]).then((out) => (out.trim() ? JSON.parse(out) : {}));
  const created = await cli(['create-secret', '--name', 'cli/secret', '--secret-string', 'first']);
  assert.match(created.ARN, /:secret:cli\/secret-[A-Za-z0-9]{6}$/);
  assert.equal((await cli(['get-secret-value', '--secret-id', 'cli/secret'])).SecretString, 'first');
  const put = await cli(['put-secret-value', '--secret-id', created.ARN, '--secret-string', 'second']);
  assert.deepEqual(put.VersionStages, ['AWSCURRENT']);
  const prev = await cli(['get-secret-value', '--secret-id', 'cli/secret', '--version-stage', 'AWSPREVIOUS']);
  assert.equal(prev.SecretString, 'first');
  // The built-in PostgreSQL rotator fails its steps on a value that is not a database secret: AWSCURRENT stays.
  const rotated = await cli(['rotate-secret', '--secret-id', 'cli/secret', '--rotation-lambda-arn', 'trent:rotator:postgres', '--rotation-rules', 'ScheduleExpression=rate(10 days)']);
  assert.ok(rotated.VersionId);
  assert.equal((await cli(['get-secret-value', '--secret-id', 'cli/secret'])).SecretString, 'second');
  const described = await cli(['describe-secret', '--secret-id', 'cli/secret']);
  assert.equal(described.RotationEnabled, true);
  assert.deepEqual(described.RotationRules, { ScheduleExpression: 'rate(10 days)' });
  const password = await cli(['get-random-password', '--password-length', '20', '--exclude-punctuation']);
  assert.match(password.RandomPassword, /^[A-Za-z0-9]{20}$/);
});
