/**
 * Imported key material (BYOK) end to end through @aws-sdk/client-kms: every wrapping algorithm, expiry
 * with an advanced clock, delete and re-import, wrong material, wrong or expired tokens, wrong state and
 * wrong origin with AWS's texts, HMAC / ECC / RSA import, and what is left of deleted material.
 * The material is wrapped here exactly as a client does it (node:crypto: RSAES-OAEP, RFC 5649 AES-KWP).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  constants, createCipheriv, createHmac, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes, verify as verifySignature,
} from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelKeyDeletionCommand, CreateKeyCommand, DecryptCommand, DeleteImportedKeyMaterialCommand, DescribeKeyCommand, EnableKeyCommand, EnableKeyRotationCommand,
  EncryptCommand, GenerateMacCommand, GetParametersForImportCommand, GetPublicKeyCommand, ImportKeyMaterialCommand, KMSClient, ListKeyRotationsCommand,
  RotateKeyOnDemandCommand, ScheduleKeyDeletionCommand, SignCommand, type AlgorithmSpec, type CreateKeyCommandInput, type WrappingKeySpec,
} from '@aws-sdk/client-kms';
import Database from 'better-sqlite3';
import { DAY_MS, ManualClock } from '../../src/clock.ts';
import { awsCli, cliSkipReason } from './aws-cli.ts';
import { ACCOUNT_ID, awsError, E2E_STORAGE, rawCall, startServer, type TestServer } from './harness.ts';

const clock = new ManualClock(Date.UTC(2026, 0, 1));
const cliSkip = cliSkipReason();
let server: TestServer;
let kms: KMSClient;
before(async () => {
  server = await startServer({ clock });
  kms = server.kms();
});
after(() => server.stop(true));

const ALGORITHMS: AlgorithmSpec[] = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'];

/** What a client does with the wrapping public key: RSAES-OAEP, or an AES-256 key under OAEP then RFC 5649 AES-KWP. */
function wrap(alg: AlgorithmSpec, publicKeyDer: Uint8Array, material: Buffer): Buffer {
  const key = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' });
  const oaep = (data: Buffer) => publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg.endsWith('SHA_256') ? 'sha256' : 'sha1' }, data);
  if (alg.startsWith('RSAES')) return oaep(material);
  const aesKey = randomBytes(32);
  const kwp = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'));
  return Buffer.concat([oaep(aesKey), kwp.update(material), kwp.final()]);
}

async function externalKey(input: CreateKeyCommandInput = {}) {
  return (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL', ...input }))).KeyMetadata!;
}

async function params(keyId: string, alg: AlgorithmSpec = 'RSAES_OAEP_SHA_256', spec: WrappingKeySpec = 'RSA_2048') {
  return kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: alg, WrappingKeySpec: spec }));
}

async function importMaterial(
  keyId: string, material: Buffer,
  opts: { alg?: AlgorithmSpec; validTo?: Date; parameters?: Awaited<ReturnType<typeof params>> } = {},
) {
  const alg = opts.alg ?? 'RSAES_OAEP_SHA_256';
  const p = opts.parameters ?? (await params(keyId, alg));
  return kms.send(new ImportKeyMaterialCommand({
    KeyId: keyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrap(alg, p.PublicKey!, material),
    ...(opts.validTo ? { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: opts.validTo } : { ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }),
  }));
}

const describeKey = async (keyId: string) => (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
const encrypt = async (keyId: string, text: string) =>
  (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(text), EncryptionContext: { app: 'byok' } }))).CiphertextBlob!;
const decrypt = async (blob: Uint8Array) =>
  Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { app: 'byok' } }))).Plaintext!).toString();

