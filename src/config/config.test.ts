import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { availableParallelism } from 'node:os';
import { ConfigError, loadConfig, servesRegion } from './config.ts';

test('TRENT_HSMS maps cluster ids to a PKCS#11 module and token label, frozen', () => {
  const config = loadConfig({
    TRENT_HSMS: JSON.stringify({ 'cluster-a': { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'trent' } }),
  });
  assert.deepEqual(config.hsms, { 'cluster-a': { modulePath: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'trent' } });
  assert.ok(Object.isFrozen(config.hsms));
  assert.ok(Object.isFrozen(config.hsms['cluster-a']));
  assert.deepEqual(loadConfig({}).hsms, {});
});

test('TRENT_HSMS that is not JSON, has unknown members, a PIN, or a bad name stops start-up', () => {
  for (const bad of [
    'not json',
    JSON.stringify({ 'cluster-a': { module: '/x.so' } }),
    JSON.stringify({ 'cluster-a': { module: '/x.so', tokenLabel: 't', pin: '1234' } }),
    JSON.stringify({ 'bad name': { module: '/x.so', tokenLabel: 't' } }),
    JSON.stringify({ 'cluster-a': { module: '/x.so', tokenLabel: 'x'.repeat(33) } }),
  ]) {
    assert.throws(() => loadConfig({ TRENT_HSMS: bad }), ConfigError, bad);
  }
});

test('TRENT_PARAMETER_EVENTS_WEBHOOK: an http(s) URL is taken; absent means none; anything else stops start-up', () => {
  assert.equal(loadConfig({}).parameterEventsWebhook, undefined);
  assert.equal(loadConfig({ TRENT_PARAMETER_EVENTS_WEBHOOK: 'https://hooks.example/ssm' }).parameterEventsWebhook, 'https://hooks.example/ssm');
  for (const bad of ['ftp://hooks.example/ssm', 'not a url']) {
    assert.throws(() => loadConfig({ TRENT_PARAMETER_EVENTS_WEBHOOK: bad }), (err: unknown) => err instanceof ConfigError && /TRENT_PARAMETER_EVENTS_WEBHOOK/.test(err.message));
  }
});

test('performance settings default to the safe choice: a read cache inside the 1 s coherence bound, audit durability waited for', () => {
  const c = loadConfig({});
  assert.equal(c.readCacheMs, 500);
  // No setting skips the audit durability wait: only the benchmark's own entry point can (bench/unsafe-server.mjs).
  assert.deepEqual(loadConfig({ TRENT_BENCH_UNSAFE_AUDIT_NO_WAIT: '1' }), c);
  assert.equal(Object.keys(c.audit).some((k) => /unsafe|wait/i.test(k)), false);
});

test('the read cache cannot outlive the documented 1 s coherence bound, and 0 turns it off', () => {
  assert.equal(loadConfig({ TRENT_READ_CACHE_MS: '0' }).readCacheMs, 0);
  assert.equal(loadConfig({ TRENT_READ_CACHE_MS: '1000' }).readCacheMs, 1000);
  assert.throws(() => loadConfig({ TRENT_READ_CACHE_MS: '1001' }), ConfigError);
});

test('TRENT_WORKERS takes 1 to 64 processes', () => {
  assert.equal(loadConfig({ TRENT_WORKERS: '2' }).workers, 2);
  assert.throws(() => loadConfig({ TRENT_WORKERS: '0' }), ConfigError);
});

test('TRENT_WORKERS defaults to one process per core, in every custody mode', () => {
  assert.equal(loadConfig({}).workers, Math.min(64, availableParallelism()));
  assert.equal(loadConfig({ TRENT_SEAL: 'shamir' }).workers, Math.min(64, availableParallelism()));
  assert.equal(loadConfig({ TRENT_WORKERS: '2', TRENT_SEAL: 'shamir' }).workers, 2);
  assert.equal(loadConfig({ TRENT_WORKERS: '1', TRENT_SEAL: 'shamir' }).workers, 1);
});

