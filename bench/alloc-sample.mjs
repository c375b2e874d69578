// Preload for a Trent under load (bench/ab.ts, flag `--import,./bench/alloc-sample.mjs`): every 5 s, the
// bytes allocated on the V8 heap per HTTP request and the garbage collections per 1,000 requests, on stderr.
//
// Allocated bytes are read off v8.GCProfiler: each collection reports the heap used before and after it,
// so what was allocated between two collections is (used before this one) − (used after the last one);
// the window's total adds the growth since its last collection. Buffers' backing stores live outside the
// V8 heap and are not counted (ArrayBuffer memory is `external`). The profiler only records at each GC,
// so it costs far less than the async-hook counter (count-promises.mjs), but count with it, time without.
import dc from 'node:diagnostics_channel';
import v8 from 'node:v8';

let requests = 0;
dc.subscribe('http.server.request.start', () => { requests++; });

let profiler = new v8.GCProfiler();
let usedAtStart = v8.getHeapStatistics().used_heap_size;
profiler.start();

setInterval(() => {
  const { statistics } = profiler.stop();
  const usedNow = v8.getHeapStatistics().used_heap_size;
  profiler = new v8.GCProfiler();
  profiler.start();
  let allocated = 0;
  let after = usedAtStart;
  const kinds = new Map();
  for (const gc of statistics) {
    allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - after);
    after = gc.afterGC.heapStatistics.usedHeapSize;
    kinds.set(gc.gcType, (kinds.get(gc.gcType) ?? 0) + 1);
  }
  allocated += Math.max(0, usedNow - after);
  usedAtStart = usedNow;
  if (requests > 0) {
    const perK = Object.fromEntries([...kinds].map(([k, n]) => [k, +((n * 1000) / requests).toFixed(2)]));
    process.stderr.write(`[alloc pid ${process.pid}] ${requests} req, ${(allocated / requests / 1024).toFixed(1)} KB allocated/req, GCs per 1000 req ${JSON.stringify(perK)}\n`);
  }
  requests = 0;
}, 5000).unref();

// ALLOC_SAMPLE_TOP=<n>: also V8's sampling heap profiler, counting objects already collected (the
// garbage is the point), and every 5 s the n functions whose allocations were sampled most, by bytes.
const top = Number(process.env.ALLOC_SAMPLE_TOP ?? 0);
if (top > 0) {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const start = () => session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
  });
  start();
  setInterval(() => {
    session.post('HeapProfiler.stopSampling', (err, result) => {
      start();
      if (err) return;
      const self = new Map();
      let total = 0;
      const walk = (node) => {
        const f = node.callFrame;
        const where = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${f.lineNumber + 1}`;
        self.set(where, (self.get(where) ?? 0) + node.selfSize);
        total += node.selfSize;
        for (const c of node.children) walk(c);
      };
      walk(result.profile.head);
      if (total === 0) return;
      const lines = [...self].sort((a, b) => b[1] - a[1]).slice(0, top)
        .map(([where, bytes]) => `  ${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${where}`);
      process.stderr.write(`[alloc pid ${process.pid}] sampled allocations by function:\n${lines.join('\n')}\n`);
    });
  }, 5000).unref();
}
