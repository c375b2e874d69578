/**
 * Built-in single-user PostgreSQL rotator (RotationLambdaARN `trent:rotator:postgres`), after AWS's
 * SecretsManagerRDSPostgreSQLRotationSingleUser template; the steps are in database-rotator.ts.
 * setSecret runs ALTER USER … WITH PASSWORD with an escaped literal: passwords reach the server only there
 * and in the login handshake. With `"ssl": true` or `sslmode` in the secret, it connects over TLS
 * (database-rotator.ts TlsMode).
 */
import type pg from 'pg';
import { databaseRotator, tlsModeOf, type DbCredentials } from './database-rotator.ts';

/** pg's `ssl` option (passed to tls.connect) for the secret's TLS mode. */
function pgSsl(s: DbCredentials): pg.ClientConfig['ssl'] {
  switch (tlsModeOf(s)) {
    case 'disable': return false;
    case 'require': return { rejectUnauthorized: false };
    case 'verify-ca': return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full': return { rejectUnauthorized: true };
  }
}

async function withClient<T>(s: DbCredentials, body: (c: pg.Client) => Promise<T>): Promise<T> {
  // Loaded on first rotation (the SQLite-backed server never needs the driver otherwise).
  const { default: driver } = await import('pg');
  const client = new driver.Client({
    host: s.host,
    port: Number(s.port ?? 5432),
    user: s.username,
    password: s.password,
    database: s.dbname ?? 'postgres',
    connectionTimeoutMillis: 10_000,
    ssl: pgSsl(s),
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const postgresRotator = databaseRotator({
  engines: ['postgres'],
  setOwnPassword: (login, password) =>
    withClient(login, async (c) => {
      await c.query(`ALTER USER ${c.escapeIdentifier(login.username)} WITH PASSWORD ${c.escapeLiteral(password)}`);
    }),
  ping: (login) => withClient(login, async (c) => void (await c.query('SELECT 1'))),
});
