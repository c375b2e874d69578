/**
 * Several stateless Trent nodes on one PostgreSQL (docs/postgres.md): three real processes share one
 * schema and one root key while concurrent load goes through all of them. Each scenario is bounded
 * (≤ 20 s of load) and ends with invariant checks against every node.
 *
 * Run by scripts/run-tests.mjs on its own, after the other suites (its timing bounds assume the machine is
 * not also running them). The restart scenario stops and starts a throwaway PostgreSQL server of its own,
 * never the shared test server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  ListAliasesCommand,
  ListKeyRotationsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
  type AliasListEntry,
  type KMSClient,
  type RotationsListEntry,
} from '@aws-sdk/client-kms';
import { Client } from 'pg';
import { CREDENTIAL_CACHE_TTL_MS } from '../../src/auth/credential-store.ts';
import { parsePostgresUrl } from '../../src/storage/postgres/postgres-storage.ts';
import { dropTestSchemas, freshSchemaUrl, onPostgres } from '../../src/storage/postgres/test-database.ts';
import { ADMIN, awsError } from '../e2e/harness.ts';
import {
  failureOf,
  forEachLimit,
  isExpectedRefusal,
  newLoadLog,
  newRootKey,
  privatePostgresUnavailable,
  runLoad,
  startPrivatePostgres,
  spawnExpectingExit,
  startNode,
  type LoadLog,
  type TrentNode,
} from './cluster.ts';

/** The stated coherence bound: a change acknowledged by one node is enforced by every node within it. */
const COHERENCE_BOUND_MS = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

