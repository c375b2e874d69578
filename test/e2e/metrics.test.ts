/**
 * GET /metrics through the real server (src/http/metrics.ts), parsed with a Prometheus text-format
 * parser (parse-prometheus-text-format, not prom-client's own): counters move with requests, by
 * service, operation and outcome (success, client error, denied); the latency histogram has its buckets;
 * an address outside TRENT_METRICS_ALLOW is refused, unless the scrape is signed (SigV4, service trent) by a
 * principal allowed trent:GetMetrics; signed scrapes are audited, allowed or refused, unsigned ones are
 * not. The families of the audit group commit, key-material cache, background loops and store are
 * present and move.
 */
import assert from 'node:assert/strict';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { after, describe, test } from 'node:test';
import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { createTestToken, hsmSkip } from '../../src/hsm/test-token.ts';
import { FaultInjectingStorage } from '../../src/storage/fault-injection.ts';
import { ACCOUNT_ID, ADMIN, awsError, REGION, startServer } from './harness.ts';
import { allow, principals, type Credentials } from './principals.ts';

interface Family { name: string; type: string; metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }[] }
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

/** GET from a chosen local address (the whole of 127/8 is loopback on Linux), signed with SigV4 when `signAs` is given. */
async function scrape(port: number, localAddress = '127.0.0.1', signAs?: Credentials): Promise<{ status: number; body: string; type: string; requestId: string }> {
  let headers: Record<string, string> = { host: `127.0.0.1:${port}` };
  if (signAs) {
    const signer = new SignatureV4({ credentials: signAs, region: 'us-east-1', service: 'trent', sha256: Hash.bind(null, 'sha256') });
    headers = (await signer.sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port, path: '/metrics', headers })).headers as Record<string, string>;
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', localAddress, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode!, body: Buffer.concat(chunks).toString(), type: String(res.headers['content-type']), requestId: String(res.headers['x-amzn-requestid']),
      }));
    });
    req.on('error', reject);
    req.end();
  });
}

// Background passes every 100 ms, so the job counters move during the test. The store is wrapped in the
// fault-injecting decorator (src/storage/fault-injection.ts) so a test can make it fail as a lost connection does.
let faulty: FaultInjectingStorage | undefined;
const server = await startServer({
  env: { TRENT_METRICS_ALLOW: '127.0.0.1/32', TRENT_JOB_INTERVAL_MS: '100' },
  wrapStorage: (s) => (faulty = new FaultInjectingStorage(s)),
});
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

test('a made-up operation is counted as unknown, so clients cannot create label values — signed or not, on any path', async () => {
  const { rawCall } = await import('./harness.ts');
  await rawCall(server.url, 'TrentService.NoSuchOperationXYZ', '{}');
  // Refused before the operation is looked up: no signature, an unknown access key.
  await rawCall(server.url, 'TrentService.UnsignedMadeUpXYZ', '{}', { sign: false });
  await rawCall(server.url, 'TrentService.BadKeyMadeUpXYZ', '{}', { credentials: { accessKeyId: 'AKIANOSUCHKEY0000000', secretAccessKey: 'x' } });
  // Paths that are not the AWS APIs, carrying the header.
  await fetch(new URL('/health', server.url), { headers: { 'x-amz-target': 'TrentService.HealthMadeUpXYZ' } });
  await fetch(new URL('/v1/sys/seal-status', server.url), { headers: { 'x-amz-target': 'TrentService.SysMadeUpXYZ' } });
  const families = parse((await scrape(server.port)).body);
  assert.ok(count(families, { service: 'kms', operation: 'unknown', outcome: 'client_error' }) >= 3);
  const made = find(families, 'trent_requests_total').metrics.filter((m) => /MadeUpXYZ|NoSuchOperationXYZ/.test(m.labels?.operation ?? ''));
  assert.deepEqual(made, []);
});

test('an address outside TRENT_METRICS_ALLOW is refused (403) and gets no metrics', async () => {
  const res = await scrape(server.port, '127.0.0.2');
  assert.equal(res.status, 403);
  assert.doesNotMatch(res.body, /trent_requests_total/);
  assert.match(res.body, /TRENT_METRICS_ALLOW/);
});

