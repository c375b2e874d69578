/**
 * Multi-Region KMS keys within one deployment (docs/kms.md, "Multi-Region keys"), through the real server and
 * SDK v3 clients of two regions: ReplicateKey and UpdatePrimaryRegion, MultiRegionConfiguration as AWS shapes
 * it, per-copy policy/tags/aliases/state, shared material versions (ciphertexts interchangeable, rotation
 * followed by every replica), imported material per replica, PendingReplicaDeletion, the refused transitions,
 * the permissions asked in both regions and the audit events of both regions.
 */
import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CancelKeyDeletionCommand, CreateAliasCommand, CreateKeyCommand, type CreateKeyCommandInput, DecryptCommand, DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand,
  EnableKeyRotationCommand, EncryptCommand, GenerateMacCommand, GetKeyPolicyCommand, GetKeyRotationStatusCommand, GetParametersForImportCommand,
  GetPublicKeyCommand, ImportKeyMaterialCommand, type KeyMetadata, type KMSClient, ListKeyRotationsCommand, ListResourceTagsCommand,
  ReplicateKeyCommand, RotateKeyOnDemandCommand, ScheduleKeyDeletionCommand, SignCommand, type SigningAlgorithmSpec, UpdatePrimaryRegionCommand,
  VerifyCommand, VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { DAY_MS, ManualClock } from '../../src/clock.ts';
import type { AuditEventRow } from '../../src/storage/audit-repo.ts';
import { ACCOUNT_ID, awsError, E2E_STORAGE, rawCall, startServer, type TestServer } from './harness.ts';
import { assertChainLinks, assertSynchronizeMultiRegionKey } from './cloudtrail-shapes.ts';
import { awsCli, cliSkipReason } from './aws-cli.ts';
import { allow, principals } from './principals.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const clock = new ManualClock(Date.UTC(2026, 0, 1));
let server: TestServer;
let us: KMSClient;
let eu: KMSClient;
let ap: KMSClient;

before(async () => {
  server = await startServer({ clock, env: { TRENT_JOB_INTERVAL_MS: '0', TRENT_REGIONS: `${US},${EU},${AP}` } });
  us = server.kms({ region: US });
  eu = server.kms({ region: EU });
  ap = server.kms({ region: AP });
});
after(async () => {
  await server.stop(true);
});

const arnIn = (region: string, keyId: string) => `arn:aws:kms:${region}:${ACCOUNT_ID}:key/${keyId}`;

async function primaryKey(input: CreateKeyCommandInput = {}): Promise<KeyMetadata> {
  return (await us.send(new CreateKeyCommand({ MultiRegion: true, ...input }))).KeyMetadata!;
}

async function describe_(client: KMSClient, keyId: string): Promise<KeyMetadata> {
  return (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
}

async function replicate(keyId: string, region = EU, more: Record<string, unknown> = {}) {
  return us.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: region, ...more }));
}

async function events(): Promise<Record<string, unknown>[]> {
  const rows: AuditEventRow[] = await server.app.storage.read((r) => r.audit.scan(0, 1_000_000));
  return rows.map((r) => JSON.parse(r.record) as Record<string, unknown>);
}

