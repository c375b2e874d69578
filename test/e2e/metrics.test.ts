/**
 * GET /metrics through the real server (src/http/metrics.ts), parsed with a Prometheus text-format
 * parser (parse-prometheus-text-format, not prom-client's own): counters move with requests, by
 * service, operation and outcome (success, client error, denied); the latency histogram has its buckets;
 * an address outside TRENT_METRICS_ALLOW is refused.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { after, test } from 'node:test';
import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { awsError, startServer } from './harness.ts';
import { principals } from './principals.ts';

interface Family { name: string; type: string; metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }[] }
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

/** GET from a chosen local address (the whole of 127/8 is loopback on Linux). */
function scrape(port: number, localAddress = '127.0.0.1'): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const server = await startServer({ env: { TRENT_METRICS_ALLOW: '127.0.0.1/32' } });
after(() => server.stop(true));

function find(families: Family[], name: string): Family {
  const f = families.find((x) => x.name === name);
  assert.ok(f, `metric family ${name} is exposed`);
  return f;
}
function count(families: Family[], labels: Record<string, string>): number {
  const m = find(families, 'trent_requests_total').metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m ? Number(m.value) : 0;
}

test('a scrape parses as Prometheus text; request counters move by service, operation and outcome; the latency histogram has buckets; the seal gauge says unsealed', async () => {
  const kms = server.kms();
  const before = parse((await scrape(server.port)).body);
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  for (let i = 0; i < 3; i++) await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
  assert.equal((await awsError(() => kms.send(new DescribeKeyCommand({ KeyId: 'alias/none' })))).name, 'NotFoundException');
  const user = await principals(server).newUser('metrics-nobody');
  assert.equal((await awsError(() => server.kms({ credentials: user }).send(new DescribeKeyCommand({ KeyId: keyId })))).name, 'AccessDeniedException');

  const res = await scrape(server.port);
  assert.equal(res.status, 200);
  assert.match(res.type, /^text\/plain; version=0\.0\.4/);
  const after_ = parse(res.body);
  const delta = (labels: Record<string, string>) => count(after_, labels) - count(before, labels);
  assert.equal(delta({ service: 'kms', operation: 'Encrypt', outcome: 'success' }), 3);
  assert.equal(delta({ service: 'kms', operation: 'CreateKey', outcome: 'success' }), 1);
  assert.equal(delta({ service: 'kms', operation: 'DescribeKey', outcome: 'client_error' }), 1);
  assert.equal(delta({ service: 'kms', operation: 'DescribeKey', outcome: 'denied' }), 1);
  assert.equal(find(after_, 'trent_requests_total').type, 'COUNTER');

  // The parser folds a labelled histogram's series into one bucket map (it keeps no labels for them), so
  // it proves the family's type and bucket bounds; the per-operation series are read from the text.
  const hist = find(after_, 'trent_request_duration_seconds');
  assert.equal(hist.type, 'HISTOGRAM');
  assert.deepEqual(new Set(Object.keys(hist.metrics[0]!.buckets ?? {})), new Set(['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '+Inf']));
  const series = (suffix: string, le?: string) => {
    const re = new RegExp(`^trent_request_duration_seconds_${suffix}\\{(?=[^}]*service="kms")(?=[^}]*operation="Encrypt")${le ? `(?=[^}]*le="${le.replace('+', '\\+')}")` : ''}[^}]*\\} (\\S+)$`, 'm');
    return Number(re.exec(res.body)?.[1]);
  };
  assert.ok(series('count') >= 3, 'Encrypt latencies are counted');
  assert.equal(series('bucket', '+Inf'), series('count'), 'the +Inf bucket holds every observation');
  assert.ok(series('bucket', '5') <= series('bucket', '+Inf'));
  assert.ok(series('sum') > 0);

  assert.equal(find(after_, 'trent_seal_sealed').metrics[0]!.value, '0');
  assert.equal(find(after_, 'trent_seal_initialized').metrics[0]!.value, '1');
});

test('a made-up operation is counted as unknown, so clients cannot create label values', async () => {
  const { rawCall } = await import('./harness.ts');
  await rawCall(server.url, 'TrentService.NoSuchOperationXYZ', '{}');
  const families = parse((await scrape(server.port)).body);
  assert.ok(count(families, { service: 'kms', operation: 'unknown', outcome: 'client_error' }) >= 1);
  assert.equal(find(families, 'trent_requests_total').metrics.some((m) => m.labels?.operation === 'NoSuchOperationXYZ'), false);
});

test('an address outside TRENT_METRICS_ALLOW is refused (403) and gets no metrics', async () => {
  const res = await scrape(server.port, '127.0.0.2');
  assert.equal(res.status, 403);
  assert.doesNotMatch(res.body, /trent_requests_total/);
  assert.match(res.body, /TRENT_METRICS_ALLOW/);
});