describe('import round trips', () => {
  const specs: WrappingKeySpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'RSA_2048'];
  ALGORITHMS.forEach((alg, i) => {
    const spec = specs[i]!;
    test(`${alg} with a ${spec} wrapping key: import, then Encrypt/Decrypt under the imported material`, async () => {
      const key = await externalKey();
      const p = await params(key.KeyId!, alg, spec);
      assert.equal(p.KeyId, key.Arn);
      assert.equal(p.ParametersValidTo!.getTime(), clock.now() + DAY_MS);
      const wrappingKey = createPublicKey({ key: Buffer.from(p.PublicKey!), format: 'der', type: 'spki' });
      assert.equal(wrappingKey.asymmetricKeyDetails?.modulusLength, Number(spec.slice(4)));
      const material = randomBytes(32);
      const out = await importMaterial(key.KeyId!, material, { alg, parameters: p });
      assert.equal(out.KeyId, key.Arn);
      assert.match(out.KeyMaterialId!, /^[0-9a-f]{64}$/);
      const meta = await describeKey(key.KeyId!);
      assert.equal(meta.KeyState, 'Enabled');
      assert.equal(meta.Enabled, true);
      assert.equal(meta.Origin, 'EXTERNAL');
      assert.equal(meta.ExpirationModel, 'KEY_MATERIAL_DOES_NOT_EXPIRE');
      assert.equal(meta.ValidTo, undefined);
      assert.equal(meta.CurrentKeyMaterialId, out.KeyMaterialId);
      assert.equal(await decrypt(await encrypt(key.KeyId!, `hello ${alg}`)), `hello ${alg}`);
    });
  });

  test('CreateKey Origin EXTERNAL: PendingImport, no material, crypto refused with AWS\'s text (recorded)', async () => {
    const key = await externalKey({ Description: 'byok' });
    assert.equal(key.KeyState, 'PendingImport');
    assert.equal(key.Enabled, false);
    assert.equal(key.Origin, 'EXTERNAL');
    assert.equal(key.CurrentKeyMaterialId, undefined);
    assert.equal(key.ExpirationModel, undefined);
    const err = await awsError(() => encrypt(key.KeyId!, 'x'));
    assert.deepEqual([err.name, err.message, err.status], ['KMSInvalidStateException', `${key.Arn} is pending import.`, 400]);
    const rows = await server.app.storage.read((r) => r.materials.list({ accountId: key.AWSAccountId!, region: 'us-east-1' }, key.KeyId!));
    assert.deepEqual(rows, []);
  });

  test('the same material, imported into two keys, gets a different KeyMaterialId in each (the id is keyed, not a hash of the bytes)', async () => {
    const material = randomBytes(32);
    const a = await externalKey();
    const b = await externalKey();
    const idA = (await importMaterial(a.KeyId!, material)).KeyMaterialId;
    const idB = (await importMaterial(b.KeyId!, material)).KeyMaterialId;
    assert.notEqual(idA, idB);
    assert.notEqual(idA, createHmac('sha256', '').update(material).digest('hex'));
  });
});

