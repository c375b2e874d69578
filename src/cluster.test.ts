/**
 * The workers' node flags (src/cluster.ts): single-threaded garbage collection and a 32 MB young
 * generation, each unless the operator chose it (the real workers' command lines: test/e2e/seal-workers.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workerExecArgv } from './cluster.ts';

const SEMI = '--max-semi-space-size=32';

test('workers collect garbage on their own thread, in a 32 MB young generation, unless the operator chose otherwise', () => {
  assert.deepEqual(workerExecArgv(['--import', 'tsx'], ''), ['--import', 'tsx', '--single-threaded-gc', SEMI]);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512'), ['--single-threaded-gc', SEMI]);
  assert.deepEqual(workerExecArgv(['--no-single-threaded-gc'], ''), ['--no-single-threaded-gc', SEMI]);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512 --no-parallel-scavenge'), [SEMI]);
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=8'], ''), ['--max-semi-space-size=8', '--single-threaded-gc']);
  assert.deepEqual(workerExecArgv([], '--semi-space-growth-factor=4 --single-threaded-gc'), []);
});
