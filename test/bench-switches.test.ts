/**
 * The bench's count of a server's context switches (bench/procs.ts switchSample / switchesBetween, printed
 * per request by bench/ab.ts): checked against a real child process whose main thread sleeps on timers
 * and whose thread-pool threads take work, so both columns must move, and only by what happened
 * between the two samples.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { switchesBetween, switchSample } from '../bench/procs.ts';

test('switchSample counts every thread of the tree, main threads apart; switchesBetween counts only the window', async () => {
  // 'go' on stdin: 50 timer sleeps on the main thread, then 8 stat calls on the thread pool; then 'done'.
  const child = spawn(process.execPath, ['-e', `
    const { stat } = require('node:fs/promises');
    process.stdin.once('data', async () => {
      for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 2));
      await Promise.all(Array.from({ length: 8 }, () => stat(process.execPath)));
      process.stdout.write('done');
    });
    // libuv starts its thread pool on the first work item: before the first sample, so its threads are in it.
    stat(process.execPath).then(() => process.stdout.write('ready'));
  `], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await once(child.stdout!, 'data');
    const before = switchSample(child.pid!);
    assert.equal([...before.values()].filter((t) => t.main).length, 1, 'one main thread in a one-process tree');
    assert.ok(before.size > 1, `node runs more threads than its main one (${before.size})`);
    const idle = switchesBetween(before, switchSample(child.pid!));
    assert.ok(idle.mainVoluntary <= 2, `an idle process barely switches (${JSON.stringify(idle)})`);

    child.stdin!.write('go\n');
    await once(child.stdout!, 'data');
    const busy = switchesBetween(before, switchSample(child.pid!));
    assert.ok(busy.mainVoluntary >= 50, `50 timer sleeps are at least 50 voluntary switches of the main thread (${JSON.stringify(busy)})`);
    assert.ok(busy.otherVoluntary >= 1, `the thread pool's stat calls wake and sleep its threads (${JSON.stringify(busy)})`);
    // A thread absent from the first sample is left out, not counted from zero.
    const late = switchesBetween(new Map(), switchSample(child.pid!));
    assert.deepEqual(late, { mainVoluntary: 0, mainInvoluntary: 0, otherVoluntary: 0, otherInvoluntary: 0 });
  } finally {
    child.kill();
  }
});
