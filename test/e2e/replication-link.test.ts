/**
 * Multi-Region keys between two linked deployments (docs/replication.md): two real Trent processes
 * (src/main.ts) with their own data dirs and dev PKIs, serving us-east-1 (A) and eu-central-1 (B) over
 * HTTPS, linked with the real `trent replication link`. ReplicateKey on A creates the replica on B through
 * the outbox; ciphertexts cross both ways; B is SIGKILLed while records are pending and catches up on
 * restart, once; a rotation reaches B; imported material (known to the test) and the link secret are
 * searched for in both data dirs (SQLite files and WAL), both processes' logs and both audit trails.
 * Requests to B's internal endpoint with a wrong credential, a replayed exchange, a duplicate sequence
 * number or older material change nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GetParametersForImportCommand, ImportKeyMaterialCommand,
  ReplicateKeyCommand, RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { EphemeralAgreement, wrapForTransport } from '../../src/crypto/replication-transport.ts';
import { SecretBytes } from '../../src/crypto/secret-bytes.ts';
import { DELIVER_PATH, HELLO_PATH, headerKeyBoxAad, materialBoxAad } from '../../src/replication/wire.ts';
import { ACCOUNT_ID, awsError } from './harness.ts';
import { assertNowhere, cliEnv, deployment, dispose, internal, kill, peers, rows, start, until, type Deployment } from './linked-deployments.ts';
import { trentCli } from './tls-support.ts';

let A: Deployment;
let B: Deployment;
let credential = '';
let credentialFile = '';
const MATERIAL = randomBytes(32); // imported into an EXTERNAL key: the test knows these bytes

before(async () => {
  A = await deployment('A', 'us-east-1', 1);
  B = await deployment('B', 'eu-central-1', 2);
  await Promise.all([start(A), start(B)]);
});

after(async () => {
  for (const d of [A, B]) await dispose(d);
});

test('trent replication link: a credential generated on A and pasted on B links them; overlapping regions are refused', async () => {
  const out = await trentCli(['replication', 'link', '--name', 'B', '--endpoint', B.url, '--ca', B.pki.ca, '--regions', 'eu-central-1'], cliEnv(A));
  credential = /^(trent-link-1\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43})$/m.exec(out)![1]!;
  credentialFile = join(B.pki.dir, 'link-credential');
  writeFileSync(credentialFile, `${credential}\n`, { mode: 0o600 });
  const back = await trentCli(['replication', 'link', '--name', 'A', '--endpoint', A.url, '--ca', A.pki.ca, '--regions', 'us-east-1', '--credential-file', credentialFile], cliEnv(B));
  assert.doesNotMatch(back, /trent-link-1/, 'the side given the credential does not print one');
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

test('ReplicateKey to a region the peer serves: Creating at once, then the replica exists on B; ciphertexts cross both ways', async () => {
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
  assert.equal(rows(B, "SELECT * FROM audit_events WHERE event_name = 'CreateKey'").filter((r) => JSON.stringify(r).includes(euArn)).length, 1);
  const replicateEvents = rows(A, "SELECT * FROM audit_events WHERE event_name = 'ReplicateKey'").map((r) => JSON.stringify(r));
  assert.deepEqual(replicateEvents.map((e) => /AlreadyExistsException|UnsupportedOperationException/.test(e)), [false, true, true], 'one success, two refusals');
  assert.equal((await peers(A))[0]!.PendingRecords, 0);
});

let external = '';

test('imported (EXTERNAL) material travels wrapped with the replica and decrypts on B', async () => {
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


test('B killed while records are pending: after its restart they are applied once, in order; rotation reaches B', async () => {
  const before = (await A.kms.send(new EncryptCommand({ KeyId: mrk, Plaintext: Buffer.from('before rotation') }))).CiphertextBlob!;
  await kill(B);
  // Two records while B is down: a rotation of the replicated key and a new replica.
  await A.kms.send(new RotateKeyOnDemandCommand({ KeyId: mrk }));
  const second = (await A.kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!.KeyId!;
  assert.equal((await A.kms.send(new ReplicateKeyCommand({ KeyId: second, ReplicaRegion: 'eu-central-1' }))).ReplicaKeyMetadata!.KeyState, 'Creating');
  const after = (await A.kms.send(new EncryptCommand({ KeyId: mrk, Plaintext: Buffer.from('after rotation') }))).CiphertextBlob!;
  await new Promise((r) => setTimeout(r, 1500)); // the sender tries, fails and backs off
  assert.equal((await peers(A))[0]!.PendingRecords, 2);
  assert.match(A.log.join(''), /replication: delivery failed; retrying/);

  await start(B);
  await until('the outbox to drain', async () => ((await peers(A))[0]!.PendingRecords === 0 ? true : undefined));
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
  assert.deepEqual(rows(B, 'SELECT COUNT(*) AS n FROM keys WHERE key_id = ?', mrk), [{ n: 1 }]);
  assert.deepEqual(rows(B, 'SELECT version FROM key_materials WHERE key_id = ? ORDER BY version', mrk).map((r) => r.version), [1, 2]);
  assert.deepEqual(rows(B, 'SELECT COUNT(*) AS n FROM key_materials WHERE key_id = ?', second), [{ n: 1 }]);
});

test('the internal endpoint refuses a wrong link credential, a replayed exchange and older material, answers a duplicate with success, and changes nothing', async () => {
  const [, linkId, secretText] = credential.split('.');
  const secret = SecretBytes.copyOf(Buffer.from(secretText!, 'base64url'));
  const state = async () => ({ link: (await peers(B))[0]!, keys: rows(B, 'SELECT key_id, revision FROM keys ORDER BY key_id'), materials: rows(B, 'SELECT COUNT(*) AS n FROM key_materials') });
  const start = await state();

  const wrong = await internal(B, HELLO_PATH, {}, SecretBytes.copyOf(randomBytes(32)), linkId!);
  assert.deepEqual([wrong.status, wrong.json.__type], [400, 'AccessDeniedException']);
  const unknownLink = await internal(B, HELLO_PATH, {}, secret, 'f'.repeat(32));
  assert.deepEqual([unknownLink.status, unknownLink.json.__type], [400, 'AccessDeniedException']);

  // A well-formed delivery of the replicated key at version 1 only (B has version 2), as the real sender builds it.
  const deliver = async (seq: number) => {
    const hello = await internal(B, HELLO_PATH, {}, secret, linkId!);
    assert.equal(hello.status, 200);
    const exchangeId = String(hello.json.ExchangeId);
    const receiverPublic = Buffer.from(String(hello.json.PublicKey), 'base64');
    const mine = EphemeralAgreement.generate();
    const transport = mine.transportKey(receiverPublic, secret, linkId!, exchangeId, mine.publicKey, receiverPublic);
    const material = SecretBytes.copyOf(randomBytes(32));
    return {
      ExchangeId: exchangeId, SenderPublicKey: mine.publicKey.toString('base64'), Seq: seq,
      HeaderKey: wrapForTransport(transport, SecretBytes.copyOf(randomBytes(32)), headerKeyBoxAad(linkId!, exchangeId, 'sender')).toString('base64'),
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

test('neither the imported material nor the link secret appears in either data dir, log or audit trail', async () => {
  const secret = Buffer.from(credential.split('.')[2]!, 'base64url');
  assertNowhere([A, B], [MATERIAL, secret]);
  // The link was made by a call each side audited, without its credential.
  assert.match(JSON.stringify(rows(A, "SELECT * FROM audit_events WHERE event_name = 'LinkPeer'")), /LinkPeer/);
});
