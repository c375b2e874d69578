/**
 * The audit digest key under HSM custody (TRENT_SEAL=pkcs11, a real SoftHSM2 token): generated in the
 * token at initialization, never extractable, every digest signed there; the store holds only its public
 * key. An auditor's verify with the key printed at initialization passes, across a restart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { SecretBytes } from '../../src/crypto/secret-bytes.ts';
import { openHsm } from '../../src/hsm/index.ts';
import { createTestToken, hsmSkip } from '../../src/hsm/test-token.ts';
import { e2eStorageUrl, startServer } from './harness.ts';
import { runTrent } from './trent-cli.ts';

test('under TRENT_SEAL=pkcs11 the digest key lives in the token and signs there; verify with the pinned key passes across a restart; without the token nothing is signed and verify names the tail', { skip: hsmSkip() }, async () => {
  const token = createTestToken('trent-digest');
  const work = mkdtempSync(join(tmpdir(), 'trent-digest-hsm-'));
  const digestDir = join(work, 'digests');
  const dataDir = join(work, 'data');
  const url = await e2eStorageUrl(dataDir);
  const env = {
    TRENT_STORAGE: url,
    TRENT_SEAL: 'pkcs11', TRENT_PKCS11_MODULE: token.modulePath, TRENT_PKCS11_TOKEN_LABEL: token.tokenLabel, TRENT_PKCS11_PIN: token.pin,
    TRENT_PKCS11_KEY_LABEL: 'trent-unseal-audit', TRENT_AUDIT_DIGEST_DIR: digestDir, TRENT_AUDIT_DIGEST_MAX_EVENTS: '3',
  };
  let s = await startServer({ dataDir, env });
  try {
    const init = await fetch(new URL('/v1/sys/init', s.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Shares: 3, Threshold: 2 }) });
    assert.equal(init.status, 200);
    const recovery = ((await init.json()) as { Shares: string[] }).Shares;
    const created = s.app.createdDigestKey;
    assert.ok(created, 'initialization created the digest key and reports it for printing');
    const pinned = join(work, 'pinned.pem');
    writeFileSync(pinned, created.publicKeyPem);
    for (let i = 0; i < 4; i++) await s.kms().send(new CreateKeyCommand({ Description: `hsm ${i}` }));

    // In the token: a sensitive, never-extractable private key generated there; in the store: only the public key.
    const probe = await openHsm({ modulePath: token.modulePath, tokenLabel: token.tokenLabel, pin: SecretBytes.copyOf(Buffer.from(token.pin)) });
    try {
      const a = await probe.keyAttributes('trent-unseal-audit-audit-digest', 'signing');
      assert.deepEqual([a.sensitive, a.extractable, a.neverExtractable, a.local], [true, false, true, true]);
      const { created: again, publicKeySpki } = await probe.findOrCreateEcSigningKey('trent-unseal-audit-audit-digest');
      assert.equal(again, false);
      assert.ok(created.publicKeyPem.includes(publicKeySpki.toString('base64').slice(0, 60)));
    } finally {
      await probe.close();
    }
    const meta = JSON.parse((await s.app.storage.read((r) => r.meta.get('audit:digest-signing-key')))!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(meta).sort(), ['custody', 'keyLabel', 'publicKeySpki']);
    assert.equal(meta.custody, 'hsm');

    await s.stop();
    s = await startServer({ dataDir: s.dataDir, env });
    assert.equal(s.app.createdDigestKey, undefined, 'printed once: a restart does not create or print it again');
    await s.kms().send(new ListKeysCommand({}));
    await s.stop();

    const verify = (...extra: string[]) => runTrent(['audit', 'verify', '--storage', url, '--public-key', pinned, '--digests', digestDir, ...extra]);
    const r = await verify();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /audit chain OK/);

    // Without its token a node unsealed by the recovery shares serves, but signs nothing: verify sees the tail.
    s = await startServer({ dataDir: s.dataDir, env: { ...env, TRENT_PKCS11_TOKEN_LABEL: 'no-such-token' } });
    for (const share of recovery.slice(0, 2)) {
      await fetch(new URL('/v1/sys/unseal', s.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Share: share }) });
    }
    await s.kms().send(new ListKeysCommand({}));
    await s.stop();
    const unsigned = await verify('--max-unsigned-age', '10ms');
    assert.equal(unsigned.code, 1, unsigned.stdout);
    assert.match(unsigned.stdout, /BROKEN \(unsigned\)/);
    // With the token back, the next start signs the tail.
    s = await startServer({ dataDir: s.dataDir, env });
    await s.stop();
    const signed = await verify('--max-unsigned-age', '10ms');
    assert.equal(signed.code, 0, signed.stdout + signed.stderr);
  } finally {
    await s.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
