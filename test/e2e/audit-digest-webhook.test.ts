/**
 * The optional digest webhook: every digest is POSTed over HTTPS, signed with HMAC-SHA256 over the
 * timestamp and the body, and retried when the receiver fails. The receiver here is a real HTTPS server
 * with a certificate made by openssl for the test, trusted through TRENT_AUDIT_DIGEST_WEBHOOK_CA.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { digestFileName } from '../../src/audit/digest.ts';
import { startServer } from './harness.ts';

const SECRET = 'digest-webhook-test-secret-0123456789abcdef';

/** openssl makes the receiver's certificate: never skipped in CI, skipped loudly elsewhere. */
function opensslSkip(): string | false {
  if (spawnSync('openssl', ['version']).status === 0) return false;
  if (process.env.CI) throw new Error('CI is set but openssl is not installed (the digest webhook test makes its certificate with it)');
  console.warn('\n!!! SKIPPING THE DIGEST WEBHOOK TEST: openssl is not installed !!!\n');
  return 'openssl is not installed';
}

/** The check docs/audit.md tells a receiver to make. */
function signatureValid(timestamp: string, body: string, header: string): boolean {
  const expected = Buffer.from(`v1=${createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')}`);
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected) && Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
}

test('each digest is POSTed to the HTTPS webhook, signed; a refused delivery is retried', { skip: opensslSkip() }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trent-webhook-'));
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);

  const received: { timestamp: string; signature: string; body: string; answered: number }[] = [];
  let refuseNext = true;
  const receiver = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      // The first delivery is refused, to see it come again.
      const answered = refuseNext ? 503 : 200;
      refuseNext = false;
      received.push({ timestamp: String(req.headers['x-trent-timestamp']), signature: String(req.headers['x-trent-signature']), body, answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;

  const digestDir = join(dir, 'digests');
  const server = await startServer({
    env: {
      TRENT_AUDIT_DIGEST_DIR: digestDir, TRENT_AUDIT_DIGEST_INTERVAL: '50ms',
      TRENT_AUDIT_DIGEST_WEBHOOK: `https://127.0.0.1:${port}/trent-digests`, TRENT_AUDIT_DIGEST_WEBHOOK_SECRET: SECRET, TRENT_AUDIT_DIGEST_WEBHOOK_CA: cert,
    },
  });
  try {
    await server.kms().send(new ListKeysCommand({}));
    while (!received.some((r) => r.answered === 200)) await new Promise((r) => setTimeout(r, 20));
    const [refused, accepted] = received;
    assert.equal(refused!.answered, 503);
    assert.equal(accepted!.body, refused!.body, 'the refused digest is delivered again, unchanged');
    for (const r of received) assert.ok(signatureValid(r.timestamp, r.body, r.signature), `bad signature ${r.signature}`);
    assert.equal(signatureValid(accepted!.timestamp, accepted!.body.replace('"digestSeq":1', '"digestSeq":2'), accepted!.signature), false);
    const { digestSeq } = JSON.parse(accepted!.body) as { digestSeq: number };
    assert.equal(accepted!.body, readFileSync(join(digestDir, digestFileName(digestSeq)), 'utf8'), 'the webhook gets what the directory holds');
  } finally {
    await server.stop(true);
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
