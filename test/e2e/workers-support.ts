/**
 * Helpers for tests of one Trent process with TRENT_WORKERS > 1 (test/multinode/cluster.ts starts it).
 * Which worker answers is told by the `worker` label of GET /metrics; a keep-alive connection stays with
 * the worker that accepted it, so each "pinned" agent talks to one known worker.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { TrentNode } from '../multinode/cluster.ts';
import { ADMIN, awsError } from './harness.ts';

interface Family { name: string; metrics: { labels?: Record<string, string>; value?: string }[] }
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

export function workersProbe(node: TrentNode) {
  const agents: Agent[] = [];
  const clients: KMSClient[] = [];
  /** Waits until `n` workers in all have logged that they listen (replacements log it too). */
  async function listening(n: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    while ((node.output().match(/Trent listening/g) ?? []).length < n) {
      assert.ok(Date.now() < deadline, `worker ${n} did not start:\n${node.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The pids of the primary's children (its workers). */
  function workerPids(): number[] {
    const pid = node.process.pid!;
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  }

  /** One HTTP call on `agent`'s connection. */
  function call(agent: Agent, method: 'GET' | 'POST', path: string, body?: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
    const data = body ? JSON.stringify(body) : undefined;
    const u = new URL(node.url);
    return new Promise((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, method, path, agent, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  /** Requests without an X-Amz-Target (the /v1/sys routes) answered so far, per worker. */
  async function sysCounts(): Promise<Map<string, number>> {
    const families = parse(await (await fetch(`${node.url}/metrics`)).text());
    const out = new Map<string, number>();
    for (const m of families.find((f) => f.name === 'trent_requests_total')?.metrics ?? []) {
      if (m.labels?.service === 'none') out.set(m.labels.worker!, (out.get(m.labels.worker!) ?? 0) + Number(m.value));
    }
    return out;
  }

  /** Which worker holds `agent`'s connection: the one whose count grows by a seal-status read on it. */
  async function workerOf(agent: Agent): Promise<string> {
    const before = await sysCounts();
    assert.equal((await call(agent, 'GET', '/v1/sys/seal-status')).status, 200);
    const afterCounts = await sysCounts();
    const grew = [...afterCounts].filter(([w, n]) => n > (before.get(w) ?? 0)).map(([w]) => w);
    assert.equal(grew.length, 1, `exactly one worker answered: ${JSON.stringify([...before])} -> ${JSON.stringify([...afterCounts])}`);
    return grew[0]!;
  }

  /** A keep-alive connection to each of the given workers (new connections are dealt to workers in turn). */
  async function pinned(want: (worker: string) => boolean, count: number): Promise<Map<string, Agent>> {
    const found = new Map<string, Agent>();
    for (let tries = 0; found.size < count; tries++) {
      assert.ok(tries < 40, `could not reach ${count} workers`);
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(agent);
      const w = await workerOf(agent);
      if (want(w) && !found.has(w)) found.set(w, agent);
    }
    return found;
  }

  function kmsOn(agent: Agent): KMSClient {
    const c = new KMSClient({ endpoint: node.url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1, requestHandler: new NodeHttpHandler({ httpAgent: agent }) });
    clients.push(c);
    return c;
  }

  async function assertSealedEverywhere(on: Map<string, Agent>): Promise<void> {
    for (const [w, agent] of on) {
      const status = (await call(agent, 'GET', '/v1/sys/seal-status')).json;
      assert.equal(status.Sealed, true, `worker ${w} reports sealed`);
      const e = await awsError(() => kmsOn(agent).send(new EncryptCommand({ KeyId: 'alias/any', Plaintext: Buffer.from('x') })));
      assert.deepEqual([e.name, e.status], ['ServiceUnavailableException', 503], `worker ${w} refuses as sealed`);
    }
  }

  return {
    listening, workerPids, call, workerOf, pinned, kmsOn, assertSealedEverywhere,
    close() {
      for (const c of clients) c.destroy();
      for (const a of agents) a.destroy();
    },
  };
}
