/**
 * The built-in MySQL/MariaDB rotator (trent:rotator:mysql) against the real MariaDB on the machine. Unlike
 * the PostgreSQL server (trust auth), MariaDB checks passwords, so the test proves the rotation directly:
 * the old password is refused and the new one logs in. Each test creates its own throwaway user and
 * database as the administrator (test/e2e/mariadb.ts) and drops them afterwards.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ManualClock } from '../../src/clock.ts';
import type { TestServer } from './harness.ts';
import { describeRaw, type SecretsFixture, stagesOf, startSecretsServer } from './secrets-fixture.ts';
import { connectMariaDbAdmin, startThrowawayMariaDb, throwawayMariaDbUnavailable, type ThrowawayMariaDb } from './mariadb.ts';
import { selfSignedCertificate } from './test-tls.ts';
import { waitForRotation } from './rotation-wait.ts';

let fixture: SecretsFixture;
let server: TestServer;
let sm: SecretsManagerClient;
const clock = new ManualClock(Date.UTC(2026, 2, 1, 9));

before(async () => {
  fixture = await startSecretsServer({ clock });
  ({ server, sm } = fixture);
});
after(() => fixture.stop());

interface Throwaway {
  host: string;
  port: number;
  username: string;
  dbname: string;
  drop(): Promise<void>;
}

/** A user with a password and SELECT on its own database, and nothing else (no CREATE USER privilege). */
async function throwawayUser(t: TestContext, suffix: string, password: string): Promise<Throwaway | undefined> {
  const admin = await connectMariaDbAdmin();
  if ('error' in admin) {
    t.skip(admin.error);
    return undefined;
  }
  const { conn, host, port } = admin;
  const username = `trent_rot_${process.pid}_${suffix}`;
  const dbname = username;
  await conn.query('DROP USER IF EXISTS ?@?', [username, '%']);
  await conn.query(`DROP DATABASE IF EXISTS ${conn.escapeId(dbname)}`);
  await conn.query(`CREATE DATABASE ${conn.escapeId(dbname)}`);
  await conn.query('CREATE USER ?@? IDENTIFIED BY ?', [username, '%', password]);
  await conn.query(`GRANT SELECT ON ${conn.escapeId(dbname)}.* TO ?@?`, [username, '%']);
  return {
    host, port, username, dbname,
    async drop() {
      await conn.query('DROP USER IF EXISTS ?@?', [username, '%']).catch(() => undefined);
      await conn.query(`DROP DATABASE IF EXISTS ${conn.escapeId(dbname)}`).catch(() => undefined);
      await conn.end();
    },
  };
}

/** Logs in; resolves with the MariaDB error number on refusal, 0 on success. */
async function login(u: Throwaway, password: string): Promise<number> {
  try {
    const c = await mysql.createConnection({ host: u.host, port: u.port, user: u.username, password, database: u.dbname, connectTimeout: 3000 });
    await c.query('SELECT 1');
    await c.end();
    return 0;
  } catch (err) {
    return (err as { errno?: number }).errno ?? -1;
  }
}

const ER_ACCESS_DENIED_ERROR = 1045;