test('TRENT_ROTATORS maps function names to an HTTPS URL and a shared secret that never prints; anything else stops start-up without echoing the secret', () => {
  const secret = 'rotator-shared-secret-0123456789-abcdef';
  const c = loadConfig({ TRENT_ROTATORS: JSON.stringify({ 'pg-app': { url: 'https://rotator.internal:8443/rotate', secret, caFile: '/etc/trent/ca.pem' } }) });
  assert.equal(c.rotators['pg-app']!.url, 'https://rotator.internal:8443/rotate');
  assert.equal(c.rotators['pg-app']!.caFile, '/etc/trent/ca.pem');
  assert.equal(c.rotators['pg-app']!.secret.expose().toString('utf8'), secret);
  assert.ok(Object.isFrozen(c.rotators) && Object.isFrozen(c.rotators['pg-app']));
  const printed = `${JSON.stringify(c)} ${inspect(c, { depth: 10 })}`;
  assert.ok(!printed.includes(secret), 'the shared secret is printed with the config');
  assert.deepEqual(loadConfig({}).rotators, {});
  for (const bad of [
    'not json',
    JSON.stringify({ a: { url: `http://rotator.internal/${secret}`, secret } }), // plain HTTP
    JSON.stringify({ a: { url: 'https://rotator.internal/', secret: 'short' } }),
    JSON.stringify({ a: { url: 'https://rotator.internal/' } }),
    JSON.stringify({ 'bad name': { url: 'https://rotator.internal/', secret } }),
    JSON.stringify({ a: { url: 'https://rotator.internal/', secret, extra: 1 } }),
    `{"a": {"url": "https://rotator.internal/", "secret": "${secret}"`,
  ]) {
    assert.throws(() => loadConfig({ TRENT_ROTATORS: bad }), (err: unknown) => err instanceof ConfigError && /TRENT_ROTATORS/.test(err.message) && !err.message.includes(secret), bad);
  }
});
test('the audit digest bound defaults to 1 s or 1,000 events; durations take ms, s, m, h; digests are delivered under the data dir unless told', () => {
  const a = loadConfig({ TRENT_DATA_DIR: '/var/trent' }).audit;
  assert.deepEqual([a.digestIntervalMs, a.digestMaxEvents, a.digestDir, a.digestWebhook], [1000, 1000, '/var/trent/audit-digests', undefined]);
  assert.equal(loadConfig({ TRENT_AUDIT_DIGEST_INTERVAL: '250ms' }).audit.digestIntervalMs, 250);
  assert.equal(loadConfig({ TRENT_AUDIT_DIGEST_INTERVAL: '2s' }).audit.digestIntervalMs, 2000);
  assert.equal(loadConfig({ TRENT_AUDIT_DIGEST_INTERVAL: '1h' }).audit.digestIntervalMs, 3600_000);
  assert.equal(loadConfig({ TRENT_AUDIT_DIGEST_DIR: '/mnt/worm/trent' }).audit.digestDir, '/mnt/worm/trent');
  // No way to turn the bound off or past what a digest holds.
  for (const bad of [{ TRENT_AUDIT_DIGEST_INTERVAL: '0' }, { TRENT_AUDIT_DIGEST_INTERVAL: '2h' }, { TRENT_AUDIT_DIGEST_INTERVAL: 'soon' },
    { TRENT_AUDIT_DIGEST_MAX_EVENTS: '0' }, { TRENT_AUDIT_DIGEST_MAX_EVENTS: '1001' }]) {
    assert.throws(() => loadConfig(bad), ConfigError, JSON.stringify(bad));
  }
});

