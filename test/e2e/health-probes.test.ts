/**
 * /health/live and /health/ready through the real server (src/http/health.ts): ready only when unsealed,
 * the store answers and takes an audit-trail write; 503 with the reason otherwise; live whenever the
 * process serves; the old /health unchanged.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { FaultInjectingStorage } from '../../src/storage/fault-injection.ts';
import { startServer } from './harness.ts';

async function get(url: string, path: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(new URL(path, url));
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function post(url: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(new URL(path, url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>;
}

let faulty: FaultInjectingStorage | undefined;
const server = await startServer({ wrapStorage: (s) => (faulty = new FaultInjectingStorage(s)) });
after(() => server.stop(true));

test('an unsealed node with a writable store is live and ready (200), and says which checks passed', async () => {
  assert.deepEqual(await get(server.url, '/health/live'), { status: 200, json: { status: 'live' } });
  const ready = await get(server.url, '/health/ready');
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.json, { status: 'ready', checks: { seal: 'unsealed', storage: 'reachable', audit: 'writable' } });
  assert.equal((await get(server.url, '/health')).status, 200);
});

test('a store that refuses writes makes the node not ready (503, reason: the audit trail cannot be written); it stays live, and is ready again once writes work', async () => {
  faulty!.unwritable.add('meta');
  try {
    const ready = await get(server.url, '/health/ready');
    assert.equal(ready.status, 503);
    assert.equal(ready.json.status, 'not ready');
    assert.match(String(ready.json.reason), /^the audit trail cannot be written: injected fault/);
    assert.deepEqual(ready.json.checks, { seal: 'unsealed', storage: 'reachable', audit: 'not writable' });
    assert.equal((await get(server.url, '/health/live')).status, 200);
  } finally {
    faulty!.unwritable.delete('meta');
  }
  assert.equal((await get(server.url, '/health/ready')).status, 200);
});

test('an uninitialized and then a sealed node is live but not ready (503, with the reason); unsealed, it is ready', async () => {
  const quorum = await startServer({ env: { TRENT_SEAL: 'shamir' } });
  try {
    assert.equal((await get(quorum.url, '/health/live')).status, 200);
    let ready = await get(quorum.url, '/health/ready');
    assert.equal(ready.status, 503);
    assert.match(String(ready.json.reason), /not initialized/);
    const init = await post(quorum.url, '/v1/sys/init', { Shares: 3, Threshold: 2 });
    ready = await get(quorum.url, '/health/ready');
    assert.equal(ready.status, 503);
    assert.match(String(ready.json.reason), /sealed/);
    assert.equal((ready.json.checks as Record<string, string>).seal, 'sealed');
    assert.equal((await get(quorum.url, '/health')).status, 200, '/health keeps answering 200 with the seal state');
    const shares = init.Shares as string[];
    const first = await post(quorum.url, '/v1/sys/unseal', { Share: shares[0] });
    await post(quorum.url, '/v1/sys/unseal', { Share: shares[1], Nonce: first.Nonce });
    ready = await get(quorum.url, '/health/ready');
    assert.equal(ready.status, 200, JSON.stringify(ready.json));
  } finally {
    await quorum.stop(true);
  }
});
