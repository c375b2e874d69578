/**
 * GET /metrics with TRENT_WORKERS=2 (src/cluster.ts, src/http/metrics.ts): whichever worker receives the
 * scrape answers with every worker's metrics, collected by the primary, each series labelled with its
 * worker; a counter's series per worker add up to the calls made, none counted twice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { kmsClient, newRootKey, startNode, type TrentNode } from '../multinode/cluster.ts';
import { e2eStorageUrl, E2E_STORAGE, rawCall } from './harness.ts';

interface Family { name: string; type: string; metrics: { labels?: Record<string, string>; value?: string }[] }
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

const WORKERS = 2;
const CLIENTS = 4;

let dir: string;
let node: TrentNode;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trent-metrics-workers-'));
  node = await startNode(1, await e2eStorageUrl(dir), newRootKey(), { TRENT_WORKERS: String(WORKERS) }, { startTimeoutMs: 60_000 });
  // Workers listen only once all are built: wait for the second one's line.
  const deadline = Date.now() + 20_000;
  while ((node.output().match(/Trent listening/g) ?? []).length < WORKERS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
});
after(async () => {
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function encryptSeries(families: Family[]) {
  const f = families.find((x) => x.name === 'trent_requests_total');
  assert.ok(f, 'trent_requests_total is exposed');
  return f.metrics.filter((m) => m.labels?.service === 'kms' && m.labels.operation === 'Encrypt' && m.labels.outcome === 'success');
}

test('one scrape returns the series of both workers, each labelled worker="<n>", and per-worker counters add up to the calls made', async () => {
  // One client per connection: the primary hands new connections to the workers in turn.
  const clients = Array.from({ length: CLIENTS }, () => kmsClient(node.url));
  let calls = 0;
  try {
    const { KeyMetadata } = await clients[0]!.send(new CreateKeyCommand({}));
    for (const kms of clients) {
      for (let i = 0; i < 2; i++) {
        await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId!, Plaintext: Buffer.from('x') }));
        calls++;
      }
    }
  } finally {
    for (const c of clients) c.destroy();
  }

  const res = await fetch(`${node.url}/metrics`);
  assert.equal(res.status, 200);
  const families = parse(await res.text());
  const series = encryptSeries(families);
  const workers = new Set(series.map((m) => m.labels?.worker));
  assert.equal(workers.size, WORKERS, `Encrypt series of both workers: ${JSON.stringify(series)}`);
  for (const w of workers) assert.match(String(w), /^\d+$/);
  for (const m of series) assert.ok(Number(m.value) > 0);
  assert.equal(series.reduce((n, m) => n + Number(m.value), 0), calls, 'each call counted once, by the worker that answered it');

  // Every family carries the label, the default process metrics too, for both workers.
  const heap = families.find((x) => x.name === 'trent_process_resident_memory_bytes');
  assert.ok(heap, 'process metrics are exposed');
  assert.deepEqual(new Set(heap.metrics.map((m) => m.labels?.worker)), workers);
  const jobs = families.find((x) => x.name === 'trent_job_runs_total');
  assert.ok(jobs?.metrics.every((m) => m.labels?.worker !== undefined && workers.has(m.labels.worker)));
});

test('GetSealStatus names the node that answered and, under TRENT_WORKERS > 1, its worker (the operator view lists it)', async () => {
  const res = await rawCall(node.url, 'TrentOperator.GetSealStatus', '{}', { service: 'trent' });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const self = res.json.Node as { Id: string; Worker?: string };
  assert.match(self.Id, /^[0-9a-f-]{36}$/);
  assert.match(String(self.Worker), /^\d+$/, 'the answering worker, as its metrics label names it');
  if (E2E_STORAGE === 'postgres') {
    // Each worker heartbeats as a process of its own (docs/postgres.md "Request quotas"): both are listed,
    // the one that answered among them. Each wrote its first row as it started, before the test above.
    const nodes = res.json.Nodes as { Id: string; LastSeen: number }[];
    assert.equal(nodes.length, WORKERS, JSON.stringify(nodes));
    assert.ok(nodes.some((n) => n.Id === self.Id), 'the answering worker is among the listed processes');
  } else {
    // SQLite: no heartbeat table, so no list of nodes beyond the one that answered.
    assert.equal(res.json.Nodes, undefined);
  }
});
