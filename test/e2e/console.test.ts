/**
 * The web console (docs/console.md) driven end to end: Debian's chromium through playwright-core, against
 * the real server, the page's SigV4-signing SDK clients calling the same origin. axe-core checks every
 * page; each page's screenshot is saved under test-results/console/ (git-ignored).
 *
 * Without chromium the file skips loudly, unless CI is set: then it fails (.ci/run installs chromium).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'node:http';
import { CreateGrantCommand, CreateKeyCommand, DescribeKeyCommand, DisableKeyCommand, KMSClient, PutKeyPolicyCommand, GetPublicKeyCommand, ListGrantsCommand, ListKeyRotationsCommand, EncryptCommand, GetKeyPolicyCommand, GetKeyRotationStatusCommand, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, GetParameterHistoryCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildConsole } from '../../scripts/build-console.mjs';
import Database from 'better-sqlite3';
import { ACCOUNT_ID, ADMIN, E2E_STORAGE, rawCall, REGION, startServer, type TestServer } from './harness.ts';
import { allow, principals } from './principals.ts';
import { waitForRotation } from './rotation-wait.ts';
import { startTestRotator, type TestRotator } from './rotator-server.ts';

const CHROMIUM = process.env.TRENT_TEST_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  console.warn(`\n*** console.test.ts SKIPPED: no chromium at ${CHROMIUM} (apt-get install chromium). With CI set this fails. ***\n`);
}
const ROTATOR_SECRET = 'console-test-rotator-shared-secret-0123456789';
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
  let rotator: TestRotator;
  let sm: SecretsManagerClient;
  let ssm: SSMClient;
  /** CSP violations the console's own pages report, from the sign-in test on (the injection test makes one on purpose). */
  const violations: string[] = [];

  before(async () => {
    assert.ok(haveChromium, `CI is set but there is no chromium at ${CHROMIUM}: .ci/run installs it`);
    assert.ok(await buildConsole(), 'the console bundle builds');
    // A webhook rotator the operator listed (TRENT_ROTATORS), for the secret rotated from the console.
    rotator = await startTestRotator(ROTATOR_SECRET);
    const caFile = join(mkdtempSync(join(tmpdir(), 'trent-console-ca-')), 'ca.pem');
    writeFileSync(caFile, rotator.caPem);
    server = await startServer({ env: { TRENT_ROTATORS: JSON.stringify({ 'app-rotator': { url: rotator.url, secret: ROTATOR_SECRET, caFile } }) } });
    rotator.trentUrls = [server.url];
    sm = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
    ssm = new SSMClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
    base = `${server.url}/console/`;
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    sm?.destroy();
    ssm?.destroy();
    await server?.stop(true);
    await rotator?.close();
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
    const reported: string[] = [];
    const onConsole = (m: { text(): string }) => reported.push(m.text());
    page.on('console', onConsole);
    const outcome = await page.evaluate<{ ran: boolean; violated: string | null }>(inject);
    page.off('console', onConsole);
    // What the later tests listen for to see that no page of the console trips the policy.
    assert.ok(reported.some((t) => /Content Security Policy/.test(t)), reported.join('\n'));
    assert.equal(outcome.ran, false, 'the inline script ran on the console page');
    assert.equal(outcome.violated, 'script-src-elem');
  });

  test('sign-in: a wrong secret is refused with AWS\'s error; the right one shows the caller from GetCallerIdentity', async () => {
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
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

  let keyId = '';

  test('keys: create a key with an alias in the console, encrypt through the API, and see its last use on the key page', async () => {
    await page.goto(`${base}#/keys`);
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByLabel('Alias (optional)').fill('console-demo');
    await page.getByLabel('Description', { exact: true }).fill('made in the console');
    await checkPage('key-create');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: /^Key [0-9a-f-]{36}$/ }).waitFor();
    keyId = decodeURIComponent(new URL(page.url()).hash.replace('#/keys/', ''));
    const described = await server.kms().send(new DescribeKeyCommand({ KeyId: 'alias/console-demo' }));
    assert.equal(described.KeyMetadata?.KeyId, keyId, 'the alias names the key the console created');
    assert.equal(described.KeyMetadata?.Description, 'made in the console');
    await page.getByTestId('last-use').filter({ hasText: 'Not used since' }).waitFor();
    await server.kms().send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('hello') }));
    await page.getByRole('button', { name: 'Refresh last use' }).click();
    await page.getByTestId('last-use').filter({ hasText: /^Encrypt at \d{4}-/ }).waitFor();
    await page.getByRole('listitem').filter({ hasText: 'alias/console-demo' }).waitFor();
    await checkPage('key-detail');
  });

  test('key policy: invalid JSON is refused in the page with the parser\'s message, AWS\'s error is shown, a valid one is saved', async () => {
    const kms = server.kms();
    const before = (await kms.send(new GetKeyPolicyCommand({ KeyId: keyId }))).Policy!;
    const editor = page.getByLabel('Policy document (JSON)');
    await editor.fill('{ "Version": "2012-10-17", "Statement": [ }');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('alert').filter({ hasText: 'The policy is not valid JSON:' }).waitFor();
    await checkPage('key-policy-invalid');
    assert.equal((await kms.send(new GetKeyPolicyCommand({ KeyId: keyId }))).Policy, before);
    await editor.fill(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow' }] }));
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('alert').filter({ hasText: /^MalformedPolicyDocumentException: / }).waitFor();
    assert.equal((await kms.send(new GetKeyPolicyCommand({ KeyId: keyId }))).Policy, before);
    const edited = JSON.parse(before) as { Statement: { Sid?: string }[] };
    edited.Statement[0]!.Sid = 'EditedInTheConsole';
    await editor.fill(JSON.stringify(edited, null, 2));
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('status').filter({ hasText: 'Policy saved.' }).waitFor();
    assert.match((await kms.send(new GetKeyPolicyCommand({ KeyId: keyId }))).Policy!, /EditedInTheConsole/);
  });

  test('key state: disable, enable, schedule and cancel deletion with the waiting period shown; tags; automatic and on-demand rotation; revoking a grant', async () => {
    const kms = server.kms();
    const state = async () => (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    await page.getByRole('button', { name: 'Disable key' }).click();
    await page.getByTestId('key-state').filter({ hasText: 'Disabled' }).waitFor();
    assert.equal((await state()).KeyState, 'Disabled');
    await page.getByRole('button', { name: 'Enable key' }).click();
    await page.getByTestId('key-state').filter({ hasText: 'Enabled' }).waitFor();
    assert.equal((await state()).KeyState, 'Enabled');
    await page.getByLabel('Waiting period (7–30 days)').fill('7');
    await page.getByRole('button', { name: 'Schedule deletion' }).click();
    await page.getByTestId('key-state').filter({ hasText: 'PendingDeletion' }).waitFor();
    await page.getByText('7 days', { exact: true }).waitFor();
    assert.equal((await state()).PendingDeletionWindowInDays, 7);
    await page.getByRole('button', { name: 'Cancel deletion' }).click();
    // AWS: CancelKeyDeletion leaves the key Disabled.
    await page.getByTestId('key-state').filter({ hasText: 'Disabled' }).waitFor();
    await page.getByRole('button', { name: 'Enable key' }).click();
    await page.getByTestId('key-state').filter({ hasText: 'Enabled' }).waitFor();

    await page.getByLabel('Tag key').fill('team');
    await page.getByLabel('Tag value').fill('payments');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await page.getByRole('button', { name: 'Remove tag team' }).waitFor();
    assert.deepEqual((await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags, [{ TagKey: 'team', TagValue: 'payments' }]);

    await page.getByRole('button', { name: 'Enable automatic rotation' }).click();
    await page.getByTestId('rotation-enabled').filter({ hasText: 'enabled' }).waitFor();
    assert.equal((await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled, true);
    await page.getByRole('button', { name: 'Rotate now' }).click();
    await page.getByRole('listitem').filter({ hasText: 'ON_DEMAND' }).waitFor();
    assert.equal((await kms.send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations?.[0]?.RotationType, 'ON_DEMAND');

    await kms.send(new CreateGrantCommand({ KeyId: keyId, Name: 'console-grant', GranteePrincipal: `arn:aws:iam::${ACCOUNT_ID}:user/admin`, Operations: ['Decrypt'] }));
    // By the hash, not reload(): a reload forgets the credentials (memory only).
    await page.goto(`${base}#/keys`);
    await page.goto(`${base}#/keys/${keyId}`);
    await page.getByRole('button', { name: 'Revoke grant console-grant' }).click();
    await page.getByText('No grant.').waitFor();
    assert.deepEqual((await kms.send(new ListGrantsCommand({ KeyId: keyId }))).Grants, []);
  });

  test('an asymmetric key\'s public key downloads as PEM from its page', async () => {
    const kms = server.kms();
    const key = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
    await page.goto(`${base}#/keys/${key}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download public key' }).click()]);
    assert.equal(download.suggestedFilename(), `${key}.pem`);
    const pem = readFileSync((await download.path())!, 'utf8');
    const der = (await kms.send(new GetPublicKeyCommand({ KeyId: key }))).PublicKey!;
    assert.equal(pem.replace(/-----[A-Z ]+-----|\s/g, ''), Buffer.from(der).toString('base64'));
    assert.equal(await page.getByRole('heading', { name: 'Rotation' }).count(), 0, 'no rotation for an asymmetric key');
  });

  test('keys list: a page of ListKeys at a time (Next/Previous by marker) and filters by alias and by tag', async () => {
    const kms = server.kms();
    for (let i = 0; i < 11; i++) await kms.send(new CreateKeyCommand({ Description: `bulk ${i}` }));
    await page.goto(`${base}#/keys`);
    await page.getByLabel('Per page').selectOption('10');
    const rows = page.locator('tbody tr');
    await page.getByRole('button', { name: 'Next page' }).and(page.locator(':enabled')).waitFor();
    assert.equal(await rows.count(), 10);
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Keys, page 2').waitFor();
    assert.equal(await rows.count(), 3, '13 keys: 10 on page 1, 3 on page 2');
    assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Keys, page 1').waitFor();
    await page.getByLabel('Per page').selectOption('25');
    await page.getByRole('button', { name: 'Next page' }).and(page.locator(':disabled')).waitFor();
    await page.getByLabel('Alias, key ID or description').fill('console-demo');
    await page.getByRole('link', { name: keyId }).waitFor();
    assert.equal(await rows.count(), 1);
    await page.getByLabel('Alias, key ID or description').fill('');
    // The key tagged team=payments in the console earlier.
    await page.getByLabel('Tag (key or key=value)').fill('team=payments');
    await page.getByRole('link', { name: keyId }).waitFor();
    assert.equal(await rows.count(), 1);
    await page.getByLabel('Tag (key or key=value)').fill('team=other');
    await page.getByRole('link', { name: keyId }).waitFor({ state: 'detached' });
    assert.equal(await rows.count(), 0);
    await page.getByLabel('Tag (key or key=value)').fill('');
    await checkPage('keys-list');
  });

  test('secrets: create, search, reveal only on click, put a new value, rotate with a listed rotator, delete and restore', async () => {
    const name = 'console/db-password';
    await page.goto(`${base}#/secrets`);
    await page.getByLabel('Secret name').fill(name);
    await page.getByLabel('Secret value').fill('first-value-7f3a');
    await page.getByRole('button', { name: 'Create secret' }).click();
    await page.getByRole('heading', { name: `Secret ${name}` }).waitFor();
    await page.getByRole('button', { name: 'Reveal value of AWSCURRENT' }).waitFor();
    assert.ok(!(await page.content()).includes('first-value-7f3a'), 'the value is not in the page before the click');
    assert.ok(!page.url().includes('first-value'), 'nor in the URL');
    await checkPage('secret-detail');
    await page.getByRole('button', { name: 'Reveal value of AWSCURRENT' }).click();
    assert.equal(await page.getByTestId('secret-value').textContent(), 'first-value-7f3a');
    await page.getByRole('button', { name: 'Hide value' }).click();
    assert.ok(!(await page.content()).includes('first-value-7f3a'), 'hidden again');

    await page.getByLabel('New secret value').fill('second-value-9c1d');
    await page.getByRole('button', { name: 'Put new value' }).click();
    await page.getByRole('button', { name: 'Reveal value of AWSPREVIOUS' }).waitFor();
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'second-value-9c1d');

    const arn = (await sm.send(new DescribeSecretCommand({ SecretId: name }))).ARN!;
    const asked = rotator.requests.length;
    await page.getByLabel(/^Rotator/).fill(`arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:app-rotator`);
    await page.getByLabel(/^Rotate every/).fill('30');
    await page.getByRole('button', { name: 'Rotate now' }).click();
    await page.getByTestId('rotation').filter({ hasText: 'enabled' }).waitFor();
    await rotator.arrived('finishSecret');
    const token = rotator.requests.slice(asked).find((r) => r.step === 'finishSecret')!.token;
    assert.equal(await waitForRotation(server.url, arn, token), 'succeeded');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByTestId(`version-${token}`).filter({ hasText: 'AWSCURRENT' }).waitFor();
    await page.getByTestId(`version-${token}`).getByRole('button', { name: /^Reveal value/ }).click();
    assert.equal(await page.getByTestId('secret-value').textContent(), 'second-value-9c1d+', 'the rotator\'s new value');
    await page.getByText('every 30 days').waitFor();

    await page.getByLabel('Recovery window (7–30 days)').fill('7');
    await page.getByRole('button', { name: 'Delete secret' }).click();
    await page.getByTestId('deletion').filter({ hasText: 'scheduled for' }).waitFor();
    assert.ok((await sm.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate);
    await page.getByRole('button', { name: 'Restore secret' }).click();
    await page.getByTestId('deletion').filter({ hasText: 'not scheduled' }).waitFor();
    assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate, undefined);

    await page.goto(`${base}#/secrets`);
    await page.getByLabel('Search name, description or tags').fill('db-password');
    await page.getByLabel('Search name, description or tags').press('Enter');
    await page.getByRole('link', { name }).waitFor();
    await checkPage('secrets-list');
    await page.getByLabel('Search name, description or tags').fill('no-such-secret');
    await page.getByLabel('Search name, description or tags').press('Enter');
    await page.getByRole('link', { name }).waitFor({ state: 'detached' });
  });

  test('parameters: a tree by path, history and labels, SecureString revealed only on click, put and delete', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/app/prod/db-url', Type: 'String', Value: 'postgres://db.prod' }));
    await ssm.send(new PutParameterCommand({ Name: '/app/prod/api-key', Type: 'SecureString', Value: 'sk-secure-4b2e' }));
    await ssm.send(new PutParameterCommand({ Name: '/app/dev/db-url', Type: 'String', Value: 'postgres://db.dev' }));
    await ssm.send(new PutParameterCommand({ Name: '/scratch/tmp', Type: 'String', Value: 'x' }));
    await page.goto(`${base}#/parameters`);
    const tree = page.getByRole('navigation', { name: 'Parameter tree' });
    // /app holds prod and dev, each with its own db-url: the tree nests by path.
    const app = tree.locator(':scope > ul > li').filter({ hasText: /^app\// });
    await app.locator(':scope > ul > li').filter({ hasText: /^prod\// }).getByRole('link', { name: 'api-key' }).waitFor();
    assert.equal(await app.locator(':scope > ul > li').filter({ hasText: /^dev\// }).getByRole('link', { name: 'db-url' }).count(), 1);
    await checkPage('parameters-tree');
    await app.getByRole('link', { name: 'api-key' }).click();
    await page.getByRole('button', { name: 'Reveal version 1' }).waitFor();
    assert.ok(!(await page.content()).includes('sk-secure-4b2e'), 'the SecureString is not in the page before the click');
    await page.getByRole('button', { name: 'Reveal version 1' }).click();
    assert.equal(await page.getByTestId('parameter-value').textContent(), 'sk-secure-4b2e');
    await checkPage('parameter-detail');

    await page.getByLabel('Parameter name').fill('/app/prod/api-key');
    await page.getByLabel('Type').selectOption('SecureString');
    await page.getByLabel('Value', { exact: true }).fill('sk-secure-second');
    await page.getByLabel('Overwrite an existing parameter (new version)').check();
    await page.getByRole('button', { name: 'Put parameter' }).click();
    await page.getByTestId('parameter-version-2').waitFor();
    assert.equal((await ssm.send(new GetParameterCommand({ Name: '/app/prod/api-key', WithDecryption: true }))).Parameter?.Value, 'sk-secure-second');

    await page.getByLabel('Version to label').fill('1');
    await page.getByLabel('Labels (comma-separated)').fill('stable');
    await page.getByRole('button', { name: 'Label version' }).click();
    await page.getByTestId('parameter-version-1').filter({ hasText: 'stable' }).waitFor();
    const history = (await ssm.send(new GetParameterHistoryCommand({ Name: '/app/prod/api-key' }))).Parameters!;
    assert.deepEqual(history.find((v) => v.Version === 1)?.Labels, ['stable']);

    await tree.getByRole('link', { name: 'tmp' }).click();
    await page.getByRole('button', { name: 'Delete parameter' }).click();
    await tree.getByRole('link', { name: 'tmp' }).waitFor({ state: 'detached' });
    const gone = await ssm.send(new GetParameterCommand({ Name: '/scratch/tmp' })).then(() => 'found', (e: Error) => e.name);
    assert.equal(gone, 'ParameterNotFound');
  });

  test('CloudTrail LookupEvents answers the SDK v3 target (CloudTrail_20131101.LookupEvents) as the CLI\'s fully qualified one', async () => {
    const ct = new CloudTrailClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
    const lookup = { LookupAttributes: [{ AttributeKey: 'EventName' as const, AttributeValue: 'CreateKey' }], MaxResults: 50 };
    const sdk = await ct.send(new LookupEventsCommand(lookup));
    ct.destroy();
    const long = await rawCall(server.url, 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents', JSON.stringify(lookup), { service: 'cloudtrail' });
    assert.equal(long.status, 200);
    assert.ok((sdk.Events ?? []).length > 0);
    assert.deepEqual(sdk.Events!.map((e) => e.EventId), (long.json.Events as { EventId: string }[]).map((e) => e.EventId));
  });

  test('audit: the console\'s calls are found by operation, resource and outcome, with the full event on click; the chain verifies with its last digest', async () => {
    await page.goto(`${base}#/audit`);
    const search = async (by: string, value: string, outcome = 'Any') => {
      await page.getByLabel('Look up by').selectOption({ label: by });
      await page.getByLabel('Value', { exact: true }).fill(value);
      await page.getByLabel('Outcome').selectOption({ label: outcome });
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByText(/^\d+ events, newest first$/).or(page.getByRole('alert')).waitFor();
      if (await page.getByRole('alert').count() > 0) assert.fail(`the search failed: ${await page.getByRole('alert').first().textContent()}`);
    };
    const rows = page.getByTestId('audit-event');
    await search('Operation (event name)', 'PutKeyPolicy');
    // The refused document (MalformedPolicyDocumentException) and the saved one; the invalid JSON never left the page.
    await rows.filter({ hasText: 'MalformedPolicyDocumentException' }).waitFor();
    assert.equal(await rows.count(), 2);
    await page.getByLabel('Outcome').selectOption({ label: 'Failed' });
    assert.equal(await rows.count(), 1);
    await page.getByRole('button', { name: 'Event PutKeyPolicy detail' }).click();
    assert.match(await page.getByTestId('audit-detail').textContent() ?? '', /"errorCode": "MalformedPolicyDocumentException"/);
    await checkPage('audit');

    const arn = (await server.kms().send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.Arn!;
    await search('Resource (ARN or name)', arn);
    // 50 events a page (AWS's maximum): the key's CreateKey is further back.
    for (let more = 0; more < 10 && (await page.getByRole('button', { name: 'More events' }).count()) > 0; more++) {
      const shown = await rows.count();
      await page.getByRole('button', { name: 'More events' }).click();
      // Polled from here: waitForFunction evaluates a string in the page, which the CSP (no 'unsafe-eval') refuses.
      for (let i = 0; i < 100 && (await rows.count()) <= shown; i++) await new Promise((r) => setTimeout(r, 100));
    }
    for (const op of ['CreateKey', 'Encrypt', 'DisableKey', 'ScheduleKeyDeletion', 'GetKeyLastUsage']) {
      assert.ok(await rows.filter({ hasText: `kms:${op}` }).count() > 0, `${op} on the key is in the trail`);
    }
    await search('Operation (event name)', 'RotateSecret');
    assert.equal(await rows.count(), 1);
    await search('Operation (event name)', 'GetSecretValue');
    assert.ok(await rows.count() >= 2, 'each reveal is a GetSecretValue call');
    await search('Operation (event name)', 'DescribeParameters');
    assert.ok(await rows.count() >= 1);

    // The chain verified on demand (TrentOperator.VerifyAuditTrail), with its last signed digest.
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.getByTestId('chain-status').filter({ hasText: 'verified' }).waitFor();
    assert.match(await page.getByTestId('last-digest').textContent() ?? '', /^#\d+, up to event \d+, \d{4}-/);
    await checkPage('audit-chain');
  });

  test('operator view: seal state and custody, nodes and workers, custom key stores, and a metrics summary, each a signed call', async () => {
    await page.goto(`${base}#/operator`);
    await page.getByTestId('seal-state').filter({ hasText: 'unsealed' }).waitFor();
    assert.match(await page.getByTestId('custody').textContent() ?? '', /development root key/);
    await page.getByText('No custom key store.').waitFor();
    const requests = Number(await page.getByTestId('metric-requests').textContent());
    assert.ok(requests > 50, `requests answered: ${requests}`);
    await page.getByRole('button', { name: 'Refresh metrics' }).click();
    await page.getByText(/per second since the last refresh$/).waitFor();
    // Nodes and workers: the node that answered (GetSealStatus `Node`), from the heartbeat table on PostgreSQL.
    const status = await rawCall(server.url, 'TrentOperator.GetSealStatus', '{}', { service: 'trent' });
    const self = (status.json.Node as { Id: string }).Id;
    assert.match(self, /^[0-9a-f-]{36}$/);
    if (E2E_STORAGE === 'postgres') assert.ok((status.json.Nodes as { Id: string }[]).some((n) => n.Id === self), 'this node is in the heartbeat table');
    else assert.equal(status.json.Nodes, undefined, 'no heartbeat table on SQLite');
    await page.getByTestId('node').filter({ hasText: self }).filter({ hasText: 'yes' }).waitFor();
    await page.getByTestId('workers').filter({ hasText: 'One process serves this node' }).waitFor();
    await checkPage('operator');
  });

  test('a principal without permissions sees AccessDenied messages on every page, not data', async () => {
    const nobody = await principals(server).newUser('console-nobody');
    const context = await browser.newContext();
    const p = await context.newPage();
    await signIn(p, nobody);
    await p.getByTestId('caller-arn').filter({ hasText: 'user/console-nobody' }).waitFor();
    const denied = p.getByRole('alert').filter({ hasText: /^AccessDeniedException: User: arn:aws:iam::\d+:user\/console-nobody is not authorized to perform: / });
    const pages: [string, string, string][] = [
      ['#/keys', 'kms:ListKeys', 'denied-keys'],
      ['#/secrets', 'secretsmanager:ListSecrets', 'denied-secrets'],
      ['#/parameters', 'ssm:DescribeParameters', 'denied-parameters'],
      ['#/operator', 'trent:GetSealStatus', 'denied-operator'],
    ];
    for (const [hash, action, shot] of pages) {
      await p.goto(`${base}${hash}`);
      await denied.filter({ hasText: action }).first().waitFor();
      if (hash === '#/keys') {
        // The simulation itself is refused: the button stays enabled (the API decides) and a note says so.
        await p.getByTestId('permissions-note').filter({ hasText: /^Permissions could not be checked \(AccessDenied: .*iam:SimulatePrincipalPolicy/ }).waitFor();
        assert.equal(await p.getByRole('button', { name: 'Create key' }).isEnabled(), true);
      }
      await checkPage(shot, p);
    }
    await p.goto(`${base}#/keys/${keyId}`);
    await denied.filter({ hasText: 'kms:DescribeKey' }).waitFor();
    // AWS's message names the key's ARN; nothing else of the key is shown.
    assert.equal(await p.getByTestId('key-state').count(), 0, 'no key metadata shown');
    assert.equal(await p.getByRole('heading', { name: 'Key policy' }).count(), 0);
    await p.goto(`${base}#/audit`);
    await p.getByRole('button', { name: 'Search' }).click();
    await denied.filter({ hasText: 'cloudtrail:LookupEvents' }).waitFor();
    await p.getByRole('button', { name: 'Verify the chain' }).click();
    await denied.filter({ hasText: 'trent:VerifyAuditTrail' }).waitFor();
    assert.equal(await p.getByTestId('chain-status').count(), 0);
    assert.equal(await p.getByTestId('audit-event').count(), 0);
    await context.close();
  });

  test('a read-only principal sees the data and its change buttons disabled (SimulatePrincipalPolicy); the API refuses each change and nothing changes', async () => {
    const readerArn = `arn:aws:iam::${ACCOUNT_ID}:user/console-reader`;
    const reader = await principals(server).newUser('console-reader', {
      Version: '2012-10-17',
      Statement: [
        ...allow([
          'kms:List*', 'kms:Describe*', 'kms:Get*', 'secretsmanager:List*', 'secretsmanager:Describe*', 'ssm:Describe*', 'ssm:GetParameterHistory',
        ]).Statement,
        // The console asks what the reader may change; the reader may ask about itself only.
        { Effect: 'Allow', Action: 'iam:SimulatePrincipalPolicy', Resource: readerArn },
      ],
    });
    const context = await browser.newContext();
    const p = await context.newPage();
    await signIn(p, reader);
    await p.getByRole('link', { name: keyId }).waitFor();
    /** A button shown but disabled, with the accessible explanation naming the principal. */
    const notAllowed = (name: string) => p.locator(`button[disabled][title="Not allowed for ${readerArn}"]`).filter({ hasText: name });
    await notAllowed('Create key').waitFor();
    await p.getByRole('link', { name: keyId }).click();
    await p.getByTestId('key-state').filter({ hasText: 'Enabled' }).waitFor();
    for (const name of ['Disable key', 'Schedule deletion', 'Save policy', 'Add tag']) await notAllowed(name).waitFor();
    assert.equal(await p.getByTestId('permissions-note').count(), 0, 'the permissions were checked');
    await checkPage('read-only-key', p);

    // The API still refuses the changes themselves, and nothing changes.
    const asReader = { endpoint: server.url, region: REGION, credentials: reader, maxAttempts: 1 };
    const kms = new KMSClient(asReader);
    const readerSm = new SecretsManagerClient(asReader);
    try {
      await assert.rejects(kms.send(new DisableKeyCommand({ KeyId: keyId })), (e: Error) => e.name === 'AccessDeniedException' && /console-reader is not authorized to perform: kms:DisableKey/.test(e.message));
      assert.equal((await server.kms().send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, 'Enabled');
      const policy = (await server.kms().send(new GetKeyPolicyCommand({ KeyId: keyId }))).Policy!;
      await assert.rejects(kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: policy })), (e: Error) => e.name === 'AccessDeniedException');
      assert.equal((await server.kms().send(new GetKeyPolicyCommand({ KeyId: keyId }))).Policy, policy);
      await assert.rejects(readerSm.send(new PutSecretValueCommand({ SecretId: 'console/db-password', SecretString: 'not-allowed' })),
        (e: Error) => e.name === 'AccessDeniedException' && /secretsmanager:PutSecretValue/.test(e.message));
    } finally {
      kms.destroy();
      readerSm.destroy();
    }
    const denied = (action: string) => p.getByRole('alert').filter({ hasText: new RegExp(`^AccessDeniedException: .*user/console-reader is not authorized to perform: ${action}`) });

    await p.goto(`${base}#/secrets/${encodeURIComponent('console/db-password')}`);
    await p.getByRole('button', { name: 'Reveal value of AWSCURRENT' }).click();
    await denied('secretsmanager:GetSecretValue').waitFor();
    assert.equal(await p.getByTestId('secret-value').count(), 0);
    for (const name of ['Put new value', 'Rotate now', 'Delete secret']) await notAllowed(name).waitFor();
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: 'console/db-password' }))).SecretString, 'second-value-9c1d+');
    await context.close();
  });

  test('sign-out: the button forgets the credentials; a reload forgets them unless session storage was chosen; idle signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('form', { name: 'Sign in' }).waitFor();
    assert.equal(await page.evaluate('sessionStorage.length'), 0);
    // Every page the tests went through ran under the policy without tripping it.
    assert.deepEqual(violations, []);

    const context = await browser.newContext();
    const p = await context.newPage();
    await signIn(p, ADMIN);
    await p.getByTestId('caller-arn').waitFor();
    await p.reload();
    await p.getByRole('form', { name: 'Sign in' }).waitFor();
    // Opted in: kept for this tab across a reload.
    await p.getByLabel('Access key ID').fill(ADMIN.accessKeyId);
    await p.getByLabel('Secret access key').fill(ADMIN.secretAccessKey);
    await p.getByLabel('Keep me signed in in this tab (session storage)').check();
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByTestId('caller-arn').waitFor();
    await p.reload();
    await p.getByTestId('caller-arn').waitFor();
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.getByRole('form', { name: 'Sign in' }).waitFor();
    assert.equal(await p.evaluate('sessionStorage.length'), 0);
    await context.close();

    // Idle: the page's clock is driven past TRENT_CONSOLE_IDLE_SECONDS (default 900) with no input.
    const idle = await browser.newContext();
    const q = await idle.newPage();
    await q.clock.install();
    await signIn(q, ADMIN);
    await q.getByTestId('caller-arn').waitFor();
    await q.clock.fastForward(890_000);
    assert.equal(await q.getByTestId('caller-arn').count(), 1, 'still signed in before the idle time');
    await q.clock.fastForward(11_000);
    await q.getByRole('status').filter({ hasText: 'Signed out after 900 seconds without activity.' }).waitFor();
    assert.equal(await q.getByTestId('caller-arn').count(), 0);
    await idle.close();
  });

  // Last: it breaks this server's chain on purpose.
  test('VerifyAuditTrail names the first event whose record was changed in the store', { skip: E2E_STORAGE !== 'sqlite' && 'edits the SQLite file directly' }, async () => {
    const verify = async () => (await rawCall(server.url, 'TrentOperator.VerifyAuditTrail', '{}', { service: 'trent' })).json;
    assert.equal((await verify()).Ok, true);
    const db = new Database(join(server.dataDir, 'trent.db'));
    try {
      db.prepare("UPDATE audit_events SET record = replace(record, 'PutKeyPolicy', 'PutKeyPolicX') WHERE seq = (SELECT min(seq) FROM audit_events WHERE record LIKE '%PutKeyPolicy%')").run();
    } finally {
      db.close();
    }
    const broken = await verify();
    assert.equal(broken.Ok, false);
    const first = broken.FirstBreak as { Kind: string; Seq: number; Message: string };
    assert.ok(first.Seq > 0 && first.Message.length > 0, JSON.stringify(first));
  });
});

