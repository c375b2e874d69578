/**
 * Child processes of the bench (Trent, the ceiling, the load process) and what /proc says about them.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { createInterface } from 'node:readline';
import type { EnvelopeResult } from './envelope.ts';
import type { FloorResult } from './floor.ts';
import type { LoadResult, LoadSpec } from './load.ts';

export const REPO_ROOT = new URL('..', import.meta.url).pathname;
const CLK_TCK = 100; // USER_HZ; Linux reports /proc/<pid>/stat times in these units (getconf CLK_TCK)

export interface CpuSample {
  ticks: number;
  atNs: bigint;
}

/** A process and its live descendants (Trent with TRENT_WORKERS > 1 is a primary and its workers). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const children = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (children) out.push(...children.split(/\s+/).map(Number));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function ownTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name, which may itself hold spaces.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  return Number(rest[11]) + Number(rest[12]);
}

/**
 * utime + stime of a process (all its threads) and of its live descendants, from /proc/<pid>/stat.
 * The children of the load process and of the ceiling are none; Trent's workers are counted with it.
 */
export function cpuSample(pid: number): CpuSample {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      ticks += ownTicks(p);
    } catch {
      if (p === pid) throw new Error(`process ${pid} is gone`);
    }
  }
  return { ticks, atNs: process.hrtime.bigint() };
}

/** CPU used between two samples, in % of one core. */
export function cpuPct(a: CpuSample, b: CpuSample): number {
  const seconds = Number(b.atNs - a.atNs) / 1e9;
  return seconds > 0 ? ((b.ticks - a.ticks) / CLK_TCK / seconds) * 100 : NaN;
}

/** Busy ticks of the whole machine (all CPUs), from /proc/stat: user+nice+system+irq+softirq+steal. */
export function machineBusy(): CpuSample {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return { ticks: user + nice + system + irq + softirq + steal, atNs: process.hrtime.bigint() };
}

