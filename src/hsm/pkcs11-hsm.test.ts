/**
 * The PKCS#11 adapter against a real SoftHSM2 token (made by test-token.ts in a temporary directory).
 * The "behind the pool's back" cases drive the same library through a second pkcs11js handle, as
 * another user of the module in this process (or a token restart) would.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { HsmDecryptionError, HsmError } from '../errors/errors.ts';
import type { Hsm } from './hsm.ts';
import { openPkcs11Hsm } from './pkcs11-hsm.ts';
import { pkcs11 } from './pkcs11-module.ts';
import { createTestToken, hsmSkip, type TestToken } from './test-token.ts';

const skip = hsmSkip();

describe('PKCS#11 HSM adapter on SoftHSM2', { skip }, () => {
  let token: TestToken;
  let second: TestToken;
  let doomed: TestToken;
  let hsm: Hsm;

  before(async () => {
    // SoftHSM2 scans its token directory at C_Initialize: make every token before the first open.
    token = createTestToken();
    second = createTestToken('trent-second');
    doomed = createTestToken('trent-doomed');
    hsm = await openPkcs11Hsm({ modulePath: token.modulePath, tokenLabel: token.tokenLabel, pin: SecretBytes.copyOf(Buffer.from(token.pin)) });
  });
  after(async () => {
    await hsm?.close();
  });

  /** Another handle on the same library, as a second user of the module in this process. */
  function otherHandle() {
    const lib = new pkcs11.PKCS11();
    lib.load(token.modulePath);
    try {
      lib.C_Initialize();
    } catch {
      // Already initialised by the adapter: the library state is shared.
    }
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === token.tokenLabel);
    assert.ok(slot !== undefined);
    return { lib, slot };
  }

  test('AES-GCM round trip binds the AAD, and a fresh IV is inside every blob', async () => {
    await hsm.findOrCreateAesKey('k-roundtrip');
    const a = await hsm.encrypt('k-roundtrip', Buffer.from('hello hsm'), Buffer.from('ctx'));
    const b = await hsm.encrypt('k-roundtrip', Buffer.from('hello hsm'), Buffer.from('ctx'));
    assert.equal(a.length, 12 + 9 + 16);
    assert.notDeepEqual(a.subarray(0, 12), b.subarray(0, 12));
    assert.equal((await hsm.decrypt('k-roundtrip', a, Buffer.from('ctx'))).toString(), 'hello hsm');
    const noAad = await hsm.encrypt('k-roundtrip', Buffer.from('x'), Buffer.alloc(0));
    assert.equal((await hsm.decrypt('k-roundtrip', noAad, Buffer.alloc(0))).toString(), 'x');
    await assert.rejects(hsm.encrypt('k-roundtrip', Buffer.alloc(0), Buffer.alloc(0)), RangeError);
  });

  test('every tampered byte, a wrong AAD, a wrong key or a truncated blob fail with the one decryption error', async () => {
    await hsm.findOrCreateAesKey('k-tamper');
    await hsm.findOrCreateAesKey('k-other');
    const blob = await hsm.encrypt('k-tamper', Buffer.from('secret'), Buffer.from('aad'));
    for (let i = 0; i < blob.length; i++) {
      const t = Buffer.from(blob);
      t.writeUInt8(t.readUInt8(i) ^ 0x01, i);
      await assert.rejects(hsm.decrypt('k-tamper', t, Buffer.from('aad')), HsmDecryptionError, `byte ${i}`);
    }
    await assert.rejects(hsm.decrypt('k-tamper', blob, Buffer.from('aaD')), HsmDecryptionError);
    await assert.rejects(hsm.decrypt('k-tamper', blob, Buffer.alloc(0)), HsmDecryptionError);
    await assert.rejects(hsm.decrypt('k-other', blob, Buffer.from('aad')), HsmDecryptionError);
    await assert.rejects(hsm.decrypt('k-tamper', blob.subarray(0, 27), Buffer.from('aad')), HsmDecryptionError);
    // The session pool is still healthy afterwards.
    assert.equal((await hsm.decrypt('k-tamper', blob, Buffer.from('aad'))).toString(), 'secret');
  });

  test('keys are generated in the token non-extractable and sensitive, and found again by name', async () => {
    assert.deepEqual(await hsm.findOrCreateAesKey('k-attrs'), { created: true });
    assert.deepEqual(await hsm.findOrCreateAesKey('k-attrs'), { created: false });
    assert.equal(await hsm.hasKey('k-attrs'), true);
    assert.deepEqual(await hsm.keyAttributes('k-attrs'), {
      token: true,
      private: true,
      sensitive: true,
      extractable: false,
      alwaysSensitive: true,
      neverExtractable: true,
      local: true,
      valueLength: 32,
    });
    await assert.rejects(hsm.createAesKey('k-attrs'), (e: unknown) => e instanceof HsmError && e.failure === 'INTERNAL');
  });

  test('destroyKey removes the object; using it afterwards is KEY_NOT_FOUND', async () => {
    await hsm.createAesKey('k-destroy');
    const blob = await hsm.encrypt('k-destroy', Buffer.from('x'), Buffer.alloc(0));
    assert.equal(await hsm.destroyKey('k-destroy'), true);
    assert.equal(await hsm.hasKey('k-destroy'), false);
    assert.equal(await hsm.destroyKey('k-destroy'), false);
    await assert.rejects(hsm.decrypt('k-destroy', blob, Buffer.alloc(0)), (e: unknown) => e instanceof HsmError && e.failure === 'KEY_NOT_FOUND');
  });

  test('random bytes come from the token', async () => {
    const a = await hsm.randomBytes(32);
    const b = await hsm.randomBytes(32);
    assert.equal(a.length, 32);
    assert.notDeepEqual(a, b);
    await assert.rejects(hsm.randomBytes(0), RangeError);
    await assert.rejects(hsm.randomBytes(1025), RangeError);
  });

  test('concurrent operations share the bounded session pool', async () => {
    await hsm.findOrCreateAesKey('k-concurrent');
    const results = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const blob = await hsm.encrypt('k-concurrent', Buffer.from(`m${i}`), Buffer.from(`a${i}`));
        return (await hsm.decrypt('k-concurrent', blob, Buffer.from(`a${i}`))).toString();
      }),
    );
    assert.deepEqual(results, Array.from({ length: 40 }, (_, i) => `m${i}`));
  });

  test('sessions closed behind the pool\'s back (C_CloseAllSessions) are reopened and logged in again', async () => {
    await hsm.findOrCreateAesKey('k-relogin');
    const blob = await hsm.encrypt('k-relogin', Buffer.from('survives'), Buffer.alloc(0));
    const { lib, slot } = otherHandle();
    lib.C_CloseAllSessions(slot); // also logs the token out for this application
    assert.equal((await hsm.decrypt('k-relogin', blob, Buffer.alloc(0))).toString(), 'survives');
    assert.equal((await hsm.randomBytes(8)).length, 8);
  });

  test('a finalize and re-initialize of the library behind the adapter\'s back is recovered', async () => {
    await hsm.findOrCreateAesKey('k-reinit');
    const blob = await hsm.encrypt('k-reinit', Buffer.from('again'), Buffer.alloc(0));
    const { lib } = otherHandle();
    lib.C_Finalize();
    lib.C_Initialize();
    assert.equal((await hsm.decrypt('k-reinit', blob, Buffer.alloc(0))).toString(), 'again');
    // Finalized and left so: the adapter initialises the library itself.
    lib.C_Finalize();
    assert.equal((await hsm.encrypt('k-reinit', Buffer.from('y'), Buffer.alloc(0))).length, 12 + 1 + 16);
  });

  test('a wrong PIN is INVALID_CREDENTIALS (also while the token is logged in), an unknown label TOKEN_NOT_FOUND', async () => {
    await assert.rejects(
      openPkcs11Hsm({ modulePath: second.modulePath, tokenLabel: second.tokenLabel, pin: SecretBytes.copyOf(Buffer.from('000000')) }),
      (e: unknown) => e instanceof HsmError && e.failure === 'INVALID_CREDENTIALS',
    );
    await assert.rejects(
      openPkcs11Hsm({ modulePath: token.modulePath, tokenLabel: token.tokenLabel, pin: SecretBytes.copyOf(Buffer.from('000000')) }),
      (e: unknown) => e instanceof HsmError && e.failure === 'INVALID_CREDENTIALS' && !e.message.includes('000000'),
    );
    await assert.rejects(
      openPkcs11Hsm({ modulePath: token.modulePath, tokenLabel: 'no-such-token', pin: SecretBytes.copyOf(Buffer.from(token.pin)) }),
      (e: unknown) => e instanceof HsmError && e.failure === 'TOKEN_NOT_FOUND',
    );
    await assert.rejects(
      openPkcs11Hsm({ modulePath: '/nonexistent/libpkcs11.so', tokenLabel: token.tokenLabel, pin: SecretBytes.copyOf(Buffer.from(token.pin)) }),
      (e: unknown) => e instanceof HsmError && e.failure === 'MODULE_UNAVAILABLE',
    );
    // The shared library is still usable by the open adapter.
    assert.equal((await hsm.randomBytes(4)).length, 4);
  });

  test('two tokens of one module are separate, and a closed Hsm refuses calls', async () => {
    const h2 = await openPkcs11Hsm({ modulePath: second.modulePath, tokenLabel: second.tokenLabel, pin: SecretBytes.copyOf(Buffer.from(second.pin)) });
    await h2.findOrCreateAesKey('only-in-second');
    assert.equal(await hsm.hasKey('only-in-second'), false);
    await h2.close();
    await h2.close();
    await assert.rejects(h2.randomBytes(4), HsmError);
    assert.equal((await hsm.randomBytes(4)).length, 4);
  });

  test('a token that is gone when the adapter reconnects fails with a typed error, not a crash or a hang', async () => {
    const h3 = await openPkcs11Hsm({ modulePath: doomed.modulePath, tokenLabel: doomed.tokenLabel, pin: SecretBytes.copyOf(Buffer.from(doomed.pin)) });
    try {
      assert.equal((await h3.randomBytes(4)).length, 4);
      const { lib } = otherHandle();
      lib.C_Finalize(); // a "restart": every session of the process is gone
      const r = spawnSync('softhsm2-util', ['--delete-token', '--token', doomed.tokenLabel], { encoding: 'utf8', env: { ...process.env, SOFTHSM2_CONF: doomed.confPath } });
      assert.equal(r.status, 0, r.stderr);
      await assert.rejects(h3.randomBytes(4), (e: unknown) => e instanceof HsmError && e.failure === 'TOKEN_NOT_FOUND');
      // The other token of the module recovers from the same restart.
      assert.equal((await hsm.randomBytes(4)).length, 4);
    } finally {
      await h3.close();
    }
  });
});
