/**
 * Multi-Region keys between two linked deployments (docs/replication.md): two real Trent processes
 * (src/main.ts) with their own data dirs and dev PKIs, serving us-east-1 (A) and eu-central-1 with eu-west-1
 * (B) over HTTPS, linked with the real `trent replication link`. ReplicateKey on A creates the replica on B through
 * the outbox; ciphertexts cross both ways; B is SIGKILLed while records are pending and catches up on
 * restart, once; a rotation reaches B; imported material (known to the test) and the link secret are
 * searched for in all both deployments stored (SQLite files and WAL, or every row of their PostgreSQL
 * schemas), both processes' logs and both audit trails.
 * Requests to B's internal endpoint with a wrong credential, a replayed exchange, a duplicate sequence
 * number, older material, or a replica in B's second region of a primary B holds in its first change nothing.
 *
 * Storage: SQLite in each data dir, or with TRENT_E2E_STORAGE=postgres a schema of its own on the test
 * PostgreSQL server for each deployment (kept across B's restart). PostgreSQL unreachable: every test is
 * skipped with a loud warning, or fails when CI is set (test-database.ts's rule). The helpers, shared with
 * replication-link-secrets.test.ts, are in linked-deployments.ts.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GetParametersForImportCommand, ImportKeyMaterialCommand,
  ReplicateKeyCommand, RotateKeyOnDemandCommand, ScheduleKeyDeletionCommand, UpdatePrimaryRegionCommand, EnableKeyRotationCommand, GetKeyRotationStatusCommand,
} from '@aws-sdk/client-kms';
import { wrapForTransport } from '../../src/crypto/replication-transport.ts';
import { SecretBytes } from '../../src/crypto/secret-bytes.ts';
import { DELIVER_PATH, HELLO_PATH, materialBoxAad } from '../../src/replication/wire.ts';
import { ACCOUNT_ID, awsError } from './harness.ts';
import {
  assertNowhere, CREDENTIAL, cliEnv, deployment, dispose, drained, internal, kill, kmsIn, linkDeployments, linkStorageReady, linkTest, logged, openExchange,
  peers, rows, start, until, write, type Deployment,
} from './linked-deployments.ts';
import { trentCli } from './tls-support.ts';

let A: Deployment;
let B: Deployment;
let credential = '';
const MATERIAL = randomBytes(32); // imported into an EXTERNAL key: the test knows these bytes
/** B's second region (B.region is eu-central-1). */
const WEST = 'eu-west-1';

before(async () => {
  if (!(await linkStorageReady('linked-deployment test'))) return;
  A = await deployment('A', 'us-east-1', 1);
  // B serves a second region: a peer's record must not create there a copy of a key B holds in its first.
  B = await deployment('B', 'eu-central-1', 2, { moreRegions: [WEST] });
  await Promise.all([start(A), start(B)]);
});

after(async () => {
  for (const d of [A, B]) await dispose(d);
});

linkTest('trent replication link: a credential generated on A and pasted on B links them; overlapping regions are refused', async () => {
  // (linkDeployments asserts that B, given the credential, prints none.)
  credential = await linkDeployments(A, B);
  const [onA] = await peers(A);
  const [onB] = await peers(B);
  assert.equal(onA!.LinkId, onB!.LinkId);
  assert.deepEqual([onA!.Name, onB!.Name], ['B', 'A']);
  // A peer serving one of our own regions, or a region another link serves: refused, nothing stored.
  const overlap = await trentCli(['replication', 'link', '--name', 'C', '--endpoint', B.url, '--ca', B.pki.ca, '--regions', 'us-east-1'], cliEnv(A)).catch((e: Error) => e.message);
  assert.match(overlap, /ValidationException: The peer's regions must not overlap this deployment's: us-east-1/);
  const twice = await trentCli(['replication', 'link', '--name', 'C', '--endpoint', B.url, '--ca', B.pki.ca, '--regions', 'eu-central-1'], cliEnv(A)).catch((e: Error) => e.message);
  assert.match(twice, /ValidationException: Link B already serves eu-central-1/);
  const http = await trentCli(['replication', 'link', '--name', 'C', '--endpoint', 'http://127.0.0.1:1', '--ca', B.pki.ca, '--regions', 'eu-west-3'], cliEnv(A)).catch((e: Error) => e.message);
  assert.match(http, /ValidationException: The peer endpoint must be an https:\/\/ URL/);
  assert.equal((await peers(A)).length, 1);
});

let mrk = '';
let euArn = '';

