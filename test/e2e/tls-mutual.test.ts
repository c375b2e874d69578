/**
 * Mutual TLS (TRENT_TLS_CLIENT_CA) and aws:SecureTransport, through the real server (docs/tls.md).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, EncryptCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import { ACCOUNT_ID, ADMIN, awsError, rawCall, startServer, type TestServer } from './harness.ts';
import { auditCount, capturingLogger, clientCert, devPki, handshake, httpsHealth, httpsKms, trentCli, type Pki } from './tls-support.ts';

describe('mutual TLS', () => {
  let pki: Pki;
  let server: TestServer;
  const log = capturingLogger();
  before(async () => {
    pki = await devPki();
    server = await startServer({ env: { ...pki.env, TRENT_TLS_CLIENT_CA: pki.ca }, logger: log.logger });
  });
  after(() => server.stop(true));

  test('a connection without a client certificate, or with one from another CA, never reaches the request handler', async () => {
    const ca = readFileSync(pki.ca);
    const otherPki = await devPki();
    const stranger = await clientCert(otherPki, 'stranger');
    const before = await auditCount(server);
    const refusedBefore = log.lines.filter((l) => /TLS handshake refused/.test(String(l.msg))).length;
    for (const [what, opts] of [
      ['no client certificate', { ca }],
      ['a client certificate from another CA', { ca, cert: readFileSync(stranger.cert), key: readFileSync(stranger.key) }],
    ] as const) {
      for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
        const h = await handshake(server.port, { ...opts, minVersion: v, maxVersion: v });
        assert.equal(h.ok, false, `${what} over ${v} must be refused: ${JSON.stringify(h)}`);
        assert.match((h as { code: string }).code, /CERTIFICATE|UNKNOWN_CA|HANDSHAKE|ECONNRESET|CLOSED/, `${what} over ${v}: ${JSON.stringify(h)}`);
      }
      // The SDK: the call fails with a network error, not an AWS error from Trent.
      const kms = httpsKms(server.url, pki.ca, what === 'no client certificate' ? undefined : stranger);
      try {
        const err = (await kms.send(new ListKeysCommand({})).then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e))!;
        assert.ok(err, `${what}: the SDK call must fail`);
        assert.equal(err.$metadata?.httpStatusCode, undefined, `${what}: no HTTP answer at all (${err.name}: ${err.message})`);
      } finally {
        kms.destroy();
      }
    }
    // No request reached the handler: the audit trail, which records every request, did not move…
    assert.equal(await auditCount(server), before);
    // …and what the server logged is a refused handshake per attempt, nothing about a request.
    const refused = log.lines.filter((l) => /TLS handshake refused/.test(String(l.msg))).length - refusedBefore;
    assert.ok(refused >= 4, `refused handshakes logged: ${refused}`);
  });

  test('a client certificate from the configured CA gets through, and the request is still SigV4-authenticated', async () => {
    const alice = await clientCert(pki, 'alice');
    const kms = httpsKms(server.url, pki.ca, alice);
    try {
      const before = await auditCount(server);
      const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
      await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: Buffer.from('x') }));
      assert.equal(await auditCount(server), before + 2);
    } finally {
      kms.destroy();
    }
    // A valid client certificate is not a credential: an unsigned call is refused by SigV4.
    const tlsOpts = { ca: readFileSync(pki.ca), cert: readFileSync(alice.cert), key: readFileSync(alice.key) };
    assert.equal(await httpsHealth(server.url, tlsOpts), 200);
    const wrongSecret = httpsKms(server.url, pki.ca, alice);
    const bad = new (wrongSecret.constructor as typeof import('@aws-sdk/client-kms').KMSClient)({
      endpoint: server.url, region: 'us-east-1', maxAttempts: 1,
      credentials: { accessKeyId: ADMIN.accessKeyId, secretAccessKey: 'not-the-secret-access-key-0000000000' },
      requestHandler: { httpsAgent: tlsOpts },
    });
    wrongSecret.destroy();
    try {
      const err = await awsError(() => bad.send(new ListKeysCommand({})));
      assert.equal(err.name, 'InvalidSignatureException');
    } finally {
      bad.destroy();
    }
  });

  test('the trent CLI presents TRENT_CLIENT_CERT/TRENT_CLIENT_KEY, and without them is refused', async () => {
    const ops = await clientCert(pki, 'ops');
    const env = { TRENT_ENDPOINT: server.url, TRENT_CA_BUNDLE: pki.ca, AWS_ACCESS_KEY_ID: ADMIN.accessKeyId, AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey };
    const out = JSON.parse(await trentCli(['iam', 'list-users'], { ...env, TRENT_CLIENT_CERT: ops.cert, TRENT_CLIENT_KEY: ops.key })) as { Users: unknown[] };
    assert.ok(Array.isArray(out.Users));
    const err = await trentCli(['iam', 'list-users'], env).then(() => undefined, (e: { stderr: string }) => e.stderr);
    assert.match(err ?? 'it succeeded', /cannot reach/);
  });
});

describe('aws:SecureTransport', () => {
  // AWS: the "Deny unless aws:SecureTransport" idiom (IAM global condition keys).
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Enable IAM policies', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'kms:*', Resource: '*' },
      { Sid: 'TLS only', Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ],
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'trent-e2e-'));
  let keyId: string;
  const encryptBody = () => JSON.stringify({ KeyId: keyId, Plaintext: Buffer.from('p').toString('base64') });

  test('a policy denying unless aws:SecureTransport refuses a call over plain HTTP, even with a forged X-Forwarded-Proto', async () => {
    const server = await startServer({ dataDir });
    try {
      const kms = server.kms();
      keyId = (await kms.send(new CreateKeyCommand({ Policy: policy, BypassPolicyLockoutSafetyCheck: true }))).KeyMetadata!.KeyId!;
      const err = await awsError(() => kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('p') })));
      assert.equal(err.name, 'AccessDeniedException');
      assert.match(err.message, /explicit deny/);
      // No proxy is trusted: the header of a direct peer is ignored.
      const forged = await rawCall(server.url, 'TrentService.Encrypt', encryptBody(), { headers: { 'x-forwarded-proto': 'https' } });
      assert.equal(forged.json.__type, 'AccessDeniedException');
    } finally {
      await server.stop();
    }
  });

  test('the same call is allowed over TLS (SDK v3)', async () => {
    const pki = await devPki();
    const server = await startServer({ dataDir, env: pki.env });
    const kms = httpsKms(server.url, pki.ca);
    try {
      const out = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('p') }));
      assert.ok(out.CiphertextBlob);
    } finally {
      kms.destroy();
      await server.stop();
    }
  });

  test('behind a proxy listed in TRENT_TRUSTED_PROXIES, X-Forwarded-Proto: https counts as TLS and http does not', async () => {
    const server = await startServer({ dataDir, env: { TRENT_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1/32' } });
    try {
      assert.equal((await rawCall(server.url, 'TrentService.Encrypt', encryptBody(), { headers: { 'x-forwarded-proto': 'https' } })).status, 200);
      for (const proto of [undefined, 'http', 'https, http']) {
        const res = await rawCall(server.url, 'TrentService.Encrypt', encryptBody(), proto ? { headers: { 'x-forwarded-proto': proto } } : {});
        assert.equal(res.json.__type, 'AccessDeniedException', `X-Forwarded-Proto: ${proto}`);
      }
    } finally {
      await server.stop();
    }
  });

  test('on a dual-stack listener (TRENT_HOST=::) an IPv4 proxy, seen as ::ffff:a.b.c.d, matches its IPv4 entry', async (t) => {
    // Its own store, whatever TRENT_E2E_STORAGE says: the listener, not the storage, is under test.
    const ownDir = mkdtempSync(join(tmpdir(), 'trent-e2e-'));
    const config = loadConfig({
      TRENT_DATA_DIR: ownDir, TRENT_ACCOUNT_ID: ACCOUNT_ID, TRENT_LOG_LEVEL: 'silent', TRENT_TRUSTED_PROXIES: '127.0.0.1',
      TRENT_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId, TRENT_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
    });
    const app = await createApp({ config });
    try {
      let port: number;
      try {
        ({ port } = await app.listen(0, '::'));
      } catch (err) {
        t.skip(`no IPv6 here: ${(err as Error).message}`);
        return;
      }
      const url = `http://127.0.0.1:${port}`;
      const created = await rawCall(url, 'TrentService.CreateKey', JSON.stringify({ Policy: policy, BypassPolicyLockoutSafetyCheck: true }));
      const body = JSON.stringify({ KeyId: (created.json.KeyMetadata as { KeyId: string }).KeyId, Plaintext: Buffer.from('p').toString('base64') });
      assert.equal((await rawCall(url, 'TrentService.Encrypt', body, { headers: { 'x-forwarded-proto': 'https' } })).status, 200);
      assert.equal((await rawCall(url, 'TrentService.Encrypt', body)).json.__type, 'AccessDeniedException');
    } finally {
      await app.close();
      rmSync(ownDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
