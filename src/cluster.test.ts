/**
 * The workers' node flags (src/cluster.ts): single-threaded garbage collection unless the operator chose
 * how V8 collects (the real workers' command lines: test/e2e/seal-workers.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workerExecArgv } from './cluster.ts';

test('workers collect garbage on their own thread unless the operator chose otherwise', () => {
  assert.deepEqual(workerExecArgv(['--import', 'tsx'], ''), ['--import', 'tsx', '--single-threaded-gc']);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512'), ['--single-threaded-gc']);
  assert.deepEqual(workerExecArgv(['--no-single-threaded-gc'], ''), ['--no-single-threaded-gc']);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512 --no-parallel-scavenge'), []);
});
