// Preload for a Trent on PostgreSQL (NODE_OPTIONS=--import=<abs path>/bench/count-pg.mjs, e.g. with
// bench/interleaved.ts, which passes NODE_OPTIONS and TRENT_WORKERS on): every 5 s, per process (each
// cluster worker preloads it too), the statements sent to PostgreSQL per 1,000 HTTP requests, the most
// frequent statements by their first words and the audit batches the store refused, appended to
// $TMPDIR/trent-count-pg.log. Counts what the node-postgres client is asked to run; a message of several
// `;`-separated statements counts once. At exit, the totals since the start (locked audit writes: the
// chain lock taken in a transaction).
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
let refused = 0;
let kinds = new Map();
// Since the start, written when the process exits: the window of a whole interleaved run.
const total = { requests: 0, statements: 0, refused: 0, appends: 0, locked: 0 };
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, ...rest) {
  const text = typeof config === 'string' ? config : (config?.text ?? '');
  statements++;
  total.statements++;
  const kind = text.replace(/\s+/g, ' ').slice(0, 70);
  if (text.includes('pg_advisory_xact_lock(1635083369')) total.locked++;
  kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  // The audit batches the store refused (trent_audit_append found another head): written again.
  // pg-pool's query() passes a callback, a checked-out client's returns a promise: both are watched.
  if (kind.includes('trent_audit_append')) {
    total.appends++;
    const seen = (r) => { if (r?.rows?.[0]?.written === false) (refused++, total.refused++); };
    const cb = rest.findIndex((a) => typeof a === 'function');
    if (cb >= 0) {
      const callback = rest[cb];
      rest[cb] = (err, r) => { if (!err) seen(r); return callback(err, r); };
    }
    const result = query.call(this, config, ...rest);
    if (typeof result?.then === 'function') result.then(seen, () => undefined);
    return result;
  }
  return query.call(this, config, ...rest);
};
dc.subscribe('http.server.request.start', () => { requests++; total.requests++; });
process.on('exit', () => {
  if (total.requests === 0) return;
  const per = (n) => ((n / total.requests) * 1000).toFixed(1);
  appendFileSync(out, `[count-pg ${process.pid} total] ${total.requests} req; per 1,000 req: ${per(total.statements)} statements, ${per(total.appends)} audit batch statements (${per(total.refused)} refused), ${per(total.locked)} locked audit writes\n`);
});
setInterval(() => {
  if (requests > 0) {
    const top = [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `    ${((n / requests) * 1000).toFixed(1).padStart(7)}  ${k}`);
    appendFileSync(out, `[count-pg ${process.pid}] ${requests} req, ${statements} statements, ${((statements / requests) * 1000).toFixed(0)} per 1,000 req, ${((refused / requests) * 1000).toFixed(1)} refused audit batches per 1,000 req\n${top.join('\n')}\n`);
  }
  requests = 0; statements = 0; refused = 0; kinds = new Map();
}, 5000).unref();
