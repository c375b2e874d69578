/**
 * Aggregates a V8 .cpuprofile (node --cpu-prof) by self time: per function and per source (our files,
 * each package in node_modules, node internals, V8's own buckets such as (garbage collector)).
 *
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile> [top=25] [--skip=<seconds>]
 *
 * --skip drops the first seconds of samples: a profile covers the whole process, and start-up (module
 * loading, compiling, the bench's setup requests) is not the steady state a workload is profiled for.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** By self time. */
  functions: SelfTime[];
  /** By self time, grouped by where the code comes from. */
  sources: SelfTime[];
  /** Our own functions (src/…, or dist/… compiled) by inclusive time: self plus everything they call. */
  inclusive: SelfTime[];
}

/** Where a frame's code comes from: src/…, a package, node:…, or V8's bucket name. */
function source(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  return shortUrl(url);
}

/** Where the repository's own code starts in a frame's URL: src/ (through tsx) or dist/ (the compiled build `npm start` runs); -1 otherwise. */
function ownIndex(url: string): number {
  const src = url.indexOf('/src/');
  return src >= 0 ? src : url.indexOf('/dist/');
}

/** File and line; the line only for code run as written (node internals, .js packages), not for .ts that tsx transpiled. */
function where(f: CallFrame): string {
  if (!f.url) return '';
  const file = shortUrl(f.url);
  return f.url.endsWith('.ts') ? file : `${file}:${f.lineNumber + 1}`;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const own = ownIndex(url);
  return own >= 0 ? url.slice(own + 1) : url.replace(/^file:\/\//, '');
}

export function summarise(profile: CpuProfile, top = 25, skipMs = 0): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    at += profile.timeDeltas[i] ?? 0;
    if (at < skipMs * 1000) continue;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const src = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    total += us;
    const name = f.functionName || '(anonymous)';
    const w = where(f);
    const k = `${name}\u0000${w}`;
    const e = fn.get(k) ?? { name, where: w, us: 0 };
    e.us += us;
    fn.set(k, e);
    const s = source(f.url, name);
    src.set(s, (src.get(s) ?? 0) + us);
  }
  const row = (name: string, where: string, us: number): SelfTime => ({ name, where, ms: us / 1000, pct: total ? (us / total) * 100 : 0 });

  // Inclusive time of our own functions: each sample counts once for every distinct src/ (or dist/) function on its stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map<string, { name: string; where: string; us: number }>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!f.url || f.url.includes('/node_modules/') || ownIndex(f.url) < 0) continue;
      const name = f.functionName || '(anonymous)';
      const w = where(f);
      const k = `${name}\u0000${w}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const e = incl.get(k) ?? { name, where: w, us: 0 };
      e.us += us;
      incl.set(k, e);
    }
  }
  return {
    totalMs: total / 1000,
    inclusive: [...incl.values()].sort((a, b) => b.us - a.us).slice(0, top).map((e) => row(e.name, e.where, e.us)),
    functions: [...fn.values()].sort((a, b) => b.us - a.us).slice(0, top).map((e) => row(e.name, e.where, e.us)),
    sources: [...src.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([s, us]) => row(s, '', us)),
  };
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function summaryMarkdown(s: ProfileSummary): string {
  const lines = [
    `Sampled ${(s.totalMs / 1000).toFixed(1)} s of CPU.`,
    '',
    '| self % | self ms | function | where |',
    '|---:|---:|---|---|',
    ...s.functions.map((f) => `| ${f.pct.toFixed(1)} | ${f.ms.toFixed(0)} | \`${cell(f.name)}\` | ${f.where} |`),
    '',
    '| self % | source |',
    '|---:|---|',
    ...s.sources.map((f) => `| ${f.pct.toFixed(1)} | ${f.name} |`),
    '',
    'Inclusive time undercounts async functions: what runs after an `await` is sampled under the microtask queue, not under its caller.',
    '',
    '| inclusive % | our function (self + callees) | where |',
    '|---:|---|---|',
    ...s.inclusive.map((f) => `| ${f.pct.toFixed(1)} | \`${f.name}\` | ${f.where} |`),
  ];
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const skip = args.find((a) => a.startsWith('--skip='));
  const [file, top = '25'] = args.filter((a) => !a.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top] [--skip=<seconds>]\n');
    process.exit(2);
  }
  const summary = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(top), skip ? Number(skip.slice('--skip='.length)) * 1000 : 0);
  process.stdout.write(`${summaryMarkdown(summary)}\n`);
}