test('the digest webhook must be https and comes with its HMAC secret', () => {
  const secret = 'x'.repeat(32);
  const w = loadConfig({ TRENT_AUDIT_DIGEST_WEBHOOK: 'https://audit.example/digests', TRENT_AUDIT_DIGEST_WEBHOOK_SECRET: secret }).audit.digestWebhook;
  assert.deepEqual(w, { url: 'https://audit.example/digests', secret });
  assert.throws(() => loadConfig({ TRENT_AUDIT_DIGEST_WEBHOOK: 'http://audit.example/digests', TRENT_AUDIT_DIGEST_WEBHOOK_SECRET: secret }), /https/);
  assert.throws(() => loadConfig({ TRENT_AUDIT_DIGEST_WEBHOOK: 'https://audit.example/digests' }), /set together/);
  assert.throws(() => loadConfig({ TRENT_AUDIT_DIGEST_WEBHOOK: 'https://audit.example/digests', TRENT_AUDIT_DIGEST_WEBHOOK_SECRET: 'short' }), /32/);
});

test('TRENT_TLS_CERT and TRENT_TLS_KEY go together; TRENT_TLS_CLIENT_CA needs them; absent means plain HTTP', () => {
  assert.equal(loadConfig({}).tls, undefined);
  assert.deepEqual(loadConfig({ TRENT_TLS_CERT: '/c.pem', TRENT_TLS_KEY: '/k.pem' }).tls, { certFile: '/c.pem', keyFile: '/k.pem' });
  assert.deepEqual(loadConfig({ TRENT_TLS_CERT: '/c.pem', TRENT_TLS_KEY: '/k.pem', TRENT_TLS_CLIENT_CA: '/ca.pem' }).tls, { certFile: '/c.pem', keyFile: '/k.pem', clientCaFile: '/ca.pem' });
  assert.throws(() => loadConfig({ TRENT_TLS_CERT: '/c.pem' }), /must be set together/);
  assert.throws(() => loadConfig({ TRENT_TLS_KEY: '/k.pem' }), /must be set together/);
  assert.throws(() => loadConfig({ TRENT_TLS_CLIENT_CA: '/ca.pem' }), /needs TRENT_TLS_CERT/);
});

test('TRENT_TRUSTED_PROXIES takes addresses and CIDRs of both families; anything else stops start-up', () => {
  assert.deepEqual(loadConfig({}).trustedProxies, []);
  assert.deepEqual(loadConfig({ TRENT_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.10 ,fd00::/8,::1' }).trustedProxies, [
    { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
    { address: '192.168.1.10', prefix: 32, family: 'ipv4' },
    { address: 'fd00::', prefix: 8, family: 'ipv6' },
    { address: '::1', prefix: 128, family: 'ipv6' },
  ]);
  for (const bad of ['proxy.internal', '10.0.0.0/33', '10.0.0.1/8/1', '::1/129', '10.0.0.0/']) {
    assert.throws(() => loadConfig({ TRENT_TRUSTED_PROXIES: bad }), ConfigError, bad);
  }
});

test('servesRegion: the regions of TRENT_REGIONS, or any well-formed region when it is unset', () => {
  const listed = loadConfig({ TRENT_REGIONS: 'us-east-1, eu-west-1' });
  assert.deepEqual(['us-east-1', 'eu-west-1', 'us-west-2'].map((r) => servesRegion(listed, r)), [true, true, false]);
  const any = loadConfig({});
  assert.deepEqual(['us-west-2', 'ap-southeast-2', 'not a region', ''].map((r) => servesRegion(any, r)), [true, true, false, false]);
});

test('TRENT_CONSOLE is on unless off; its idle sign-out is 5 s to a day, 15 minutes by default', () => {
  assert.deepEqual(loadConfig({}).console, { enabled: true, idleSeconds: 900 });
  assert.deepEqual(loadConfig({ TRENT_CONSOLE: 'off', TRENT_CONSOLE_IDLE_SECONDS: '5' }).console, { enabled: false, idleSeconds: 5 });
  for (const bad of [{ TRENT_CONSOLE: 'yes' }, { TRENT_CONSOLE_IDLE_SECONDS: '4' }, { TRENT_CONSOLE_IDLE_SECONDS: '86401' }]) {
    assert.throws(() => loadConfig(bad), ConfigError, JSON.stringify(bad));
  }
});
