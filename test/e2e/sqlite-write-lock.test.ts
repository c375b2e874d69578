/**
 * SQLite's write lock held by another process (a worker of TRENT_WORKERS > 1, a `trent` tool):
 * src/storage/sqlite/write-lock.ts. The server waits for it without stopping its event loop — it keeps
 * answering while an audited call waits — and the waiting call is still answered only once its event is
 * durable in the chain. Past the 5 s bound the call fails closed (the service's 500), and the server
 * carries on. SQLite only (PostgreSQL's chain lock is a row lock on the server: docs/postgres.md).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { verifyChain } from '../../src/audit/chain.ts';
import { E2E_STORAGE, startServer, type TestServer } from './harness.ts';

/**
 * Another process holding the database's write lock (BEGIN IMMEDIATE) until its stdin closes or says
 * "release". Resolves once the lock is held.
 */
async function holdWriteLock(dbPath: string): Promise<{ release(): Promise<void> }> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const source = `
    const Database = require(${JSON.stringify(driver)});
    const db = new Database(${JSON.stringify(dbPath)});
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('held\\n');
    process.stdin.on('data', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });
  `;
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['-e', source], { stdio: 'pipe' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('held')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`lock holder exited (${code}) before holding the lock`)));
  });
  return {
    async release() {
      child.stdin.write('release\n');
      await exited;
    },
  };
}

describe('SQLite write lock held by another process', { skip: E2E_STORAGE !== 'sqlite' && 'SQLite only' }, () => {
  let server: TestServer;
  let keyId: string;
  before(async () => {
    server = await startServer();
    const kms = server.kms();
    keyId = (await kms.send(new CreateKeyCommand({})))!.KeyMetadata!.KeyId!;
    // One call first, so the waiting one below is not the first write of anything.
    await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('warm') }));
  });
  after(() => server?.stop(true));

  test('an audited call waiting for the lock does not stop the server, and answers once its event is durable', async () => {
    const kms = server.kms();
    const holder = await holdWriteLock(join(server.dataDir, 'trent.db'));
    let answered = false;
    const encrypt = kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('waits for the lock') }))
      .finally(() => (answered = true));
    try {
      // Give the call time to reach its audit batch, which now waits for the lock.
      await new Promise((r) => setTimeout(r, 300));
      // Not audited, no storage: answered by the event loop alone. With the old busy_timeout wait it came
      // only after the 5 s bound, once the waiting call had failed.
      const health = await fetch(`${server.url}/health`);
      assert.equal(health.status, 200);
      assert.equal(answered, false, 'Encrypt answered while its audit event could not be written');
    } finally {
      await holder.release();
    }
    const out = await encrypt;
    assert.ok(out.CiphertextBlob);
    const requestId = out.$metadata.requestId;
    const rows = await server.app.storage.read((r) => r.audit.scan(0, 1_000_000));
    assert.ok(rows.some((r) => (JSON.parse(r.record) as { requestID?: string }).requestID === requestId), 'its event is in the chain');
    const verified = verifyChain(rows, [], undefined);
    assert.equal(verified.ok, true, JSON.stringify(verified));
  });

  test('past the bound the waiting call fails closed, and the next call succeeds', async () => {
    const kms = server.kms();
    const before = (await server.app.storage.read((r) => r.audit.scan(0, 1_000_000))).length;
    const holder = await holdWriteLock(join(server.dataDir, 'trent.db'));
    let status: number | undefined;
    try {
      status = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('never answered 200') })).then(
        () => 200,
        (err: { $metadata?: { httpStatusCode?: number }; name?: string }) => {
          assert.equal(err.name, 'KMSInternalException');
          return err.$metadata?.httpStatusCode;
        },
      );
    } finally {
      await holder.release();
    }
    assert.equal(status, 500);
    const out = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('after') }));
    assert.ok(out.CiphertextBlob);
    const rows = await server.app.storage.read((r) => r.audit.scan(0, 1_000_000));
    assert.ok(rows.length > before);
    const verified = verifyChain(rows, [], undefined);
    assert.equal(verified.ok, true, JSON.stringify(verified));
  });
});
