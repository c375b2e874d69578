// Preload for a Trent on PostgreSQL (NODE_OPTIONS=--import=<abs path>/bench/count-pg.mjs, e.g. with
// bench/interleaved.ts, which passes NODE_OPTIONS and TRENT_WORKERS on): every 5 s, per process (each
// cluster worker preloads it too), the statements sent to PostgreSQL per 1,000 HTTP requests, and the
// most frequent statements by their first words, appended to $TMPDIR/trent-count-pg.log. Counts what the
// node-postgres client is asked to run; a message of several `;`-separated statements counts once.
import dc from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The tree's own pg (the server's cwd), not this file's: another tree has another module instance.
const pg = createRequire(join(process.cwd(), 'package.json'))('pg');
const out = join(tmpdir(), 'trent-count-pg.log');
let requests = 0;
let statements = 0;
let kinds = new Map();
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, ...rest) {
  const text = typeof config === 'string' ? config : (config?.text ?? '');
  statements++;
  const kind = text.replace(/\s+/g, ' ').slice(0, 70);
  kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  return query.call(this, config, ...rest);
};
dc.subscribe('http.server.request.start', () => { requests++; });
setInterval(() => {
  if (requests > 0) {
    const top = [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `    ${((n / requests) * 1000).toFixed(1).padStart(7)}  ${k}`);
    appendFileSync(out, `[count-pg ${process.pid}] ${requests} req, ${statements} statements, ${((statements / requests) * 1000).toFixed(0)} per 1,000 req\n${top.join('\n')}\n`);
  }
  requests = 0; statements = 0; kinds = new Map();
}, 5000).unref();
