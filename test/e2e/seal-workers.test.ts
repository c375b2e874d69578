/**
 * Quorum custody with TRENT_WORKERS=2 (src/cluster-seal.ts, docs/seal.md "Workers"): the real process
 * (src/main.ts, a primary and two workers on one SQLite file). Which worker answers is told by the
 * `worker` label of GET /metrics; a keep-alive connection stays with the worker that accepted it, so each
 * "pinned" agent below talks to one known worker.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startNode, type TrentNode } from '../multinode/cluster.ts';
import { ADMIN, awsError, rawCall } from './harness.ts';

interface Family { name: string; metrics: { labels?: Record<string, string>; value?: string }[] }
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

let dir: string;
let node: TrentNode;
const agents: Agent[] = [];
const clients: KMSClient[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trent-seal-workers-'));
  node = await startNode(1, `sqlite:${join(dir, 'trent.db')}`, '', { TRENT_ROOT_KEY: undefined, TRENT_SEAL: 'shamir', TRENT_WORKERS: '2' }, { startTimeoutMs: 60_000 });
  await listening(2);
});
after(async () => {
  for (const c of clients) c.destroy();
  for (const a of agents) a.destroy();
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

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

test('Shamir-sealed workers serve requests after one unseal and all stop (zeroed) after one seal', async () => {
  const two = await pinned(() => true, 2);
  const [w1, a1] = [...two][0]!;
  const [w2, a2] = [...two][1]!;
  assert.notEqual(w1, w2);

  const init = await call(a1, 'POST', '/v1/sys/init', { Shares: 3, Threshold: 2 });
  assert.equal(init.status, 200, JSON.stringify(init.json));
  const shares = init.json.Shares as string[];

  // Sealed: every worker refuses AWS calls.
  await assertSealedEverywhere(two);

  // One share on the first worker: both report the same partial quorum.
  const first = (await call(a1, 'POST', '/v1/sys/unseal', { Share: shares[0] })).json;
  assert.equal(first.Progress, 1);
  const onOther = (await call(a2, 'GET', '/v1/sys/seal-status')).json;
  assert.deepEqual([onOther.Sealed, onOther.Progress, onOther.Nonce], [true, 1, first.Nonce], 'the other worker sees the attempt');
  // A wrong nonce sent to the other worker is refused there, and the attempt is untouched.
  const stale = await call(a2, 'POST', '/v1/sys/unseal', { Share: shares[1], Nonce: '0'.repeat(32) });
  assert.equal(stale.json.__type, 'InvalidNonceException');
  assert.equal((await call(a1, 'GET', '/v1/sys/seal-status')).json.Progress, 1);

  // The second share, on the other worker, completes the quorum: every worker is unsealed when it answers.
  const second = (await call(a2, 'POST', '/v1/sys/unseal', { Share: shares[1], Nonce: first.Nonce })).json;
  assert.deepEqual([second.Sealed, second.Progress], [false, 0], JSON.stringify(second));
  assert.equal((await call(a1, 'GET', '/v1/sys/seal-status')).json.Sealed, false);

  // Encrypt on one worker, Decrypt on the other, both ways.
  const k1 = kmsOn(a1);
  const k2 = kmsOn(a2);
  const keyId = (await k1.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  const blob1 = (await k1.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('one') }))).CiphertextBlob!;
  const blob2 = (await k2.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('two') }))).CiphertextBlob!;
  assert.equal(Buffer.from((await k2.send(new DecryptCommand({ CiphertextBlob: blob1 }))).Plaintext!).toString(), 'one');
  assert.equal(Buffer.from((await k1.send(new DecryptCommand({ CiphertextBlob: blob2 }))).Plaintext!).toString(), 'two');

  // A worker killed while the deployment is unsealed is replaced by one that serves at once.
  const pids = workerPids();
  assert.equal(pids.length, 2);
  process.kill(pids[0]!, 'SIGKILL');
  await listening(3);
  const fresh = await pinned((w) => w !== w1 && w !== w2, 1);
  const [w3, a3] = [...fresh][0]!;
  assert.equal((await call(a3, 'GET', '/v1/sys/seal-status')).json.Sealed, false, `replacement worker ${w3} is unsealed`);
  const k3 = kmsOn(a3);
  assert.equal(Buffer.from((await k3.send(new DecryptCommand({ CiphertextBlob: blob1 }))).Plaintext!).toString(), 'one');
  await k3.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('three') }));

  // One Seal, on whichever worker takes it, seals every worker.
  const sealed = await rawCall(node.url, 'TrentOperator.Seal', '{}', { service: 'trent' });
  assert.equal(sealed.status, 200, JSON.stringify(sealed.json));
  const live = await pinned(() => true, 2);
  await assertSealedEverywhere(live);

  // A worker replaced while the deployment is sealed starts sealed.
  process.kill(workerPids()[0]!, 'SIGKILL');
  await listening(4);
  const later = await pinned((w) => !live.has(w) && w !== w1 && w !== w2 && w !== w3, 1);
  await assertSealedEverywhere(later);

  // The same shares unseal every worker again (the primary forgot the old attempt and key at the seal).
  const again = (await call([...later.values()][0]!, 'POST', '/v1/sys/unseal', { Share: shares[2] })).json;
  assert.equal(again.Progress, 1);
  const done = (await call([...live.values()][0]!, 'POST', '/v1/sys/unseal', { Share: shares[0], Nonce: again.Nonce })).json;
  assert.equal(done.Sealed, false, JSON.stringify(done));
  for (const agent of [...later.values(), ...(await pinned(() => true, 2)).values()]) {
    assert.equal(Buffer.from((await kmsOn(agent).send(new DecryptCommand({ CiphertextBlob: blob2 }))).Plaintext!).toString(), 'two');
  }
});