linkTest('ReplicateKey to a region the peer serves: Creating at once, then the replica exists on B; ciphertexts cross both ways', async () => {
  mrk = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true, Description: 'linked' }))).KeyMetadata!.KeyId!;
  const out = await A.kms.send(new ReplicateKeyCommand({ KeyId: mrk, ReplicaRegion: 'eu-central-1', Description: 'on B' }));
  assert.equal(out.ReplicaKeyMetadata!.KeyState, 'Creating');
  euArn = out.ReplicaKeyMetadata!.Arn!;
  assert.equal(euArn, `arn:aws:kms:eu-central-1:${ACCOUNT_ID}:key/${mrk}`);
  const onA = (await A.kms.send(new DescribeKeyCommand({ KeyId: mrk }))).KeyMetadata!;
  assert.deepEqual(onA.MultiRegionConfiguration!.ReplicaKeys, [{ Arn: euArn, Region: 'eu-central-1' }]);
  const onB = await until('the replica on B', async () => (await B.kms.send(new DescribeKeyCommand({ KeyId: euArn }))).KeyMetadata);
  assert.equal(onB.KeyState, 'Enabled');
  assert.equal(onB.Description, 'on B');
  assert.equal(onB.MultiRegionConfiguration!.MultiRegionKeyType, 'REPLICA');
  assert.equal(onB.MultiRegionConfiguration!.PrimaryKey!.Region, 'us-east-1');
  assert.equal(onB.CurrentKeyMaterialId, onA.CurrentKeyMaterialId);
  const blob = (await A.kms.send(new EncryptCommand({ KeyId: mrk, Plaintext: Buffer.from('from A') }))).CiphertextBlob!;
  assert.equal(Buffer.from((await B.kms.send(new DecryptCommand({ KeyId: euArn, CiphertextBlob: blob }))).Plaintext!).toString(), 'from A');
  assert.equal(Buffer.from((await B.kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'from A');
  // B's header key came back with the acknowledgement: B's ciphertext decrypts on A.
  const fromB = (await B.kms.send(new EncryptCommand({ KeyId: euArn, Plaintext: Buffer.from('from B') }))).CiphertextBlob!;
  assert.equal(Buffer.from((await A.kms.send(new DecryptCommand({ CiphertextBlob: fromB }))).Plaintext!).toString(), 'from B');
  // ReplicateKey again to the same region: AlreadyExists, as within one deployment; a region no one serves is refused.
  assert.equal((await awsError(() => A.kms.send(new ReplicateKeyCommand({ KeyId: mrk, ReplicaRegion: 'eu-central-1' })))).name, 'AlreadyExistsException');
  const nowhere = await awsError(() => A.kms.send(new ReplicateKeyCommand({ KeyId: mrk, ReplicaRegion: 'ap-south-1' })));
  assert.deepEqual([nowhere.name, nowhere.message], ['UnsupportedOperationException', 'The Region ap-south-1 is not served by this deployment.']);
  // CloudTrail's CreateKey of the replica is in B's trail (recorded by the service), the ReplicateKey in A's.
  assert.equal((await rows(B, "SELECT * FROM audit_events WHERE event_name = 'CreateKey'")).filter((r) => JSON.stringify(r).includes(euArn)).length, 1);
  const replicateEvents = (await rows(A, "SELECT * FROM audit_events WHERE event_name = 'ReplicateKey'")).map((r) => JSON.stringify(r));
  assert.deepEqual(replicateEvents.map((e) => /AlreadyExistsException|UnsupportedOperationException/.test(e)), [false, true, true], 'one success, two refusals');
  await drained(A); // the replica exists on B before A marks its record delivered
});

let external = '';