test('built-in MariaDB rotator: afterwards the old password is refused, the new one logs in, AWSPREVIOUS holds the old value', async (t) => {
  const u = await throwawayUser(t, 'ok', 'initial-Passw0rd');
  if (!u) return;
  try {
    const value = { engine: 'mariadb', host: u.host, port: u.port, username: u.username, password: 'initial-Passw0rd', dbname: u.dbname };
    const created = await sm.send(new CreateSecretCommand({ Name: 'mariadb/rot', SecretString: JSON.stringify(value) }));
    const out = await sm.send(new RotateSecretCommand({ SecretId: 'mariadb/rot', RotationLambdaARN: 'trent:rotator:mysql' }));
    assert.equal(await waitForRotation(server.url, created.ARN!, out.VersionId!), 'succeeded');

    const raw = await describeRaw(server.url, 'mariadb/rot');
    assert.equal(raw.TrentRotationFailure, undefined, JSON.stringify(raw.TrentRotationFailure));
    assert.deepEqual(await stagesOf(sm, 'mariadb/rot'), { [created.VersionId!]: ['AWSPREVIOUS'], [out.VersionId!]: ['AWSCURRENT'] });

    const current = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: 'mariadb/rot' }))).SecretString!) as typeof value;
    const previous = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: 'mariadb/rot', VersionStage: 'AWSPREVIOUS' }))).SecretString!) as typeof value;
    assert.deepEqual(previous, value);
    assert.equal(current.password.length, 32);
    assert.doesNotMatch(current.password, /[/@"'\\]/, 'the templates exclude characters that break SQL and connection strings');
    assert.deepEqual({ ...current, password: '' }, { ...value, password: '' });

    assert.equal(await login(u, 'initial-Passw0rd'), ER_ACCESS_DENIED_ERROR, 'the old password is refused');
    assert.equal(await login(u, current.password), 0, 'the new password logs in');

    // A second rotation starts from the new password (setSecret logs in with AWSCURRENT).
    const again = await sm.send(new RotateSecretCommand({ SecretId: 'mariadb/rot' }));
    assert.equal(await waitForRotation(server.url, created.ARN!, again.VersionId!), 'succeeded');
    const third = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: 'mariadb/rot' }))).SecretString!) as typeof value;
    const stages = await stagesOf(sm, 'mariadb/rot');
    assert.deepEqual([stages[out.VersionId!], stages[again.VersionId!]], [['AWSPREVIOUS'], ['AWSCURRENT']]);
    assert.equal(await login(u, current.password), ER_ACCESS_DENIED_ERROR);
    assert.equal(await login(u, third.password), 0);
  } finally {
    await u.drop();
  }
});

test('built-in MariaDB rotator: a failing setSecret (wrong stored password) leaves AWSCURRENT and the database password unchanged', async (t) => {
  const u = await throwawayUser(t, 'fail', 'real-Passw0rd');
  if (!u) return;
  try {
    const value = { engine: 'mysql', host: u.host, port: u.port, username: u.username, password: 'not-the-real-one', dbname: u.dbname };
    const created = await sm.send(new CreateSecretCommand({ Name: 'mariadb/fail', SecretString: JSON.stringify(value) }));
    const out = await sm.send(new RotateSecretCommand({ SecretId: 'mariadb/fail', RotationLambdaARN: 'trent:rotator:mysql' }));
    assert.equal(await waitForRotation(server.url, created.ARN!, out.VersionId!), 'failed');

    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'mariadb/fail' }))).SecretString, JSON.stringify(value));
    assert.deepEqual(await stagesOf(sm, 'mariadb/fail'), { [created.VersionId!]: ['AWSCURRENT'], [out.VersionId!]: ['AWSPENDING'] });
    const raw = await describeRaw(server.url, 'mariadb/fail');
    const failure = raw.TrentRotationFailure as { Step: string; Message: string };
    assert.equal(failure.Step, 'setSecret');
    assert.doesNotMatch(failure.Message, /not-the-real-one|real-Passw0rd/, 'no password in the recorded failure');
    assert.equal(raw.LastRotatedDate, undefined);
    assert.equal(await login(u, 'real-Passw0rd'), 0, 'the database password did not change');
  } finally {
    await u.drop();
  }
});

test('built-in MariaDB rotator refuses a secret of another engine at createSecret, before touching any database', async () => {
  const created = await sm.send(new CreateSecretCommand({ Name: 'mariadb/engine', SecretString: JSON.stringify({ engine: 'postgres', host: '127.0.0.1', username: 'x', password: 'y' }) }));
  const out = await sm.send(new RotateSecretCommand({ SecretId: 'mariadb/engine', RotationLambdaARN: 'trent:rotator:mariadb' }));
  assert.equal(await waitForRotation(server.url, created.ARN!, out.VersionId!), 'failed');
  const raw = await describeRaw(server.url, 'mariadb/engine');
  assert.deepEqual(raw.TrentRotationFailure && { Step: (raw.TrentRotationFailure as { Step: string }).Step }, { Step: 'createSecret' });
  assert.match((raw.TrentRotationFailure as { Message: string }).Message, /engine postgres is not one of mysql, mariadb/);
});

