import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { createConsoleRoutes, type ConsoleRouteOptions } from './console.ts';

/** Serves the console routes on a real socket (anything they leave is a 418) and sends one raw request. */
async function ask(opts: Partial<ConsoleRouteOptions>, method: string, path: string) {
  const routes = createConsoleRoutes({ enabled: true, idleSeconds: 60, region: 'us-east-1', logger: pino({ level: 'silent' }), ...opts });
  const server = createServer((req, res) => {
    if (!routes.handle(req, res)) res.writeHead(418).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((done, fail) => {
      request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, method, path }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
      }).on('error', fail).end();
    });
  } finally {
    server.close();
  }
}

function bundle(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trent-console-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'console.js'), 'export {}');
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'secret.txt'), 'not an asset type');
  return dir;
}

test('TRENT_CONSOLE=off: every /console path is a 404 and other paths are left to the edge', async () => {
  const dir = bundle();
  for (const path of ['/console', '/console/', '/console/console.js', '/console/config.json']) {
    assert.equal((await ask({ enabled: false, dir }, 'GET', path)).status, 404, path);
  }
  assert.equal((await ask({ enabled: false, dir }, 'GET', '/health')).status, 418);
  assert.equal((await ask({ enabled: false, dir }, 'GET', '/consolex')).status, 418);
});

test('only the bundle\'s files of known types are served, with the security headers; no path reaches the file system', async () => {
  const dir = bundle();
  const js = await ask({ dir }, 'GET', '/console/console.js');
  assert.equal(js.status, 200);
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.match(String(js.headers['content-security-policy']), /script-src 'self';/);
  assert.equal(js.headers['x-content-type-options'], 'nosniff');
  assert.equal((await ask({ dir }, 'GET', '/console/')).body, '<!doctype html><title>t</title>');
  for (const path of ['/console/secret.txt', '/console/sub', '/console/../package.json', '/console/%2e%2e/package.json', '/console/sub/../console.js']) {
    const res = await ask({ dir }, 'GET', path);
    assert.equal(res.status, 404, path);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', path);
  }
  assert.deepEqual(JSON.parse((await ask({ dir, idleSeconds: 42, region: 'eu-west-1' }, 'GET', '/console/config.json')).body), { idleSeconds: 42, region: 'eu-west-1' });
  const post = await ask({ dir }, 'POST', '/console/');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  const head = await ask({ dir }, 'HEAD', '/console/console.js');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('without a built bundle /console/ answers 503 saying how to build it', async () => {
  const res = await ask({ dir: mkdtempSync(join(tmpdir(), 'trent-console-empty-')) }, 'GET', '/console/');
  assert.equal(res.status, 503);
  assert.match(res.body, /npm run build/);
});