/** A numeric field of a /proc/<pid>/status (or task status) text, with its unit when it has one (`VmRSS`, ' kB'). */
function statusNumber(status: string, field: string, unit = ''): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+)${unit}`, 'm').exec(status)?.[1] ?? NaN);
}

/** Context switches of one thread: `main` when it is its process's main thread (tid = pid). */
interface ThreadSwitches {
  main: boolean;
  voluntary: number;
  involuntary: number;
}

/**
 * Every thread of a process tree and its context switches so far, by tid, from
 * /proc/<pid>/task/<tid>/status (/proc/<pid>/status counts the main thread only). Voluntary: the thread
 * slept (epoll, a condition variable, I/O); involuntary: it was preempted.
 */
export function switchSample(pid: number): Map<number, ThreadSwitches> {
  const out = new Map<number, ThreadSwitches>();
  for (const p of processTree(pid)) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue; // gone meanwhile
    }
    for (const tid of tids) {
      try {
        const status = readFileSync(`/proc/${p}/task/${tid}/status`, 'utf8');
        out.set(Number(tid), {
          main: Number(tid) === p,
          voluntary: statusNumber(status, 'voluntary_ctxt_switches'),
          involuntary: statusNumber(status, 'nonvoluntary_ctxt_switches'),
        });
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return out;
}

/** Context switches between two samples, of the threads present in both, main threads apart from the rest. */
export interface Switches {
  mainVoluntary: number;
  mainInvoluntary: number;
  otherVoluntary: number;
  otherInvoluntary: number;
}

export function switchesBetween(a: Map<number, ThreadSwitches>, b: Map<number, ThreadSwitches>): Switches {
  const s: Switches = { mainVoluntary: 0, mainInvoluntary: 0, otherVoluntary: 0, otherInvoluntary: 0 };
  for (const [tid, end] of b) {
    const start = a.get(tid);
    if (!start) continue;
    if (end.main) {
      s.mainVoluntary += end.voluntary - start.voluntary;
      s.mainInvoluntary += end.involuntary - start.involuntary;
    } else {
      s.otherVoluntary += end.voluntary - start.voluntary;
      s.otherInvoluntary += end.involuntary - start.involuntary;
    }
  }
  return s;
}

/** Processes whose command name is `comm` (e.g. every PostgreSQL server process). */
export function pidsByComm(comm: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Inodes of the sockets a process holds open (/proc/<pid>/fd → socket:[inode]). */
function socketInodes(pid: number): string[] {
  const out: string[] = [];
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) out.push(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // gone, or not ours to read
  }
  return out;
}

/** TCP sockets of the machine by inode: local and remote port (/proc/net/tcp and tcp6). */
function tcpSockets(): Map<string, { local: number; remote: number }> {
  const m = new Map<string, { local: number; remote: number }>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const port = (addr: string) => parseInt(addr.split(':')[1] ?? '', 16);
      m.set(f[9]!, { local: port(f[1]!), remote: port(f[2]!) });
    }
  }
  return m;
}

/**
 * The database server processes (command name `comm`) serving the connections of `serverPid` and its
 * descendants: those whose TCP socket's remote port is a local port of one of the server's sockets.
 * On a shared database this leaves out other clients' backends (other tests, other engineers).
 */
export function dbBackendsOf(serverPid: number, comm: string): number[] {
  const sockets = tcpSockets();
  const serverPorts = new Set<number>();
  for (const p of processTree(serverPid)) for (const i of socketInodes(p)) {
    const s = sockets.get(i);
    if (s) serverPorts.add(s.local);
  }
  return pidsByComm(comm).filter((pid) => socketInodes(pid).some((i) => serverPorts.has(sockets.get(i)?.remote ?? -1)));
}

function ticksOf(pids: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const pid of pids) {
    try {
      m.set(pid, cpuSample(pid).ticks);
    } catch {
      // gone meanwhile
    }
  }
  return m;
}

/**
 * Resident set size in MB (VmRSS) and its peak (VmHWM), from /proc/<pid>/status, summed over the process
 * and its descendants (so Trent's workers count; pages they share are counted once per process).
 */
export function memory(pid: number): { rssMb: number; peakRssMb: number } {
  let rssMb = 0;
  let peakRssMb = 0;
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      rssMb += statusNumber(status, 'VmRSS', ' kB') / 1024;
      peakRssMb += statusNumber(status, 'VmHWM', ' kB') / 1024;
    } catch {
      if (p === pid) throw new Error(`process ${pid} is gone`);
    }
  }
  return { rssMb, peakRssMb };
}

/** A port nobody listens on right now (Trent cannot report the port it picked for TRENT_PORT=0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const children = new Set<ChildProcess>();

/** Kills every child still running (on exit or failure). */
export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) c.kill('SIGKILL');
}

export interface Server {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  readonly logPath: string;
  /** Stops the process: `signal` first, SIGKILL after `graceMs`. Resolves with the exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

function stopper(child: ChildProcess) {
  return (signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000) =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', (code) => {
        clearTimeout(t);
        resolve(code);
      });
      child.kill(signal);
    });
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The server `npm start` runs: the compiled build (package.json "build:server", run by buildServer). */
export const TRENT_ENTRY = 'dist/main.js';

/**
 * The node flags `npm start` gives the server, read from a tree's package.json ("start": `node <flags>
 * dist/main.js`), so that every Trent of the bench runs as a user's does. Throws if "start" is not of
 * that form, rather than measure something else.
 */
export function startNodeFlags(root: string): string[] {
  const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? '';
  const words = start.trim().split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== TRENT_ENTRY) throw new Error(`package.json "start" is not \`node [flags] ${TRENT_ENTRY}\`: ${start}`);
  return words.slice(1, -1);
}

/** Compiles src/ into dist/ as `npm start` does first, so the bench measures the code of this tree. */
export function buildServer(): void {
  execFileSync('npm', ['run', '--silent', 'build:server'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

/**
 * Starts Trent as a user runs it: `node <npm start's flags> dist/main.js` (or `opts.entry`; a .ts entry
 * through tsx) with its configuration in the environment. Resolves once GET /health answers; rejects
 * (with the log's tail) if it exits first or does not answer within `timeoutMs`.
 */
export async function startTrent(opts: {
  name: string;
  env: Record<string, string>;
  logPath: string;
  nodeFlags?: string[];
  timeoutMs?: number;
  /** Trent serves HTTPS (TRENT_TLS_* in env): its URL is https:// and /health is checked against this CA. */
  caPem?: string;
  /** The entry point (default TRENT_ENTRY; the audit section starts bench/unsafe-server.mjs). */
  entry?: string;
}): Promise<Server> {
  const port = await freePort();
  const log = createWriteStream(opts.logPath);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('TRENT_')) env[k] = v;
  Object.assign(env, { TRENT_HOST: '127.0.0.1', TRENT_PORT: String(port), ...opts.env });
  const entry = opts.entry ?? TRENT_ENTRY;
  const child = spawn(process.execPath, [...startNodeFlags(REPO_ROOT), ...(opts.nodeFlags ?? []), ...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []), entry], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const url = `${opts.caPem ? 'https' : 'http'}://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${opts.name} exited during start-up:\n${tail(opts.logPath)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${opts.name} did not answer /health within ${opts.timeoutMs ?? 30_000} ms:\n${tail(opts.logPath)}`);
    }
    try {
      if (opts.caPem) {
        if ((await httpsStatus(`${url}/health`, opts.caPem)) === 200) break;
      } else {
        const res = await fetch(`${url}/health`);
        await res.arrayBuffer();
        if (res.ok) break;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name: opts.name, pid: child.pid!, url, logPath: opts.logPath, stop: stopper(child) };
}

function httpsStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts bench/ceiling-server.ts answering `bytes`-byte bodies. */
export async function startCeiling(bytes: number, logPath: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/ceiling-server.ts', `--bytes=${bytes}`], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  child.stderr!.pipe(createWriteStream(logPath));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`ceiling server exited (${code}):\n${tail(logPath)}`)));
  });
  const { port } = JSON.parse(line) as { port: number };
  return { name: 'ceiling', pid: child.pid!, url: `http://127.0.0.1:${port}`, logPath, stop: stopper(child) };
}