linkTest('imported (EXTERNAL) material travels wrapped with the replica and decrypts on B', async () => {
  external = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true, Origin: 'EXTERNAL' }))).KeyMetadata!.KeyId!;
  const p = await A.kms.send(new GetParametersForImportCommand({ KeyId: external, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
  const wrapped = publicEncrypt({ key: createPublicKey({ key: Buffer.from(p.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, MATERIAL);
  await A.kms.send(new ImportKeyMaterialCommand({ KeyId: external, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
  await A.kms.send(new ReplicateKeyCommand({ KeyId: external, ReplicaRegion: 'eu-central-1' }));
  const arn = `arn:aws:kms:eu-central-1:${ACCOUNT_ID}:key/${external}`;
  const onB = await until('the EXTERNAL replica on B', async () => (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata);
  assert.equal(onB.KeyState, 'Enabled');
  assert.equal(onB.Origin, 'EXTERNAL');
  const blob = (await A.kms.send(new EncryptCommand({ KeyId: external, Plaintext: Buffer.from('imported') }))).CiphertextBlob!;
  assert.equal(Buffer.from((await B.kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'imported');
});


linkTest('B killed while records are pending: after its restart they are applied once, in order; rotation reaches B', async () => {
  const before = (await A.kms.send(new EncryptCommand({ KeyId: mrk, Plaintext: Buffer.from('before rotation') }))).CiphertextBlob!;
  await drained(A); // the last test's replica, on B before its record is marked delivered: not pending when B dies
  await kill(B);
  // Two records while B is down: a rotation of the replicated key and a new replica.
  await A.kms.send(new RotateKeyOnDemandCommand({ KeyId: mrk }));
  const second = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.KeyId!;
  assert.equal((await A.kms.send(new ReplicateKeyCommand({ KeyId: second, ReplicaRegion: 'eu-central-1' }))).ReplicaKeyMetadata!.KeyState, 'Creating');
  const after = (await A.kms.send(new EncryptCommand({ KeyId: mrk, Plaintext: Buffer.from('after rotation') }))).CiphertextBlob!;
  await new Promise((r) => setTimeout(r, 1500)); // the sender tries, fails and backs off
  assert.equal((await peers(A))[0]!.PendingRecords, 2);
  await logged(A, /replication: delivery failed; retrying/);

  await start(B);
  await drained(A);
  const link = (await peers(B))[0]!;
  assert.equal(link.LastAppliedSequence, 4, 'four records applied: two replicas, a rotation, one more replica');
  const onA = (await A.kms.send(new DescribeKeyCommand({ KeyId: mrk }))).KeyMetadata!;
  const onB = (await B.kms.send(new DescribeKeyCommand({ KeyId: euArn }))).KeyMetadata!;
  assert.equal(onB.CurrentKeyMaterialId, onA.CurrentKeyMaterialId);
  for (const blob of [before, after]) {
    assert.ok((await B.kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext);
    assert.ok((await B.kms.send(new DecryptCommand({ KeyId: euArn, CiphertextBlob: blob }))).Plaintext);
  }
  assert.equal((await B.kms.send(new DescribeKeyCommand({ KeyId: `arn:aws:kms:eu-central-1:${ACCOUNT_ID}:key/${second}` }))).KeyMetadata!.KeyState, 'Enabled');
  // Nothing duplicated: one key row per replica, each material version once.
  assert.deepEqual(await rows(B, 'SELECT COUNT(*) AS n FROM keys WHERE key_id = ?', mrk), [{ n: 1 }]);
  assert.deepEqual((await rows(B, 'SELECT version FROM key_materials WHERE key_id = ? ORDER BY version', mrk)).map((r) => r.version), [1, 2]);
  assert.deepEqual(await rows(B, 'SELECT COUNT(*) AS n FROM key_materials WHERE key_id = ?', second), [{ n: 1 }]);
});

linkTest('the internal endpoint refuses a wrong link credential, a replayed exchange and older material, answers a duplicate with success, and changes nothing', async () => {
  const [, linkId, secretText] = credential.split('.');
  const secret = SecretBytes.copyOf(Buffer.from(secretText!, 'base64url'));
  const state = async () => ({ link: (await peers(B))[0]!, keys: await rows(B, 'SELECT key_id, revision FROM keys ORDER BY key_id'), materials: await rows(B, 'SELECT COUNT(*) AS n FROM key_materials') });
  const start = await state();

  const wrong = await internal(B, HELLO_PATH, {}, SecretBytes.copyOf(randomBytes(32)), linkId!);
  assert.deepEqual([wrong.status, wrong.json.__type], [400, 'AccessDeniedException']);
  const unknownLink = await internal(B, HELLO_PATH, {}, secret, 'f'.repeat(32));
  assert.deepEqual([unknownLink.status, unknownLink.json.__type], [400, 'AccessDeniedException']);

  // A well-formed delivery of the replicated key at version 1 only (B has version 2), as the real sender builds it.
  const deliver = async (seq: number) => {
    const { transport, ...exchange } = await openExchange(B, secret, linkId!);
    const material = SecretBytes.copyOf(randomBytes(32));
    return {
      ...exchange, Seq: seq,
      Record: {
        accountId: ACCOUNT_ID, keyId: mrk, sourceRegion: 'us-east-1', region: 'eu-central-1',
        key: { keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', currentVersion: 1, currentKeyMaterialId: 'x'.repeat(64), multiRegionConfig: { primaryRegion: 'us-east-1', replicaRegions: ['eu-central-1'] } },
        versions: [{ version: 1, createdAt: 1, doc: {}, wrapped: wrapForTransport(transport, material, materialBoxAad(linkId!, seq, ACCOUNT_ID, mrk, 1, 'eu-central-1')).toString('base64') }],
      },
    };
  };
  const duplicate = await deliver(start.link.LastAppliedSequence);
  const dup = await internal(B, DELIVER_PATH, duplicate, secret, linkId!);
  assert.deepEqual([dup.status, dup.json.Applied, dup.json.LastAppliedSeq], [200, false, start.link.LastAppliedSequence]);
  const replay = await internal(B, DELIVER_PATH, duplicate, secret, linkId!);
  assert.deepEqual([replay.status, replay.json.__type, replay.json.message], [400, 'AccessDeniedException', 'Unknown or used replication exchange.']);
  const older = await internal(B, DELIVER_PATH, await deliver(start.link.LastAppliedSequence + 1), secret, linkId!);
  assert.equal(older.status, 400);
  assert.equal(older.json.__type, 'ConflictException');
  assert.match(String(older.json.message), /has material version 2; refusing older material \(version 1\)/);
  const tampered = await deliver(start.link.LastAppliedSequence + 1);
  const forged = await internal(B, DELIVER_PATH, { ...tampered, Record: { ...tampered.Record, keyId: 'mrk-00000000000000000000000000000000' } }, secret, linkId!);
  assert.deepEqual([forged.status, forged.json.__type], [400, 'AccessDeniedException'], 'a box moved to another key id fails its AAD');

  assert.deepEqual(await state(), start);
});

linkTest('a replica deleted on B is reported back: A drops it from ReplicaKeys and its primary PendingReplicaDeletion starts its waiting period', async () => {
  const doomed = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true, Description: 'doomed' }))).KeyMetadata!.KeyId!;
  const arn = (await A.kms.send(new ReplicateKeyCommand({ KeyId: doomed, ReplicaRegion: 'eu-central-1' }))).ReplicaKeyMetadata!.Arn!;
  await until('the replica on B', async () => (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata);
  const appliedOnA = (await peers(A))[0]!.LastAppliedSequence;
  // AWS: a primary with replicas waits for them (PendingReplicaDeletion, no DeletionDate).
  const waiting = (await A.kms.send(new ScheduleKeyDeletionCommand({ KeyId: doomed, PendingWindowInDays: 7 })));
  assert.equal(waiting.KeyState, 'PendingReplicaDeletion');
  assert.equal(waiting.DeletionDate, undefined);
  await B.kms.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: 7 }));
  // The replica's 7 days pass: its stored deletion date is moved into the past; B's own deletion job does the rest.
  const [row] = await rows(B, 'SELECT doc FROM keys WHERE account_id = ? AND region = ? AND key_id = ?', ACCOUNT_ID, 'eu-central-1', doomed);
  const past = Date.now() - 1000;
  const doc = { ...(JSON.parse(String(row!.doc)) as Record<string, unknown>), deletionDate: past };
  await write(B, 'UPDATE keys SET due_at = ?, doc = ? WHERE account_id = ? AND region = ? AND key_id = ?', past, JSON.stringify(doc), ACCOUNT_ID, 'eu-central-1', doomed);
  await until('the replica to be deleted on B', async () => ((await awsError(() => B.kms.send(new DescribeKeyCommand({ KeyId: arn })))).name === 'NotFoundException' ? true : undefined));
  const onA = await until('A to hear of it', async () => {
    const m = (await A.kms.send(new DescribeKeyCommand({ KeyId: doomed }))).KeyMetadata!;
    return m.KeyState === 'PendingDeletion' ? m : undefined;
  });
  assert.deepEqual(onA.MultiRegionConfiguration!.ReplicaKeys, []);
  // The primary's own 7-day window starts when its last replica is gone (AWS), not when it was scheduled.
  const window = onA.DeletionDate!.getTime() - Date.now();
  assert.ok(window > 6 * 86_400_000 && window <= 7 * 86_400_000, `deletion in ${window} ms`);
  await drained(B); // A applies the record before B marks it delivered
  assert.equal((await peers(A))[0]!.LastAppliedSequence, appliedOnA + 1, 'one record from B: the deletion');
});

linkTest('a material record for a replica B has deleted meanwhile is acknowledged and changes nothing: the link is not held up', async () => {
  const key = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.KeyId!;
  const arn = (await A.kms.send(new ReplicateKeyCommand({ KeyId: key, ReplicaRegion: 'eu-central-1' }))).ReplicaKeyMetadata!.Arn!;
  await until('the replica on B', async () => (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata);
  await B.kms.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: 7 }));
  await kill(B);
  // A rotates while B is down; B's replica reaches the end of its window meanwhile, so B's deletion job
  // (right after its restart) and A's rotation record race: either order must leave both outboxes empty.
  await A.kms.send(new RotateKeyOnDemandCommand({ KeyId: key }));
  const [row] = await rows(B, 'SELECT doc FROM keys WHERE account_id = ? AND region = ? AND key_id = ?', ACCOUNT_ID, 'eu-central-1', key);
  const past = Date.now() - 1000;
  const doc = { ...(JSON.parse(String(row!.doc)) as Record<string, unknown>), deletionDate: past };
  await write(B, 'UPDATE keys SET due_at = ?, doc = ? WHERE account_id = ? AND region = ? AND key_id = ?', past, JSON.stringify(doc), ACCOUNT_ID, 'eu-central-1', key);
  await start(B);
  await drained(A, B);
  assert.equal((await awsError(() => B.kms.send(new DescribeKeyCommand({ KeyId: arn })))).name, 'NotFoundException');
  const onA = await until('A to hear of the deletion', async () => {
    const m = (await A.kms.send(new DescribeKeyCommand({ KeyId: key }))).KeyMetadata!;
    return m.MultiRegionConfiguration!.ReplicaKeys!.length === 0 ? m : undefined;
  });
  assert.equal(onA.KeyState, 'Enabled');
});

linkTest('UpdatePrimaryRegion to the peer\'s region: A\'s copy is a replica at once, B\'s becomes the primary, and B\'s rotations reach A', async () => {
  const moved = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true, Description: 'moving' }))).KeyMetadata!.KeyId!;
  await A.kms.send(new EnableKeyRotationCommand({ KeyId: moved, RotationPeriodInDays: 90 }));
  const arn = (await A.kms.send(new ReplicateKeyCommand({ KeyId: moved, ReplicaRegion: 'eu-central-1' }))).ReplicaKeyMetadata!.Arn!;
  await until('the replica on B', async () => (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata);
  await drained(A); // until its record is marked delivered, A sees the replica as creating and refuses to move the role to it
  const beforeMove = (await A.kms.send(new EncryptCommand({ KeyId: moved, Plaintext: Buffer.from('before the move') }))).CiphertextBlob!;
  // A region with no replica: NotFoundException, as within one deployment.
  const none = await awsError(() => A.kms.send(new UpdatePrimaryRegionCommand({ KeyId: moved, PrimaryRegion: 'ap-south-1' })));
  assert.equal(none.name, 'NotFoundException');

  await A.kms.send(new UpdatePrimaryRegionCommand({ KeyId: moved, PrimaryRegion: 'eu-central-1' }));
  const onA = (await A.kms.send(new DescribeKeyCommand({ KeyId: moved }))).KeyMetadata!;
  assert.equal(onA.MultiRegionConfiguration!.MultiRegionKeyType, 'REPLICA');
  assert.deepEqual(onA.MultiRegionConfiguration!.PrimaryKey, { Arn: arn, Region: 'eu-central-1' });
  // A's copy gave the role up in the same transaction: it no longer rotates or re-homes the key.
  assert.equal((await awsError(() => A.kms.send(new RotateKeyOnDemandCommand({ KeyId: moved })))).name, 'UnsupportedOperationException');
  assert.equal((await awsError(() => A.kms.send(new UpdatePrimaryRegionCommand({ KeyId: moved, PrimaryRegion: 'eu-central-1' })))).name, 'UnsupportedOperationException');

  const onB = await until('B to take the role', async () => {
    const m = (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata!;
    return m.MultiRegionConfiguration!.MultiRegionKeyType === 'PRIMARY' ? m : undefined;
  });
  assert.deepEqual(onB.MultiRegionConfiguration!.ReplicaKeys, [{ Arn: `arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/${moved}`, Region: 'us-east-1' }]);
  // The automatic rotation schedule moved with the role.
  // (until: B's other worker may serve its cached copy of the key for up to TRENT_READ_CACHE_MS)
  await until('the rotation schedule on B', async () => {
    const status = await B.kms.send(new GetKeyRotationStatusCommand({ KeyId: arn }));
    return status.KeyRotationEnabled === true && status.RotationPeriodInDays === 90 ? true : undefined;
  }, 10_000);
  // CloudTrail: UpdatePrimaryRegion is in B's trail too, recorded when B took the role.
  assert.equal((await rows(B, "SELECT * FROM audit_events WHERE event_name = 'UpdatePrimaryRegion'")).filter((r) => JSON.stringify(r).includes(moved)).length, 1);

  // Rotations now originate on B and flow to A.
  await B.kms.send(new RotateKeyOnDemandCommand({ KeyId: arn }));
  const rotated = await until('the new material on B', async () => {
    const id = (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata!.CurrentKeyMaterialId;
    return id !== onA.CurrentKeyMaterialId ? id : undefined;
  }, 10_000);
  await until('the rotation to reach A', async () => ((await A.kms.send(new DescribeKeyCommand({ KeyId: moved }))).KeyMetadata!.CurrentKeyMaterialId === rotated ? true : undefined));
  const fromB = (await B.kms.send(new EncryptCommand({ KeyId: arn, Plaintext: Buffer.from('after the move') }))).CiphertextBlob!;
  assert.equal(Buffer.from((await A.kms.send(new DecryptCommand({ KeyId: moved, CiphertextBlob: fromB }))).Plaintext!).toString(), 'after the move');
  assert.equal(Buffer.from((await B.kms.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: beforeMove }))).Plaintext!).toString(), 'before the move');
});

linkTest('UpdatePrimaryRegion to a peer copy that cannot take the role (pending deletion there): the role comes back to A', async () => {
  const key = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.KeyId!;
  const arn = (await A.kms.send(new ReplicateKeyCommand({ KeyId: key, ReplicaRegion: 'eu-central-1' }))).ReplicaKeyMetadata!.Arn!;
  await until('the replica on B', async () => (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata);
  await drained(A); // until its record is marked delivered, A sees the replica as creating and refuses to move the role to it
  await B.kms.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: 30 }));
  await A.kms.send(new UpdatePrimaryRegionCommand({ KeyId: key, PrimaryRegion: 'eu-central-1' }));
  const back = await until('the role to come back to A', async () => {
    const m = (await A.kms.send(new DescribeKeyCommand({ KeyId: key }))).KeyMetadata!;
    return m.MultiRegionConfiguration!.MultiRegionKeyType === 'PRIMARY' ? m : undefined;
  });
  assert.deepEqual(back.MultiRegionConfiguration!.ReplicaKeys, [{ Arn: arn, Region: 'eu-central-1' }]);
  const onB = (await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata!;
  assert.deepEqual([onB.KeyState, onB.MultiRegionConfiguration!.MultiRegionKeyType], ['PendingDeletion', 'REPLICA']);
  await A.kms.send(new RotateKeyOnDemandCommand({ KeyId: key }));
  await drained(A, B);
});

