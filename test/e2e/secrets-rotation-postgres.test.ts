/**
 * The built-in PostgreSQL rotator (trent:rotator:postgres) against a throwaway PostgreSQL cluster made
 * here with initdb (as test/multinode does) that checks passwords: pg_hba.conf asks scram-sha-256 of every
 * TCP login but the administrator's, so the test proves the rotation directly — the old password is
 * refused, the new one logs in, and the old value reads under AWSPREVIOUS.
 *
 * The cluster also serves TLS with a certificate made in the test (trusted by nobody), and refuses
 * plain-text logins of members of `tls_only`: a secret asking for TLS (`sslmode`) rotates such a role,
 * the same secret without it cannot log in, and `"ssl": true` (certificate verified) refuses the
 * untrusted certificate — AWSCURRENT and the database password unchanged.
 *
 * Needs root (initdb runs as the postgres user) and the PostgreSQL server binaries; skipped loudly
 * elsewhere, and fails under CI=true where they must be present.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ManualClock } from '../../src/clock.ts';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from '../multinode/cluster.ts';
import type { TestServer } from './harness.ts';
import { describeRaw, type SecretsFixture, startSecretsServer } from './secrets-fixture.ts';
import { waitForRotation } from './rotation-wait.ts';
import { selfSignedCertificate } from './test-tls.ts';

const unavailable = privatePostgresUnavailable();
if (unavailable !== undefined && !process.env.CI) console.warn(`SKIPPED secrets-rotation-postgres: ${unavailable}`);

describe('built-in PostgreSQL rotator on a throwaway cluster that checks passwords', { skip: unavailable !== undefined && !process.env.CI ? unavailable : false }, () => {
  let fixture: SecretsFixture | undefined;
  let server: TestServer;
  let sm: SecretsManagerClient;
  let cluster: PrivatePostgres;
  let admin: pg.Client;
  let port: number;
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 9));

  before(async () => {
    cluster = await startPrivatePostgres({
      hba: [
        'local all all trust',
        'host all postgres 127.0.0.1/32 trust', // the test's administrator only
        'hostnossl all +tls_only 127.0.0.1/32 reject',
        'host all all 127.0.0.1/32 scram-sha-256',
      ],
      tls: selfSignedCertificate(['localhost', '127.0.0.1']),
    });
    port = Number(new URL(cluster.url).port);
    admin = new pg.Client({ connectionString: cluster.url });
    admin.on('error', () => undefined);
    await admin.connect();
    await admin.query('CREATE ROLE tls_only NOLOGIN');
    fixture = await startSecretsServer({ clock, env: { TRENT_JOB_INTERVAL_MS: '0' } });
    ({ server, sm } = fixture);
  });
  after(async () => {
    await fixture?.stop();
    await admin?.end().catch(() => undefined);
    cluster?.destroy();
  });

  /** Logs in over TCP; 'ok', or the server's SQLSTATE (28P01: wrong password, 28000: refused by pg_hba). */
  async function login(user: string, password: string, ssl: boolean): Promise<string> {
    const c = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'postgres', ssl: ssl ? { rejectUnauthorized: false } : false, connectionTimeoutMillis: 10_000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      return 'ok';
    } catch (err) {
      return (err as { code?: string }).code ?? String(err);
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  async function rotate(name: string, value: Record<string, unknown>) {
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }));
    const out = await sm.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: 'trent:rotator:postgres' }));
    const outcome = await waitForRotation(server.url, created.ARN!, out.VersionId!);
    const d = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    const raw = await describeRaw(server.url, name);
    return { created, out, outcome, stages: d.VersionIdsToStages ?? {}, failure: raw.TrentRotationFailure as { Step: string; Message: string } | undefined };
  }
  const valueOf = async (name: string, stage = 'AWSCURRENT') =>
    JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: stage }))).SecretString!) as Record<string, unknown> & { password: string };

  test('after rotation the old password is refused and the new one accepted by a server that checks passwords; AWSPREVIOUS holds the old value', async () => {
    await admin.query(`CREATE ROLE rot_plain LOGIN PASSWORD 'initial-Passw0rd'`);
    assert.equal(await login('rot_plain', 'initial-Passw0rd', false), 'ok');
    assert.equal(await login('rot_plain', 'some-other-password', false), '28P01', 'the cluster checks passwords');
    const value = { engine: 'postgres', host: '127.0.0.1', port, username: 'rot_plain', password: 'initial-Passw0rd', dbname: 'postgres' };
    const r = await rotate('pg/plain', value);
    assert.equal(r.outcome, 'succeeded', JSON.stringify(r.failure));
    assert.deepEqual(r.stages, { [r.created.VersionId!]: ['AWSPREVIOUS'], [r.out.VersionId!]: ['AWSCURRENT'] });
    const current = await valueOf('pg/plain');
    assert.deepEqual(await valueOf('pg/plain', 'AWSPREVIOUS'), value);
    assert.equal(current.password.length, 32);
    assert.doesNotMatch(current.password, /[/@"'\\]/);
    assert.deepEqual({ ...current, password: '' }, { ...value, password: '' });
    assert.equal(await login('rot_plain', 'initial-Passw0rd', false), '28P01', 'the old password is refused');
    assert.equal(await login('rot_plain', current.password, false), 'ok', 'the new password is accepted');
  });

  test('a secret with sslmode connects over TLS: a role that may log in only over TLS is rotated; without TLS, or with "ssl": true against an untrusted certificate, setSecret fails and nothing changes', async () => {
    await admin.query(`CREATE ROLE rot_tls LOGIN PASSWORD 'tls-Passw0rd-1' IN ROLE tls_only`);
    assert.equal(await login('rot_tls', 'tls-Passw0rd-1', false), '28000', 'plain-text logins of tls_only are refused');
    assert.equal(await login('rot_tls', 'tls-Passw0rd-1', true), 'ok');
    const base = { engine: 'postgres', host: '127.0.0.1', port, username: 'rot_tls', password: 'tls-Passw0rd-1', dbname: 'postgres' };

    for (const [name, extra] of [['pg/no-tls', {}], ['pg/verify-full', { ssl: true }]] as const) {
      const logBefore = cluster.log().length;
      const r = await rotate(name, { ...base, ...extra });
      const log = cluster.log().slice(logBefore);
      // The server saw why: a plain-text attempt, or a TLS handshake the client abandoned over the certificate.
      if (name === 'pg/no-tls') assert.match(log, /rejects connection .*"rot_tls".*no encryption/, log);
      else assert.ok(/could not accept SSL connection/.test(log) && !/no encryption/.test(log), log);
      assert.equal(r.outcome, 'failed', name);
      assert.equal(r.failure?.Step, 'setSecret', name);
      assert.deepEqual(await valueOf(name), { ...base, ...extra }, name);
      assert.equal(await login('rot_tls', 'tls-Passw0rd-1', true), 'ok', `${name}: the database password did not change`);
    }

    const value = { ...base, sslmode: 'require' };
    const r = await rotate('pg/tls', value);
    assert.equal(r.outcome, 'succeeded', JSON.stringify(r.failure));
    const current = await valueOf('pg/tls');
    assert.deepEqual(await valueOf('pg/tls', 'AWSPREVIOUS'), value);
    assert.equal(await login('rot_tls', 'tls-Passw0rd-1', true), '28P01', 'the old password is refused');
    assert.equal(await login('rot_tls', current.password, true), 'ok', 'the new password is accepted');
  });
});
