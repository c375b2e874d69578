/**
 * Scheduled secret rotation across processes: three Trent nodes on one PostgreSQL schema, one of them
 * with TRENT_WORKERS=2 (four job passes every 200 ms, all looking at the same due secrets), and an HTTPS
 * webhook rotator (test/e2e/rotator-server.ts) listed in TRENT_ROTATORS that checks every signature.
 *
 * - Exactly once: secrets made due together (their due date written into the shared database, as the
 *   key-rotation scenario of multinode.test.ts does) are each rotated exactly once per due time — one
 *   ClientRequestToken reaching the rotator, one new version, one RotationSucceeded — over two due times.
 * - A dead node's run is taken over: a node is killed with SIGKILL while the rotator holds its run at
 *   setSecret; once the claim's lease lapses a surviving node finishes that same run (same token, one new
 *   version), within the lease plus a margin.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { Client } from 'pg';
import { ROTATION_LEASE_MS } from '../../src/secrets/rotation.ts';
import { parsePostgresUrl } from '../../src/storage/postgres/postgres-storage.ts';
import { dropTestSchemas, freshSchemaUrl, onPostgres } from '../../src/storage/postgres/test-database.ts';
import { ACCOUNT_ID, ADMIN } from '../e2e/harness.ts';
import { startTestRotator, type TestRotator } from '../e2e/rotator-server.ts';
import { rotationEvents, waitForRotation } from '../e2e/rotation-wait.ts';
import { forEachLimit, newRootKey, startNode, type TrentNode } from './cluster.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SHARED_SECRET = 'multinode-rotator-shared-secret-0123456789abcdef';
const ROTATOR_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:cluster-rotator`;
const SECRETS = 16;

onPostgres('scheduled secret rotation on three nodes (one with TRENT_WORKERS=2)', (base) => {
  let storageUrl: string;
  let nodes: TrentNode[] = [];
  let clients: SecretsManagerClient[] = [];
  let rotator: TestRotator;
  let db: Client;
  let caDir: string;
  const rootKey = newRootKey();

  before(async () => {
    storageUrl = await freshSchemaUrl(base, { create: false });
    rotator = await startTestRotator(SHARED_SECRET);
    caDir = mkdtempSync(join(tmpdir(), 'trent-rotator-ca-'));
    writeFileSync(join(caDir, 'ca.pem'), rotator.caPem);
    const env = { TRENT_ROTATORS: JSON.stringify({ 'cluster-rotator': { url: rotator.url, secret: SHARED_SECRET, caFile: join(caDir, 'ca.pem') } }) };
    // The first node migrates the schema; the others start together after it.
    // The machine may be busy: give start-up time rather than fail on it.
    const slow = { startTimeoutMs: 90_000 };
    nodes = [await startNode(0, storageUrl, rootKey, env, slow)];
    nodes.push(...(await Promise.all([startNode(1, storageUrl, rootKey, env, slow), startNode(2, storageUrl, rootKey, { ...env, TRENT_WORKERS: '2' }, slow)])));
    clients = nodes.map((n) => new SecretsManagerClient({ endpoint: n.url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 3 }));
    rotator.trentUrls = nodes.map((n) => n.url);
    const { connectionString, schema } = parsePostgresUrl(storageUrl);
    db = new Client({ connectionString, options: `-c search_path=${schema}` });
    db.on('error', () => undefined);
    await db.connect();
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await db?.end().catch(() => undefined);
    await Promise.all(nodes.map((n) => n.stop()));
    await rotator?.close();
    rmSync(caDir, { recursive: true, force: true });
    await dropTestSchemas();
  });

  /** Makes the secrets due now, as the passing of time would (their stored next rotation date in the past). */
  async function makeDue(arns: string[]): Promise<number> {
    const past = Date.now() - 1_000;
    await db.query(
      `UPDATE sm_secrets SET due_at = $1, revision = revision + 1,
         doc = jsonb_set(doc::jsonb, '{rotation,nextRotationAt}', to_jsonb($1::bigint))::text
       WHERE arn = ANY($2)`,
      [past, arns],
    );
    return past;
  }

  /** Waits until none of the secrets is due or being rotated, bounded. */
  async function waitSettled(arns: string[], what: string, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await db.query(`SELECT count(*)::int AS n FROM sm_secrets WHERE arn = ANY($1) AND (due_at <= $2 OR doc::jsonb #> '{rotation,claim}' IS NOT NULL)`, [arns, Date.now()]);
      if ((r.rows[0] as { n: number }).n === 0) return;
      assert.ok(Date.now() < deadline, `${what}: ${(r.rows[0] as { n: number }).n} secrets still due or rotating after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  const tokensFor = (arn: string) => new Set(rotator.requests.filter((r) => r.secretId === arn && !r.refused).map((r) => r.token));

  test(`${SECRETS} secrets due at once are each rotated exactly once per due time by four competing job passes, over two due times`, async () => {
    const arns: string[] = new Array<string>(SECRETS);
    await forEachLimit(Array.from({ length: SECRETS }, (_, i) => i), 4, async (i) => {
      const sm = clients[i % clients.length]!;
      const created = await sm.send(new CreateSecretCommand({ Name: `sched/${i}`, SecretString: `s${i}` }));
      await sm.send(new RotateSecretCommand({ SecretId: created.ARN!, RotationLambdaARN: ROTATOR_ARN, RotateImmediately: false, RotationRules: { AutomaticallyAfterDays: 1 } }));
      arns[i] = created.ARN!;
    });

    for (let due = 1; due <= 2; due++) {
      await makeDue(arns);
      await waitSettled(arns, `due time ${due}`);
      // Let every process run more passes over the same rows: a second rotation would show now.
      await sleep(2_000);
      for (const arn of arns) {
        assert.equal(tokensFor(arn).size, due, `${arn}: ${tokensFor(arn).size} rotation runs reached the rotator after ${due} due times`);
        const versions = await clients[due % clients.length]!.send(new ListSecretVersionIdsCommand({ SecretId: arn, IncludeDeprecated: true }));
        assert.equal(versions.Versions!.length, due + 1, `${arn}: ${versions.Versions!.length} versions after ${due} due times`);
        const events = await rotationEvents(nodes[1]!.url, arn);
        assert.equal(events.filter((e) => e.eventName === 'RotationSucceeded').length, due, `${arn}: ${JSON.stringify(events)}`);
        assert.equal(events.filter((e) => e.eventName === 'RotationStarted').length, due, `${arn}: ${JSON.stringify(events)}`);
      }
    }
    for (const [i, arn] of arns.entries()) {
      assert.equal((await clients[0]!.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString, `s${i}++`);
      const d = await clients[2]!.send(new DescribeSecretCommand({ SecretId: arn }));
      assert.ok(d.NextRotationDate!.getTime() > Date.now(), 'the next due time is a day on');
    }
    assert.deepEqual(rotator.requests.filter((r) => r.refused !== undefined), [], 'a request failed the signature check');
    console.log(`[multinode] ${SECRETS} secrets x 2 due times: ${rotator.requests.length} signed rotator requests, each run once`);
  });

  test('a node killed in the middle of a rotation: a survivor takes the run over once its lease lapses and finishes it with the same token', async () => {
    const victim = nodes[0]!;
    const sm = clients[0]!;
    const created = await sm.send(new CreateSecretCommand({ Name: 'killed-mid-run', SecretString: 'k' }));
    rotator.hold('setSecret');
    // RotateSecret claims the run on the node that answers it: the victim.
    const out = await sm.send(new RotateSecretCommand({ SecretId: created.ARN!, RotationLambdaARN: ROTATOR_ARN }));
    await rotator.arrived('setSecret');
    victim.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();
    rotator.trentUrls = nodes.filter((n) => n.alive()).map((n) => n.url); // the rotator calls back the living
    rotator.release();

    const survivor = nodes[1]!;
    const outcome = await waitForRotation(survivor.url, created.ARN!, out.VersionId!, ROTATION_LEASE_MS + 60_000);
    assert.equal(outcome, 'succeeded', JSON.stringify(await rotationEvents(survivor.url, created.ARN!)));
    const tookMs = Date.now() - killedAt;
    // Not sooner than the lease (the dead node's claim stands until then), and not much later.
    // The victim renewed its lease every third of it, so at least two thirds of it remained at the kill.
    assert.ok(tookMs >= ROTATION_LEASE_MS / 2, `taken over after ${tookMs} ms, before the lease had lapsed`);
    assert.ok(tookMs <= ROTATION_LEASE_MS + 30_000, `taken over only after ${tookMs} ms`);
    assert.deepEqual([...tokensFor(created.ARN!)], [out.VersionId], 'the survivor resumed the same run');
    const c = clients[1]!;
    const versions = await c.send(new ListSecretVersionIdsCommand({ SecretId: created.ARN!, IncludeDeprecated: true }));
    assert.equal(versions.Versions!.length, 2);
    assert.equal((await c.send(new GetSecretValueCommand({ SecretId: created.ARN! }))).SecretString, 'k+');
    assert.deepEqual((await c.send(new DescribeSecretCommand({ SecretId: created.ARN! }))).VersionIdsToStages, {
      [created.VersionId!]: ['AWSPREVIOUS'], [out.VersionId!]: ['AWSCURRENT'],
    });
    console.log(`[multinode] run of a SIGKILLed node finished by a survivor ${tookMs} ms after the kill (lease ${ROTATION_LEASE_MS} ms)`);
  });
});
