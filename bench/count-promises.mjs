// Preload for a Trent under load (bench/ab.ts, flag `--import,./bench/count-promises.mjs`): every 5 s, the
// promises created per HTTP request (async_hooks PROMISE inits ÷ http.server requests) and the other async
// resources per request, on stderr. The hook itself slows the server: count with it, time without it.
import { createHook } from 'node:async_hooks';
import dc from 'node:diagnostics_channel';
let promises = 0, requests = 0, immediates = 0, other = new Map();
createHook({ init(id, type) { if (type === 'PROMISE') promises++; else if (type === 'Immediate') immediates++; else other.set(type, (other.get(type) ?? 0) + 1); } }).enable();
dc.subscribe('http.server.request.start', () => { requests++; });
setInterval(() => {
  if (requests > 0) process.stderr.write(`[count] ${requests} req, ${(promises / requests).toFixed(1)} promises/req, ${(immediates / requests).toFixed(2)} immediates/req, other ${JSON.stringify(Object.fromEntries([...other].map(([k, v]) => [k, +(v / requests).toFixed(2)])))}\n`);
  promises = 0; requests = 0; immediates = 0; other = new Map();
}, 5000).unref();