/** The GetMetrics events of the audit trail (CloudTrail JSON). */
async function getMetricsEvents(): Promise<Record<string, unknown>[]> {
  const rows = await server.app.storage.read((r) => r.audit.scan(0, 100_000));
  return rows.map((r) => JSON.parse(r.record) as Record<string, unknown>).filter((e) => e.eventName === 'GetMetrics');
}
function value(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const m = find(families, name).metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  assert.ok(m, `${name} has a series ${JSON.stringify(labels)}`);
  return Number(m.value ?? m.count);
}

test('a scrape signed by a principal allowed trent:GetMetrics is answered from an address outside TRENT_METRICS_ALLOW, and audited with its caller; an unsigned allowed scrape is not audited', async () => {
  const scraper = await principals(server).newUser('metrics-scraper', allow('trent:GetMetrics'));
  const res = await scrape(server.port, '127.0.0.2', scraper);
  assert.equal(res.status, 200, res.body);
  assert.match(res.type, /^text\/plain; version=0\.0\.4/);
  assert.ok(find(parse(res.body), 'trent_requests_total'));

  const events = (await getMetricsEvents()).filter((e) => e.requestID === res.requestId);
  assert.equal(events.length, 1);
  const [event] = events as [Record<string, unknown>];
  assert.equal((event.userIdentity as { arn?: string }).arn, `arn:aws:iam::${ACCOUNT_ID}:user/metrics-scraper`);
  assert.equal(event.eventSource, 'trent.amazonaws.com');
  assert.equal(event.errorCode, undefined);
  assert.equal(event.sourceIPAddress, '127.0.0.2');

  const before = (await getMetricsEvents()).length;
  assert.equal((await scrape(server.port)).status, 200);
  assert.equal((await getMetricsEvents()).length, before, 'an allow-listed unsigned scrape is not a principal\'s call');
});

test('a signed scrape by a principal without trent:GetMetrics is refused (403 AccessDeniedException with AWS\'s denial message), from any address, and audited', async () => {
  const stranger = await principals(server).newUser('metrics-stranger');
  for (const from of ['127.0.0.2', '127.0.0.1']) {
    const res = await scrape(server.port, from, stranger);
    assert.equal(res.status, 403);
    assert.doesNotMatch(res.body, /trent_requests_total/);
    const body = JSON.parse(res.body) as { __type: string; message: string };
    assert.equal(body.__type, 'AccessDeniedException');
    assert.match(body.message, /^User: arn:aws:iam::\d{12}:user\/metrics-stranger is not authorized to perform: trent:GetMetrics on resource: \* because no identity-based policy allows the trent:GetMetrics action$/);
    const events = (await getMetricsEvents()).filter((e) => e.requestID === res.requestId);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.errorCode, 'AccessDeniedException');
    assert.equal((events[0]!.userIdentity as { arn?: string }).arn, `arn:aws:iam::${ACCOUNT_ID}:user/metrics-stranger`);
  }
});

test('the audit group-commit, key-material cache, background-loop and storage families are present and move', async () => {
  const kms = server.kms();
  const before = parse((await scrape(server.port)).body);
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('first') }));
  await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('second') }));
  // Job passes run every 100 ms: wait for at least one more.
  const runsBefore = value(before, 'trent_job_runs_total', { job: 'jobs' });
  let after_ = parse((await scrape(server.port)).body);
  for (let i = 0; i < 50 && value(after_, 'trent_job_runs_total', { job: 'jobs' }) <= runsBefore; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after_ = parse((await scrape(server.port)).body);
  }
  const delta = (name: string, labels: Record<string, string> = {}) => value(after_, name, labels) - value(before, name, labels);

  // Each of the three calls was audited through a group-commit batch.
  assert.equal(find(after_, 'trent_audit_batch_size').type, 'HISTOGRAM');
  assert.ok(delta('trent_audit_batch_size') >= 1, 'batches were committed');
  assert.equal(find(after_, 'trent_audit_commit_duration_seconds').type, 'HISTOGRAM');
  assert.ok(delta('trent_audit_commit_duration_seconds') >= 1, 'commit latencies were observed');
  assert.equal(find(after_, 'trent_audit_queue_depth').type, 'GAUGE');
  assert.ok(value(after_, 'trent_audit_queue_depth') >= 0);

  // The second Encrypt with the same key finds its material unsealed in memory.
  assert.equal(find(after_, 'trent_key_material_cache_hits_total').type, 'COUNTER');
  assert.ok(delta('trent_key_material_cache_hits_total') >= 1, 'the second Encrypt is a cache hit');
  assert.ok(delta('trent_key_material_cache_misses_total') >= 1, 'the new key\'s first use is a miss');

  assert.ok(delta('trent_job_runs_total', { job: 'jobs' }) >= 1, 'background job passes are counted');
  assert.equal(value(after_, 'trent_job_failures_total', { job: 'jobs' }), 0);
  assert.equal(find(after_, 'trent_job_lag_seconds').type, 'GAUGE');
  assert.ok(value(after_, 'trent_job_lag_seconds', { job: 'jobs' }) < 5, 'the last successful pass is recent');
  assert.ok(find(after_, 'trent_job_runs_total').metrics.some((m) => m.labels?.job === 'audit_housekeeping'));

  assert.equal(value(after_, 'trent_storage_errors_total'), 0);
  // Pool use is PostgreSQL's (TRENT_E2E_STORAGE=postgres); SQLite has no pool.
  const pooled = server.app.storage.kind === 'postgres';
  for (const name of ['trent_storage_pool_connections', 'trent_storage_pool_idle_connections', 'trent_storage_pool_waiting_requests']) {
    assert.equal(after_.some((f) => f.name === name), pooled, `${name} ${pooled ? 'is' : 'is not'} exposed`);
  }
  if (pooled) assert.ok(value(after_, 'trent_storage_pool_connections') >= 1);
});

