/**
 * ECDSA P-256 signing keys in a real SoftHSM2 token (the audit digest key under HSM custody): generated
 * in the token, never extractable, found again by name, and their signatures verify with the public key
 * the adapter returns (through src/crypto, as `trent audit verify` checks them).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ecdsaVerify, ecPublicKey } from '../crypto/ecc.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import type { Hsm } from './hsm.ts';
import { openPkcs11Hsm } from './pkcs11-hsm.ts';
import { createTestToken, hsmSkip } from './test-token.ts';

describe('PKCS#11 ECDSA P-256 signing keys on SoftHSM2', { skip: hsmSkip() }, () => {
  let hsm: Hsm;
  before(async () => {
    const token = createTestToken('trent-signing');
    hsm = await openPkcs11Hsm({ modulePath: token.modulePath, tokenLabel: token.tokenLabel, pin: SecretBytes.copyOf(Buffer.from(token.pin)) });
  });
  after(async () => {
    await hsm?.close();
  });

  test('the key pair is generated in the token once; its private key is sensitive and never extractable', async () => {
    const first = await hsm.findOrCreateEcSigningKey('digest-key');
    const again = await hsm.findOrCreateEcSigningKey('digest-key');
    assert.deepEqual([first.created, again.created], [true, false]);
    assert.ok(first.publicKeySpki.equals(again.publicKeySpki));
    assert.ok(ecPublicKey(first.publicKeySpki, 'P-256'), 'the SPKI parses as a P-256 key');
    const a = await hsm.keyAttributes('digest-key', 'signing');
    assert.deepEqual([a.token, a.private, a.sensitive, a.extractable, a.neverExtractable, a.local], [true, true, true, false, true, true]);
  });

  test('signatures made in the token verify with the returned public key, and not over another message', async () => {
    const { publicKeySpki } = await hsm.findOrCreateEcSigningKey('digest-key');
    const key = ecPublicKey(publicKeySpki, 'P-256')!;
    for (let i = 0; i < 20; i++) {
      const message = Buffer.from(`statement ${i}`);
      const sig = await hsm.signEcdsaP256Sha256('digest-key', message);
      assert.ok(ecdsaVerify(key, 'P-256', 'sha256', false, message, sig), `signature ${i}`);
      assert.equal(ecdsaVerify(key, 'P-256', 'sha256', false, Buffer.from(`statement ${i + 1}`), sig), false);
    }
    await assert.rejects(hsm.signEcdsaP256Sha256('no-such-key', Buffer.from('x')), /no signing key named no-such-key/);
  });
});
