/**
 * Test helper: the MariaDB/MySQL server the rotation tests use, as an administrator that can create
 * throwaway users. TRENT_TEST_MARIADB_URL, else mysql://root@127.0.0.1:3306 (empty password; `.ci/run`
 * makes sure root may log in over TCP). Unreachable: the caller skips with a loud warning, and when CI is
 * set the test fails instead, so a broken CI database never passes as green.
 */
import mysql from 'mysql2/promise';

export const MARIADB_TEST_URL = process.env.TRENT_TEST_MARIADB_URL || 'mysql://root@127.0.0.1:3306';

export async function connectMariaDbAdmin(): Promise<{ conn: mysql.Connection; host: string; port: number } | { error: string }> {
  const u = new URL(MARIADB_TEST_URL);
  const host = u.hostname;
  const port = Number(u.port || 3306);
  try {
    const conn = await mysql.createConnection({ host, port, user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), connectTimeout: 3000 });
    conn.on('error', () => undefined);
    return { conn, host, port };
  } catch (err) {
    const why = `MariaDB not reachable as ${u.username}@${host}:${port}: ${(err as Error).message}`;
    if (process.env.CI) throw new Error(`${why} (CI is set: .ci/run should have started it)`);
    console.warn(`\n*** SKIPPING MariaDB tests: ${why} ***\n`);
    return { error: why };
  }
}
