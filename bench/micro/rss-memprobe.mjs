/**
 * Preload for bench/micro/rss-one-process.mjs (RSS_PROBE=1): on SIGUSR2, runs a full GC when node was
 * started with --expose-gc and appends process.memoryUsage() in MB to $MEMPROBE_OUT.mem; every module URL
 * resolved is appended to $MEMPROBE_OUT.mods (what start-up loads). Measurement only.
 *
 *   MEMPROBE_OUT=/tmp/mp RSS_PROBE=1 node bench/micro/rss-one-process.mjs . 15000 --expose-gc --import=./bench/micro/rss-memprobe.mjs
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const out = process.env.MEMPROBE_OUT ?? '/tmp/memprobe';
writeFileSync(out + '.mods', '');
register('data:text/javascript,' + encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(out + '.mods')}, r.url + '\\n'); return r; }
`));
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  const mb = Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, Math.round(v / 1048576)]));
  const cjsModules = Object.keys(createRequire(import.meta.url).cache).length;
  appendFileSync(out + '.mem', JSON.stringify({ ...mb, cjsModules }) + '\n');
});
