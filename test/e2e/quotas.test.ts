/**
 * Request quotas through the real server (src/http/quotas.ts, TRENT_QUOTAS): a burst above the rate gets
 * ThrottlingException (HTTP 400, AWS's message), the SDK's standard retry mode then gets through, a
 * throttled write changes nothing, and every throttled call is in the audit trail. Sign and Encrypt count
 * against the quota of their key's type (RSA or ECC), and without TRENT_QUOTAS AWS's default quotas apply.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CreateKeyCommand, EncryptCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretVersionIdsCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ADMIN, REGION, startServer } from './harness.ts';
import { principals } from './principals.ts';

const dir = mkdtempSync(join(tmpdir(), 'trent-quotas-'));
const file = join(dir, 'quotas.json');
writeFileSync(file, JSON.stringify({ 'kms:symmetric': 5, 'secretsmanager:PutSecretValue': 2, 'kms:rsa': 3 }));
const server = await startServer({ env: { TRENT_QUOTAS: file } });
after(() => server.stop(true));

/**
 * What a token bucket of `rate` per second, full at the start, may admit of a burst that took `ms`: the
 * assertions bound the throttled share by the time the burst really took, so a loaded machine (requests
 * spread over seconds, the bucket refilling meanwhile) cannot make them fail, and no client retry hides
 * a throttled call (maxAttempts 1).
 */
function mostAdmitted(rate: number, ms: number): number {
  return Math.ceil(rate * (1 + ms / 1000));
}
const kmsNoRetry = new KMSClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
after(() => kmsNoRetry.destroy());

type Settled = { ok: true } | { ok: false; name: string; message: string; status?: number; requestId?: string };
async function settle(p: Promise<unknown>): Promise<Settled> {
  try {
    await p;
    return { ok: true };
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
    return { ok: false, name: e.name, message: e.message, status: e.$metadata?.httpStatusCode, requestId: e.$metadata?.requestId };
  }
}

test('a burst of Encrypt above kms:symmetric is throttled: ThrottlingException, HTTP 400, KMS\'s message; each throttled call is audited', async () => {
  const kms = kmsNoRetry;
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: 20 }, () => settle(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('q') })))));
  const took = Date.now() - started;
  const throttled = results.filter((r): r is Extract<Settled, { ok: false }> => !r.ok);
  assert.ok(throttled.length >= 20 - mostAdmitted(5, took) && throttled.length >= 1,
    `the burst is throttled beyond the rate (${throttled.length} of 20 in ${took} ms)`);
  assert.ok(results.filter((r) => r.ok).length >= 1, 'the quota admits some');
  const audit = principals(server);
  for (const t of throttled) {
    assert.equal(t.name, 'ThrottlingException');
    assert.equal(t.status, 400);
    assert.equal(t.message, 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.');
    const events = await audit.auditEventsOf(t.requestId!);
    assert.equal(events.length, 1, 'the throttled call is in the audit trail');
    assert.equal(events[0]!.errorCode, 'ThrottlingException');
    assert.equal(events[0]!.eventName, 'Encrypt');
  }
});

test('a throttled PutSecretValue changes nothing (no version), says "Rate exceeded", and is audited', async () => {
  const sm = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
  await sm.send(new CreateSecretCommand({ Name: 'quota/secret' }));
  const tokens = Array.from({ length: 10 }, (_, i) => `quota-token-${i}-0123456789abcdef0123456789`);
  const started = Date.now();
  const results = await Promise.all(tokens.map((t, i) => settle(sm.send(new PutSecretValueCommand({ SecretId: 'quota/secret', SecretString: `v${i}`, ClientRequestToken: t })))));
  const took = Date.now() - started;
  const versions = new Set((await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'quota/secret', IncludeDeprecated: true }))).Versions!.map((v) => v.VersionId));
  let throttled = 0;
  for (const [i, r] of results.entries()) {
    if (r.ok) {
      assert.ok(versions.has(tokens[i]), 'an accepted put made its version');
      continue;
    }
    throttled++;
    assert.equal(r.name, 'ThrottlingException');
    assert.equal(r.status, 400);
    assert.equal(r.message, 'Rate exceeded');
    assert.equal(versions.has(tokens[i]), false, 'a throttled put made no version');
    assert.equal((await principals(server).auditEventsOf(r.requestId!))[0]?.errorCode, 'ThrottlingException');
  }
  assert.ok(throttled >= 10 - mostAdmitted(2, took) && throttled >= 1, `the burst was throttled (${throttled} of 10 in ${took} ms)`);
  sm.destroy();
});

test('with the SDK\'s standard retry mode the same burst gets through', async () => {
  const kms = new KMSClient({ endpoint: server.url, region: REGION, credentials: ADMIN, retryMode: 'standard', maxAttempts: 10 });
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  await new Promise((r) => setTimeout(r, 1100)); // a full bucket
  const results = await Promise.all(Array.from({ length: 10 }, () => settle(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('r') })))));
  assert.deepEqual(results.filter((r) => !r.ok), []);
  kms.destroy();
});

