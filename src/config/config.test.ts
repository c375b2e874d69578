import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from './config.ts';

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
