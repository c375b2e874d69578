import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

test('performance settings default to the safe choice: one process, a read cache inside the 1 s coherence bound, audit durability waited for', () => {
  const c = loadConfig({});
  assert.equal(c.workers, 1);
  assert.equal(c.readCacheMs, 500);
  assert.equal(c.audit.unsafeNoDurabilityWait, false);
});

test('the read cache cannot outlive the documented 1 s coherence bound, and 0 turns it off', () => {
  assert.equal(loadConfig({ TRENT_READ_CACHE_MS: '0' }).readCacheMs, 0);
  assert.equal(loadConfig({ TRENT_READ_CACHE_MS: '1000' }).readCacheMs, 1000);
  assert.throws(() => loadConfig({ TRENT_READ_CACHE_MS: '1001' }), ConfigError);
});

test('TRENT_WORKERS takes 1 to 64 processes; the benchmark-only audit switch takes only an explicit yes', () => {
  assert.equal(loadConfig({ TRENT_WORKERS: '2' }).workers, 2);
  assert.throws(() => loadConfig({ TRENT_WORKERS: '0' }), ConfigError);
  assert.equal(loadConfig({ TRENT_BENCH_UNSAFE_AUDIT_NO_WAIT: '1' }).audit.unsafeNoDurabilityWait, true);
  assert.throws(() => loadConfig({ TRENT_BENCH_UNSAFE_AUDIT_NO_WAIT: 'yes please' }), ConfigError);
});
