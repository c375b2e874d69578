/**
 * Runs the real `trent` command (bin/trent.js) in a child process, as an operator or auditor would, with
 * only the environment given (no TRENT_* variable of the test process leaks in).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/trent.js', import.meta.url));

export interface TrentRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function spawnTrent(args: readonly string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<TrentRun> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const done = new Promise<TrentRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function runTrent(args: readonly string[], env: Record<string, string> = {}): Promise<TrentRun> {
  return spawnTrent(args, env).done;
}