test('a store that fails under a call (its connection lost) moves trent_storage_errors_total by one; the call is answered 503 and counted as a server error', async () => {
  // No SDK retry: the 503 would be retried and succeed, hiding the failed call.
  const kms = new KMSClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
  const before = parse((await scrape(server.port)).body);
  const keysBefore = await server.app.storage.read((r) => r.keys.count({ accountId: ACCOUNT_ID, region: 'us-east-1' }));
  // keys.insert is written by CreateKey only, so no background pass takes the fault.
  faulty!.failNext('keys.insert', 1, 'unavailable');
  const err = await awsError(() => kms.send(new CreateKeyCommand({})));
  assert.equal(faulty!.pendingFaults('keys.insert'), 0, 'the fault was hit');
  assert.equal(err.name, 'ServiceUnavailableException');
  assert.equal(err.status, 503);
  const after_ = parse((await scrape(server.port)).body);
  assert.equal(value(after_, 'trent_storage_errors_total') - value(before, 'trent_storage_errors_total'), 1);
  assert.equal(
    count(after_, { service: 'kms', operation: 'CreateKey', outcome: 'server_error' }) - count(before, { service: 'kms', operation: 'CreateKey', outcome: 'server_error' }),
    1,
  );
  assert.equal(await server.app.storage.read((r) => r.keys.count({ accountId: ACCOUNT_ID, region: 'us-east-1' })), keysBefore, 'the failed CreateKey made no key');
  // The store answers again: the counter stays where it is.
  await kms.send(new CreateKeyCommand({}));
  assert.equal(value(parse((await scrape(server.port)).body), 'trent_storage_errors_total'), value(after_, 'trent_storage_errors_total'));
  kms.destroy();
});

describe('HSM health (TRENT_SEAL=pkcs11 on SoftHSM2)', { skip: hsmSkip() }, () => {
  test('trent_hsm_healthy{hsm="seal"} is 1 once the token has answered, 0 when it cannot be opened', async () => {
    const token = createTestToken('trent-metrics');
    const env = {
      TRENT_SEAL: 'pkcs11', TRENT_PKCS11_MODULE: token.modulePath, TRENT_PKCS11_TOKEN_LABEL: token.tokenLabel,
      TRENT_PKCS11_PIN: token.pin, TRENT_PKCS11_KEY_LABEL: 'trent-unseal-metrics',
    };
    let s = await startServer({ env });
    try {
      const init = await fetch(new URL('/v1/sys/init', s.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Shares: 3, Threshold: 2 }) });
      assert.equal(init.status, 200, await init.clone().text());
      assert.equal(value(parse((await scrape(s.port)).body), 'trent_hsm_healthy', { hsm: 'seal' }), 1);
      await s.stop();
      // The token is gone: the node starts sealed, and says why.
      s = await startServer({ dataDir: s.dataDir, env: { ...env, TRENT_PKCS11_TOKEN_LABEL: 'no-such-token' } });
      const families = parse((await scrape(s.port)).body);
      assert.equal(value(families, 'trent_seal_sealed'), 1);
      assert.equal(value(families, 'trent_hsm_healthy', { hsm: 'seal' }), 0);
    } finally {
      await s.stop(true);
    }
  });
});
