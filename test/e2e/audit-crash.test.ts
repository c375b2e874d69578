/**
 * Crash durability of the audit log: a real server process (node --import tsx src/main.ts) under a load
 * of mutating calls is killed with SIGKILL; after a restart every call that was answered with success
 * has its event, and the chain verifies.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyChain } from '../../src/audit/chain.ts';
import { readDigestPublicKey } from '../../src/audit/digest-key.ts';
import { ManualClock } from '../../src/clock.ts';
import { freshSchemaUrl, postgresTestBaseUrl } from '../../src/storage/postgres/test-database.ts';
import { ADMIN, ACCOUNT_ID, E2E_STORAGE, rawCall, startServer } from './harness.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'trent-crash-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

test('kill -9 during a load of mutating calls: every acknowledged call has its event after restart, and the chain verifies', async () => {
  const port = await freePort();
  const storage: Record<string, string> = E2E_STORAGE === 'postgres' ? { TRENT_STORAGE: await freshSchemaUrl(postgresTestBaseUrl()) } : {};
  const env = {
    PATH: process.env.PATH ?? '',
    TRENT_DATA_DIR: dataDir,
    TRENT_PORT: String(port),
    TRENT_HOST: '127.0.0.1',
    TRENT_ACCOUNT_ID: ACCOUNT_ID,
    TRENT_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId,
    TRENT_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    TRENT_LOG_LEVEL: 'info',
    ...storage,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('Trent listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    const acknowledged: string[] = [];
    let stop = false;
    const worker = async (w: number) => {
      let keyId: string | undefined;
      for (let i = 0; !stop && i < 2000; i++) {
        try {
          const body = keyId ? { KeyId: keyId, Tags: [{ TagKey: `t${i % 5}`, TagValue: `w${w}-${i}` }] } : { Description: `crash-${w}` };
          const res = await rawCall(url, keyId ? 'TrentService.TagResource' : 'TrentService.CreateKey', JSON.stringify(body));
          if (res.status === 200) {
            acknowledged.push(res.headers.get('x-amzn-requestid')!);
            if (!keyId) keyId = (res.json.KeyMetadata as { KeyId: string }).KeyId;
            if (i % 3 === 2) keyId = undefined; // keep creating keys too
          }
        } catch {
          return; // the server is gone
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    while (acknowledged.length < 60) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    await exited;
    assert.ok(acknowledged.length >= 60);

    // Ten minutes later: intents of the killed node are stale, so housekeeping records their calls as
    // outcome unknown (SQLite does it at start-up already; PostgreSQL waits, as other nodes may be busy).
    const server = await startServer({ dataDir, env: storage, clock: new ManualClock(Date.now() + 10 * 60_000) });
    try {
      await server.app.audit.runOnce();
      const rows = await server.app.storage.read((r) => r.audit.scan(0, 1_000_000));
      const requestIds = new Set(rows.map((r) => (JSON.parse(r.record) as { requestID: string }).requestID));
      const missing = acknowledged.filter((id) => !requestIds.has(id));
      assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged calls have no event`);
      const digests = await server.app.storage.read((r) => r.audit.listDigests());
      const publicKey = await server.app.storage.read((r) => readDigestPublicKey(r));
      const result = verifyChain(rows, digests, publicKey);
      assert.equal(result.ok, true, result.firstBreak?.message);
      // No intent is left behind: calls cut off by the kill are recorded as outcome unknown.
      assert.equal((await server.app.storage.read((r) => r.audit.listIntents(Number.MAX_SAFE_INTEGER, 10))).length, 0);
    } finally {
      await server.stop();
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
