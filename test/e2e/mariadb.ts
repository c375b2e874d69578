/**
 * Test helper: the MariaDB/MySQL server the rotation tests use, as an administrator that can create
 * throwaway users. TRENT_TEST_MARIADB_URL, else mysql://root@127.0.0.1:3306 (empty password; `.ci/run`
 * makes sure root may log in over TCP). Unreachable: the caller skips with a loud warning, and when CI is
 * set the test fails instead, so a broken CI database never passes as green.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

export interface ThrowawayMariaDb {
  readonly port: number;
  /** Unix socket the administrator (root, no password) logs in through. */
  readonly socketPath: string;
  stop(): Promise<void>;
}

/** Why a throwaway MariaDB server cannot be made here (not root, no binaries), or undefined. */
export function throwawayMariaDbUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'a throwaway MariaDB server needs root (to run it as the mysql user)';
  if (!existsSync('/usr/bin/mariadb-install-db') || !existsSync('/usr/sbin/mariadbd')) return 'no MariaDB server binaries (mariadb-install-db, mariadbd)';
  return undefined;
}

/**
 * A MariaDB server of the test's own (mariadb-install-db in a temporary directory), for what the shared
 * server is not set up for — here TLS with a certificate made in the test. Stopped and removed by stop().
 */
export async function startThrowawayMariaDb(opts: { tls?: { certPem: string; keyPem: string } } = {}): Promise<ThrowawayMariaDb> {
  const dir = mkdtempSync(join(tmpdir(), 'trent-mariadb-'));
  const data = join(dir, 'data');
  const socketPath = join(dir, 'sock');
  execFileSync('chown', ['mysql:mysql', dir]);
  execFileSync('mariadb-install-db', ['--user=mysql', `--datadir=${data}`, '--auth-root-authentication-method=socket', '--skip-test-db'], { stdio: 'pipe', timeout: 120_000 });
  const port = await new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port: p } = s.address() as { port: number };
      s.close(() => resolve(p));
    });
  });
  const args = [
    '--no-defaults', '--user=mysql', `--datadir=${data}`, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${socketPath}`,
    `--pid-file=${join(dir, 'pid')}`, '--skip-log-bin', '--innodb-buffer-pool-size=16M', `--log-error=${join(dir, 'log')}`,
  ];
  if (opts.tls) {
    writeFileSync(join(dir, 'cert.pem'), opts.tls.certPem);
    writeFileSync(join(dir, 'key.pem'), opts.tls.keyPem, { mode: 0o600 });
    execFileSync('chown', ['mysql:mysql', join(dir, 'cert.pem'), join(dir, 'key.pem')]);
    args.push(`--ssl-cert=${join(dir, 'cert.pem')}`, `--ssl-key=${join(dir, 'key.pem')}`);
  }
  const child = spawn('/usr/sbin/mariadbd', args, { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const c = await mysql.createConnection({ socketPath, user: 'root', connectTimeout: 2000 });
      await c.end();
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`the throwaway MariaDB server did not start: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    port,
    socketPath,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
