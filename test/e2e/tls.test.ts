/**
 * HTTPS on the one port (docs/tls.md): `trent tls init` makes a usable development PKI, the SDK and the
 * trent CLI work over TLS with its CA, and everything below TLS 1.2 or without TLS is refused before a
 * request exists (no audit event).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { DecryptCommand, EncryptCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import { ADMIN, startServer, type TestServer } from './harness.ts';
import { auditCount, capturingLogger, devPki, handshake, httpsKms, trentCli, type Pki } from './tls-support.ts';

describe('trent tls init', () => {
  test('writes a P-256 CA and a server certificate for localhost and 127.0.0.1 (plus --hostname), keys 0600', async () => {
    const pki = await devPki();
    const out = await trentCli(['tls', 'init', '--dir', pki.dir, '--hostname', 'kms.internal', '--hostname', '10.0.0.7']);
    assert.match(out, /Reused the development CA/);
    assert.match(out, new RegExp(`TRENT_TLS_CERT=${pki.cert}`));
    assert.match(out, new RegExp(`TRENT_TLS_KEY=${pki.key}`));
    assert.match(out, new RegExp(`AWS_CA_BUNDLE=${pki.ca}`));
    for (const f of ['server-key.pem', 'ca-key.pem']) assert.equal(statSync(`${pki.dir}/${f}`).mode & 0o777, 0o600, f);
    const ca = new X509Certificate(readFileSync(pki.ca));
    const leaf = new X509Certificate(readFileSync(pki.cert));
    assert.ok(ca.ca, 'the CA certificate is a CA');
    assert.equal(leaf.ca, false);
    assert.ok(leaf.verify(ca.publicKey), 'the server certificate is signed by the CA');
    assert.equal(leaf.publicKey.asymmetricKeyType, 'ec');
    assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.deepEqual(leaf.subjectAltName?.split(', ').sort(), ['DNS:kms.internal', 'DNS:localhost', 'IP Address:10.0.0.7', 'IP Address:127.0.0.1']);
    assert.ok(leaf.checkHost('localhost') && leaf.checkIP('127.0.0.1'));
  });
});

describe('the HTTPS listener', () => {
  let pki: Pki;
  let server: TestServer;
  const log = capturingLogger();
  before(async () => {
    pki = await devPki();
    server = await startServer({ env: pki.env, logger: log.logger });
  });
  after(() => server.stop(true));

  test('serves HTTPS on the configured port, and the SDK v3 works with the CA of trent tls init', async () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const kms = httpsKms(server.url, pki.ca);
    try {
      const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: Buffer.from('over TLS') }));
      const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob }));
      assert.equal(Buffer.from(Plaintext!).toString(), 'over TLS');
    } finally {
      kms.destroy();
    }
  });

  test('TLS 1.2 and 1.3 are accepted; TLS 1.0 and 1.1 are refused in the handshake, before any request', async () => {
    const ca = readFileSync(pki.ca);
    for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
      const h = await handshake(server.port, { ca, minVersion: v, maxVersion: v });
      assert.ok(h.ok, `${v}: ${JSON.stringify(h)}`);
      assert.equal(h.protocol, v);
    }
    const events = await auditCount(server);
    // SECLEVEL=0 lets this client offer the old versions at all: the refusal must come from the server.
    for (const v of ['TLSv1', 'TLSv1.1'] as const) {
      const h = await handshake(server.port, { ca, minVersion: v, maxVersion: v, ciphers: 'DEFAULT@SECLEVEL=0' });
      assert.equal(h.ok, false, v);
      // The server's protocol_version alert (a client that could not offer the version would fail differently).
      assert.match((h as { code: string }).code, /ALERT_PROTOCOL_VERSION/, `${v}: ${JSON.stringify(h)}`);
    }
    assert.equal(await auditCount(server), events);
  });

  test('plain HTTP to the HTTPS port gets no answer from Trent and leaves no audit event', async () => {
    const events = await auditCount(server);
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/', headers: { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1' } }, (res) => {
        res.resume();
        resolve(`status ${res.statusCode}`);
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
      req.end('{}');
    });
    // No HTTP answer of any kind: the handshake fails on the request's first bytes and the socket closes.
    assert.match(outcome, /^error /);
    assert.equal(await auditCount(server), events);
    assert.ok(log.lines.some((l) => /TLS handshake refused/.test(String(l.msg))), 'the refusal is logged at debug level');
  });

  test('the trent CLI speaks HTTPS with TRENT_CA_BUNDLE (or AWS_CA_BUNDLE), and refuses an unknown CA', async () => {
    const env = { TRENT_ENDPOINT: server.url, AWS_ACCESS_KEY_ID: ADMIN.accessKeyId, AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey };
    const users = JSON.parse(await trentCli(['iam', 'list-users'], { ...env, TRENT_CA_BUNDLE: pki.ca })) as { Users: unknown[] };
    assert.ok(Array.isArray(users.Users));
    const status = JSON.parse(await trentCli(['operator', 'status'], { ...env, AWS_CA_BUNDLE: pki.ca })) as { Sealed: boolean };
    assert.equal(status.Sealed, false);
    const err = await trentCli(['iam', 'list-users'], env).then(() => undefined, (e: { stderr: string }) => e.stderr);
    assert.match(err ?? 'it succeeded', /self-signed certificate|unable to verify|TRENT_CA_BUNDLE/i);
    const other = await devPki();
    const err2 = await trentCli(['iam', 'list-users'], { ...env, TRENT_CA_BUNDLE: other.ca }).then(() => undefined, (e: { stderr: string }) => e.stderr);
    assert.match(err2 ?? 'it succeeded', /certificate|unable to verify/i);
    // An http:// endpoint on the HTTPS port gets no answer, and the CLI says what to change.
    const err3 = await trentCli(['iam', 'list-users'], { ...env, TRENT_ENDPOINT: server.url.replace('https:', 'http:') }).then(() => undefined, (e: { stderr: string }) => e.stderr);
    assert.match(err3 ?? 'it succeeded', /set TRENT_ENDPOINT=https/);
  });
});

describe('start-up', () => {
  const base = (dataDir: string) => ({
    TRENT_DATA_DIR: dataDir, TRENT_PORT: '0', TRENT_LOG_LEVEL: 'debug',
    TRENT_ADMIN_ACCESS_KEY_ID: ADMIN.accessKeyId, TRENT_ADMIN_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
  });

  test('plain HTTP warns at start on a non-loopback address, and not on loopback', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'trent-e2e-'));
    for (const [host, warns] of [['127.0.0.1', false], ['0.0.0.0', true]] as const) {
      const log = capturingLogger();
      const app = await createApp({ config: loadConfig(base(dataDir)), logger: log.logger });
      try {
        const { url } = await app.listen(0, host);
        assert.match(url, /^http:/);
        const warned = log.lines.some((l) => l.level === 40 && /plain HTTP on a non-loopback address/.test(String(l.msg)));
        assert.equal(warned, warns, host);
      } finally {
        await app.close();
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a key that is not the certificate\'s, or a missing file, stops start-up with the file named', async () => {
    const pki = await devPki();
    const other = await devPki();
    const dataDir = mkdtempSync(join(tmpdir(), 'trent-e2e-'));
    await assert.rejects(
      createApp({ config: loadConfig({ ...base(dataDir), TRENT_TLS_CERT: pki.cert, TRENT_TLS_KEY: other.key }), logger: capturingLogger().logger }),
      /not a usable pair/,
    );
    await assert.rejects(
      createApp({ config: loadConfig({ ...base(dataDir), TRENT_TLS_CERT: join(pki.dir, 'nope.pem'), TRENT_TLS_KEY: pki.key }), logger: capturingLogger().logger }),
      /TRENT_TLS_CERT: cannot read .*nope\.pem/,
    );
    rmSync(dataDir, { recursive: true, force: true });
  });
});