const noThrowaway = throwawayMariaDbUnavailable();
if (noThrowaway !== undefined && !process.env.CI) console.warn(`SKIPPED MariaDB rotation over TLS: ${noThrowaway}`);

describe('built-in MariaDB rotator over TLS, on a throwaway server with a certificate made here', { skip: noThrowaway !== undefined && !process.env.CI ? noThrowaway : false }, () => {
  let db: ThrowawayMariaDb;
  let admin: mysql.Connection;
  before(async () => {
    db = await startThrowawayMariaDb({ tls: selfSignedCertificate(['localhost', '127.0.0.1']) });
    admin = await mysql.createConnection({ socketPath: db.socketPath, user: 'root' });
    admin.on('error', () => undefined);
    // REQUIRE SSL: this account cannot log in over plain text at all.
    await admin.query("CREATE USER 'rot_tls'@'%' IDENTIFIED BY 'tls-Passw0rd-1' REQUIRE SSL");
  });
  after(async () => {
    await admin?.end().catch(() => undefined);
    await db?.stop();
  });

  async function tlsLogin(password: string, tls: boolean): Promise<number> {
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port: db.port, user: 'rot_tls', password, connectTimeout: 5000, ...(tls ? { ssl: { rejectUnauthorized: false } } : {}) });
      await c.query('SELECT 1');
      await c.end();
      return 0;
    } catch (err) {
      return (err as { errno?: number }).errno ?? -1;
    }
  }

  test('a secret with sslmode REQUIRED rotates an account that may log in only over TLS; without TLS, or with "ssl": true against an untrusted certificate, setSecret fails and nothing changes', async () => {
    assert.equal(await tlsLogin('tls-Passw0rd-1', false), ER_ACCESS_DENIED_ERROR, 'plain-text logins are refused');
    assert.equal(await tlsLogin('tls-Passw0rd-1', true), 0);
    const base = { engine: 'mariadb', host: '127.0.0.1', port: db.port, username: 'rot_tls', password: 'tls-Passw0rd-1' };
    for (const [name, extra] of [['mariadb/no-tls', {}], ['mariadb/verify', { ssl: true }]] as const) {
      const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ ...base, ...extra }) }));
      const out = await sm.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: 'trent:rotator:mariadb' }));
      assert.equal(await waitForRotation(server.url, created.ARN!, out.VersionId!), 'failed', name);
      const raw = await describeRaw(server.url, name);
      assert.equal((raw.TrentRotationFailure as { Step: string }).Step, 'setSecret', name);
      assert.equal(await tlsLogin('tls-Passw0rd-1', true), 0, `${name}: the password did not change`);
    }
    const value = { ...base, sslmode: 'REQUIRED' };
    const created = await sm.send(new CreateSecretCommand({ Name: 'mariadb/tls', SecretString: JSON.stringify(value) }));
    const out = await sm.send(new RotateSecretCommand({ SecretId: 'mariadb/tls', RotationLambdaARN: 'trent:rotator:mariadb' }));
    assert.equal(await waitForRotation(server.url, created.ARN!, out.VersionId!), 'succeeded');
    const current = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: 'mariadb/tls' }))).SecretString!) as typeof value;
    const previous = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: 'mariadb/tls', VersionStage: 'AWSPREVIOUS' }))).SecretString!) as typeof value;
    assert.deepEqual(previous, value);
    assert.equal(await tlsLogin('tls-Passw0rd-1', true), ER_ACCESS_DENIED_ERROR, 'the old password is refused');
    assert.equal(await tlsLogin(current.password, true), 0, 'the new password is accepted');
  });
});