describe('ReplicateKey and MultiRegionConfiguration', () => {
  test('a replica has the same key id in the other region, its own description, policy and tags, and both keys describe the pair as AWS does', async () => {
    const key = await primaryKey({ Description: 'primary' });
    assert.deepEqual(key.MultiRegionConfiguration, { MultiRegionKeyType: 'PRIMARY', PrimaryKey: { Arn: key.Arn, Region: US }, ReplicaKeys: [] });
    const policy = JSON.stringify({
      Version: '2012-10-17', Id: 'replica-policy',
      Statement: [{ Sid: 'root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'kms:*', Resource: '*' }],
    });
    const out = await replicate(key.KeyId!, EU, { Description: 'replica', Policy: policy, Tags: [{ TagKey: 'site', TagValue: 'eu' }] });
    const replicaArn = arnIn(EU, key.KeyId!);
    const meta = out.ReplicaKeyMetadata!;
    // AWS (recorded): the replica as it is while ReplicateKey completes.
    assert.equal(meta.Arn, replicaArn);
    assert.equal(meta.KeyId, key.KeyId);
    assert.equal(meta.KeyState, 'Creating');
    assert.equal(meta.Enabled, false);
    assert.equal(meta.CurrentKeyMaterialId, undefined);
    assert.equal(meta.Description, 'replica');
    assert.deepEqual(meta.MultiRegionConfiguration, {
      MultiRegionKeyType: 'REPLICA', PrimaryKey: { Arn: key.Arn, Region: US }, ReplicaKeys: [{ Arn: replicaArn, Region: EU }],
    });
    assert.equal(out.ReplicaPolicy, policy);
    assert.deepEqual(out.ReplicaTags, [{ TagKey: 'site', TagValue: 'eu' }]);

    const replica = await describe_(eu, key.KeyId!);
    assert.equal(replica.KeyState, 'Enabled');
    assert.equal(replica.Description, 'replica');
    assert.equal(replica.CurrentKeyMaterialId, key.CurrentKeyMaterialId);
    assert.equal(replica.MultiRegionConfiguration!.MultiRegionKeyType, 'REPLICA');
    const primary = await describe_(us, key.KeyId!);
    assert.equal(primary.Description, 'primary');
    assert.deepEqual(primary.MultiRegionConfiguration, {
      MultiRegionKeyType: 'PRIMARY', PrimaryKey: { Arn: key.Arn, Region: US }, ReplicaKeys: [{ Arn: replicaArn, Region: EU }],
    });
    // A second replica is listed by every copy, in the order the replicas were made.
    await replicate(key.KeyId!, AP);
    const all = [{ Arn: replicaArn, Region: EU }, { Arn: arnIn(AP, key.KeyId!), Region: AP }];
    for (const c of [us, eu, ap]) assert.deepEqual((await describe_(c, key.KeyId!)).MultiRegionConfiguration!.ReplicaKeys, all);

    // Own policy and tags.
    assert.equal((await eu.send(new GetKeyPolicyCommand({ KeyId: key.KeyId!, PolicyName: 'default' }))).Policy, policy);
    assert.notEqual((await us.send(new GetKeyPolicyCommand({ KeyId: key.KeyId!, PolicyName: 'default' }))).Policy, policy);
    assert.deepEqual((await eu.send(new ListResourceTagsCommand({ KeyId: key.KeyId! }))).Tags, [{ TagKey: 'site', TagValue: 'eu' }]);
    assert.deepEqual((await us.send(new ListResourceTagsCommand({ KeyId: key.KeyId! }))).Tags, []);
  });

  test('the replica\'s own Policy passes the lockout safety check unless BypassPolicyLockoutSafetyCheck is set', async () => {
    const key = await primaryKey();
    const lockout = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:user/nobody` }, Action: 'kms:*', Resource: '*' }],
    });
    const refused = await awsError(() => replicate(key.KeyId!, EU, { Policy: lockout }));
    assert.equal(refused.name, 'MalformedPolicyDocumentException');
    assert.equal((await awsError(() => describe_(eu, key.KeyId!))).name, 'NotFoundException');
    const out = await replicate(key.KeyId!, EU, { Policy: lockout, BypassPolicyLockoutSafetyCheck: true });
    assert.equal(out.ReplicaPolicy, lockout);
  });

  test('aliases and the enabled state are each copy\'s own', async () => {
    const key = await primaryKey();
    await replicate(key.KeyId!);
    await us.send(new CreateAliasCommand({ AliasName: 'alias/mrk-own', TargetKeyId: key.KeyId! }));
    await eu.send(new CreateAliasCommand({ AliasName: 'alias/mrk-own', TargetKeyId: key.KeyId! }));
    assert.equal((await describe_(eu, 'alias/mrk-own')).Arn, arnIn(EU, key.KeyId!));
    await eu.send(new DisableKeyCommand({ KeyId: key.KeyId! }));
    assert.equal((await describe_(eu, key.KeyId!)).KeyState, 'Disabled');
    assert.equal((await describe_(us, key.KeyId!)).KeyState, 'Enabled');
    assert.equal((await awsError(() => eu.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('x') })))).name, 'DisabledException');
  });
});

describe('ciphertexts are interchangeable', () => {
  test('Encrypt in us-east-1, Decrypt in eu-west-1 by ARN and without KeyId, and back', async () => {
    const key = await primaryKey();
    await replicate(key.KeyId!);
    const blob = (await us.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('from us'), EncryptionContext: { a: 'b' } }))).CiphertextBlob!;
    const byArn = await eu.send(new DecryptCommand({ KeyId: arnIn(EU, key.KeyId!), CiphertextBlob: blob, EncryptionContext: { a: 'b' } }));
    assert.equal(Buffer.from(byArn.Plaintext!).toString(), 'from us');
    assert.equal(byArn.KeyId, arnIn(EU, key.KeyId!));
    const bare = await eu.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { a: 'b' } }));
    assert.equal(Buffer.from(bare.Plaintext!).toString(), 'from us');
    const back = (await eu.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('from eu') }))).CiphertextBlob!;
    assert.equal(Buffer.from((await us.send(new DecryptCommand({ CiphertextBlob: back }))).Plaintext!).toString(), 'from eu');
    // The replica's material rows are its own, sealed for its region: not the primary's bytes.
    const rows = await server.app.storage.read(async (r) => [
      await r.materials.list({ accountId: ACCOUNT_ID, region: US }, key.KeyId!),
      await r.materials.list({ accountId: ACCOUNT_ID, region: EU }, key.KeyId!),
    ]);
    assert.deepEqual(rows[1]!.map((m) => m.version), rows[0]!.map((m) => m.version));
    assert.notDeepEqual(rows[1]![0]!.sealed, rows[0]![0]!.sealed);
  });

  test('a single-Region key of the same account in another region cannot decrypt: the ciphertext names a key id that region does not have', async () => {
    const key = (await us.send(new CreateKeyCommand({}))).KeyMetadata!;
    const blob = (await us.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('x') }))).CiphertextBlob!;
    assert.equal((await awsError(() => eu.send(new DecryptCommand({ CiphertextBlob: blob })))).name, 'NotFoundException');
  });
});

describe('rotation: the primary rotates, the replicas follow', () => {
  test('on demand: a ciphertext made after the rotation decrypts in the replica, one made before still does; the replica refuses to rotate', async () => {
    const key = await primaryKey();
    await replicate(key.KeyId!);
    const before = (await us.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('before') }))).CiphertextBlob!;
    const refused = await awsError(() => eu.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId! })));
    assert.equal(refused.name, 'UnsupportedOperationException');
    assert.equal(refused.message, `${arnIn(EU, key.KeyId!)} is not a multi-region primary key.`);
    await us.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId! }));
    const primary = await describe_(us, key.KeyId!);
    assert.notEqual(primary.CurrentKeyMaterialId, key.CurrentKeyMaterialId);
    assert.equal((await describe_(eu, key.KeyId!)).CurrentKeyMaterialId, primary.CurrentKeyMaterialId);
    const afterBlob = (await us.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('after') }))).CiphertextBlob!;
    assert.equal(Buffer.from((await eu.send(new DecryptCommand({ CiphertextBlob: afterBlob }))).Plaintext!).toString(), 'after');
    assert.equal(Buffer.from((await eu.send(new DecryptCommand({ CiphertextBlob: before }))).Plaintext!).toString(), 'before');
    const rotations = await eu.send(new ListKeyRotationsCommand({ KeyId: key.KeyId! }));
    assert.equal(rotations.Rotations!.length, 1);
    assert.equal(rotations.Rotations![0]!.RotationType, 'ON_DEMAND');
  });

  test('automatic: rotation is enabled on the primary only; the replica reports the primary\'s status and follows the job\'s rotation', async () => {
    const key = await primaryKey();
    await replicate(key.KeyId!);
    assert.equal((await awsError(() => eu.send(new EnableKeyRotationCommand({ KeyId: key.KeyId! })))).name, 'UnsupportedOperationException');
    await us.send(new EnableKeyRotationCommand({ KeyId: key.KeyId!, RotationPeriodInDays: 90 }));
    const status = await eu.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId! }));
    assert.equal(status.KeyRotationEnabled, true);
    assert.equal(status.RotationPeriodInDays, 90);
    const before = (await eu.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('old') }))).CiphertextBlob!;
    clock.advance(91 * DAY_MS);
    const pass = await server.app.jobs.runOnce();
    assert.ok(pass.rotated >= 1);
    const primary = await describe_(us, key.KeyId!);
    assert.notEqual(primary.CurrentKeyMaterialId, key.CurrentKeyMaterialId);
    assert.equal((await describe_(eu, key.KeyId!)).CurrentKeyMaterialId, primary.CurrentKeyMaterialId);
    const fresh = (await us.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('new') }))).CiphertextBlob!;
    assert.equal(Buffer.from((await eu.send(new DecryptCommand({ CiphertextBlob: fresh }))).Plaintext!).toString(), 'new');
    assert.equal(Buffer.from((await us.send(new DecryptCommand({ CiphertextBlob: before }))).Plaintext!).toString(), 'old');
  });
});

describe('key specs', () => {
  test('HMAC: a MAC made by the primary verifies with the replica', async () => {
    const key = await primaryKey({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    await replicate(key.KeyId!);
    const mac = (await us.send(new GenerateMacCommand({ KeyId: key.KeyId!, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' }))).Mac!;
    const v = await eu.send(new VerifyMacCommand({ KeyId: key.KeyId!, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256', Mac: mac }));
    assert.equal(v.MacValid, true);
  });

  for (const [spec, algorithm] of [
    ['RSA_2048', 'RSASSA_PSS_SHA_256'], ['ECC_NIST_P256', 'ECDSA_SHA_256'], ['ECC_NIST_EDWARDS25519', 'ED25519_SHA_512'], ['ML_DSA_44', 'ML_DSA_SHAKE_256'],
  ] as const) {
    test(`${spec}: same public key in both regions; a signature made by the primary verifies with the replica`, async () => {
      const key = await primaryKey({ KeySpec: spec, KeyUsage: 'SIGN_VERIFY' });
      await replicate(key.KeyId!);
      const pubUs = (await us.send(new GetPublicKeyCommand({ KeyId: key.KeyId! }))).PublicKey!;
      const pubEu = (await eu.send(new GetPublicKeyCommand({ KeyId: key.KeyId! }))).PublicKey!;
      assert.deepEqual(Buffer.from(pubEu), Buffer.from(pubUs));
      const alg = algorithm as SigningAlgorithmSpec;
      const sig = (await us.send(new SignCommand({ KeyId: key.KeyId!, Message: Buffer.from('doc'), MessageType: 'RAW', SigningAlgorithm: alg }))).Signature!;
      const v = await eu.send(new VerifyCommand({ KeyId: key.KeyId!, Message: Buffer.from('doc'), MessageType: 'RAW', SigningAlgorithm: alg, Signature: sig }));
      assert.equal(v.SignatureValid, true);
    });
  }

  test('RSA encryption: encrypted with the primary\'s public key, decrypted by the replica', async () => {
    const key = await primaryKey({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    await replicate(key.KeyId!);
    const blob = (await us.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('rsa'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }))).CiphertextBlob!;
    const out = await eu.send(new DecryptCommand({ KeyId: key.KeyId!, CiphertextBlob: blob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    assert.equal(Buffer.from(out.Plaintext!).toString(), 'rsa');
  });
});

async function importInto(client: KMSClient, keyId: string, material: Buffer, importType?: 'NEW_KEY_MATERIAL' | 'EXISTING_KEY_MATERIAL') {
  const p = await client.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
  const pub = createPublicKey({ key: Buffer.from(p.PublicKey!), format: 'der', type: 'spki' });
  const wrapped = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);
  return client.send(new ImportKeyMaterialCommand({
    KeyId: keyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    ...(importType ? { ImportType: importType } : {}),
  }));
}

describe('imported key material (Origin EXTERNAL)', () => {
  test('the replica waits in PendingImport for the same material; other material is refused; then ciphertexts are interchangeable', async () => {
    const key = await primaryKey({ Origin: 'EXTERNAL' });
    // Nothing to replicate before the first import.
    assert.equal((await awsError(() => replicate(key.KeyId!))).name, 'KMSInvalidStateException');
    const material = randomBytes(32);
    await importInto(us, key.KeyId!, material);
    const out = await replicate(key.KeyId!);
    assert.equal(out.ReplicaKeyMetadata!.Origin, 'EXTERNAL');
    assert.equal((await describe_(eu, key.KeyId!)).KeyState, 'PendingImport');
    const blob = (await us.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('imported') }))).CiphertextBlob!;
    assert.equal((await awsError(() => eu.send(new DecryptCommand({ CiphertextBlob: blob })))).name, 'KMSInvalidStateException');
    const other = await awsError(() => importInto(eu, key.KeyId!, randomBytes(32)));
    assert.equal(other.name, 'IncorrectKeyMaterialException');
    assert.equal((await describe_(eu, key.KeyId!)).KeyState, 'PendingImport');
    await importInto(eu, key.KeyId!, material);
    const replica = await describe_(eu, key.KeyId!);
    assert.equal(replica.KeyState, 'Enabled');
    assert.equal(replica.CurrentKeyMaterialId, (await describe_(us, key.KeyId!)).CurrentKeyMaterialId);
    assert.equal(Buffer.from((await eu.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'imported');
    // Custody: the material was only ever stored sealed — not in the audit trail, nor (SQLite) in the database file or its WAL.
    const forms = [material.toString('hex'), material.toString('base64'), material.toString('latin1')];
    const trail = JSON.stringify(await events());
    for (const f of forms) assert.equal(trail.includes(f), false, 'imported material found in the audit trail');
    if (E2E_STORAGE === 'sqlite') {
      const raw = ['trent.db', 'trent.db-wal'].map((f) => join(server.dataDir, f)).filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('');
      for (const f of forms) assert.equal(raw.includes(f), false, 'imported material found in the database file');
    }
    // Rotation of imported material would have to reach every copy at once: refused for multi-Region keys.
    assert.equal((await awsError(() => importInto(us, key.KeyId!, randomBytes(32), 'NEW_KEY_MATERIAL'))).name, 'UnsupportedOperationException');
  });
});

describe('refused transitions', () => {
  test('replicating a replica, to a region that has the key, to the primary\'s region, to a region not served, a single-Region key; malformed region', async () => {
    const key = await primaryKey();
    await replicate(key.KeyId!);
    const ofReplica = await awsError(() => eu.send(new ReplicateKeyCommand({ KeyId: key.KeyId!, ReplicaRegion: AP })));
    assert.deepEqual([ofReplica.name, ofReplica.message], ['UnsupportedOperationException', `${arnIn(EU, key.KeyId!)} is not a multi-region primary key.`]);
    const again = await awsError(() => replicate(key.KeyId!, EU));
    assert.deepEqual([again.name, again.message], ['AlreadyExistsException', `${arnIn(EU, key.KeyId!)} already exists`]);
    const own = await awsError(() => replicate(key.KeyId!, US));
    assert.deepEqual([own.name, own.message], ['AlreadyExistsException', `${arnIn(US, key.KeyId!)} already exists`]);
    const unserved = await awsError(() => replicate(key.KeyId!, 'sa-east-1'));
    assert.deepEqual([unserved.name, unserved.message], ['UnsupportedOperationException', 'The Region sa-east-1 is not served by this deployment.']);
    assert.equal((await awsError(() => replicate(key.KeyId!, 'not a region'))).name, 'ValidationException');
    const single = (await us.send(new CreateKeyCommand({}))).KeyMetadata!;
    const s = await awsError(() => replicate(single.KeyId!));
    assert.deepEqual([s.name, s.message], ['UnsupportedOperationException', `${single.Arn} is not a multi-region primary key.`]);
    // Nothing was half-made: the failed calls left one replica.
    assert.equal((await describe_(us, key.KeyId!)).MultiRegionConfiguration!.ReplicaKeys!.length, 1);
    assert.equal((await awsError(() => describe_(ap, key.KeyId!))).name, 'NotFoundException');
  });

  test('two ReplicateKey calls racing to one region: one replica is made, the other call is AlreadyExistsException', async () => {
    const key = await primaryKey();
    const results = await Promise.allSettled([replicate(key.KeyId!, AP), replicate(key.KeyId!, AP)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.equal((lost.reason as Error).name, 'AlreadyExistsException');
    assert.deepEqual((await describe_(us, key.KeyId!)).MultiRegionConfiguration!.ReplicaKeys, [{ Arn: arnIn(AP, key.KeyId!), Region: AP }]);
  });

  test('a disabled primary is not replicated; MultiRegion is refused with a custom key store', async () => {
    const key = await primaryKey();
    await us.send(new DisableKeyCommand({ KeyId: key.KeyId! }));
    const disabled = await awsError(() => replicate(key.KeyId!));
    assert.deepEqual([disabled.name, disabled.message], ['DisabledException', `${key.Arn} is disabled.`]);
    const cks = await awsError(() => us.send(new CreateKeyCommand({ MultiRegion: true, Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: 'cks-1234567890abcdef0' })));
    assert.equal(cks.name, 'UnsupportedOperationException');
  });

  test('UpdatePrimaryRegion to a region without a replica, to its own region, or on a replica', async () => {
    const key = await primaryKey();
    await replicate(key.KeyId!);
    const none = await awsError(() => us.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId!, PrimaryRegion: AP })));
    assert.deepEqual([none.name, none.message], ['NotFoundException', `Key '${arnIn(AP, key.KeyId!)}' does not exist`]);
    const own = await awsError(() => us.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId!, PrimaryRegion: US })));
    assert.equal(own.name, 'UnsupportedOperationException');
    const onReplica = await awsError(() => eu.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId!, PrimaryRegion: US })));
    assert.deepEqual([onReplica.name, onReplica.message], ['UnsupportedOperationException', `${arnIn(EU, key.KeyId!)} is not a multi-region primary key.`]);
  });
});

describe('UpdatePrimaryRegion', () => {
  test('the replica becomes the primary and the primary a replica, in every copy; rotation moves with the role', async () => {
    const key = await primaryKey();
    await replicate(key.KeyId!, EU);
    await replicate(key.KeyId!, AP);
    await us.send(new EnableKeyRotationCommand({ KeyId: key.KeyId!, RotationPeriodInDays: 180 }));
    await us.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId!, PrimaryRegion: EU }));
    const expected = {
      PrimaryKey: { Arn: arnIn(EU, key.KeyId!), Region: EU },
      ReplicaKeys: [{ Arn: arnIn(AP, key.KeyId!), Region: AP }, { Arn: arnIn(US, key.KeyId!), Region: US }],
    };
    assert.deepEqual((await describe_(eu, key.KeyId!)).MultiRegionConfiguration, { MultiRegionKeyType: 'PRIMARY', ...expected });
    assert.deepEqual((await describe_(us, key.KeyId!)).MultiRegionConfiguration, { MultiRegionKeyType: 'REPLICA', ...expected });
    assert.deepEqual((await describe_(ap, key.KeyId!)).MultiRegionConfiguration, { MultiRegionKeyType: 'REPLICA', ...expected });
    assert.equal((await us.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId! }))).RotationPeriodInDays, 180);
    assert.equal((await awsError(() => us.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId! })))).name, 'UnsupportedOperationException');
    await eu.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId! }));
    const now = (await describe_(eu, key.KeyId!)).CurrentKeyMaterialId;
    for (const c of [us, ap]) assert.equal((await describe_(c, key.KeyId!)).CurrentKeyMaterialId, now);
  });
});

describe('deletion', () => {
  test('a primary with replicas waits in PendingReplicaDeletion; the last replica\'s deletion starts its waiting period', async () => {
    const key = await primaryKey();
    await replicate(key.KeyId!);
    const scheduled = await us.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId!, PendingWindowInDays: 7 }));
    assert.equal(scheduled.KeyState, 'PendingReplicaDeletion');
    assert.equal(scheduled.DeletionDate, undefined);
    assert.equal(scheduled.PendingWindowInDays, 7);
    const meta = await describe_(us, key.KeyId!);
    assert.equal(meta.KeyState, 'PendingReplicaDeletion');
    assert.equal(meta.PendingDeletionWindowInDays, 7);
    assert.equal(meta.DeletionDate, undefined);
    const unusable = await awsError(() => us.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('x') })));
    assert.deepEqual([unusable.name, unusable.message], ['KMSInvalidStateException', `${key.Arn} is pending replica deletion.`]);
    assert.equal((await awsError(() => replicate(key.KeyId!, AP))).name, 'KMSInvalidStateException');
    // The replica is still usable.
    await eu.send(new EncryptCommand({ KeyId: key.KeyId!, Plaintext: Buffer.from('x') }));

    await eu.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId!, PendingWindowInDays: 7 }));
    clock.advance(7 * DAY_MS + 1);
    await server.app.jobs.runOnce();
    assert.equal((await awsError(() => describe_(eu, key.KeyId!))).name, 'NotFoundException');
    const waiting = await describe_(us, key.KeyId!);
    assert.equal(waiting.KeyState, 'PendingDeletion');
    assert.equal(waiting.DeletionDate!.getTime(), clock.now() + 7 * DAY_MS);
    assert.deepEqual(waiting.MultiRegionConfiguration!.ReplicaKeys, []);
    clock.advance(7 * DAY_MS + 1);
    await server.app.jobs.runOnce();
    assert.equal((await awsError(() => describe_(us, key.KeyId!))).name, 'NotFoundException');
  });

  test('CancelKeyDeletion of a primary PendingReplicaDeletion leaves it Disabled; a deleted replica\'s region can be replicated to again', async () => {
    const key = await primaryKey();
    await replicate(key.KeyId!);
    await us.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId!, PendingWindowInDays: 7 }));
    await us.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId! }));
    const meta = await describe_(us, key.KeyId!);
    assert.equal(meta.KeyState, 'Disabled');
    assert.equal(meta.PendingDeletionWindowInDays, undefined);
    await us.send(new EnableKeyCommand({ KeyId: key.KeyId! }));
    await eu.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId!, PendingWindowInDays: 7 }));
    clock.advance(7 * DAY_MS + 1);
    await server.app.jobs.runOnce();
    assert.deepEqual((await describe_(us, key.KeyId!)).MultiRegionConfiguration!.ReplicaKeys, []);
    await replicate(key.KeyId!);
    assert.equal((await describe_(eu, key.KeyId!)).KeyState, 'Enabled');
  });
});

describe('permissions and audit', () => {
  test('ReplicateKey needs kms:ReplicateKey on the primary and kms:CreateKey in the replica region; UpdatePrimaryRegion needs it on both keys', async () => {
    const p = principals(server);
    const key = await primaryKey();
    const onlyReplicate = await p.newUser('mrk-only-replicate', allow('kms:ReplicateKey'));
    const denied = await awsError(() => server.kms({ region: US, credentials: onlyReplicate }).send(new ReplicateKeyCommand({ KeyId: key.KeyId!, ReplicaRegion: EU })));
    assert.equal(denied.name, 'AccessDeniedException');
    assert.match(denied.message, /kms:CreateKey/);
    const replicaOnly = await p.newUser('mrk-replica-only', allow(['kms:ReplicateKey', 'kms:CreateKey'], '*', { StringEquals: { 'kms:ReplicaRegion': AP } }));
    const wrongRegion = await awsError(() => server.kms({ region: US, credentials: replicaOnly }).send(new ReplicateKeyCommand({ KeyId: key.KeyId!, ReplicaRegion: EU })));
    assert.equal(wrongRegion.name, 'AccessDeniedException');
    const both = await p.newUser('mrk-both', allow(['kms:ReplicateKey', 'kms:CreateKey']));
    await server.kms({ region: US, credentials: both }).send(new ReplicateKeyCommand({ KeyId: key.KeyId!, ReplicaRegion: EU }));

    const primaryOnly = await p.newUser('mrk-upr', allow('kms:UpdatePrimaryRegion', arnIn(US, key.KeyId!)));
    const upr = await awsError(() => server.kms({ region: US, credentials: primaryOnly }).send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId!, PrimaryRegion: EU })));
    assert.equal(upr.name, 'AccessDeniedException');
    assert.match(upr.message, new RegExp(arnIn(EU, key.KeyId!)));
    assert.equal((await describe_(us, key.KeyId!)).MultiRegionConfiguration!.MultiRegionKeyType, 'PRIMARY');
  });

  test('CloudTrail: ReplicateKey in the primary region and CreateKey in the replica region; UpdatePrimaryRegion in both', async () => {
    const key = await primaryKey();
    await replicate(key.KeyId!);
    await us.send(new UpdatePrimaryRegionCommand({ KeyId: key.KeyId!, PrimaryRegion: EU }));
    const mine = (await events()).filter((e) => JSON.stringify(e.resources ?? e.requestParameters ?? '').includes(key.KeyId!));
    const named = (name: string, region: string) => mine.filter((e) => e.eventName === name && e.awsRegion === region);
    assert.equal(named('ReplicateKey', US).length, 1);
    assert.equal(named('ReplicateKey', US)[0]!.eventType, 'AwsApiCall');
    assert.equal(named('CreateKey', EU).length, 1);
    assert.equal(named('CreateKey', EU)[0]!.eventType, 'AwsServiceEvent');
    assert.equal(named('UpdatePrimaryRegion', US).length, 1);
    assert.equal(named('UpdatePrimaryRegion', EU).length, 1);
    assert.equal((named('UpdatePrimaryRegion', US)[0]!.requestParameters as Record<string, unknown>).primaryRegion, EU);
  });
});

describe('CloudTrail: SynchronizeMultiRegionKey', () => {
  const syncs = async (keyId: string) => (await events()).filter((e) => e.eventName === 'SynchronizeMultiRegionKey' && JSON.stringify(e.resources).includes(keyId));

  test('a rotation of a primary with replicas is one SynchronizeMultiRegionKey in the primary\'s region, of AWS\'s shape; one without replicas records none', async () => {
    const key = await primaryKey();
    await replicate(key.KeyId!, EU);
    await replicate(key.KeyId!, AP);
    await us.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId! }));
    const found = await syncs(key.KeyId!);
    // Once per synchronization, not once per replica; the replicas' regions record none (AWS names only the primary).
    assert.equal(found.length, 1);
    assertSynchronizeMultiRegionKey(found[0]!, arnIn(US, key.KeyId!), US, ACCOUNT_ID);

    const alone = await primaryKey();
    await us.send(new RotateKeyOnDemandCommand({ KeyId: alone.KeyId! }));
    assert.equal((await syncs(alone.KeyId!)).length, 0);
  });

  test('the automatic rotation job records it too; the audit chain verifies', async () => {
    const key = await primaryKey();
    await replicate(key.KeyId!, EU);
    await us.send(new EnableKeyRotationCommand({ KeyId: key.KeyId!, RotationPeriodInDays: 90 }));
    clock.advance(91 * DAY_MS);
    assert.ok((await server.app.jobs.runOnce()).rotated >= 1);
    const found = await syncs(key.KeyId!);
    assert.equal(found.length, 1);
    assertSynchronizeMultiRegionKey(found[0]!, arnIn(US, key.KeyId!), US, ACCOUNT_ID);
    assertChainLinks((await rawCall(server.url, 'TrentOperator.VerifyAuditTrail', '{}', { service: 'trent' })).json);
  });
});

describe('the AWS CLI', () => {
  test('create-key --multi-region, replicate-key, update-primary-region, describe-key in both regions', { skip: cliSkipReason() }, async () => {
    const created = JSON.parse(await awsCli(server.url, ['kms', 'create-key', '--multi-region']));
    const keyId = created.KeyMetadata.KeyId as string;
    const replicated = JSON.parse(await awsCli(server.url, ['kms', 'replicate-key', '--key-id', keyId, '--replica-region', EU, '--description', 'cli replica']));
    assert.equal(replicated.ReplicaKeyMetadata.Arn, arnIn(EU, keyId));
    assert.equal(replicated.ReplicaKeyMetadata.MultiRegionConfiguration.MultiRegionKeyType, 'REPLICA');
    assert.equal(JSON.parse(replicated.ReplicaPolicy).Statement[0].Principal.AWS, `arn:aws:iam::${ACCOUNT_ID}:root`);
    await awsCli(server.url, ['kms', 'update-primary-region', '--key-id', keyId, '--primary-region', EU]);
    const there = JSON.parse(await awsCli(server.url, ['kms', 'describe-key', '--key-id', keyId], { region: EU }));
    assert.equal(there.KeyMetadata.MultiRegionConfiguration.MultiRegionKeyType, 'PRIMARY');
    assert.equal(there.KeyMetadata.Description, 'cli replica');
    const here = JSON.parse(await awsCli(server.url, ['kms', 'describe-key', '--key-id', keyId]));
    assert.deepEqual(here.KeyMetadata.MultiRegionConfiguration.PrimaryKey, { Arn: arnIn(EU, keyId), Region: EU });
  });
});
