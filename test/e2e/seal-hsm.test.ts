/**
 * HSM auto-unseal end to end on a real SoftHSM2 token (src/hsm/test-token.ts makes it in a temporary
 * directory): init wraps the unseal key with a non-extractable key in the token and issues recovery
 * shares; the node unseals itself at every start while the token is reachable; without the token it
 * starts sealed and the recovery shares unseal it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import { SecretBytes } from '../../src/crypto/secret-bytes.ts';
import { openHsm } from '../../src/hsm/index.ts';
import { createTestToken, hsmSkip } from '../../src/hsm/test-token.ts';
import { awsError, rawCall, startServer, type TestServer } from './harness.ts';

const skip = hsmSkip();

async function sys(url: string, method: 'GET' | 'POST', path: string, body?: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(new URL(path, url), { method, ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
  return (await res.json()) as Record<string, unknown>;
}
const health = async (s: TestServer) => String((await sys(s.url, 'GET', '/health')).status);

describe('HSM auto-unseal (TRENT_SEAL=pkcs11) on SoftHSM2', { skip }, () => {
  test('init issues recovery shares and unseals through the token; a restart unseals itself; without the token the recovery shares unseal', async () => {
    const token = createTestToken('trent-seal');
    const env = {
      TRENT_SEAL: 'pkcs11',
      TRENT_PKCS11_MODULE: token.modulePath,
      TRENT_PKCS11_TOKEN_LABEL: token.tokenLabel,
      TRENT_PKCS11_PIN: token.pin,
      TRENT_PKCS11_KEY_LABEL: 'trent-unseal-e2e',
    };
    let s = await startServer({ env });
    try {
      assert.equal(await health(s), 'uninitialized');
      const init = await sys(s.url, 'POST', '/v1/sys/init', { Shares: 5, Threshold: 3 });
      const recovery = init.Shares as string[];
      assert.equal(recovery.length, 5);
      assert.equal(await health(s), 'ok'); // unsealed by the token right after init
      const kms = s.kms();
      const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const blob = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('through the hsm') }))).CiphertextBlob!;
      const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));

      // The wrapping key lives in the token: non-extractable, sensitive, generated there.
      const probe = await openHsm({ modulePath: token.modulePath, tokenLabel: token.tokenLabel, pin: SecretBytes.copyOf(Buffer.from(token.pin)) });
      try {
        const attrs = await probe.keyAttributes('trent-unseal-e2e');
        assert.deepEqual([attrs.extractable, attrs.sensitive, attrs.local, attrs.valueLength], [false, true, true, 32]);
      } finally {
        await probe.close();
      }
      // Only the wrapped unseal key is stored, beside the keyring sealed under it.
      const row = JSON.parse((await s.app.storage.read((r) => r.meta.get('seal:keyring')))!) as Record<string, unknown>;
      assert.equal(row.mode, 'pkcs11');
      assert.equal(typeof row.hsmWrappedUnsealKey, 'string');

      await s.stop();
      s = await startServer({ dataDir: s.dataDir, env });
      assert.equal(await health(s), 'ok'); // auto-unsealed at start, no share given
      const out = await s.kms().send(new DecryptCommand({ CiphertextBlob: blob }));
      assert.equal(Buffer.from(out.Plaintext!).toString(), 'through the hsm');
      const dk = await s.kms().send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }));
      assert.deepEqual(Buffer.from(dk.Plaintext!), Buffer.from(dataKey.Plaintext!));

      // Seal works as in quorum mode; the recovery shares unseal.
      assert.equal((await rawCall(s.url, 'TrentOperator.Seal', '{}', { service: 'trent' })).status, 200);
      assert.equal((await awsError(() => s.kms().send(new DecryptCommand({ CiphertextBlob: blob })))).status, 503);
      for (const share of recovery.slice(0, 3)) await sys(s.url, 'POST', '/v1/sys/unseal', { Share: share });
      assert.equal(await health(s), 'ok');

      // The HSM is gone (no token under that label): the node starts sealed; recovery shares unseal it.
      await s.stop();
      s = await startServer({ dataDir: s.dataDir, env: { ...env, TRENT_PKCS11_TOKEN_LABEL: 'no-such-token' } });
      assert.equal(await health(s), 'sealed');
      assert.equal((await awsError(() => s.kms().send(new DecryptCommand({ CiphertextBlob: blob })))).name, 'ServiceUnavailableException');
      for (const share of [recovery[4]!, recovery[2]!, recovery[0]!]) await sys(s.url, 'POST', '/v1/sys/unseal', { Share: share });
      assert.equal(await health(s), 'ok');
      assert.equal(Buffer.from((await s.kms().send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'through the hsm');
    } finally {
      await s.stop(true);
    }
  });
});