linkTest('a forged primary-moved (or returned) for a key whose primary is on B is refused: B keeps the role, bounces nothing and its link does not move', async () => {
  const [, linkId, secretText] = credential.split('.');
  const secret = SecretBytes.copyOf(Buffer.from(secretText!, 'base64url'));
  const own = (await B.kms.send(new CreateKeyCommand({ MultiRegion: true, Description: 'B\'s own' }))).KeyMetadata!;
  const onA = (await B.kms.send(new ReplicateKeyCommand({ KeyId: own.KeyId!, ReplicaRegion: 'us-east-1' }))).ReplicaKeyMetadata!.Arn!;
  await until('the replica on A', async () => (await A.kms.send(new DescribeKeyCommand({ KeyId: onA }))).KeyMetadata);
  await drained(B);
  const state = async () => ({ link: (await peers(B))[0]!, keys: await rows(B, 'SELECT region, revision FROM keys WHERE key_id = ?', own.KeyId) });
  const before = await state();
  const deliver = async (record: Record<string, unknown>) => {
    const { transport, ...exchange } = await openExchange(B, secret, linkId!);
    transport.zeroize();
    return internal(B, DELIVER_PATH, { ...exchange, Seq: before.link.LastAppliedSequence + 1, Record: record }, secret, linkId!);
  };
  // As A would send it had B moved the role to A: but B never did, so A's copy holds no role to hand back.
  const move = {
    Kind: 'primary-moved', accountId: ACCOUNT_ID, keyId: own.KeyId, sourceRegion: 'us-east-1', region: 'eu-central-1',
    multiRegionConfig: { primaryRegion: 'eu-central-1', replicaRegions: ['us-east-1'] },
  };
  for (const forged of [move, { ...move, returned: true, multiRegionConfig: { primaryRegion: 'eu-central-1', replicaRegions: [] } }]) {
    const res = await deliver(forged);
    assert.deepEqual([res.status, res.json.__type], [400, 'AccessDeniedException'], JSON.stringify(forged));
  }
  // Malformed: a key id that is no multi-Region key's, a rotation period no call could set.
  for (const malformed of [{ ...move, keyId: '../alias/x' }, { ...move, rotation: { enabled: true, periodDays: 0 } }, { ...move, Kind: 'key-replica-deleted', keyId: '__proto__' }]) {
    const res = await deliver(malformed);
    assert.deepEqual([res.status, res.json.__type], [400, 'ValidationException'], JSON.stringify(malformed));
  }
  assert.deepEqual(await state(), before, 'no copy changed, no record appended toward A, the last applied sequence number stays');
  const m = (await B.kms.send(new DescribeKeyCommand({ KeyId: own.Arn }))).KeyMetadata!;
  assert.deepEqual([m.MultiRegionConfiguration!.MultiRegionKeyType, m.MultiRegionConfiguration!.ReplicaKeys], ['PRIMARY', [{ Arn: onA, Region: 'us-east-1' }]]);
  assert.equal((await A.kms.send(new DescribeKeyCommand({ KeyId: onA }))).KeyMetadata!.MultiRegionConfiguration!.MultiRegionKeyType, 'REPLICA');
});

