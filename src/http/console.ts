/**
 * The web console's static files under /console/ (docs/console.md). The console is a browser client of
 * the same APIs as the AWS SDKs: it signs every call with SigV4 itself, so this route serves files only,
 * holds no privilege and is not audited (the calls the page makes are).
 *
 * - Only the files of the built bundle (build/console, made by scripts/build-console.mjs at `npm install`
 *   and `npm run build`) are served, read once at start into a table: a path that is not a key of that
 *   table is a 404, so no request path ever reaches the file system.
 * - Every answer carries the page's security headers: a strict Content-Security-Policy (no inline script,
 *   same-origin connections only, never framed), nosniff, no referrer.
 * - TRENT_CONSOLE=off: every /console path is a 404, as if there were no console.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve } from 'node:path';
import type { Logger } from 'pino';

/** Where scripts/build-console.mjs writes the bundle (git-ignored), from src/http or dist/http alike. */
export const CONSOLE_BUILD_DIR = resolve(import.meta.dirname, '../../build/console');

/**
 * The page's policy. script-src 'self' with no 'unsafe-inline': an injected <script> never runs.
 * connect-src 'self': the SDK clients may only call this origin. frame-ancestors 'none': no clickjacking.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // For browsers that predate frame-ancestors.
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

interface Asset {
  body: Buffer;
  type: string;
}

export interface ConsoleRouteOptions {
  enabled: boolean;
  /** Idle sign-out of the page and the region its sign-in form proposes, handed to it in /console/config.json. */
  idleSeconds: number;
  region: string;
  logger: Logger;
  /** The built bundle; default CONSOLE_BUILD_DIR. */
  dir?: string;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const type = TYPES[extname(name)];
    if (!type || !statSync(path).isFile()) continue;
    assets.set(`/console/${name}`, { body: readFileSync(path), type });
  }
  return assets;
}

export function createConsoleRoutes(opts: ConsoleRouteOptions) {
  const dir = opts.dir ?? CONSOLE_BUILD_DIR;
  let assets: Map<string, Asset> | undefined;
  if (opts.enabled) {
    try {
      if (existsSync(join(dir, 'index.html'))) assets = loadAssets(dir);
    } catch (err) {
      // A bundle being rebuilt under us (npm run build): serve none rather than stop the server.
      opts.logger.warn({ dir, err }, 'console: could not read the bundle in %s', dir);
    }
    if (!assets) opts.logger.warn({ dir }, 'console: no built bundle in %s (npm run build makes it); /console/ answers 503', dir);
  }
  const config = Buffer.from(JSON.stringify({ idleSeconds: opts.idleSeconds, region: opts.region }));

  function send(res: ServerResponse, status: number, type: string, body: Buffer, extra: Record<string, string> = {}, head = false): void {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-cache', ...extra });
    res.end(head ? undefined : body);
  }

  /** Answers a /console request and returns true; anything else is left to the next route. */
  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path !== '/console' && !path.startsWith('/console/')) return false;
    req.resume();
    const text = (s: string) => Buffer.from(`${s}\n`);
    if (!opts.enabled) {
      send(res, 404, 'text/plain; charset=utf-8', text('Not Found'));
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', text('Method Not Allowed'), { Allow: 'GET, HEAD' });
      return true;
    }
    const head = req.method === 'HEAD';
    if (path === '/console') {
      send(res, 301, 'text/plain; charset=utf-8', text('/console/'), { Location: '/console/' }, head);
      return true;
    }
    if (!assets) {
      send(res, 503, 'text/plain; charset=utf-8', text('The console is not built: run npm run build.'), {}, head);
      return true;
    }
    if (path === '/console/config.json') {
      send(res, 200, 'application/json', config, {}, head);
      return true;
    }
    const asset = assets.get(path === '/console/' ? '/console/index.html' : path);
    if (!asset) send(res, 404, 'text/plain; charset=utf-8', text('Not Found'), {}, head);
    else send(res, 200, asset.type, asset.body, {}, head);
    return true;
  }

  return { handle };
}