onPostgres('three Trent nodes on one PostgreSQL', (base) => {
  let storageUrl: string;
  const rootKey = newRootKey();
  let nodes: TrentNode[] = [];
  let db: Client;

  before(async () => {
    storageUrl = await freshSchemaUrl(base, { create: false });
    // Started together: migrations and the root-key check race, as they do in a real rollout.
    nodes = await Promise.all([0, 1, 2].map((i) => startNode(i, storageUrl, rootKey)));
    const { connectionString, schema } = parsePostgresUrl(storageUrl);
    db = new Client({ connectionString, options: `-c search_path=${schema}` });
    db.on('error', () => undefined);
    await db.connect();
  });
  after(async () => {
    await db?.end().catch(() => undefined);
    await Promise.all(nodes.map((n) => n.stop()));
    await dropTestSchemas();
  });

  const alive = () => nodes.filter((n) => n.alive());

  async function createKeys(n: number, via: TrentNode[] = nodes): Promise<string[]> {
    const ids: string[] = [];
    await forEachLimit(
      Array.from({ length: n }, (_, i) => i),
      8,
      async (i) => {
        ids.push((await via[i % via.length]!.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!);
      },
    );
    return ids;
  }

  async function listAll<T>(fetch: (marker: string | undefined) => Promise<{ items: T[]; next?: string }>): Promise<T[]> {
    const all: T[] = [];
    let marker: string | undefined;
    do {
      const page = await fetch(marker);
      all.push(...page.items);
      marker = page.next;
    } while (marker);
    return all;
  }

  const aliasesOn = (kms: KMSClient) =>
    listAll<AliasListEntry>(async (Marker) => {
      const r = await kms.send(new ListAliasesCommand({ Limit: 100, ...(Marker ? { Marker } : {}) }));
      return { items: r.Aliases ?? [], ...(r.Truncated && r.NextMarker ? { next: r.NextMarker } : {}) };
    });
  const rotationsOn = (kms: KMSClient, KeyId: string) =>
    listAll<RotationsListEntry>(async (Marker) => {
      const r = await kms.send(new ListKeyRotationsCommand({ KeyId, Limit: 100, ...(Marker ? { Marker } : {}) }));
      return { items: r.Rotations ?? [], ...(r.Truncated && r.NextMarker ? { next: r.NextMarker } : {}) };
    });
  const keyIdsOn = (kms: KMSClient) =>
    listAll<string>(async (Marker) => {
      const r = await kms.send(new ListKeysCommand({ Limit: 1000, ...(Marker ? { Marker } : {}) }));
      return { items: (r.Keys ?? []).map((k) => k.KeyId!), ...(r.Truncated && r.NextMarker ? { next: r.NextMarker } : {}) };
    });

  /**
   * Every acknowledged write of `log` is visible through every node in `readers` once the coherence bound
   * has passed. `exact` (no request
   * without an answer) also requires the on-demand rotation counts to match exactly.
   */
  async function checkAcknowledged(log: LoadLog, readers: TrentNode[], exact: boolean): Promise<void> {
    assert.deepEqual(log.duplicateAliasWins, [], 'two CreateAlias calls of one name both succeeded');
    // The contract is visibility within the coherence bound, not at once: a node may answer from its read
    // cache (TRENT_READ_CACHE_MS) a record another node changed less than that ago.
    await sleep(COHERENCE_BOUND_MS);
    for (const reader of readers) {
      const kms = reader.kms;
      const listed = new Set(await keyIdsOn(kms));
      for (const id of log.createdKeys) assert.ok(listed.has(id), `node ${reader.index}: acknowledged key ${id} missing`);

      const aliases = await aliasesOn(kms);
      const names = aliases.map((a) => a.AliasName!);
      assert.equal(new Set(names).size, names.length, `node ${reader.index}: ListAliases lists a name twice`);
      const target = new Map(aliases.map((a) => [a.AliasName!, a.TargetKeyId!]));
      for (const [name, keyId] of log.aliases) assert.equal(target.get(name), keyId, `node ${reader.index}: alias ${name}`);

      const tagKeys = new Set([...log.ackedTags.keys()].map((k) => k.split('|')[0]!));
      for (const keyId of tagKeys) {
        const tags = (await kms.send(new ListResourceTagsCommand({ KeyId: keyId, Limit: 50 }))).Tags ?? [];
        const value = new Map(tags.map((t) => [t.TagKey!, Number(t.TagValue)]));
        for (const [id, acked] of log.ackedTags) {
          const [k, tagKey] = id.split('|') as [string, string];
          if (k !== keyId) continue;
          // No lost update: the stored value is the last acknowledged one or a later attempt's.
          assert.ok((value.get(tagKey) ?? -1) >= acked, `node ${reader.index}: tag ${tagKey} of ${keyId} is ${value.get(tagKey)}, acknowledged ${acked}`);
        }
      }

      for (const [keyId, acked] of log.rotations) {
        const onDemand = (await rotationsOn(kms, keyId)).filter((r) => r.RotationType === 'ON_DEMAND').length;
        const unknown = log.rotationsUnknown.get(keyId) ?? 0;
        if (exact) assert.equal(onDemand, acked, `node ${reader.index}: key ${keyId} has ${onDemand} on-demand rotations, ${acked} acknowledged`);
        else assert.ok(onDemand >= acked && onDemand <= acked + unknown, `node ${reader.index}: key ${keyId}: ${onDemand} rotations, ${acked} acknowledged, ${unknown} unanswered`);
      }
    }
    // Every ciphertext decrypts on every node.
    const jobs = log.ciphertexts.flatMap((c, i) => readers.map((r) => ({ c, r, i })));
    await forEachLimit(jobs, 16, async ({ c, r }) => {
      const out = await r.kms.send(new DecryptCommand({ CiphertextBlob: c.blob, EncryptionContext: c.context }));
      assert.ok(Buffer.from(out.Plaintext!).equals(c.plaintext), `node ${r.index}: a ciphertext of ${c.keyId} decrypted to other bytes`);
    });
  }

  test(`concurrent mixed load through all three nodes: no lost update, unique aliases, exact rotation counts, every ciphertext decrypts everywhere, a disable is enforced everywhere within ${COHERENCE_BOUND_MS} ms`, async () => {
    const shared = await createKeys(6);
    const rotatable = await createKeys(6);
    const log = newLoadLog();
    const disableLatencies: number[] = [];
    let refusedAtOnce = 0;
    const stop = { stopped: false };

    // Beside the load: disable through one node, then poll the other two until they refuse.
    const disableProbe = async () => {
      for (let round = 0; round < 12 && !stop.stopped; round++) {
        const [a, b, c] = [nodes[round % 3]!, nodes[(round + 1) % 3]!, nodes[(round + 2) % 3]!];
        const keyId = (await a.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
        await b.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('warm') }));
        await c.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('warm') }));
        await a.kms.send(new DisableKeyCommand({ KeyId: keyId }));
        const acked = Date.now();
        for (const other of [b, c]) {
          for (let attempt = 0; ; attempt++) {
            const e = await awsError(() => other.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }))).catch(() => undefined);
            if (e?.name === 'DisabledException') {
              if (attempt === 0) refusedAtOnce++;
              break;
            }
            assert.ok(Date.now() - acked <= COHERENCE_BOUND_MS, `node ${other.index} still encrypts ${Date.now() - acked} ms after node ${a.index} disabled the key`);
            await sleep(20);
          }
          disableLatencies.push(Date.now() - acked);
        }
        // And back: enabled through b, usable through c.
        await b.kms.send(new EnableKeyCommand({ KeyId: keyId }));
        await c.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('again') }));
      }
    };

    await Promise.all([
      runLoad({ log, targets: () => nodes, sharedKeys: shared, rotatableKeys: rotatable, workers: 12, durationMs: 8_000, aliasPrefix: 'load', stop }),
      disableProbe(),
    ]);
    const unexpected = log.failures.filter((f) => !isExpectedRefusal(f));
    assert.deepEqual(unexpected, [], 'the load met errors other than the contract\'s refusals');
    assert.ok(log.ops > 50, `only ${log.ops} operations in 8 s`);
    assert.ok(disableLatencies.length >= 2);
    console.log(`[multinode] mixed load: ${log.ops} ops, ${log.createdKeys.size} keys, ${log.aliases.size} aliases, ` +
      `${[...log.rotations.values()].reduce((a, b) => a + b, 0)} rotations, ${log.ciphertexts.length} ciphertexts; ` +
      `disable refused by the other nodes after ${Math.max(...disableLatencies)} ms at most, ` +
      `on the first request after the acknowledgement ${refusedAtOnce}/${disableLatencies.length} times`);
    await checkAcknowledged(log, nodes, true);
  });

  test(`an access key deactivated in the shared database is refused by every node within the credential cache TTL (${CREDENTIAL_CACHE_TTL_MS} ms ≤ ${COHERENCE_BOUND_MS} ms)`, async () => {
    assert.ok(CREDENTIAL_CACHE_TTL_MS <= COHERENCE_BOUND_MS);
    // Every node has the administrator's credential cached.
    for (const n of nodes) await n.kms.send(new ListKeysCommand({ Limit: 1 }));
    await db.query(`UPDATE access_keys SET status = 'Inactive' WHERE access_key_id = $1`, [ADMIN.accessKeyId]);
    const changed = Date.now();
    const refusedAfter: number[] = [];
    try {
      await Promise.all(
        nodes.map(async (n) => {
          for (;;) {
            const e = await awsError(() => n.kms.send(new ListKeysCommand({ Limit: 1 }))).catch(() => undefined);
            if (e?.name === 'UnrecognizedClientException') return void refusedAfter.push(Date.now() - changed);
            // The TTL bounds the cache; the slack covers one polling interval and the request itself.
            assert.ok(Date.now() - changed <= CREDENTIAL_CACHE_TTL_MS + 150, `node ${n.index} still accepts the key after ${Date.now() - changed} ms`);
            await sleep(25);
          }
        }),
      );
    } finally {
      await db.query(`UPDATE access_keys SET status = 'Active' WHERE access_key_id = $1`, [ADMIN.accessKeyId]);
    }
    console.log(`[multinode] deactivated access key refused by every node after ${Math.max(...refusedAfter)} ms at most`);
    await sleep(CREDENTIAL_CACHE_TTL_MS + 50);
    for (const n of nodes) await n.kms.send(new ListKeysCommand({ Limit: 1 }));
  });

  test('scheduled rotations and deletions happen exactly once while one node is killed with SIGKILL mid-pass; every acknowledged write survives and the other nodes finish its jobs', async () => {
    const toRotate = await createKeys(240);
    const toDelete = await createKeys(30);
    await forEachLimit(toRotate, 8, async (KeyId) => {
      await nodes[0]!.kms.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 90 }));
    });
    await forEachLimit(toDelete, 8, async (KeyId) => {
      await nodes[1]!.kms.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
    });
    const before = new Map<string, { blob: Uint8Array }>();
    await forEachLimit(toRotate.slice(0, 40), 8, async (KeyId) => {
      const out = await nodes[2]!.kms.send(new EncryptCommand({ KeyId, Plaintext: Buffer.from(KeyId) }));
      before.set(KeyId, { blob: out.CiphertextBlob! });
    });

    // Let the time pass: make every one of those dates lie in the past (the nodes' jobs run every 200 ms).
    const past = Date.now() - 1_000;
    const log = newLoadLog();
    const stop = { stopped: false };
    const shared = await createKeys(4);
    const load = runLoad({ log, targets: alive, sharedKeys: shared, rotatableKeys: shared, workers: 9, durationMs: 12_000, aliasPrefix: 'kill', stop });
    await db.query(
      `UPDATE keys SET due_at = $1, revision = revision + 1,
         doc = jsonb_set(doc::jsonb, '{rotation,nextRotationAt}', to_jsonb($1::bigint))::text
       WHERE key_id = ANY($2)`,
      [past, toRotate],
    );
    await db.query(
      `UPDATE keys SET due_at = $1, revision = revision + 1, doc = jsonb_set(doc::jsonb, '{deletionDate}', to_jsonb($1::bigint))::text
       WHERE key_id = ANY($2)`,
      [past, toDelete],
    );

    // Kill node 2 as soon as the jobs are under way.
    const victim = nodes[2]!;
    const started = Date.now();
    for (;;) {
      const r = await db.query(`SELECT count(*)::int AS n FROM key_materials WHERE doc LIKE '%AUTOMATIC%'`);
      if ((r.rows[0] as { n: number }).n > 0 || Date.now() - started > 5_000) break;
      await sleep(5);
    }
    await sleep(1_000); // the load keeps going through node 2 a moment longer
    victim.kill('SIGKILL');
    await victim.exited;

    // The survivors drain the due list.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await db.query('SELECT count(*)::int AS n FROM keys WHERE due_at <= $1', [past]);
      if ((r.rows[0] as { n: number }).n === 0) break;
      assert.ok(Date.now() < deadline, `jobs still due 15 s after node 2 died: ${JSON.stringify(r.rows[0])}`);
      await sleep(100);
    }
    stop.stopped = true;
    await load;

    const survivors = alive();
    assert.equal(survivors.length, 2);
    // Requests to the dead node failed at the socket; the survivors only refused what the contract says.
    const unexpected = log.failures.filter((f) => !isExpectedRefusal(f) && f.node !== victim.index);
    assert.deepEqual(unexpected, [], 'the surviving nodes met unexpected errors');
    await checkAcknowledged(log, survivors, false);

    for (const KeyId of toRotate) {
      const automatic = (await rotationsOn(survivors[0]!.kms, KeyId)).filter((r) => r.RotationType === 'AUTOMATIC');
      assert.equal(automatic.length, 1, `key ${KeyId} was rotated by the job ${automatic.length} times`);
    }
    for (const KeyId of toDelete) {
      const e = await awsError(() => survivors[1]!.kms.send(new DescribeKeyCommand({ KeyId })));
      assert.equal(e.name, 'NotFoundException', `key ${KeyId} pending deletion was not destroyed`);
    }
    for (const [KeyId, { blob }] of before) {
      const out = await survivors[1]!.kms.send(new DecryptCommand({ CiphertextBlob: blob }));
      assert.equal(Buffer.from(out.Plaintext!).toString(), KeyId);
    }
    console.log(`[multinode] kill -9: ${log.ops} ops under load, ${log.failures.filter((f) => f.node === victim.index).length} failed at the dead node; ` +
      `${toRotate.length} rotations and ${toDelete.length} deletions each done once`);

    // Bring the cluster back to three nodes for the next scenario.
    nodes[2] = await startNode(2, storageUrl, rootKey);
  });

  // The database is stopped and started, so this scenario runs on a throwaway PostgreSQL server of its
  // own (initdb in a temporary directory): stopping the shared test server would break every other test
  // and every other run using it at that moment.
  const privateUnavailable = privatePostgresUnavailable();
  const restartSkip = privateUnavailable !== undefined && !process.env.CI ? privateUnavailable : false;

  test('PostgreSQL stopped and restarted under load: 503 ServiceUnavailableException while it is down (never a 500), every node recovers by itself, nothing acknowledged is lost', { skip: restartSkip }, async () => {
    const pg = await startPrivatePostgres();
    const own: TrentNode[] = [];
    try {
      const url = `${pg.url}?schema=trent`;
      own.push(...(await Promise.all([0, 1, 2].map((i) => startNode(i, url, rootKey)))));
      const shared = await createKeys(4, own);
      const keysBefore = new Set(await keyIdsOn(own[0]!.kms));
      const log = newLoadLog();
      const stop = { stopped: false };
      const load = runLoad({ log, targets: () => own, sharedKeys: shared, rotatableKeys: shared, workers: 9, durationMs: 20_000, aliasPrefix: 'restart', stop });
      let downAt = 0;
      try {
        await sleep(1_500);
        downAt = log.ops;
        pg.stop();
        await sleep(2_000);
      } finally {
        if (!pg.isUp()) pg.start();
      }
      const upAt = log.ops;

      // Recovery: every node answers again, by itself, within 10 s.
      const recoveredBy = Date.now() + 10_000;
      for (const n of own) {
        for (;;) {
          try {
            await n.kms.send(new CreateKeyCommand({}));
            break;
          } catch (err) {
            assert.ok(Date.now() < recoveredBy, `node ${n.index} has not recovered: ${JSON.stringify(failureOf(err, n.index, 'CreateKey'))}`);
            await sleep(100);
          }
        }
      }
      await sleep(1_000); // some load after recovery
      stop.stopped = true;
      await load;

      const unavailable = log.failures.filter((f) => f.status === 503);
      const other = log.failures.filter((f) => f.status !== 503 && !isExpectedRefusal(f));
      assert.ok(unavailable.length > 0, 'no request failed while PostgreSQL was down');
      assert.ok(unavailable.every((f) => f.name === 'ServiceUnavailableException'), 'a 503 without ServiceUnavailableException');
      assert.deepEqual(other, [], 'requests failed otherwise than with 503 while PostgreSQL was down');
      console.log(`[multinode] PostgreSQL restart: ${log.ops} ops (${upAt - downAt} during the outage), ${unavailable.length} answered 503`);

      // No partial writes: every key made during the outage that any node lists — acknowledged or not (a
      // COMMIT lost in flight) — encrypts, so its material committed with it.
      const keys = await keyIdsOn(own[0]!.kms);
      await forEachLimit(
        keys.filter((k) => !keysBefore.has(k)),
        8,
        async (KeyId) => {
          await own[1]!.kms.send(new EncryptCommand({ KeyId, Plaintext: Buffer.from('whole') }));
        },
      );
      await checkAcknowledged(log, own, false);
    } finally {
      await Promise.all(own.map((n) => n.stop()));
      pg.destroy();
    }
  });

  test('a node started with another root key on the same database exits non-zero and says why', () => {
    const r = spawnExpectingExit(storageUrl, newRootKey());
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /root key does not match the one this database was sealed with/);
  });
});
