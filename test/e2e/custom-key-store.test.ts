/**
 * Custom key stores on a real SoftHSM2 token, driven through the real server with @aws-sdk/client-kms:
 * store lifecycle and errors, keys generated and used inside the token, GenerateRandom from the HSM,
 * and the HSM object destroyed when the key's deletion completes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConnectCustomKeyStoreCommand,
  CreateCustomKeyStoreCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  UpdateCustomKeyStoreCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { DAY_MS, ManualClock } from '../../src/clock.ts';
import { SecretBytes } from '../../src/crypto/secret-bytes.ts';
import { openHsm, type Hsm } from '../../src/hsm/index.ts';
import { createTestToken, hsmSkip, type TestToken } from '../../src/hsm/test-token.ts';
import { ACCOUNT_ID, awsError, REGION, startServer, type TestServer } from './harness.ts';

const skip = hsmSkip();

/** A self-signed certificate made by the OpenSSL CLI, standing in for the cluster's trust anchor. */
function trustAnchorPem(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trent-anchor-'));
  try {
    const r = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=trent-test-anchor',
      '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
    return readFileSync(join(dir, 'cert.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('custom key stores on SoftHSM2 (CloudHSM analogue)', { skip }, () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let main: TestToken;
  let spare: TestToken;
  let server: TestServer;
  let kms: KMSClient;
  /** The test's own view of the main token, to check key objects through PKCS#11. */
  let inspector: Hsm;
  let anchor: string;
  let serverEnv: Record<string, string>;
  let storeId: string;
  let keyId: string;

  before(async () => {
    // SoftHSM2 reads its token directory at C_Initialize: make every token first.
    main = createTestToken('trent-cks-main');
    spare = createTestToken('trent-cks-spare');
    anchor = trustAnchorPem();
    serverEnv = {
      TRENT_HSMS: JSON.stringify({
        'cluster-main': { module: main.modulePath, tokenLabel: main.tokenLabel },
        'cluster-spare': { module: spare.modulePath, tokenLabel: spare.tokenLabel },
        'cluster-main-alias': { module: main.modulePath, tokenLabel: main.tokenLabel },
      }),
    };
    server = await startServer({ clock, env: serverEnv });
    kms = server.kms();
    inspector = await openHsm({ modulePath: main.modulePath, tokenLabel: main.tokenLabel, pin: SecretBytes.copyOf(Buffer.from(main.pin)) });
  });
  after(async () => {
    await inspector?.close();
    await server?.stop(true);
  });

  const describeStore = async (id: string) => (await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }))).CustomKeyStores![0]!;

  test('CreateCustomKeyStore: an unknown cluster id is CloudHsmClusterNotFoundException; a new store starts DISCONNECTED', async () => {
    const unknown = await awsError(() => kms.send(new CreateCustomKeyStoreCommand({
      CustomKeyStoreName: 'nowhere', CloudHsmClusterId: 'cluster-nope', TrustAnchorCertificate: anchor, KeyStorePassword: main.pin,
    })));
    assert.equal(unknown.name, 'CloudHsmClusterNotFoundException');
    assert.equal(unknown.status, 400);

    const created = await kms.send(new CreateCustomKeyStoreCommand({
      CustomKeyStoreName: 'main-store', CloudHsmClusterId: 'cluster-main', TrustAnchorCertificate: anchor, KeyStorePassword: main.pin,
    }));
    storeId = created.CustomKeyStoreId!;
    assert.match(storeId, /^cks-[0-9a-f]{17}$/);
    const entry = await describeStore(storeId);
    assert.equal(entry.CustomKeyStoreName, 'main-store');
    assert.equal(entry.CustomKeyStoreType, 'AWS_CLOUDHSM');
    assert.equal(entry.CloudHsmClusterId, 'cluster-main');
    assert.equal(entry.TrustAnchorCertificate, anchor);
    assert.equal(entry.ConnectionState, 'DISCONNECTED');
    assert.equal(entry.ConnectionErrorCode, undefined);
    assert.ok(entry.CreationDate instanceof Date);
  });

  test('names and clusters are taken once; a bad trust anchor or a short password is refused', async () => {
    const base = { TrustAnchorCertificate: anchor, KeyStorePassword: main.pin };
    assert.equal((await awsError(() => kms.send(new CreateCustomKeyStoreCommand({ ...base, CustomKeyStoreName: 'main-store', CloudHsmClusterId: 'cluster-spare' })))).name,
      'CustomKeyStoreNameInUseException');
    assert.equal((await awsError(() => kms.send(new CreateCustomKeyStoreCommand({ ...base, CustomKeyStoreName: 'other', CloudHsmClusterId: 'cluster-main' })))).name,
      'CloudHsmClusterInUseException');
    assert.equal((await awsError(() => kms.send(new CreateCustomKeyStoreCommand({
      ...base, TrustAnchorCertificate: 'not a certificate', CustomKeyStoreName: 'other', CloudHsmClusterId: 'cluster-spare',
    })))).name, 'IncorrectTrustAnchorException');
    const short = await awsError(() => kms.send(new CreateCustomKeyStoreCommand({
      ...base, KeyStorePassword: 'abc', CustomKeyStoreName: 'other', CloudHsmClusterId: 'cluster-spare',
    })));
    assert.equal(short.name, 'ValidationException');
    assert.ok(!short.message.includes('abc'), 'the password is never echoed');
    assert.equal((await awsError(() => kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: 'cks-00000000000000000' })))).name,
      'CustomKeyStoreNotFoundException');
  });

  test('a store is scoped by region like keys: another region neither sees nor uses it', async () => {
    const west = server.kms({ region: 'eu-west-1' });
    assert.equal((await awsError(() => west.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: storeId })))).name,
      'CustomKeyStoreNotFoundException');
    assert.deepEqual((await west.send(new DescribeCustomKeyStoresCommand({}))).CustomKeyStores, []);
    assert.equal((await awsError(() => west.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).name,
      'CustomKeyStoreNotFoundException');
  });

  test('the key store password is stored sealed, never in the clear', async () => {
    const row = await server.app.storage.read((r) => r.customKeyStores.get({ accountId: ACCOUNT_ID, region: REGION }, storeId));
    assert.ok(row);
    assert.equal(row.sealedPassword.includes(Buffer.from(main.pin)), false);
    assert.equal(JSON.stringify(row.doc).includes(main.pin), false);
  });

  test('CreateKey in a disconnected store is CustomKeyStoreInvalidStateException; after Connect the store is CONNECTED', async () => {
    const refused = await awsError(() => kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId })));
    assert.equal(refused.name, 'CustomKeyStoreInvalidStateException');
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    assert.equal((await describeStore(storeId)).ConnectionState, 'CONNECTED');
    // AWS: connecting a connected store is accepted and changes nothing.
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    assert.equal((await describeStore(storeId)).ConnectionState, 'CONNECTED');
  });

  test('CreateKey with Origin AWS_CLOUDHSM generates the key in the token: CKA_EXTRACTABLE=false, CKA_SENSITIVE=true, no material in storage', async () => {
    const meta = (await kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, Description: 'in the HSM' }))).KeyMetadata!;
    keyId = meta.KeyId!;
    assert.equal(meta.Origin, 'AWS_CLOUDHSM');
    assert.equal(meta.CustomKeyStoreId, storeId);
    assert.equal(meta.CloudHsmClusterId, 'cluster-main');
    assert.equal(meta.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(meta.KeyState, 'Enabled');
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.CustomKeyStoreId, storeId);

    const attrs = await inspector.keyAttributes(keyId);
    assert.equal(attrs.extractable, false);
    assert.equal(attrs.sensitive, true);
    assert.equal(attrs.neverExtractable, true);
    assert.equal(attrs.alwaysSensitive, true);
    assert.equal(attrs.local, true, 'generated inside the token, not imported');
    assert.equal(attrs.valueLength, 32);
    const materials = await server.app.storage.read((r) => r.materials.list({ accountId: ACCOUNT_ID, region: REGION }, keyId));
    assert.deepEqual(materials, [], 'Trent stores no material for a key in a custom key store');

    // AWS: only single-Region symmetric encryption keys live in a CloudHSM key store.
    assert.equal((await awsError(() => kms.send(new CreateKeyCommand({
      Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC',
    })))).name, 'UnsupportedOperationException');
    assert.equal((await awsError(() => kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: 'cks-00000000000000000' })))).name,
      'CustomKeyStoreNotFoundException');
  });

  test('Encrypt/Decrypt (without KeyId), GenerateDataKey(+WithoutPlaintext) and ReEncrypt run in the HSM; the context is bound', async () => {
    const context = { purpose: 'e2e' };
    const ct = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('hello hsm'), EncryptionContext: context }))).CiphertextBlob!;
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: ct, EncryptionContext: context }));
    assert.equal(Buffer.from(dec.Plaintext!).toString(), 'hello hsm');
    assert.equal(dec.KeyId, `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${keyId}`);
    assert.equal((await awsError(() => kms.send(new DecryptCommand({ CiphertextBlob: ct, EncryptionContext: { purpose: 'other' } })))).name,
      'InvalidCiphertextException');
    const tampered = Buffer.from(ct);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 1, tampered.length - 1);
    assert.equal((await awsError(() => kms.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: context })))).name,
      'InvalidCiphertextException');

    const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }));
    assert.equal(dk.Plaintext!.length, 32);
    const opened = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob!, EncryptionContext: context }));
    assert.deepEqual(Buffer.from(opened.Plaintext!), Buffer.from(dk.Plaintext!));
    const wp = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, NumberOfBytes: 64 }));
    assert.equal((await kms.send(new DecryptCommand({ CiphertextBlob: wp.CiphertextBlob! }))).Plaintext!.length, 64);

    // ReEncrypt to a software key and back.
    const soft = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const toSoft = await kms.send(new ReEncryptCommand({ CiphertextBlob: ct, SourceEncryptionContext: context, DestinationKeyId: soft }));
    const back = await kms.send(new ReEncryptCommand({ CiphertextBlob: toSoft.CiphertextBlob!, DestinationKeyId: keyId, DestinationEncryptionContext: context }));
    assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob!, EncryptionContext: context }))).Plaintext!).toString(),
      'hello hsm');
  });

  test('GenerateRandom with CustomKeyStoreId draws from the HSM; an unknown store is CustomKeyStoreNotFoundException', async () => {
    const r = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 48, CustomKeyStoreId: storeId }));
    assert.equal(r.Plaintext!.length, 48);
    assert.equal((await awsError(() => kms.send(new GenerateRandomCommand({ NumberOfBytes: 8, CustomKeyStoreId: 'cks-00000000000000000' })))).name,
      'CustomKeyStoreNotFoundException');
  });

  test('automatic rotation of a key in a custom key store is UnsupportedOperationException', async () => {
    const e = await awsError(() => kms.send(new EnableKeyRotationCommand({ KeyId: keyId })));
    assert.equal(e.name, 'UnsupportedOperationException');
    assert.match(e.message, /origin is AWS_CLOUDHSM which is not valid for this operation/);
  });

  test('a connected store cannot be deleted; renaming is allowed while connected, a new password is not', async () => {
    assert.equal((await awsError(() => kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).name,
      'CustomKeyStoreInvalidStateException');
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, NewCustomKeyStoreName: 'main-renamed' }));
    const byName = await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreName: 'main-renamed' }));
    assert.equal(byName.CustomKeyStores![0]!.CustomKeyStoreId, storeId);
    assert.equal((await awsError(() => kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, KeyStorePassword: main.pin })))).name,
      'CustomKeyStoreInvalidStateException');
  });

  test('after Disconnect, Encrypt is KMSInvalidStateException and store operations are CustomKeyStoreInvalidStateException', async () => {
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    assert.equal((await describeStore(storeId)).ConnectionState, 'DISCONNECTED');
    const enc = await awsError(() => kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })));
    assert.equal(enc.name, 'KMSInvalidStateException');
    assert.equal(enc.message, `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${keyId} is unavailable.`);
    assert.equal(enc.status, 400);
    // AWS: keys of a disconnected store are Unavailable.
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    assert.equal(meta.KeyState, 'Unavailable');
    assert.equal(meta.Enabled, false);
    assert.equal((await awsError(() => kms.send(new GenerateRandomCommand({ NumberOfBytes: 8, CustomKeyStoreId: storeId })))).name,
      'CustomKeyStoreInvalidStateException');
    assert.equal((await awsError(() => kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId })))).name,
      'CustomKeyStoreInvalidStateException');
  });

  test('DeleteCustomKeyStore while keys exist is CustomKeyStoreHasCMKsException', async () => {
    const e = await awsError(() => kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: storeId })));
    assert.equal(e.name, 'CustomKeyStoreHasCMKsException');
    assert.equal(e.status, 400);
  });

  test('a wrong PIN leaves the store FAILED with INVALID_CREDENTIALS; disconnect, a new password, and it connects', async () => {
    const id = (await kms.send(new CreateCustomKeyStoreCommand({
      CustomKeyStoreName: 'spare-store', CloudHsmClusterId: 'cluster-spare', TrustAnchorCertificate: anchor, KeyStorePassword: 'wrong-pin-123',
    }))).CustomKeyStoreId!;
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    const failed = await describeStore(id);
    assert.equal(failed.ConnectionState, 'FAILED');
    assert.equal(failed.ConnectionErrorCode, 'INVALID_CREDENTIALS');
    // AWS: a FAILED store must be disconnected before it can be connected again.
    assert.equal((await awsError(() => kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id })))).name,
      'CustomKeyStoreInvalidStateException');
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, KeyStorePassword: spare.pin }));
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    assert.equal((await describeStore(id)).ConnectionState, 'CONNECTED');
    assert.equal((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 16, CustomKeyStoreId: id }))).Plaintext!.length, 16);
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    // A cluster naming another token is not related; one naming the same token is.
    assert.equal((await awsError(() => kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, CloudHsmClusterId: 'cluster-spare' })))).name,
      'CloudHsmClusterInUseException');
    await kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    assert.equal((await awsError(() => kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, CloudHsmClusterId: 'cluster-spare' })))).name,
      'CloudHsmClusterNotRelatedException');
  });

  test('DescribeCustomKeyStores pages with Limit and Marker', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      ids.push((await kms.send(new CreateCustomKeyStoreCommand({
        CustomKeyStoreName: `page-${i}`, CloudHsmClusterId: i === 0 ? 'cluster-spare' : 'cluster-main-alias', TrustAnchorCertificate: anchor,
        KeyStorePassword: main.pin,
      }))).CustomKeyStoreId!);
    }
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await kms.send(new DescribeCustomKeyStoresCommand({ Limit: 1, ...(marker ? { Marker: marker } : {}) }));
      assert.equal(page.CustomKeyStores!.length, 1);
      seen.push(page.CustomKeyStores![0]!.CustomKeyStoreId!);
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker);
    assert.deepEqual(seen.sort(), [storeId, ...ids].sort());
    assert.equal((await awsError(() => kms.send(new DescribeCustomKeyStoresCommand({ Marker: 'bogus' })))).name, 'InvalidMarkerException');
    for (const id of ids) await kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id }));
  });

  test('a restarted node reconnects lazily from the desired state in storage', async () => {
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    const ct = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('across a restart') }))).CiphertextBlob!;
    await server.stop();
    server = await startServer({ clock, dataDir: server.dataDir, env: serverEnv });
    kms = server.kms();
    assert.equal((await describeStore(storeId)).ConnectionState, 'CONNECTED');
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState, 'Enabled');
    assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: ct }))).Plaintext!).toString(), 'across a restart');
  });

  test('when the key deletion completes, the HSM object is destroyed; then the empty store can be deleted', async () => {
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    assert.equal(await inspector.hasKey(keyId), true, 'the object stays while the key is pending deletion');
    clock.advance(8 * DAY_MS);
    assert.equal((await server.app.jobs.runOnce()).deleted, 1);
    assert.equal(await inspector.hasKey(keyId), false, 'C_DestroyObject removed the key from the token');
    assert.equal((await awsError(() => kms.send(new DescribeKeyCommand({ KeyId: keyId })))).name, 'NotFoundException');
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    await kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    assert.equal((await awsError(() => kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: storeId })))).name,
      'CustomKeyStoreNotFoundException');
  });

  test('the audit trail records custom key store calls without the KeyStorePassword', async () => {
    const events = (await server.app.storage.read((r) => r.audit.scan(0, 100_000))).map((r) => r.record);
    const all = events.join('\n');
    for (const secret of [main.pin, spare.pin, 'wrong-pin-123']) assert.equal(all.includes(secret), false, 'a PIN reached the audit trail');
    const created = events.map((e) => JSON.parse(e) as Record<string, unknown>).filter((e) => e.eventName === 'CreateCustomKeyStore' && e.errorCode === undefined);
    assert.ok(created.length >= 1);
    const params = created[0]!.requestParameters as Record<string, unknown>;
    assert.equal(params.customKeyStoreName, 'main-store');
    assert.equal(params.cloudHsmClusterId, 'cluster-main');
    assert.equal('keyStorePassword' in params, false);
  });
});
