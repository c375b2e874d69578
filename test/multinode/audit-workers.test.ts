/**
 * Two Trent nodes of two workers each (TRENT_WORKERS=2) on one PostgreSQL schema: the workers of a node
 * take turns at the audit chain through their primary (src/cluster-audit.ts) and the nodes meet only in
 * the database, which checks every batch's head (docs/postgres.md). Concurrent Encrypt through both nodes
 * leaves one event per answered call and one whole chain.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { Client } from 'pg';
import { runCli } from '../../src/cli/main.ts';
import { parsePostgresUrl } from '../../src/storage/postgres/postgres-storage.ts';
import { dropTestSchemas, freshSchemaUrl, onPostgres } from '../../src/storage/postgres/test-database.ts';
import { forEachLimit, newRootKey, startNode, type TrentNode } from './cluster.ts';

onPostgres('the audit chain of two nodes of two workers on PostgreSQL', (base) => {
  let url: string;
  let nodes: TrentNode[] = [];

  before(async () => {
    url = await freshSchemaUrl(base, { create: false });
    const rootKey = newRootKey();
    // One after the other: the first bootstraps the schema.
    nodes.push(await startNode(0, url, rootKey, { TRENT_WORKERS: '2' }, { startTimeoutMs: 60_000 }));
    nodes.push(await startNode(1, url, rootKey, { TRENT_WORKERS: '2' }, { startTimeoutMs: 60_000 }));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    nodes = [];
    await dropTestSchemas();
  });

  test('concurrent Encrypt through two nodes of two workers: every answered call has one event and trent audit verify finds one whole chain', { timeout: 120_000 }, async () => {
    const keyId = (await nodes[0]!.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const calls = 1_600;
    let answered = 0;
    // 64 in flight, spread over both nodes (and, by each primary, over their workers).
    await forEachLimit(Array.from({ length: calls }, (_, i) => i), 64, async (i) => {
      await nodes[i % 2]!.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(`m${i}`) }));
      answered++;
    });
    assert.equal(answered, calls);
    const db = new Client({ connectionString: parsePostgresUrl(base).connectionString });
    await db.connect();
    try {
      const schema = parsePostgresUrl(url).schema!;
      const r = await db.query(`SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM ${schema}.audit_events WHERE event_name = 'Encrypt'`);
      assert.deepEqual(r.rows[0], { n: calls, d: calls });
    } finally {
      await db.end();
    }
    let out = '';
    const sink = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) });
    const code = await runCli(['audit', 'verify', '--storage', url], { env: {}, stdout: sink, stderr: sink });
    assert.equal(code, 0, out);
    assert.match(out, /audit chain OK/);
  });
});