linkTest('a record creating a replica in B\'s second region of a primary B holds in its first is refused: no copy, the primary untouched, the link does not move; the peer\'s own key replicates there', async () => {
  const [, linkId, secretText] = credential.split('.');
  const secret = SecretBytes.copyOf(Buffer.from(secretText!, 'base64url'));
  const west = kmsIn(B, WEST);
  try {
    const own = (await B.kms.send(new CreateKeyCommand({ MultiRegion: true, Description: 'B\'s own primary' }))).KeyMetadata!;
    const westArn = `arn:aws:kms:${WEST}:${ACCOUNT_ID}:key/${own.KeyId}`;
    await drained(A);
    const state = async () => ({
      link: (await peers(B))[0]!,
      keys: await rows(B, 'SELECT region, revision FROM keys WHERE key_id = ?', own.KeyId),
      materials: await rows(B, 'SELECT region, version FROM key_materials WHERE key_id = ? ORDER BY region, version', own.KeyId),
      events: (await rows(B, 'SELECT COUNT(*) AS n FROM audit_events WHERE record LIKE ?', `%${own.KeyId}%`))[0],
    });
    const before = await state();
    assert.deepEqual(before.keys, [{ region: 'eu-central-1', revision: 1 }]);
    // As A's sender builds a record creating a replica, claiming the key's primary is A's (us-east-1).
    const seq = before.link.LastAppliedSequence + 1;
    const { transport, ...exchange } = await openExchange(B, secret, linkId!);
    const record = {
      accountId: ACCOUNT_ID, keyId: own.KeyId, sourceRegion: 'us-east-1', region: WEST,
      create: { description: 'not B\'s', policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }), tags: [] },
      key: { keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', currentVersion: 1, currentKeyMaterialId: 'x'.repeat(64), multiRegionConfig: { primaryRegion: 'us-east-1', replicaRegions: [WEST] } },
      versions: [{ version: 1, createdAt: 1, doc: {}, wrapped: wrapForTransport(transport, SecretBytes.copyOf(randomBytes(32)), materialBoxAad(linkId!, seq, ACCOUNT_ID, own.KeyId!, 1, WEST)).toString('base64') }],
    };
    transport.zeroize();
    const res = await internal(B, DELIVER_PATH, { ...exchange, Seq: seq, Record: record }, secret, linkId!);
    assert.deepEqual([res.status, res.json.__type, res.json.message], [400, 'ConflictException', `${own.Arn} is not a replica of the peer's primary key.`]);
    assert.deepEqual(await state(), before, 'no key or material row, no trail entry, the last applied sequence number stays');
    assert.equal((await awsError(() => west.send(new DescribeKeyCommand({ KeyId: westArn })))).name, 'NotFoundException');
    const m = (await B.kms.send(new DescribeKeyCommand({ KeyId: own.Arn }))).KeyMetadata!;
    assert.deepEqual([m.KeyState, m.MultiRegionConfiguration!.MultiRegionKeyType, m.MultiRegionConfiguration!.ReplicaKeys], ['Enabled', 'PRIMARY', []]);

    // A's own primary, whose replica B holds in eu-central-1, replicates into B's second region too.
    const arn = (await A.kms.send(new ReplicateKeyCommand({ KeyId: mrk, ReplicaRegion: WEST }))).ReplicaKeyMetadata!.Arn!;
    const there = await until('the replica in B\'s second region', async () => (await west.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata);
    assert.deepEqual([there.KeyState, there.MultiRegionConfiguration!.MultiRegionKeyType, there.MultiRegionConfiguration!.PrimaryKey!.Region], ['Enabled', 'REPLICA', 'us-east-1']);
    const blob = (await A.kms.send(new EncryptCommand({ KeyId: mrk, Plaintext: Buffer.from('to the west') }))).CiphertextBlob!;
    assert.equal(Buffer.from((await west.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: blob }))).Plaintext!).toString(), 'to the west');
  } finally {
    west.destroy();
  }
});