describe('delete, expiry and re-import', () => {
  test('DeleteImportedKeyMaterial: PendingImport, material rows gone, Decrypt refused; re-importing the same material restores old ciphertexts', async () => {
    const key = await externalKey();
    const material = randomBytes(32);
    const first = await importMaterial(key.KeyId!, material);
    const blob = await encrypt(key.KeyId!, 'before the delete');
    const scope = { accountId: key.AWSAccountId!, region: 'us-east-1' };
    assert.equal((await server.app.storage.read((r) => r.materials.list(scope, key.KeyId!))).length, 1);

    const deleted = await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId! }));
    assert.equal(deleted.KeyId, key.Arn);
    assert.equal(deleted.KeyMaterialId, first.KeyMaterialId);
    const meta = await describeKey(key.KeyId!);
    assert.equal(meta.KeyState, 'PendingImport');
    assert.equal(meta.ExpirationModel, undefined);
    // AWS (recorded DescribeKey after DeleteImportedKeyMaterial): CurrentKeyMaterialId stays.
    assert.equal(meta.CurrentKeyMaterialId, first.KeyMaterialId);
    assert.deepEqual(await server.app.storage.read((r) => r.materials.list(scope, key.KeyId!)), []);
    const err = await awsError(() => decrypt(blob));
    assert.deepEqual([err.name, err.message], ['KMSInvalidStateException', `${key.Arn} is pending import.`]);

    const again = await importMaterial(key.KeyId!, material, { alg: 'RSA_AES_KEY_WRAP_SHA_256' });
    assert.equal(again.KeyMaterialId, first.KeyMaterialId);
    assert.equal(await decrypt(blob), 'before the delete');
  });

  test('different material is refused with IncorrectKeyMaterialException, before and after a delete, and changes nothing', async () => {
    const key = await externalKey();
    const material = randomBytes(32);
    await importMaterial(key.KeyId!, material);
    const blob = await encrypt(key.KeyId!, 'kept');
    const err = await awsError(() => importMaterial(key.KeyId!, randomBytes(32)));
    assert.equal(err.name, 'IncorrectKeyMaterialException');
    assert.equal(err.status, 400);
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId! }));
    assert.equal((await awsError(() => importMaterial(key.KeyId!, randomBytes(32)))).name, 'IncorrectKeyMaterialException');
    assert.equal((await describeKey(key.KeyId!)).KeyState, 'PendingImport');
    await importMaterial(key.KeyId!, material);
    assert.equal(await decrypt(blob), 'kept');
    // Material of the wrong size for the key spec is not key material for it at all.
    const other = await externalKey();
    assert.equal((await awsError(() => importMaterial(other.KeyId!, randomBytes(16)))).name, 'IncorrectKeyMaterialException');
  });

  test('expiry: past ValidTo the job deletes the material, the key is PendingImport and Decrypt is refused; the old token has expired; a re-import restores decryption', async () => {
    const key = await externalKey();
    const material = randomBytes(32);
    const validTo = new Date(clock.now() + 2 * DAY_MS);
    const p = await params(key.KeyId!);
    await importMaterial(key.KeyId!, material, { validTo, parameters: p });
    const meta = await describeKey(key.KeyId!);
    assert.equal(meta.ExpirationModel, 'KEY_MATERIAL_EXPIRES');
    assert.equal(meta.ValidTo!.getTime(), validTo.getTime());
    const blob = await encrypt(key.KeyId!, 'expiring');

    clock.advance(DAY_MS);
    await server.app.jobs.runOnce();
    assert.equal((await describeKey(key.KeyId!)).KeyState, 'Enabled', 'not yet due');
    clock.advance(DAY_MS + 1000);
    const pass = await server.app.jobs.runOnce();
    assert.ok(pass.expired >= 1);
    const after = await describeKey(key.KeyId!);
    assert.equal(after.KeyState, 'PendingImport');
    assert.equal(after.ValidTo, undefined);
    assert.equal(after.ExpirationModel, undefined);
    assert.deepEqual(await server.app.storage.read((r) => r.materials.list({ accountId: key.AWSAccountId!, region: 'us-east-1' }, key.KeyId!)), []);
    const refused = await awsError(() => decrypt(blob));
    assert.deepEqual([refused.name, refused.message], ['KMSInvalidStateException', `${key.Arn} is pending import.`]);

    // The parameters were valid for 24 h: that token is expired now.
    const expired = await awsError(() => importMaterial(key.KeyId!, material, { parameters: p }));
    assert.equal(expired.name, 'ExpiredImportTokenException');
    assert.equal(expired.status, 400);
    await importMaterial(key.KeyId!, material);
    assert.equal(await decrypt(blob), 'expiring');
  });

  test('ValidTo is required with KEY_MATERIAL_EXPIRES (recorded text), must be in the future and within 365 days', async () => {
    const key = await externalKey();
    const p = await params(key.KeyId!);
    const send = (extra: { ExpirationModel?: 'KEY_MATERIAL_EXPIRES'; ValidTo?: Date }) => kms.send(new ImportKeyMaterialCommand({
      KeyId: key.KeyId!, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrap('RSAES_OAEP_SHA_256', p.PublicKey!, randomBytes(32)), ...extra,
    }));
    const missing = await awsError(() => send({ ExpirationModel: 'KEY_MATERIAL_EXPIRES' }));
    assert.deepEqual([missing.name, missing.message], ['ValidationException', 'A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES']);
    // AWS: ExpirationModel defaults to KEY_MATERIAL_EXPIRES.
    assert.equal((await awsError(() => send({}))).name, 'ValidationException');
    assert.equal((await awsError(() => send({ ValidTo: new Date(clock.now() - 1000) }))).name, 'ValidationException');
    assert.equal((await awsError(() => send({ ValidTo: new Date(clock.now() + 366 * DAY_MS) }))).name, 'ValidationException');
    assert.equal((await describeKey(key.KeyId!)).KeyState, 'PendingImport');
  });
});

