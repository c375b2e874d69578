/**
 * HSM custody with TRENT_WORKERS=2 on a real SoftHSM2 token (docs/seal.md "Workers"): every worker opens
 * the token itself with the configured PIN. Init on one worker unseals both; a replaced worker unseals
 * itself from the token; a seal on one worker seals both, and a worker replaced then stays sealed until the
 * recovery shares unseal them all.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CreateKeyCommand, DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { createTestToken, hsmSkip } from '../../src/hsm/test-token.ts';
import { startNode, type TrentNode } from '../multinode/cluster.ts';
import { e2eStorageUrl, rawCall } from './harness.ts';
import { workersProbe } from './workers-support.ts';

const skip = hsmSkip();
let dir: string | undefined;
let node: TrentNode | undefined;
let probe: ReturnType<typeof workersProbe> | undefined;
after(async () => {
  probe?.close();
  await node?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('HSM custody (TRENT_SEAL=pkcs11) with TRENT_WORKERS=2', { skip }, () => {
  test('every worker unseals from the token: after init, after a replacement; one seal seals both, and a replacement then stays sealed', async () => {
    const token = createTestToken('trent-workers');
    dir = mkdtempSync(join(tmpdir(), 'trent-hsm-workers-'));
    node = await startNode(1, await e2eStorageUrl(dir), '', {
      TRENT_ROOT_KEY: undefined, TRENT_SEAL: 'pkcs11', TRENT_WORKERS: '2', SOFTHSM2_CONF: token.confPath,
      TRENT_PKCS11_MODULE: token.modulePath, TRENT_PKCS11_TOKEN_LABEL: token.tokenLabel, TRENT_PKCS11_PIN: token.pin, TRENT_PKCS11_KEY_LABEL: 'trent-unseal-workers',
    }, { startTimeoutMs: 60_000 });
    const p = (probe = workersProbe(node));
    await p.listening(2);
    const two = await p.pinned(() => true, 2);
    const [[w1, a1], [w2, a2]] = [[...two][0]!, [...two][1]!];

    const init = await p.call(a1, 'POST', '/v1/sys/init', { Shares: 3, Threshold: 2 });
    assert.equal(init.status, 200, JSON.stringify(init.json));
    const recovery = init.json.Shares as string[];
    // The worker that ran init unsealed from the token, and so did the other, told by the primary.
    for (const a of [a1, a2]) assert.equal((await p.call(a, 'GET', '/v1/sys/seal-status')).json.Sealed, false);
    const k1 = p.kmsOn(a1);
    const keyId = (await k1.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const blob = (await p.kmsOn(a2).send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('hsm') }))).CiphertextBlob!;
    assert.equal(Buffer.from((await k1.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'hsm');

    // A replaced worker unseals itself from the token.
    process.kill(p.workerPids()[0]!, 'SIGKILL');
    await p.listening(3);
    const [[w3, a3]] = [[...(await p.pinned((w) => w !== w1 && w !== w2, 1))][0]!];
    assert.equal((await p.call(a3, 'GET', '/v1/sys/seal-status')).json.Sealed, false, `replacement worker ${w3} unsealed from the token`);
    assert.equal(Buffer.from((await p.kmsOn(a3).send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'hsm');

    // One seal seals every worker; a worker replaced now does not unseal from the token.
    assert.equal((await rawCall(node.url, 'TrentOperator.Seal', '{}', { service: 'trent' })).status, 200);
    await p.assertSealedEverywhere(await p.pinned(() => true, 2));
    process.kill(p.workerPids()[0]!, 'SIGKILL');
    await p.listening(4);
    const sealedNow = await p.pinned(() => true, 2);
    await p.assertSealedEverywhere(sealedNow);

    // The recovery shares, on two different workers, unseal both.
    const [s1, s2] = [...sealedNow.values()];
    const first = (await p.call(s1!, 'POST', '/v1/sys/unseal', { Share: recovery[0] })).json;
    const done = (await p.call(s2!, 'POST', '/v1/sys/unseal', { Share: recovery[2], Nonce: first.Nonce })).json;
    assert.equal(done.Sealed, false, JSON.stringify(done));
    for (const a of [s1!, s2!]) assert.equal(Buffer.from((await p.kmsOn(a).send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'hsm');
  });
});
