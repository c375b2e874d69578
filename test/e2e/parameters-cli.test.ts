/**
 * The AWS CLI against Trent's Parameter Store. Values are never URL-looking: AWS CLI v1 would fetch
 * them (`--value https://…` downloads the page) unless cli_follow_urlparam is false.
 */
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

test('AWS CLI tour of Parameter Store: put-parameter, get-parameters-by-path --recursive --with-decryption, labels, history, delete', { skip }, async () => {
  const cli = (args: string[]) => awsCli(server.url, args).then((out) => (out.trim() ? JSON.parse(out) : {}));
  const put = await cli(['ssm', 'put-parameter', '--name', '/cli/app/db-host', '--value', 'db.internal', '--type', 'String']);
  assert.equal(put.Version, 1);
  assert.equal(put.Tier, 'Standard');
  await cli(['ssm', 'put-parameter', '--name', '/cli/app/db-password', '--value', 'cli-s3cret', '--type', 'SecureString']);
  await cli(['ssm', 'put-parameter', '--name', '/cli/app/nested/hosts', '--value', 'a,b', '--type', 'StringList']);
  await cli(['ssm', 'put-parameter', '--name', '/cli/app/db-host', '--value', 'db2.internal', '--overwrite']);

  const byPath = await cli(['ssm', 'get-parameters-by-path', '--path', '/cli', '--recursive', '--with-decryption']);
  const values = Object.fromEntries(byPath.Parameters.map((p: { Name: string; Value: string }) => [p.Name, p.Value]));
  assert.deepEqual(values, { '/cli/app/db-host': 'db2.internal', '/cli/app/db-password': 'cli-s3cret', '/cli/app/nested/hosts': 'a,b' });
  const oneLevel = await cli(['ssm', 'get-parameters-by-path', '--path', '/cli/app']);
  assert.deepEqual(oneLevel.Parameters.map((p: { Name: string }) => p.Name), ['/cli/app/db-host', '/cli/app/db-password']);
  assert.notEqual(oneLevel.Parameters[1].Value, 'cli-s3cret');

  await cli(['ssm', 'label-parameter-version', '--name', '/cli/app/db-host', '--parameter-version', '1', '--labels', 'previous']);
  const labelled = await cli(['ssm', 'get-parameter', '--name', '/cli/app/db-host:previous']);
  assert.equal(labelled.Parameter.Value, 'db.internal');
  assert.equal(labelled.Parameter.Selector, ':previous');
  const history = await cli(['ssm', 'get-parameter-history', '--name', '/cli/app/db-host']);
  assert.deepEqual(history.Parameters.map((p: { Version: number }) => p.Version), [1, 2]);

  const described = await cli(['ssm', 'describe-parameters', '--parameter-filters', 'Key=Path,Option=Recursive,Values=/cli']);
  assert.equal(described.Parameters.length, 3);
  await cli(['ssm', 'delete-parameter', '--name', '/cli/app/db-host']);
  await assert.rejects(cli(['ssm', 'get-parameter', '--name', '/cli/app/db-host']), /ParameterNotFound/);
});
