/**
 * The web console (docs/console.md) driven end to end: Debian's chromium through playwright-core, against
 * the real server, the page's SigV4-signing SDK clients calling the same origin. axe-core checks every
 * page; each page's screenshot is saved under test-results/console/ (git-ignored).
 *
 * Without chromium the file skips loudly, unless CI is set: then it fails (.ci/run installs chromium).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildConsole } from '../../scripts/build-console.mjs';
import { ACCOUNT_ID, ADMIN, startServer, type TestServer } from './harness.ts';

const CHROMIUM = process.env.TRENT_TEST_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  console.warn(`\n*** console.test.ts SKIPPED: no chromium at ${CHROMIUM} (apt-get install chromium). With CI set this fails. ***\n`);
}
const SHOTS = resolve(import.meta.dirname, '../../test-results/console');
const AXE = readFileSync(resolve(import.meta.dirname, '../../node_modules/axe-core/axe.min.js'), 'utf8');

/** The status of a GET with `path` sent as is (fetch would normalize the dots away). */
function rawStatus(port: number, path: string): Promise<number> {
  return new Promise((done, fail) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    }).on('error', fail).end();
  });
}

describe('web console', { skip: !haveChromium && !process.env.CI ? `no chromium at ${CHROMIUM}` : false }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let base: string;

  before(async () => {
    assert.ok(haveChromium, `CI is set but there is no chromium at ${CHROMIUM}: .ci/run installs it`);
    assert.ok(await buildConsole(), 'the console bundle builds');
    server = await startServer();
    base = `${server.url}/console/`;
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await server?.stop(true);
  });

  /** No serious or critical axe-core violation on the page as it is now; saves its screenshot. */
  async function checkPage(name: string, p: Page = page): Promise<void> {
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    // Evaluated through the DevTools protocol, which the page's CSP does not govern (a <script> would be blocked).
    await p.evaluate(AXE);
    // Strings: this file is type-checked without the DOM library.
    const results = await p.evaluate<{ passes: number; violations: { id: string; impact: string; help: string; nodes: string[] }[] }>(`axe.run().then((r) => ({
      passes: r.passes.length,
      violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })),
    }))`);
    assert.ok(results.passes > 0, `axe-core ran on ${name}`);
    const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad, [], `axe-core on ${name}`);
  }

  async function signIn(p: Page, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<void> {
    await p.goto(base);
    await p.getByLabel('Access key ID').fill(credentials.accessKeyId);
    await p.getByLabel('Secret access key').fill(credentials.secretAccessKey);
    await p.getByRole('button', { name: 'Sign in' }).click();
  }

  test('the console is served by Trent with a strict CSP, nosniff and no referrer', async () => {
    for (const path of ['', 'console.js', 'console.css', 'config.json']) {
      const res = await fetch(base + path);
      assert.equal(res.status, 200, path);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /(^|; )default-src 'self'(;|$)/);
      assert.match(csp, /(^|; )script-src 'self'(;|$)/);
      assert.match(csp, /(^|; )connect-src 'self'(;|$)/);
      assert.match(csp, /(^|; )frame-ancestors 'none'(;|$)/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('access-control-allow-origin'), null, 'no CORS: the page calls its own origin');
    }
    const html = await (await fetch(base)).text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'index.html has no inline script');
    assert.doesNotMatch(html, /https?:\/\//, 'index.html loads nothing from another origin');
    for (const path of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/..%2fpackage.json', '/console/index.html/']) {
      assert.equal(await rawStatus(server.port, path), 404, path);
    }
    assert.equal((await fetch(`${server.url}/console/nope.js`)).status, 404);
    const redirect = await fetch(`${server.url}/console`, { redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), '/console/');
  });

  test('an inline script injected into the console page does not run, and the CSP reports it', async () => {
    const inject = `new Promise((done) => {
      let violated = null;
      document.addEventListener('securitypolicyviolation', (e) => { violated = e.effectiveDirective; });
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true';
      document.body.append(s);
      setTimeout(() => done({ ran: window.__inlineRan === true, violated }), 200);
    })`;
    // Control: the same injection runs in a page without the policy, so the check below can fail.
    const blank = await browser.newPage();
    await blank.setContent('<p>no policy</p>');
    assert.deepEqual(await blank.evaluate(inject), { ran: true, violated: null });
    await blank.close();
    await page.goto(base);
    const outcome = await page.evaluate<{ ran: boolean; violated: string | null }>(inject);
    assert.equal(outcome.ran, false, 'the inline script ran on the console page');
    assert.equal(outcome.violated, 'script-src-elem');
  });

  test('sign-in: a wrong secret is refused with AWS\'s error; the right one shows the caller from GetCallerIdentity', async () => {
    await signIn(page, { accessKeyId: ADMIN.accessKeyId, secretAccessKey: 'wrong-secret-access-key-0123456789abcdef' });
    await page.getByRole('alert').filter({ hasText: 'SignatureDoesNotMatch' }).waitFor();
    await checkPage('sign-in-error');
    const sent: string[] = [];
    page.on('request', (r) => sent.push(`${r.url()}\n${JSON.stringify(r.headers())}\n${r.postData() ?? ''}`));
    await page.getByLabel('Secret access key').fill(ADMIN.secretAccessKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('caller-arn').filter({ hasText: `arn:aws:iam::${ACCOUNT_ID}:` }).waitFor();
    assert.ok(sent.length > 0);
    assert.equal(sent.filter((s) => s.includes(ADMIN.secretAccessKey)).length, 0, 'the secret never leaves the page');
    assert.ok(sent.every((s) => s.startsWith(server.url)), 'every request goes to the same origin');
  });
});
