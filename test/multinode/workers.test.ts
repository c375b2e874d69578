/**
 * TRENT_WORKERS > 1 on SQLite (src/cluster.ts): several processes on one port and one database file.
 * Checks that requests are spread over the workers, that concurrent writes from all of them leave one
 * unbroken audit chain (the chain's single-writer rule holds across processes), that a key disabled
 * through one connection is refused on every other within the coherence bound, and that a stop is clean.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { CreateKeyCommand, DecryptCommand, DisableKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { runCli } from '../../src/cli/main.ts';
import { forEachLimit, kmsClient, newRootKey, startNode, type TrentNode } from './cluster.ts';

const WORKERS = 2;
const CLIENTS = 8;
/** docs/postgres.md: a change acknowledged by one node (here: worker) is enforced by every other within it. */
const COHERENCE_BOUND_MS = 1_000;

describe('TRENT_WORKERS=2 on one SQLite file', () => {
  let dir: string;
  let storage: string;
  let node: TrentNode;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trent-workers-'));
    storage = `sqlite:${join(dir, 'trent.db')}`;
    node = await startNode(1, storage, newRootKey(), { TRENT_WORKERS: String(WORKERS), TRENT_AUDIT_DIGEST_INTERVAL: '300ms' });
    // Workers listen only once all are built, so every one has logged within moments of the first.
    const deadline = Date.now() + 10_000;
    while (listeningPids(node.output()).size < WORKERS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  });
  after(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function listeningPids(output: string): Set<number> {
    const pids = new Set<number>();
    for (const line of output.split('\n')) {
      if (!line.includes('Trent listening')) continue;
      const pid = (JSON.parse(line) as { pid?: number }).pid;
      if (pid !== undefined) pids.add(pid);
    }
    return pids;
  }

  test('every worker listens on the one port', () => {
    assert.equal(listeningPids(node.output()).size, WORKERS, node.output());
  });

  test('concurrent calls over many connections all succeed, and a disable is enforced on every connection within the coherence bound', async () => {
    // One client per connection pool: the primary hands connections to the workers in turn.
    const clients = Array.from({ length: CLIENTS }, () => kmsClient(node.url));
    try {
      const keyIds: string[] = [];
      await forEachLimit(clients, CLIENTS, async (kms) => {
        const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
        keyIds.push(KeyMetadata!.KeyId!);
        for (let i = 0; i < 25; i++) {
          const plaintext = Buffer.from(`message ${i}`);
          const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId!, Plaintext: plaintext }));
          const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob }));
          assert.deepEqual(Buffer.from(Plaintext!), plaintext);
        }
      });
      await clients[0]!.send(new DisableKeyCommand({ KeyId: keyIds[0]! }));
      const acked = Date.now();
      await forEachLimit(clients, CLIENTS, async (kms) => {
        for (;;) {
          try {
            await kms.send(new EncryptCommand({ KeyId: keyIds[0]!, Plaintext: Buffer.from('x') }));
          } catch (err) {
            assert.equal((err as Error).name, 'DisabledException');
            break;
          }
          assert.ok(Date.now() - acked <= COHERENCE_BOUND_MS, `still encrypts ${Date.now() - acked} ms after the disable`);
          await new Promise((r) => setTimeout(r, 20));
        }
      });
    } finally {
      for (const c of clients) c.destroy();
    }
  });

  test('a stop is clean and the audit chain written by all workers verifies', async () => {
    await node.stop();
    assert.equal(await node.exited, 0, node.output());
    let out = '';
    const sink = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) });
    const code = await runCli(['audit', 'verify', '--storage', storage], { env: {}, stdout: sink, stderr: sink });
    assert.equal(code, 0, out);
    assert.match(out, /audit chain OK/);
  });
});