describe('tokens, ciphertexts, states and origins', () => {
  test('a token of another key, an altered token or garbage is InvalidImportTokenException; a bad wrapped blob is InvalidCiphertextException', async () => {
    const a = await externalKey();
    const b = await externalKey();
    const pa = await params(a.KeyId!);
    const pb = await params(b.KeyId!);
    const send = (keyId: string, token: Uint8Array, blob: Buffer) =>
      kms.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: token, EncryptedKeyMaterial: blob, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
    const material = randomBytes(32);
    const foreign = await awsError(() => send(a.KeyId!, pb.ImportToken!, wrap('RSAES_OAEP_SHA_256', pb.PublicKey!, material)));
    assert.deepEqual([foreign.name, foreign.status], ['InvalidImportTokenException', 400]);
    const altered = Buffer.from(pa.ImportToken!);
    altered[5]! ^= 1;
    assert.equal((await awsError(() => send(a.KeyId!, altered, wrap('RSAES_OAEP_SHA_256', pa.PublicKey!, material)))).name, 'InvalidImportTokenException');
    assert.equal((await awsError(() => send(a.KeyId!, randomBytes(40), wrap('RSAES_OAEP_SHA_256', pa.PublicKey!, material)))).name, 'InvalidImportTokenException');
    // Wrapped under B's public key but sent with A's token: it does not unwrap.
    const wrongWrap = await awsError(() => send(a.KeyId!, pa.ImportToken!, wrap('RSAES_OAEP_SHA_256', pb.PublicKey!, material)));
    assert.deepEqual([wrongWrap.name, wrongWrap.status], ['InvalidCiphertextException', 400]);
    const flipped = wrap('RSAES_OAEP_SHA_256', pa.PublicKey!, material);
    flipped[10]! ^= 1;
    assert.equal((await awsError(() => send(a.KeyId!, pa.ImportToken!, flipped))).name, 'InvalidCiphertextException');
    assert.equal((await describeKey(a.KeyId!)).KeyState, 'PendingImport');
    await send(a.KeyId!, pa.ImportToken!, wrap('RSAES_OAEP_SHA_256', pa.PublicKey!, material));
    assert.equal((await describeKey(a.KeyId!)).KeyState, 'Enabled');
  });

  test('wrong origin: import operations on an AWS_KMS key are UnsupportedOperationException (recorded text); rotation of an EXTERNAL key too', async () => {
    const native = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const text = `${native.Arn} origin is AWS_KMS which is not valid for this operation.`;
    const gp = await awsError(() => params(native.KeyId!));
    assert.deepEqual([gp.name, gp.message, gp.status], ['UnsupportedOperationException', text, 400]);
    const external = await externalKey();
    const p = await params(external.KeyId!);
    const imp = await awsError(() => kms.send(new ImportKeyMaterialCommand({
      KeyId: native.KeyId!, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrap('RSAES_OAEP_SHA_256', p.PublicKey!, randomBytes(32)),
      ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    })));
    assert.deepEqual([imp.name, imp.message], ['UnsupportedOperationException', text]);
    const del = await awsError(() => kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: native.KeyId! })));
    assert.deepEqual([del.name, del.message], ['UnsupportedOperationException', text]);

    await importMaterial(external.KeyId!, randomBytes(32));
    const rot = await awsError(() => kms.send(new EnableKeyRotationCommand({ KeyId: external.KeyId! })));
    assert.deepEqual([rot.name, rot.message], ['UnsupportedOperationException', `${external.Arn} origin is EXTERNAL which is not valid for this operation.`]);
    // AWS (recorded, 2025): RotateKeyOnDemand of an EXTERNAL key needs material pending rotation, or is the pending-import error without material.
    const onDemand = await awsError(() => kms.send(new RotateKeyOnDemandCommand({ KeyId: external.KeyId! })));
    assert.deepEqual([onDemand.name, onDemand.message], ['KMSInvalidStateException', `No available key material pending rotation for the key: ${external.Arn}.`]);
    const empty = await externalKey();
    const pending = await awsError(() => kms.send(new RotateKeyOnDemandCommand({ KeyId: empty.KeyId! })));
    assert.deepEqual([pending.name, pending.message], ['KMSInvalidStateException', `${empty.Arn} is pending import.`]);
  });

  test('on-demand rotation: NEW_KEY_MATERIAL is pending rotation until RotateKeyOnDemand, old ciphertexts still decrypt, ListKeyRotations states', async () => {
    const key = await externalKey();
    const first = await importMaterial(key.KeyId!, randomBytes(32));
    const before = await encrypt(key.KeyId!, 'under the first material');
    const p = await params(key.KeyId!);
    const pending = await kms.send(new ImportKeyMaterialCommand({
      KeyId: key.KeyId!, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrap('RSAES_OAEP_SHA_256', p.PublicKey!, randomBytes(32)),
      ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ImportType: 'NEW_KEY_MATERIAL', KeyMaterialDescription: 'second',
    }));
    assert.notEqual(pending.KeyMaterialId, first.KeyMaterialId);
    // Pending material is not the key's yet: DescribeKey and new ciphertexts still use the first material.
    assert.equal((await describeKey(key.KeyId!)).CurrentKeyMaterialId, first.KeyMaterialId);
    const stillFirst = await kms.send(new DecryptCommand({ CiphertextBlob: await encrypt(key.KeyId!, 'x'), EncryptionContext: { app: 'byok' } }));
    assert.equal(stillFirst.KeyMaterialId, first.KeyMaterialId);
    const listed = await kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId!, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }));
    assert.deepEqual(listed.Rotations!.map((r) => [r.KeyMaterialId, r.KeyMaterialState, r.ImportState, r.ExpirationModel]), [
      [first.KeyMaterialId, 'CURRENT', 'IMPORTED', 'KEY_MATERIAL_DOES_NOT_EXPIRE'],
      [pending.KeyMaterialId, 'PENDING_ROTATION', 'IMPORTED', 'KEY_MATERIAL_DOES_NOT_EXPIRE'],
    ]);
    assert.equal(listed.Rotations![1]!.KeyMaterialDescription, 'second');

    assert.equal((await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId! }))).KeyId, key.Arn);
    assert.equal((await describeKey(key.KeyId!)).CurrentKeyMaterialId, pending.KeyMaterialId);
    const old = await kms.send(new DecryptCommand({ CiphertextBlob: before, EncryptionContext: { app: 'byok' } }));
    assert.deepEqual([Buffer.from(old.Plaintext!).toString(), old.KeyMaterialId], ['under the first material', first.KeyMaterialId]);
    const fresh = await kms.send(new DecryptCommand({ CiphertextBlob: await encrypt(key.KeyId!, 'new'), EncryptionContext: { app: 'byok' } }));
    assert.deepEqual([Buffer.from(fresh.Plaintext!).toString(), fresh.KeyMaterialId], ['new', pending.KeyMaterialId]);
    const rotations = await kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId! }));
    assert.deepEqual(rotations.Rotations!.map((r) => [r.KeyMaterialId, r.KeyMaterialState, r.RotationType]), [[pending.KeyMaterialId, 'CURRENT', 'ON_DEMAND']]);
    assert.ok(rotations.Rotations![0]!.RotationDate instanceof Date);
    const all = await kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId!, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }));
    assert.deepEqual(all.Rotations!.map((r) => [r.KeyMaterialId, r.KeyMaterialState]), [[first.KeyMaterialId, 'NON_CURRENT'], [pending.KeyMaterialId, 'CURRENT']]);

    // Nothing pending any more; deleting the rotated-out material leaves the key usable and its old ciphertexts undecryptable, until re-imported.
    const again = await awsError(() => kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId! })));
    assert.equal(again.name, 'KMSInvalidStateException');
    const del = await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId!, KeyMaterialId: first.KeyMaterialId }));
    assert.equal(del.KeyMaterialId, first.KeyMaterialId);
    assert.equal((await describeKey(key.KeyId!)).KeyState, 'Enabled');
    assert.equal((await awsError(() => decrypt(before))).name, 'InvalidCiphertextException');
    const gone = await kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId!, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }));
    assert.deepEqual(gone.Rotations!.map((r) => [r.KeyMaterialState, r.ImportState]), [['NON_CURRENT', 'PENDING_IMPORT'], ['CURRENT', 'IMPORTED']]);
    assert.equal(await decrypt(await encrypt(key.KeyId!, 'still usable')), 'still usable');
  });

  test('NEW_KEY_MATERIAL: a second import while one is pending is refused (recorded text); pending material decrypts nothing before rotation', async () => {
    const key = await externalKey();
    await importMaterial(key.KeyId!, randomBytes(32));
    const newMaterial = async (material: Buffer) => {
      const p = await params(key.KeyId!);
      return kms.send(new ImportKeyMaterialCommand({
        KeyId: key.KeyId!, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrap('RSAES_OAEP_SHA_256', p.PublicKey!, material),
        ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ImportType: 'NEW_KEY_MATERIAL',
      }));
    };
    const pending = await newMaterial(randomBytes(32));
    const e = await awsError(() => newMaterial(randomBytes(32)));
    assert.equal(e.name, 'KMSInvalidStateException');
    assert.match(e.message, new RegExp(`^New key material \\(id: [0-9a-f]{64}\\) cannot be imported into KMS key ${key.Arn}, because another key material \\(id: ${pending.KeyMaterialId}\\) is pending rotation\\.$`));
    // Deleting the pending material makes room for another; the key keeps its state.
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId!, KeyMaterialId: pending.KeyMaterialId }));
    assert.equal((await describeKey(key.KeyId!)).KeyState, 'Enabled');
    const replaced = await newMaterial(randomBytes(32));
    assert.notEqual(replaced.KeyMaterialId, pending.KeyMaterialId);
  });

  test('wrong state: EnableKey on a PendingImport key, and imports into a key pending deletion, with AWS\'s texts', async () => {
    const key = await externalKey();
    const enable = await awsError(() => kms.send(new EnableKeyCommand({ KeyId: key.KeyId! })));
    assert.deepEqual([enable.name, enable.message], ['KMSInvalidStateException', `${key.Arn} is pending import.`]);
    const p = await params(key.KeyId!);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId!, PendingWindowInDays: 7 }));
    const gp = await awsError(() => params(key.KeyId!));
    assert.deepEqual([gp.name, gp.message], ['KMSInvalidStateException', `${key.Arn} is pending deletion.`]);
    const imp = await awsError(() => importMaterial(key.KeyId!, randomBytes(32), { parameters: p }));
    assert.deepEqual([imp.name, imp.message], ['KMSInvalidStateException', `${key.Arn} is pending deletion.`]);
    // AWS: DeleteImportedKeyMaterial leaves a key pending deletion in that state.
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId! }));
    assert.equal((await describeKey(key.KeyId!)).KeyState, 'PendingDeletion');
    // Cancelling the deletion of a key without material returns it to PendingImport, never to a Disabled key EnableKey could enable.
    await kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId! }));
    assert.equal((await describeKey(key.KeyId!)).KeyState, 'PendingImport');
    assert.equal((await awsError(() => kms.send(new EnableKeyCommand({ KeyId: key.KeyId! })))).message, `${key.Arn} is pending import.`);
  });

  test('cancelling the deletion of a key with imported material returns it to Disabled, and it can be enabled and used', async () => {
    const key = await externalKey();
    await importMaterial(key.KeyId!, randomBytes(32));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId!, PendingWindowInDays: 7 }));
    await kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId! }));
    assert.equal((await describeKey(key.KeyId!)).KeyState, 'Disabled');
    await kms.send(new EnableKeyCommand({ KeyId: key.KeyId! }));
    assert.equal(await decrypt(await encrypt(key.KeyId!, 'back')), 'back');
  });
});

