/**
 * `npm start` as README's two commands run it (package.json): "prestart" compiles src/ into dist/
 * (`npm run build:server`), then "start" runs `node --max-semi-space-size=32 dist/main.js`, with one
 * worker per core (one process with TRENT_WORKERS=1, which keeps that flag). Every other
 * server test runs the sources through tsx; this one serves AWS calls from the compiled build, whose two
 * workers run with the workers' GC flags (src/cluster.ts workerExecArgv).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { processTree } from '../bench/procs.ts';
import { freePort } from './free-port.ts';
import { workersProbe } from './e2e/workers-support.ts';
import { newRootKey, startNode, type TrentNode } from './multinode/cluster.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
let dir: string;
let node: TrentNode;

before(async () => {
  const built = spawnSync('npm', ['run', '--silent', 'build:server'], { cwd: new URL('..', import.meta.url), encoding: 'utf8' });
  assert.equal(built.status, 0, built.stdout + built.stderr);
  dir = mkdtempSync(join(tmpdir(), 'trent-start-'));
  node = await startNode(1, `sqlite:${join(dir, 'trent.db')}`, newRootKey(), { TRENT_WORKERS: '2' }, { compiled: true, startTimeoutMs: 60_000 });
});
after(async () => {
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('npm start compiles first and serves from the compiled build', () => {
  assert.equal(pkg.scripts.prestart, 'npm run --silent build:server');
  assert.equal(pkg.scripts.start, 'node --max-semi-space-size=32 dist/main.js');
});

test('npm start with TRENT_WORKERS=1 runs one server process with the 32 MB young generation', async () => {
  // "start" alone (--ignore-scripts skips prestart: before() has built dist/), as a one-core machine runs it.
  const own = mkdtempSync(join(tmpdir(), 'trent-start-one-'));
  const port = await freePort();
  const npm = spawn('npm', ['start', '--ignore-scripts'], {
    cwd: new URL('..', import.meta.url), detached: true, stdio: 'ignore',
    env: { ...process.env, TRENT_WORKERS: '1', TRENT_HOST: '127.0.0.1', TRENT_PORT: String(port), TRENT_DATA_DIR: own },
  });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/health/live`).then((r) => r.ok, () => false);
      if (ok) break;
      assert.ok(Date.now() < deadline, 'npm start did not serve within 30 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const servers = processTree(npm.pid!).filter((pid) => cmdline(pid).includes('dist/main.js'));
    assert.equal(servers.length, 1, 'one server process, no workers');
    assert.ok(cmdline(servers[0]!).includes('--max-semi-space-size=32'), cmdline(servers[0]!).join(' '));
  } finally {
    process.kill(-npm.pid!, 'SIGTERM');
    await new Promise((r) => npm.once('exit', r));
    rmSync(own, { recursive: true, force: true });
  }
});

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

test('the compiled server answers AWS calls; both its workers run dist/main.js with the GC flags of workers, no TypeScript loader', async () => {
  const keyId = (await node.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  for (let i = 0; i < 6; i++) {
    const blob = (await node.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(`m${i}`) }))).CiphertextBlob!;
    assert.equal(Buffer.from((await node.kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), `m${i}`);
  }
  const probe = workersProbe(node);
  const workers = probe.workerPids();
  probe.close();
  assert.equal(workers.length, 2, 'two workers');
  for (const pid of workers) {
    const argv = cmdline(pid);
    assert.ok(argv.includes('--single-threaded-gc') && argv.includes('--max-semi-space-size=32') && argv.some((a) => a.endsWith('dist/main.js')) && !argv.includes('tsx'), argv.join(' '));
  }
});