let newCredential = '';

linkTest('trent replication rotate-credential: records wait while the sides disagree and deliver once both have the new secret; the old one is refused', async () => {
  const out = await trentCli(['replication', 'rotate-credential', '--name', 'B'], cliEnv(A));
  newCredential = CREDENTIAL.exec(out)![1]!;
  const [, linkId, newSecretText] = newCredential.split('.');
  assert.equal(linkId, credential.split('.')[1], 'the link keeps its id');
  assert.notEqual(newCredential, credential);
  // A signs with the new secret, B still checks the old: the record waits in A's outbox.
  const logFrom = A.log.join('').length;
  const waiting = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true, Description: 'across a rotation' }))).KeyMetadata!.KeyId!;
  const arn = (await A.kms.send(new ReplicateKeyCommand({ KeyId: waiting, ReplicaRegion: 'eu-central-1' }))).ReplicaKeyMetadata!.Arn!;
  await logged(A, /^(?=.*delivery failed)(?=.*AccessDeniedException)/, logFrom);
  assert.equal((await peers(A))[0]!.PendingRecords, 1);
  assert.equal((await awsError(() => B.kms.send(new DescribeKeyCommand({ KeyId: arn })))).name, 'NotFoundException');
  // The primary cannot move to a replica whose creation still waits in the outbox.
  const creating = await awsError(() => A.kms.send(new UpdatePrimaryRegionCommand({ KeyId: waiting, PrimaryRegion: 'eu-central-1' })));
  assert.deepEqual([creating.name, creating.message], ['KMSInvalidStateException', `${arn} is creating.`]);
  // Unlinking is refused while a record is pending (and keys have copies in B's regions).
  const refused = await trentCli(['replication', 'unlink', '--name', 'B'], cliEnv(A)).catch((e: Error) => e.message);
  assert.match(refused, /ConflictException: Link B has 1 pending record\(s\) and \d+ multi-Region key\(s\) with a copy in its regions/);
  // A credential of another link is refused, and changes nothing.
  const otherFile = join(B.pki.dir, 'other-credential');
  writeFileSync(otherFile, `trent-link-1.${'0'.repeat(32)}.${newSecretText}\n`, { mode: 0o600 });
  const wrongLink = await trentCli(['replication', 'rotate-credential', '--name', 'A', '--credential-file', otherFile], cliEnv(B)).catch((e: Error) => e.message);
  assert.match(wrongLink, /ValidationException: The credential is for another link than A/);

  const file = join(B.pki.dir, 'new-link-credential');
  writeFileSync(file, `${newCredential}\n`, { mode: 0o600 });
  const back = await trentCli(['replication', 'rotate-credential', '--name', 'A', '--credential-file', file], cliEnv(B));
  assert.doesNotMatch(back, /trent-link-1/, 'the side given the credential does not print one');
  await drained(A);
  assert.equal((await B.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata!.KeyState, 'Enabled');
  // B's internal endpoint: the old secret is refused, the new one accepted.
  const old = await internal(B, HELLO_PATH, {}, SecretBytes.copyOf(Buffer.from(credential.split('.')[2]!, 'base64url')), linkId!);
  assert.deepEqual([old.status, old.json.__type], [400, 'AccessDeniedException']);
  const fresh = await internal(B, HELLO_PATH, {}, SecretBytes.copyOf(Buffer.from(newSecretText!, 'base64url')), linkId!);
  assert.equal(fresh.status, 200);
  // Each side audited its call, without the credential.
  assert.equal((await rows(A, "SELECT * FROM audit_events WHERE event_name = 'RotatePeerCredential'")).length, 1);
  assert.equal((await rows(B, "SELECT * FROM audit_events WHERE event_name = 'RotatePeerCredential'")).length, 2, 'one refused, one done');
});