export interface Measured extends LoadResult {
  /** Server CPU during the measured window, % of one core (100 = one core busy). */
  serverCpuPct: number;
  /**
   * CPU the rest of the machine used meanwhile (all CPUs' busy time minus the server's and the load
   * process's), % of one core: other tenants of a noisy machine show up here.
   */
  otherCpuPct: number;
  /** CPU of the database server's processes (PostgreSQL runs), % of one core; not part of otherCpuPct. */
  dbCpuPct?: number;
  /**
   * The part of dbCpuPct spent by the backends serving this server's connections (dbBackendsOf); the
   * rest is the database's own processes (WAL writer, checkpointer…) and other clients of a shared server.
   */
  dbBackendsCpuPct?: number;
  serverRssMb: number;
  serverPeakRssMb: number;
  /** Context switches of the server's threads during the measured window (workers included). */
  serverSwitches?: Switches;
}

/** The one load process of the run (bench/load.ts), started on first use; measurements take turns. */
let loadProcess: { child: ChildProcess; lines: ReturnType<typeof createInterface>; stderr: () => string } | undefined;
let loadTurn: Promise<unknown> = Promise.resolve();

function theLoadProcess(): NonNullable<typeof loadProcess> {
  if (loadProcess && loadProcess.child.exitCode === null && loadProcess.child.signalCode === null) return loadProcess;
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/load.ts'], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  track(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  loadProcess = { child, lines: createInterface({ input: child.stdout! }), stderr: () => stderr };
  return loadProcess;
}

/** Ends the load process (its stdin), once no measurement is left. */
export async function stopLoadProcess(): Promise<void> {
  await loadTurn.catch(() => undefined);
  loadProcess?.child.stdin!.end();
  loadProcess = undefined;
}

/**
 * Runs one measurement on the load process against `server` and samples the server's CPU at the start
 * and end of the measured window (the load process announces both), and its RSS at the end.
 */
export function runLoad(server: Server, spec: Omit<LoadSpec, 'url'>, watch?: { dbComm?: string }): Promise<Measured> {
  const turn = loadTurn.catch(() => undefined).then(() => measureOnce(server, spec, watch));
  loadTurn = turn;
  return turn;
}

