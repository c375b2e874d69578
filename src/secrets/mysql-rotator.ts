/**
 * Built-in single-user MySQL/MariaDB rotator (RotationLambdaARN `trent:rotator:mysql`, engine `mysql` or
 * `mariadb`), after AWS's SecretsManagerRDSMySQLRotationSingleUser and …MariaDBRotationSingleUser
 * templates; the steps are in database-rotator.ts.
 *
 * setSecret changes the password of the account it logged in as:
 * - `ALTER USER CURRENT_USER() IDENTIFIED BY ?` as the MySQL ≥ 5.7 template does (CURRENT_USER() names the
 *   exact user@host account that authenticated, where the template's bare 'username' would mean
 *   'username'@'%');
 * - MariaDB ≥ 10.4 requires the CREATE USER privilege even for one's own ALTER USER, so on that refusal
 *   (ER_SPECIFIC_ACCESS_DENIED_ERROR) it falls back to `SET PASSWORD = PASSWORD(?)`, what the MariaDB
 *   template runs and what any account may do for itself (MySQL 8: `SET PASSWORD = ?`).
 * The password travels as a client-escaped string literal (mysql2's `?` substitution); generated
 * passwords contain no quote or backslash (TEMPLATE_EXCLUDED_CHARACTERS), so sql_mode NO_BACKSLASH_ESCAPES
 * cannot change their meaning. With `"ssl": true` or `sslmode` in the secret, it connects over TLS
 * (database-rotator.ts TlsMode).
 */
import type mysql from 'mysql2/promise';
import { databaseRotator, tlsModeOf, type DbCredentials } from './database-rotator.ts';

/** mysql2's `ssl` option for the secret's TLS mode (verifyIdentity: the certificate must name the host). */
function mysqlSsl(s: DbCredentials): mysql.SslOptions | undefined {
  switch (tlsModeOf(s)) {
    case 'disable': return undefined;
    case 'require': return { rejectUnauthorized: false };
    case 'verify-ca': return { rejectUnauthorized: true, verifyIdentity: false };
    case 'verify-full': return { rejectUnauthorized: true, verifyIdentity: true };
  }
}

const ER_SPECIFIC_ACCESS_DENIED_ERROR = 1227;

async function withConnection<T>(s: DbCredentials, body: (c: mysql.Connection) => Promise<T>): Promise<T> {
  // Loaded on first rotation: most deployments never rotate a MySQL secret, and the driver is ~3 MB of heap.
  const { default: driver } = await import('mysql2/promise');
  const conn = await driver.createConnection({
    host: s.host,
    port: Number(s.port ?? 3306),
    user: s.username,
    password: s.password,
    ...(s.dbname ? { database: s.dbname } : {}),
    connectTimeout: 10_000,
    ...(mysqlSsl(s) ? { ssl: mysqlSsl(s)! } : {}),
  });
  conn.on('error', () => undefined);
  try {
    return await body(conn);
  } finally {
    await conn.end().catch(() => undefined);
  }
}

function errno(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'errno' in err && typeof err.errno === 'number' ? err.errno : undefined;
}

export const mysqlRotator = databaseRotator({
  engines: ['mysql', 'mariadb'],
  setOwnPassword: (login, password) =>
    withConnection(login, async (c) => {
      try {
        await c.query('ALTER USER CURRENT_USER() IDENTIFIED BY ?', [password]);
      } catch (err) {
        if (errno(err) !== ER_SPECIFIC_ACCESS_DENIED_ERROR) throw err;
        const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
        const mariadb = String(rows[0]?.v ?? '').includes('MariaDB');
        await c.query(mariadb ? 'SET PASSWORD = PASSWORD(?)' : 'SET PASSWORD = ?', [password]);
      }
    }),
  ping: (login) => withConnection(login, async (c) => void (await c.query('SELECT 1'))),
});
