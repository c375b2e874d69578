/**
 * The audit chain written by several Trent nodes on one PostgreSQL (docs/postgres.md, "What an audited
 * Encrypt costs the database"): each node writes a batch in one statement onto the head it expects and,
 * when another node moved it, again under the chain lock — so concurrent load through two nodes of one
 * schema leaves one whole chain. The chain lock is one per schema: a deployment in another schema of the
 * same database never waits for it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { Client } from 'pg';
import { runCli } from '../../src/cli/main.ts';
import { PostgresStorage, parsePostgresUrl } from '../../src/storage/postgres/postgres-storage.ts';
import { dropTestSchemas, freshSchemaUrl, holdChainLock, onPostgres, untilWaitingForChainLock } from '../../src/storage/postgres/test-database.ts';
import { forEachLimit, newRootKey, startNode, type TrentNode } from './cluster.ts';

onPostgres('the audit chain of Trent nodes on PostgreSQL', (base) => {
  let urlA: string;
  let urlB: string;
  let nodesA: TrentNode[] = [];
  let nodeB: TrentNode;
  let db: Client;

  before(async () => {
    urlA = await freshSchemaUrl(base, { create: false });
    urlB = await freshSchemaUrl(base, { create: false });
    const rootKey = newRootKey();
    [nodesA, nodeB] = await Promise.all([
      Promise.all([0, 1].map((i) => startNode(i, urlA, rootKey))),
      startNode(2, urlB, newRootKey()),
    ]);
    db = new Client({ connectionString: parsePostgresUrl(base).connectionString });
    db.on('error', () => undefined);
    await db.connect();
  });
  after(async () => {
    await db?.end().catch(() => undefined);
    await Promise.all([...nodesA, nodeB].filter(Boolean).map((n) => n.stop()));
    await dropTestSchemas();
  });

  const countEvents = async (url: string, eventName: string) => {
    const schema = parsePostgresUrl(url).schema!;
    const r = await db.query(`SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM ${schema}.audit_events WHERE event_name = $1`, [eventName]);
    return r.rows[0] as { n: number; d: number };
  };

  test('concurrent Encrypt through two nodes of one schema: every answered call has one event and trent audit verify finds one whole chain', async () => {
    const keyId = (await nodesA[0]!.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const calls = 1_200;
    let answered = 0;
    await forEachLimit(Array.from({ length: calls }, (_, i) => i), 48, async (i) => {
      await nodesA[i % 2]!.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(`m${i}`) }));
      answered++;
    });
    assert.equal(answered, calls);
    assert.deepEqual(await countEvents(urlA, 'Encrypt'), { n: calls, d: calls });
    let out = '';
    const sink = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) });
    const code = await runCli(['audit', 'verify', '--storage', urlA], { env: {}, stdout: sink, stderr: sink });
    assert.equal(code, 0, out);
    assert.match(out, /audit chain OK/);
  });

  test('the chain lock is one per schema: while a transaction holds one schema\'s lock, a node of another schema answers Encrypt, and a node of the locked schema answers once it is released', { timeout: 120_000 }, async () => {
    const keyA = (await nodesA[0]!.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const keyB = (await nodeB.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    // Warm both nodes (key rows in the read cache) so the call below waits on nothing but its audit batch.
    await nodesA[0]!.kms.send(new EncryptCommand({ KeyId: keyA, Plaintext: Buffer.from('warm') }));
    const holder = new PostgresStorage(urlA);
    try {
      const lock = await holdChainLock(holder);
      // Before per-schema keys this waited for the other schema's lock (and hung here until the timeout).
      const beforeB = await countEvents(urlB, 'Encrypt');
      await nodeB.kms.send(new EncryptCommand({ KeyId: keyB, Plaintext: Buffer.from('other schema') }));
      assert.equal((await countEvents(urlB, 'Encrypt')).n, beforeB.n + 1);

      let done = false;
      const blocked = nodesA[1]!.kms.send(new EncryptCommand({ KeyId: keyA, Plaintext: Buffer.from('locked schema') })).finally(() => (done = true));
      await untilWaitingForChainLock(db, parsePostgresUrl(urlA).schema!, () => done, 'a call on the locked schema was answered while its chain lock was held');
      assert.equal(done, false, 'a call on the locked schema was answered while its chain lock was held');
      await lock.release();
      const encrypted = await blocked;
      assert.ok(encrypted.CiphertextBlob);
    } finally {
      await holder.close();
    }
  });
});