describe('asymmetric and HMAC import', () => {
  test('HMAC_256: imported key material is the key GenerateMac uses', async () => {
    const key = await externalKey({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const material = randomBytes(48);
    const out = await importMaterial(key.KeyId!, material);
    assert.equal(out.KeyMaterialId, undefined);
    const mac = await kms.send(new GenerateMacCommand({ KeyId: key.KeyId!, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from('m') }));
    assert.deepEqual(Buffer.from(mac.Mac!), createHmac('sha256', material).update('m').digest());
    const meta = await describeKey(key.KeyId!);
    assert.equal(meta.KeyState, 'Enabled');
    assert.equal(meta.CurrentKeyMaterialId, undefined);
    const short = await externalKey({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    assert.equal((await awsError(() => importMaterial(short.KeyId!, randomBytes(16)))).name, 'IncorrectKeyMaterialException');
  });

  test('ECC_NIST_P256: an imported PKCS#8 key signs, and GetPublicKey is its public key; a key of another curve is refused', async () => {
    const key = await externalKey({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'der' });
    await importMaterial(key.KeyId!, pkcs8, { alg: 'RSA_AES_KEY_WRAP_SHA_256' });
    const spki = (await kms.send(new GetPublicKeyCommand({ KeyId: key.KeyId! }))).PublicKey!;
    assert.deepEqual(Buffer.from(spki), pair.publicKey.export({ type: 'spki', format: 'der' }));
    const sig = await kms.send(new SignCommand({ KeyId: key.KeyId!, Message: Buffer.from('signed'), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }));
    assert.equal(verifySignature('sha256', Buffer.from('signed'), pair.publicKey, Buffer.from(sig.Signature!)), true);
    const other = await externalKey({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'der' });
    assert.equal((await awsError(() => importMaterial(other.KeyId!, p384, { alg: 'RSA_AES_KEY_WRAP_SHA_256' }))).name, 'IncorrectKeyMaterialException');
  });

  test('RSA_2048 ENCRYPT_DECRYPT: an imported RSA private key (RSA_AES_KEY_WRAP) decrypts what its public key encrypted', async () => {
    const key = await externalKey({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await importMaterial(key.KeyId!, pair.privateKey.export({ type: 'pkcs8', format: 'der' }), { alg: 'RSA_AES_KEY_WRAP_SHA_1' });
    const blob = publicEncrypt({ key: pair.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('to RSA'));
    const out = await kms.send(new DecryptCommand({ KeyId: key.KeyId!, CiphertextBlob: blob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    assert.equal(Buffer.from(out.Plaintext!).toString(), 'to RSA');
  });
});

describe('zeroization of deleted material', () => {
  /** The sealed blobs of a key as stored (storage only ever holds these). */
  async function sealedOf(keyId: string, accountId: string): Promise<Buffer[]> {
    return (await server.app.storage.read((r) => r.materials.list({ accountId, region: 'us-east-1' }, keyId))).map((m) => Buffer.from(m.sealed));
  }

  /**
   * Whether `needle` occurs in the SQLite database file or its WAL, after a checkpoint that empties the WAL.
   * The server's checkpointer thread runs a PASSIVE checkpoint every 100 ms, and a TRUNCATE checkpoint
   * that meets it answers busy without truncating: the old frames would then still be in the WAL, which
   * is not the state docs/zeroization.md speaks of. So it is asked again until it did empty the WAL.
   */
  async function inDatabaseFiles(needles: Buffer[]): Promise<boolean> {
    const path = join(server.dataDir, 'trent.db');
    const db = new Database(path);
    try {
      for (let attempt = 1; ; attempt++) {
        const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
        if (result?.busy === 0) break;
        assert.ok(attempt < 100, 'no TRUNCATE checkpoint completed in 100 attempts');
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      db.close();
    }
    const files = [path, `${path}-wal`].filter(existsSync).map((f) => readFileSync(f));
    return needles.some((n) => files.some((f) => f.includes(n)));
  }

  const sqliteOnly = E2E_STORAGE === 'sqlite' ? false : 'the database-file search is SQLite-specific (PostgreSQL: see docs/zeroization.md)';

  test('DeleteImportedKeyMaterial and key destruction leave the sealed blobs nowhere in the SQLite file or WAL (secure_delete)', { skip: sqliteOnly }, async () => {
    const imported = await externalKey();
    await importMaterial(imported.KeyId!, randomBytes(32));
    const native = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const importedBlobs = await sealedOf(imported.KeyId!, imported.AWSAccountId!);
    const nativeBlobs = await sealedOf(native.KeyId!, native.AWSAccountId!);
    assert.equal(importedBlobs.length, 1);
    assert.equal(nativeBlobs.length, 1);
    assert.equal(await inDatabaseFiles(importedBlobs), true, 'the search finds a blob that is still stored');

    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: imported.KeyId! }));
    assert.equal(await inDatabaseFiles(importedBlobs), false);

    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: native.KeyId!, PendingWindowInDays: 7 }));
    clock.advance(8 * DAY_MS);
    await server.app.jobs.runOnce();
    assert.equal((await awsError(() => describeKey(native.KeyId!))).name, 'NotFoundException');
    assert.equal(await inDatabaseFiles(nativeBlobs), false);
  });
});

test('AWS CLI and OpenSSL tour, as a user does it: create-key --origin EXTERNAL, get-parameters-for-import, openssl rand + pkeyutl, import-key-material, encrypt, decrypt', { skip: cliSkip }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'trent-byok-cli-'));
  try {
    const cli = (args: string[]) => awsCli(server.url, args, { cwd: work }).then((out) => (out.trim() ? JSON.parse(out) : {}));
    const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: 'pipe' });
    const keyId: string = (await cli(['kms', 'create-key', '--origin', 'EXTERNAL'])).KeyMetadata.KeyId;
    const p = await cli(['kms', 'get-parameters-for-import', '--key-id', keyId, '--wrapping-algorithm', 'RSAES_OAEP_SHA_256', '--wrapping-key-spec', 'RSA_2048']);
    writeFileSync(join(work, 'wrapping.der'), Buffer.from(p.PublicKey, 'base64'));
    writeFileSync(join(work, 'token.bin'), Buffer.from(p.ImportToken, 'base64'));
    openssl(['rand', '-out', 'material.bin', '32']);
    openssl(['pkeyutl', '-encrypt', '-in', 'material.bin', '-out', 'encrypted.bin', '-pubin', '-inkey', 'wrapping.der', '-keyform', 'DER',
      '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256']);
    const imported = await cli(['kms', 'import-key-material', '--key-id', keyId, '--encrypted-key-material', 'fileb://encrypted.bin',
      '--import-token', 'fileb://token.bin', '--expiration-model', 'KEY_MATERIAL_DOES_NOT_EXPIRE']);
    assert.match(imported.KeyMaterialId, /^[0-9a-f]{64}$/);
    writeFileSync(join(work, 'plain.txt'), 'hello, imported key');
    const enc = await cli(['kms', 'encrypt', '--key-id', keyId, '--plaintext', 'fileb://plain.txt']);
    writeFileSync(join(work, 'cipher.bin'), Buffer.from(enc.CiphertextBlob, 'base64'));
    const dec = await cli(['kms', 'decrypt', '--ciphertext-blob', 'fileb://cipher.bin']);
    assert.equal(Buffer.from(dec.Plaintext, 'base64').toString(), 'hello, imported key');
    assert.match(dec.KeyId, new RegExp(`${keyId}$`));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

describe('access control and audit', () => {
  async function adminCall(op: string, body: Record<string, unknown>) {
    const res = await rawCall(server.url, `TrentAdmin.${op}`, JSON.stringify(body), { service: 'trent' });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json;
  }

  test('each import operation needs its own action (kms:GetParametersForImport, kms:ImportKeyMaterial, kms:DeleteImportedKeyMaterial)', async () => {
    await adminCall('CreateUser', { UserName: 'importer' });
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:CreateKey', 'kms:GetParametersForImport'], Resource: '*' }] };
    await adminCall('PutUserPolicy', { UserName: 'importer', PolicyName: 'p', PolicyDocument: JSON.stringify(policy) });
    const ak = (await adminCall('CreateAccessKey', { UserName: 'importer' })) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } };
    const importer = server.kms({ credentials: { accessKeyId: ak.AccessKey.AccessKeyId, secretAccessKey: ak.AccessKey.SecretAccessKey } });
    const key = (await importer.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!;
    const p = await importer.send(new GetParametersForImportCommand({ KeyId: key.KeyId!, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const denied = await awsError(() => importer.send(new ImportKeyMaterialCommand({
      KeyId: key.KeyId!, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrap('RSAES_OAEP_SHA_256', p.PublicKey!, randomBytes(32)),
      ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    })));
    const user = `arn:aws:iam::${ACCOUNT_ID}:user/importer`;
    assert.deepEqual([denied.name, denied.message], ['AccessDeniedException',
      `User: ${user} is not authorized to perform: kms:ImportKeyMaterial on resource: ${key.Arn} because no identity-based policy allows the kms:ImportKeyMaterial action`]);
    assert.equal((await describeKey(key.KeyId!)).KeyState, 'PendingImport');
    const del = await awsError(() => importer.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId! })));
    assert.equal(del.name, 'AccessDeniedException');
    assert.match(del.message, /kms:DeleteImportedKeyMaterial/);
  });

  test('no import token, wrapped material, key material or wrapping private key appears in any audit event', async () => {
    const key = await externalKey();
    const material = randomBytes(32);
    const p = await params(key.KeyId!);
    const wrapped = wrap('RSAES_OAEP_SHA_256', p.PublicKey!, material);
    await kms.send(new ImportKeyMaterialCommand({
      KeyId: key.KeyId!, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    }));
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId! }));
    // A failing import is recorded too, still without its members.
    await awsError(() => kms.send(new ImportKeyMaterialCommand({ KeyId: key.KeyId!, ImportToken: p.ImportToken, EncryptedKeyMaterial: randomBytes(256) })));
    const rows = await server.app.storage.read((r) => r.audit.scan(0, 100_000));
    const events = rows.map((r) => JSON.parse(r.record) as { eventName: string; requestParameters?: Record<string, unknown> });
    for (const name of ['GetParametersForImport', 'ImportKeyMaterial', 'DeleteImportedKeyMaterial']) {
      assert.ok(events.some((e) => e.eventName === name && JSON.stringify(e.requestParameters ?? {}).includes(key.KeyId!)), `an event for ${name}`);
    }
    const everything = JSON.stringify(rows);
    const token = Buffer.from(p.ImportToken!);
    for (const secret of [token.toString('base64'), token.toString('hex'), wrapped.toString('base64'), material.toString('base64'), material.toString('hex')]) {
      assert.equal(everything.includes(secret), false, `found in the audit trail: ${secret.slice(0, 8)}…`);
    }
    // The wrapping private key is stored only sealed: no PKCS#8 RSA private key header anywhere in the stored rows.
    const stored = await server.app.storage.read((r) => r.importParameters.get({ accountId: ACCOUNT_ID, region: 'us-east-1' }, key.KeyId!, token.subarray(1, 17).toString('hex')));
    assert.ok(stored);
    assert.equal(stored.sealed.includes(Buffer.from('020100300d06092a864886f70d0101010500', 'hex')), false);
  });
});
