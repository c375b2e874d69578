/**
 * "No secret value appears in the database files or any log (searched by the test)" for Secrets Manager
 * and Parameter Store SecureStrings. The server runs with a `trace`-level logger whose every line is kept,
 * and storage that can be made to fail (so the error-logging paths run too). Every value is then searched
 * for — raw, hex, base64 and UTF-16 — in the log lines, in every audit event, and (SQLite) in every file of
 * the data dir, including the WAL. On PostgreSQL the rows are searched through the storage interface.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, GetParameterHistoryCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { FaultInjectingStorage } from '../../src/storage/fault-injection.ts';
import { ADMIN, awsError, E2E_STORAGE, filesUnder, REGION, startServer, type TestServer } from './harness.ts';
import { waitForRotation } from './rotation-wait.ts';

const logLines: string[] = [];
const ROTATOR_SECRET = 'LEAK-rotator-shared-secret-2c7e91a4-0123456789';
let server: TestServer;
let faults: FaultInjectingStorage;
let sm: SecretsManagerClient;
let ssm: SSMClient;

before(async () => {
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { logLines.push(chunk.toString('utf8')); done(); } });
  server = await startServer({
    logger: pino({ level: 'trace' }, sink),
    wrapStorage: (s) => (faults = new FaultInjectingStorage(s)),
    // A webhook rotator's shared secret is searched for like a secret value (it signs; it is never sent).
    env: { TRENT_ROTATORS: JSON.stringify({ leak: { url: 'https://127.0.0.1:1/rotate', secret: ROTATOR_SECRET } }) },
  });
  sm = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
  ssm = new SSMClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
});
after(async () => {
  sm.destroy();
  ssm.destroy();
  await server.stop(true);
});

const SECRETS = ['LEAK-sm-string-6b1f0e2d', 'LEAK-sm-binary-91c3aa7e', 'LEAK-sm-updated-3e5d77b0', 'LEAK-sm-failed-write-0d4c', 'LEAK-sm-replicated-a4e19c57', 'LEAK-sm-replica-put-5c0b2e98'];
const REPLICA_REGION = 'eu-west-1';
const SECURE = ['LEAK-ssm-secure-5f2a9c11', 'LEAK-ssm-overwrite-77e0b3d2', 'LEAK-ssm-failed-write-c81e', 'LEAK-ssm-datatype-echo-3f9a71'];

function encodings(v: string): Buffer[] {
  return [Buffer.from(v), Buffer.from(Buffer.from(v).toString('hex')), Buffer.from(Buffer.from(v).toString('base64')), Buffer.from(v, 'utf16le')];
}

test('secret values and SecureStrings go through every path, including failures (setup for the searches below)', async () => {
  // Secrets Manager: create, binary and string versions, reads, batch read, update with a value.
  await sm.send(new CreateSecretCommand({ Name: 'leak/sm', SecretString: SECRETS[0] }));
  await sm.send(new PutSecretValueCommand({ SecretId: 'leak/sm', SecretBinary: Buffer.from(SECRETS[1]!) }));
  await sm.send(new UpdateSecretCommand({ SecretId: 'leak/sm', SecretString: SECRETS[2] }));
  assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'leak/sm' }))).SecretString, SECRETS[2]);
  await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['leak/sm'] }));
  // Refusals that see a value: the same token with another value; a value over 65,536 characters.
  const token = (await sm.send(new PutSecretValueCommand({ SecretId: 'leak/sm', SecretString: SECRETS[0] }))).VersionId!;
  assert.equal((await awsError(() => sm.send(new PutSecretValueCommand({ SecretId: 'leak/sm', SecretString: SECRETS[2], ClientRequestToken: token })))).name, 'ResourceExistsException');
  const tooLong = await awsError(() => sm.send(new PutSecretValueCommand({ SecretId: 'leak/sm', SecretString: SECRETS[0]!.repeat(3000) })));
  assert.deepEqual([tooLong.name, tooLong.message], [
    'ValidationException', "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536",
  ]);
  // A built-in rotation that fails on this value (not database JSON) records its failure.
  const rotation = await sm.send(new RotateSecretCommand({ SecretId: 'leak/sm', RotationLambdaARN: 'trent:rotator:mysql' }));
  assert.equal(await waitForRotation(server.url, rotation.ARN!, rotation.VersionId!), 'failed');
  // A webhook rotation that cannot reach its rotator: the signed request is built, the failure recorded.
  await sm.send(new CreateSecretCommand({ Name: 'leak/hook', SecretString: SECRETS[0] }));
  const hooked = await sm.send(new RotateSecretCommand({ SecretId: 'leak/hook', RotationLambdaARN: `arn:aws:lambda:${REGION}:111122223333:function:leak` }));
  assert.equal(await waitForRotation(server.url, hooked.ARN!, hooked.VersionId!), 'failed');
  // A replicated secret: sealed again for the replica region, on creation and on every new version.
  await sm.send(new CreateSecretCommand({ Name: 'leak/replicated', SecretString: SECRETS[4], AddReplicaRegions: [{ Region: REPLICA_REGION }] }));
  await sm.send(new PutSecretValueCommand({ SecretId: 'leak/replicated', SecretString: SECRETS[5] }));
  const smEu = new SecretsManagerClient({ endpoint: server.url, region: REPLICA_REGION, credentials: ADMIN, maxAttempts: 1 });
  try {
    assert.equal((await smEu.send(new GetSecretValueCommand({ SecretId: 'leak/replicated', VersionStage: 'AWSPREVIOUS' }))).SecretString, SECRETS[4]);
  } finally {
    smEu.destroy();
  }
  // Through Parameter Store's pass-through.
  await ssm.send(new GetParameterCommand({ Name: '/aws/reference/secretsmanager/leak/sm', WithDecryption: true }));

  // Parameter Store: SecureString create, overwrite, reads with decryption, refusals.
  await ssm.send(new PutParameterCommand({ Name: '/leak/p', Value: SECURE[0], Type: 'SecureString' }));
  await ssm.send(new PutParameterCommand({ Name: '/leak/p', Value: SECURE[1], Overwrite: true }));
  await ssm.send(new GetParameterCommand({ Name: '/leak/p', WithDecryption: true }));
  await ssm.send(new GetParametersByPathCommand({ Path: '/leak', WithDecryption: true }));
  await ssm.send(new GetParameterHistoryCommand({ Name: '/leak/p', WithDecryption: true }));
  assert.equal((await awsError(() => ssm.send(new PutParameterCommand({ Name: '/leak/p', Value: SECURE[0]!.repeat(400), Overwrite: true })))).name, 'ValidationException');
  assert.equal((await awsError(() => ssm.send(new PutParameterCommand({ Name: '/leak/q', Value: SECURE[0], Type: 'SecureString', AllowedPattern: '^[0-9]+$' })))).name, 'ParameterPatternMismatchException');
  // An overwrite without Type takes the stored SecureString type: DataType aws:ec2:image is refused for it
  // without the value (it was named in the message, and so stored in the audit trail).
  const amiCheck = await awsError(() => ssm.send(new PutParameterCommand({ Name: '/leak/p', Value: SECURE[3], Overwrite: true, DataType: 'aws:ec2:image' })));
  assert.equal(amiCheck.message, 'The aws:ec2:image data type is not supported for the following input type: SecureString');

  // Storage failures: the internal-error path logs the error; the value must not be in it.
  faults.unwritable.add('secretVersions');
  faults.unwritable.add('parameters');
  try {
    const a = await awsError(() => sm.send(new PutSecretValueCommand({ SecretId: 'leak/sm', SecretString: SECRETS[3] })));
    const b = await awsError(() => ssm.send(new PutParameterCommand({ Name: '/leak/p', Value: SECURE[2], Overwrite: true })));
    assert.deepEqual([a.status, b.status], [500, 500]);
  } finally {
    faults.unwritable.clear();
  }
  assert.ok(logLines.some((l) => l.includes('request failed')), 'the failures were logged');
  await server.app.audit.runOnce();
});

test('no secret value or SecureString value is in any log line', () => {
  assert.ok(logLines.length > 0);
  // The per-request lines (src/http/request-log.ts) of the calls that carried values are among those searched.
  const requestLines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
  for (const op of ['CreateSecret', 'PutSecretValue', 'GetSecretValue', 'BatchGetSecretValue', 'PutParameter', 'GetParameter']) {
    assert.ok(requestLines.some((l) => l.operation === op), `a request line for ${op}`);
  }
  const log = Buffer.from(logLines.join(''));
  for (const v of [...SECRETS, ...SECURE, ROTATOR_SECRET]) {
    for (const needle of encodings(v)) assert.equal(log.includes(needle), false, `the log holds ${v} (${needle.toString()})`);
  }
});

test('no secret value or SecureString value is in any audit event', async () => {
  const rows = await server.app.storage.read((r) => r.audit.scan(0, 1_000_000));
  assert.ok(rows.some((r) => r.eventName === 'PutSecretValue') && rows.some((r) => r.eventName === 'PutParameter'));
  const all = Buffer.from(rows.map((r) => r.record).join('\n'));
  for (const v of [...SECRETS, ...SECURE, ROTATOR_SECRET]) {
    for (const needle of encodings(v)) assert.equal(all.includes(needle), false, `an audit event holds ${v}`);
  }
});

test('no secret value or SecureString value is in the stored rows (either adapter)', async () => {
  const scope = { accountId: '111122223333', region: REGION };
  const secret = await server.app.storage.read((r) => r.secrets.get(scope, 'leak/sm'));
  const doc = secret!.doc as { versions: Record<string, { empty?: true }> };
  // The failed rotation's version was created empty (AWSPENDING, no value): it has no row.
  const stored = Object.keys(doc.versions).filter((id) => !doc.versions[id]!.empty);
  const versions = await Promise.all(stored.map((id) => server.app.storage.read((r) => r.secretVersions.get(secret!.arn, id))));
  // The replicated secret, in both regions.
  const replicated = await Promise.all([scope, { ...scope, region: REPLICA_REGION }].map((sc) => server.app.storage.read((r) => r.secrets.get(sc, 'leak/replicated'))));
  const replicatedVersions = await Promise.all(replicated.flatMap((rec) => Object.keys((rec!.doc as { versions: object }).versions)
    .map((id) => server.app.storage.read((r) => r.secretVersions.get(rec!.arn, id)))));
  assert.equal(replicatedVersions.filter((v) => v !== undefined).length, 4, 'two versions in each region');
  const params = await server.app.storage.read((r) => r.parameters.listVersions(scope, '/leak/p'));
  const blob = Buffer.concat([
    Buffer.from(JSON.stringify(secret)),
    ...replicated.map((rec) => Buffer.from(JSON.stringify(rec))),
    ...[...versions, ...replicatedVersions].flatMap((v) => [v!.encryptedDataKey, v!.sealedValue, Buffer.from(JSON.stringify(v!.doc))]),
    ...params.map((p) => Buffer.from(JSON.stringify(p))),
  ]);
  assert.equal(params.length, 2);
  for (const v of [...SECRETS, ...SECURE, ROTATOR_SECRET]) {
    for (const needle of encodings(v)) assert.equal(blob.includes(needle), false, `a stored row holds ${v}`);
  }
});

test('no secret value or SecureString value is in the data dir files (database, WAL)', { skip: E2E_STORAGE !== 'sqlite' && 'PostgreSQL keeps its files elsewhere; its rows are searched above' }, () => {
  const files = filesUnder(server.dataDir);
  assert.ok(files.some((f) => f.endsWith('.db')), files.join(', '));
  for (const f of files) {
    const bytes = readFileSync(f);
    for (const v of [...SECRETS, ...SECURE, ROTATOR_SECRET]) {
      for (const needle of encodings(v)) assert.equal(bytes.includes(needle), false, `${f} holds ${v}`);
    }
  }
});
