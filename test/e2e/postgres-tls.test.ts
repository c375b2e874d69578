/**
 * TRENT_STORAGE=postgres://…?sslmode=verify-full&sslrootcert=… is honoured (docs/tls.md): against a
 * throwaway PostgreSQL cluster (initdb, as test/multinode/cluster.ts makes them) with ssl=on and a server
 * certificate from `trent tls init`, every connection Trent opens is encrypted, and a server certificate
 * that does not chain to sslrootcert is refused. Needs root and the PostgreSQL server binaries: in CI
 * always; elsewhere skipped loudly without them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { openStorage } from '../../src/storage/open-storage.ts';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from '../multinode/cluster.ts';
import { E2E_STORAGE, startServer } from './harness.ts';
import { devPki, httpsKms, type Pki } from './tls-support.ts';

function skipReason(): string | false {
  // Its storage is the private cluster whatever TRENT_E2E_STORAGE says: the SQLite pass runs it.
  if (E2E_STORAGE === 'postgres') return 'uses its own PostgreSQL cluster: covered by the SQLite pass';
  const why = privatePostgresUnavailable();
  if (!why) return false;
  if (process.env.CI) throw new Error(`PostgreSQL over TLS must be tested in CI: ${why}`);
  console.warn(`\n!!! skipping PostgreSQL over TLS: ${why}\n`);
  return why;
}

describe('PostgreSQL storage over TLS (sslmode=verify-full)', { skip: skipReason() }, () => {
  let pgServer: PrivatePostgres;
  let pki: Pki;
  before(async () => {
    pgServer = await startPrivatePostgres();
    pki = await devPki();
    // The server's pair, readable by the postgres user only (PostgreSQL refuses a key others can read).
    const dir = mkdtempSync(join(tmpdir(), 'trent-pg-tls-'));
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    for (const f of ['server.pem', 'server-key.pem']) {
      copyFileSync(join(pki.dir, f), join(dir, f));
      chownSync(join(dir, f), uid, gid);
      chmodSync(join(dir, f), 0o600);
    }
    const admin = new pg.Client({ connectionString: pgServer.url });
    await admin.connect();
    try {
      await admin.query(`ALTER SYSTEM SET ssl_cert_file = '${join(dir, 'server.pem')}'`);
      await admin.query(`ALTER SYSTEM SET ssl_key_file = '${join(dir, 'server-key.pem')}'`);
      await admin.query(`ALTER SYSTEM SET ssl = 'on'`);
      await admin.query('SELECT pg_reload_conf()');
    } finally {
      await admin.end();
    }
  });
  after(() => pgServer?.destroy());

  const tlsUrl = (ca: string) => `${pgServer.url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;

  test('Trent on TRENT_STORAGE with sslmode=verify-full works, and every connection it opens is TLS', async () => {
    const server = await startServer({ env: { ...pki.env, TRENT_STORAGE: tlsUrl(pki.ca) } });
    try {
      const kms = httpsKms(server.url, pki.ca);
      const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: Buffer.from('tls to the database') }));
      assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString(), 'tls to the database');
      kms.destroy();
      const admin = new pg.Client({ connectionString: pgServer.url });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ total: string; encrypted: string }>(
          `SELECT count(*) AS total, count(*) FILTER (WHERE s.ssl) AS encrypted
             FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
            WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()`,
        );
        assert.ok(Number(rows[0]!.total) > 0, 'Trent holds connections');
        assert.equal(rows[0]!.encrypted, rows[0]!.total, 'every Trent connection is encrypted');
      } finally {
        await admin.end();
      }
    } finally {
      await server.stop(true);
    }
  });

  test('a database certificate that does not chain to sslrootcert is refused', async () => {
    const other = await devPki();
    await assert.rejects(openStorage(tlsUrl(other.ca)), /certificate|self.signed|unable to verify/i);
  });
});
