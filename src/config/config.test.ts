import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from './config.ts';

test('TRENT_PARAMETER_EVENTS_WEBHOOK: an http(s) URL is taken; absent means none; anything else stops start-up', () => {
  assert.equal(loadConfig({}).parameterEventsWebhook, undefined);
  assert.equal(loadConfig({ TRENT_PARAMETER_EVENTS_WEBHOOK: 'https://hooks.example/ssm' }).parameterEventsWebhook, 'https://hooks.example/ssm');
  for (const bad of ['ftp://hooks.example/ssm', 'not a url']) {
    assert.throws(() => loadConfig({ TRENT_PARAMETER_EVENTS_WEBHOOK: bad }), (err: unknown) => err instanceof ConfigError && /TRENT_PARAMETER_EVENTS_WEBHOOK/.test(err.message));
  }
});