test('Sign counts against its key\'s family: a burst on an RSA key is throttled while the ECC key\'s quota is untouched', async () => {
  const kms = kmsNoRetry;
  const rsa = (await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
  const ecc = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
  const sign = (KeyId: string, SigningAlgorithm: 'RSASSA_PSS_SHA_256' | 'ECDSA_SHA_256') =>
    settle(kms.send(new SignCommand({ KeyId, Message: Buffer.from('m'), SigningAlgorithm })));
  const started = Date.now();
  const [onRsa, onEcc] = await Promise.all([
    Promise.all(Array.from({ length: 10 }, () => sign(rsa, 'RSASSA_PSS_SHA_256'))),
    Promise.all(Array.from({ length: 10 }, () => sign(ecc, 'ECDSA_SHA_256'))),
  ]);
  const throttled = onRsa.filter((r): r is Extract<Settled, { ok: false }> => !r.ok);
  const took = Date.now() - started;
  assert.ok(throttled.length >= 10 - mostAdmitted(3, took) && throttled.length >= 1, `the RSA burst is throttled by kms:rsa (${throttled.length} of 10 in ${took} ms)`);
  for (const t of throttled) {
    assert.equal(t.name, 'ThrottlingException');
    assert.equal(t.status, 400);
    assert.equal(t.message, 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.');
    assert.equal((await principals(server).auditEventsOf(t.requestId!))[0]?.errorCode, 'ThrottlingException');
  }
  assert.deepEqual(onEcc.filter((r) => !r.ok), [], 'kms:ecc (AWS default 1,000 per second) admits the ECC burst');
});

test('Encrypt counts against its key\'s type: a burst on an RSA key is throttled by kms:rsa while symmetric Encrypt still passes', async () => {
  const kms = kmsNoRetry;
  const rsa = (await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata!.KeyId!;
  const sym = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  await new Promise((r) => setTimeout(r, 1100)); // full buckets: kms:rsa holds 3, kms:symmetric 5
  const started = Date.now();
  // Were RSA Encrypt still counted as symmetric, 12 + 3 calls against kms:symmetric (5) would throttle symmetric ones.
  const [onRsa, onSym] = await Promise.all([
    Promise.all(Array.from({ length: 12 }, () => settle(kms.send(new EncryptCommand({ KeyId: rsa, Plaintext: Buffer.from('r'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }))))),
    Promise.all(Array.from({ length: 3 }, () => settle(kms.send(new EncryptCommand({ KeyId: sym, Plaintext: Buffer.from('s') }))))),
  ]);
  const took = Date.now() - started;
  const throttled = onRsa.filter((r): r is Extract<Settled, { ok: false }> => !r.ok);
  assert.ok(throttled.length >= 12 - mostAdmitted(3, took) && throttled.length >= 1, `the RSA burst is throttled by kms:rsa (${throttled.length} of 12 in ${took} ms)`);
  assert.ok(onRsa.some((r) => r.ok), 'kms:rsa admits some');
  for (const t of throttled) {
    assert.equal(t.name, 'ThrottlingException');
    assert.equal(t.status, 400);
    assert.equal(t.message, 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.');
    const events = await principals(server).auditEventsOf(t.requestId!);
    assert.equal(events[0]?.eventName, 'Encrypt');
    assert.equal(events[0]?.errorCode, 'ThrottlingException');
  }
  assert.deepEqual(onSym.filter((r) => !r.ok), [], 'kms:symmetric is untouched by the RSA burst');
});

test('the decrypts Secrets Manager makes for GetSecretValue spend no KMS quota: a burst above kms:symmetric all succeeds', async () => {
  const sm = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
  await sm.send(new CreateSecretCommand({ Name: 'quota/read-me', SecretString: 'read under load' }));
  await new Promise((r) => setTimeout(r, 1100)); // a full kms:symmetric bucket: 5
  const reads = await Promise.all(Array.from({ length: 15 }, () => settle(sm.send(new GetSecretValueCommand({ SecretId: 'quota/read-me' })))));
  assert.deepEqual(reads.filter((r) => !r.ok), [], '15 reads, each decrypting under KMS, within secretsmanager:GetSecretValue (10,000)');
  sm.destroy();
});

test('without TRENT_QUOTAS AWS\'s default quotas apply: a burst of PutParameter above 3 per second is throttled with "Rate exceeded" and makes nothing', async () => {
  const defaults = await startServer({ env: { TRENT_QUOTAS: undefined } });
  try {
    const ssm = new SSMClient({ endpoint: defaults.url, region: REGION, credentials: ADMIN, maxAttempts: 1 });
    const names = Array.from({ length: 12 }, (_, i) => `/quota/defaults/p${i}`);
    const started = Date.now();
    const results = await Promise.all(names.map((Name) => settle(ssm.send(new PutParameterCommand({ Name, Value: 'v', Type: 'String' })))));
    const took = Date.now() - started;
    const stored = new Set(
      ((await ssm.send(new GetParametersByPathCommand({ Path: '/quota/defaults' }))).Parameters ?? []).map((p) => p.Name),
    );
    let throttled = 0;
    for (const [i, r] of results.entries()) {
      if (r.ok) {
        assert.ok(stored.has(names[i]), 'an accepted put made its parameter');
        continue;
      }
      throttled++;
      assert.equal(r.name, 'ThrottlingException');
      assert.equal(r.status, 400);
      assert.equal(r.message, 'Rate exceeded');
      assert.equal(stored.has(names[i]), false, 'a throttled put made no parameter');
      assert.equal((await principals(defaults).auditEventsOf(r.requestId!))[0]?.errorCode, 'ThrottlingException');
    }
    assert.ok(throttled >= 12 - mostAdmitted(3, took) && throttled >= 1, `ssm:PutParameter's default (3 per second) throttled the burst (${throttled} of 12 in ${took} ms)`);
    ssm.destroy();
  } finally {
    await defaults.stop(true);
  }
});