linkTest('trent replication unlink: refused while keys have copies in the peer\'s regions; --force removes the link, after which the peer is refused and its regions are not served', async () => {
  const [, linkId, newSecretText] = newCredential.split('.');
  await drained(A);
  const refused = await trentCli(['replication', 'unlink', '--name', 'B'], cliEnv(A)).catch((e: Error) => e.message);
  assert.match(refused, /ConflictException: Link B has 0 pending record\(s\) and [1-9]\d* multi-Region key\(s\) with a copy in its regions/);
  assert.equal((await peers(A)).length, 1, 'nothing removed');
  const forced = await trentCli(['replication', 'unlink', '--name', 'B', '--force'], cliEnv(A));
  assert.match(forced, /unlinked B \(link id [0-9a-f]{32}\); 0 pending record\(s\) dropped/);
  assert.deepEqual(await peers(A), []);
  // B's replicas have their primary in A's regions: B refuses too until forced.
  const onB = await trentCli(['replication', 'unlink', '--name', 'A'], cliEnv(B)).catch((e: Error) => e.message);
  assert.match(onB, /ConflictException: Link A has 0 pending record\(s\) and [1-9]\d* multi-Region key\(s\)/);
  await trentCli(['replication', 'unlink', '--name', 'A', '--force'], cliEnv(B));
  assert.deepEqual(await peers(B), []);
  const gone = await internal(B, HELLO_PATH, {}, SecretBytes.copyOf(Buffer.from(newSecretText!, 'base64url')), linkId!);
  assert.deepEqual([gone.status, gone.json.__type], [400, 'AccessDeniedException']);
  const key = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.KeyId!;
  const nowhere = await awsError(() => A.kms.send(new ReplicateKeyCommand({ KeyId: key, ReplicaRegion: 'eu-central-1' })));
  assert.deepEqual([nowhere.name, nowhere.message], ['UnsupportedOperationException', 'The Region eu-central-1 is not served by this deployment.']);
  // The replicas on B keep their material and decrypt what B makes; A's header key went with the link, so
  // a ciphertext A makes no longer decrypts on B.
  const mine = (await B.kms.send(new EncryptCommand({ KeyId: euArn, Plaintext: Buffer.from('on B') }))).CiphertextBlob!;
  assert.equal(Buffer.from((await B.kms.send(new DecryptCommand({ CiphertextBlob: mine }))).Plaintext!).toString(), 'on B');
  const blob = (await A.kms.send(new EncryptCommand({ KeyId: mrk, Plaintext: Buffer.from('after unlink') }))).CiphertextBlob!;
  // (Another worker of B may hold the peers' header keys it read for up to 5 s.)
  await until('A\'s ciphertext to be refused on B', async () =>
    ((await awsError(() => B.kms.send(new DecryptCommand({ KeyId: euArn, CiphertextBlob: blob })))).name === 'InvalidCiphertextException' ? true : undefined));
  assert.equal((await rows(A, "SELECT * FROM audit_events WHERE event_name = 'UnlinkPeer'")).length, 3, 'A: one refused for a pending record, one for copies, one done');
});

linkTest('neither the imported material nor the link secret appears in either data dir, log or audit trail', async () => {
  const secret = Buffer.from(credential.split('.')[2]!, 'base64url');
  const rotated = Buffer.from(newCredential.split('.')[2]!, 'base64url');
  await assertNowhere([A, B], [MATERIAL, secret, rotated]);
  // The link was made by a call each side audited, without its credential.
  assert.match(JSON.stringify(await rows(A, "SELECT * FROM audit_events WHERE event_name = 'LinkPeer'")), /LinkPeer/);
});
