#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's built-in test runner (through tsx),
// so the closing lines report how many tests ran. Extra arguments filter by path substring.
//
// Then runs the end-to-end files (test/e2e/*.test.ts) a second time with TRENT_E2E_STORAGE=postgres,
// so the whole server is exercised on both storage adapters. PostgreSQL (TRENT_TEST_POSTGRES_URL, else
// postgres://postgres@127.0.0.1:5432/test) must answer when CI is set; elsewhere an unreachable server
// skips that second run with a loud line.
//
// Last, alone, the multi-node suite (test/multinode/): three Trent processes under timed load, whose
// bounds assume nothing else is running. (It skips or, with CI set, fails by itself without PostgreSQL.)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) find(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

function runTests(label, files, env = process.env) {
  if (files.length === 0) return 0; // node --test without files would run its default globs
  const started = Date.now();
  const result = spawnSync(process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files],
    { stdio: 'inherit', env });
  console.log(`\n[run-tests] ${label}: ${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s, exit ${result.status}`);
  return result.status ?? 1;
}

/** Asks test-database.ts (the tests' own probe) whether PostgreSQL answers; prints the reason if not. */
function postgresReachable() {
  const probe = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    const { probePostgres, redactUrl } = await import('./src/storage/postgres/test-database.ts');
    const p = await probePostgres();
    if (p.error !== undefined) { console.log('PostgreSQL not reachable at ' + redactUrl(p.url) + ' (' + p.error + ')'); process.exit(1); }
  `], { encoding: 'utf8' });
  return { ok: probe.status === 0, why: (probe.stdout + probe.stderr).trim() };
}

const filters = process.argv.slice(2);
const matches = (f) => filters.length === 0 || filters.some((p) => f.includes(p));
const files = ['src', 'test'].flatMap((d) => find(d)).sort().filter(matches);
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const isMultinode = (f) => /^test[\\/]multinode[\\/]/.test(f);
let status = runTests('main run (SQLite e2e)', files.filter((f) => !isMultinode(f)));

const e2e = files.filter((f) => /^test[\\/]e2e[\\/][^\\/]+\.test\.ts$/.test(f));
if (e2e.length > 0) {
  const pg = postgresReachable();
  if (pg.ok) {
    status = runTests('e2e on PostgreSQL', e2e, { ...process.env, TRENT_E2E_STORAGE: 'postgres' }) || status;
  } else if (process.env.CI) {
    console.error(`\n[run-tests] FAIL: ${pg.why}; the e2e suite must also run on PostgreSQL when CI is set.`);
    status = status || 1;
  } else {
    console.warn(`\n*** [run-tests] SKIPPING the e2e run on PostgreSQL: ${pg.why}. Start PostgreSQL or set TRENT_TEST_POSTGRES_URL. ***\n`);
  }
}
const multinode = files.filter((f) => isMultinode(f) && f.endsWith('.test.ts'));
if (multinode.length > 0) {
  const args = ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...multinode];
  const started = Date.now();
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  console.log(`\n[run-tests] multi-node suite: ${multinode.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s, exit ${r.status}`);
  status = (r.status ?? 1) || status;
}
process.exit(status);