function measureOnce(server: Server, spec: Omit<LoadSpec, 'url'>, watch?: { dbComm?: string }): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const { child, lines, stderr } = theLoadProcess();
    let start: CpuSample | undefined;
    let end: CpuSample | undefined;
    let switchesStart: ReturnType<typeof switchSample> | undefined;
    let switchesEnd: ReturnType<typeof switchSample> | undefined;
    let loadStart: CpuSample | undefined;
    let loadEnd: CpuSample | undefined;
    let busyStart: CpuSample | undefined;
    let busyEnd: CpuSample | undefined;
    let dbStart: Map<number, number> | undefined;
    let dbEnd: Map<number, number> | undefined;
    let backends: Set<number> | undefined;
    let mem = { rssMb: NaN, peakRssMb: NaN };
    const done = () => {
      lines.off('line', onLine);
      child.off('close', onClose);
    };
    const onClose = (code: number | null) => {
      done();
      reject(new Error(`load process failed (${code}): ${stderr().trim()}`));
    };
    const onLine = (line: string) => {
      try {
        const msg = JSON.parse(line) as { event: string };
        if (msg.event === 'measure') {
          start = cpuSample(server.pid);
          loadStart = cpuSample(child.pid!);
          busyStart = machineBusy();
          // After the CPU samples, which stay back to back: reading every thread's status takes a while.
          switchesStart = switchSample(server.pid);
          if (watch?.dbComm) {
            dbStart = ticksOf(pidsByComm(watch.dbComm));
            backends = new Set(dbBackendsOf(server.pid, watch.dbComm));
          }
        } else if (msg.event === 'stop') {
          end = cpuSample(server.pid);
          loadEnd = cpuSample(child.pid!);
          busyEnd = machineBusy();
          switchesEnd = switchSample(server.pid);
          if (dbStart) {
            // Backends opened during the window count from zero (the pool may open connections under load).
            for (const pid of dbBackendsOf(server.pid, watch!.dbComm!)) backends?.add(pid);
            dbEnd = ticksOf([...new Set([...dbStart.keys(), ...(backends ?? [])])]);
          }
          mem = memory(server.pid);
        } else if (msg.event === 'result') {
          done();
          resolve(measured(msg as LoadResult));
        }
      } catch (err) {
        done();
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const measured = (result: LoadResult): Measured => {
      const serverCpuPct = start && end ? cpuPct(start, end) : NaN;
      const loadCpuPct = loadStart && loadEnd ? cpuPct(loadStart, loadEnd) : NaN;
      const busyPct = busyStart && busyEnd ? cpuPct(busyStart, busyEnd) : NaN;
      let dbCpuPct: number | undefined;
      let dbBackendsCpuPct: number | undefined;
      if (dbStart && dbEnd && start && end) {
        let ticks = 0;
        let own = 0;
        for (const [pid, t] of dbEnd) {
          const used = t - (dbStart.get(pid) ?? 0);
          ticks += used;
          if (backends?.has(pid)) own += used;
        }
        dbCpuPct = cpuPct({ ticks: 0, atNs: start.atNs }, { ticks, atNs: end.atNs });
        dbBackendsCpuPct = cpuPct({ ticks: 0, atNs: start.atNs }, { ticks: own, atNs: end.atNs });
      }
      return {
        ...result,
        serverCpuPct,
        otherCpuPct: Math.max(0, busyPct - serverCpuPct - loadCpuPct - (dbCpuPct ?? 0)),
        ...(dbCpuPct !== undefined ? { dbCpuPct } : {}),
        ...(dbBackendsCpuPct !== undefined ? { dbBackendsCpuPct } : {}),
        serverRssMb: mem.rssMb,
        serverPeakRssMb: mem.peakRssMb,
        ...(switchesStart && switchesEnd ? { serverSwitches: switchesBetween(switchesStart, switchesEnd) } : {}),
      };
    };
    lines.on('line', onLine);
    child.once('close', onClose);
    child.stdin!.write(`${JSON.stringify({ ...spec, url: server.url })}\n`);
  });
}

/** Runs a bench script in a child process of its own (fresh heap, nothing else running); parses the JSON it prints. */
function runJsonChild<T>(script: string, args: string[], stdin = ''): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    track(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} failed (${code}): ${err.trim()}`));
      resolve(JSON.parse(out) as T);
    });
    child.stdin!.end(stdin);
  });
}

/** bench/envelope.ts: local AES-256-GCM of each size. */
export function runEnvelope(input: { keyBase64: string; sizes: number[]; minSeconds: number }): Promise<EnvelopeResult[]> {
  return runJsonChild('bench/envelope.ts', [], JSON.stringify(input));
}

/** bench/floor.ts: CPU per request of the work an Encrypt cannot skip. */
export function runFloor(seconds: number): Promise<FloorResult> {
  return runJsonChild('bench/floor.ts', [String(seconds)]);
}

/**
 * Waits until GET `url`/health answers 200 (plain HTTP), polling every `everyMs`; throws naming `label`
 * once `timeoutMs` has passed, or at once if `child` exits first. For the bench's side tools (ab.ts,
 * interleaved.ts), which spawn Trents of other trees themselves.
 */
export async function waitForHealth(url: string, label: string, child?: ChildProcess, timeoutMs = 60_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${label} exited during start-up`);
    if (Date.now() > deadline) throw new Error(`${label} did not answer /health within ${timeoutMs / 1000} s`);
    try {
      const r = await fetch(`${url}/health`);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
