import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  EncryptCommand,
  ListAliasesCommand,
  ListResourceTagsCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateKeyDescriptionCommand,
  type AliasListEntry,
  type KeyMetadata,
  type KMSClient,
  type Tag,
} from '@aws-sdk/client-kms';
import type { KeyDoc } from '../../src/kms/key-model.ts';
import { ACCOUNT_ID, awsError, REGION, startServer, type TestServer } from './harness.ts';

let server: TestServer;
let kms: KMSClient;
before(async () => {
  server = await startServer();
  kms = server.kms();
});
after(() => server.stop(true));

const PREFIX_MESSAGE =
  'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html';

let counter = 0;
/** A fresh alias name per call, so tests sharing the server never collide. */
function aliasName(tag = 'a'): string {
  return `alias/test-${tag}-${process.pid}-${counter++}`;
}

function aliasArnOf(name: string, region = REGION): string {
  return `arn:aws:kms:${region}:${ACCOUNT_ID}:${name}`;
}

async function newKey(client: KMSClient = kms, input: { Description?: string; Tags?: Tag[] } = {}): Promise<KeyMetadata> {
  return (await client.send(new CreateKeyCommand(input))).KeyMetadata!;
}

async function listAllAliases(client: KMSClient, keyId?: string, limit?: number): Promise<{ entries: AliasListEntry[]; pages: number }> {
  const entries: AliasListEntry[] = [];
  let marker: string | undefined;
  let pages = 0;
  do {
    const page = await client.send(new ListAliasesCommand({
      ...(keyId ? { KeyId: keyId } : {}),
      ...(limit ? { Limit: limit } : {}),
      ...(marker ? { Marker: marker } : {}),
    }));
    entries.push(...page.Aliases!);
    assert.equal(page.Truncated, page.NextMarker !== undefined);
    marker = page.NextMarker;
    pages++;
  } while (marker);
  return { entries, pages };
}

async function listAllTags(keyId: string, limit?: number): Promise<{ tags: Tag[]; pages: number }> {
  const tags: Tag[] = [];
  let marker: string | undefined;
  let pages = 0;
  do {
    const page = await kms.send(new ListResourceTagsCommand({ KeyId: keyId, ...(limit ? { Limit: limit } : {}), ...(marker ? { Marker: marker } : {}) }));
    tags.push(...page.Tags!);
    assert.equal(page.Truncated, page.NextMarker !== undefined);
    marker = page.NextMarker;
    pages++;
  } while (marker);
  return { tags, pages };
}

/** Puts a key in another state or spec straight through storage (no ScheduleKeyDeletion here). */
async function rewriteKey(keyId: string, change: (doc: KeyDoc) => KeyDoc): Promise<void> {
  const scope = { accountId: ACCOUNT_ID, region: REGION };
  await server.app.storage.transaction(async (tx) => {
    const record = (await tx.keys.get(scope, keyId))!;
    const doc = change(structuredClone(record.doc) as unknown as KeyDoc);
    const ok = await tx.keys.update({ ...record, state: doc.state, dueAt: null, doc: doc as unknown as Record<string, unknown> }, record.revision);
    assert.ok(ok);
  });
}

async function markPendingDeletion(keyId: string): Promise<void> {
  await rewriteKey(keyId, (doc) => ({ ...doc, state: 'PendingDeletion', deletionDate: Date.now() + 30 * 86_400_000, pendingWindowInDays: 30 }));
}

describe('CreateAlias, UpdateAlias, DeleteAlias, ListAliases', () => {
  test('an alias round trip: create by key id and by key ARN, list all and by key, update to another key, delete', async () => {
    const k1 = await newKey();
    const k2 = await newKey();
    const byId = aliasName('rt');
    const byArn = aliasName('rt');
    const before = Date.now();
    assert.deepEqual(Object.keys(await kms.send(new CreateAliasCommand({ AliasName: byId, TargetKeyId: k1.KeyId }))).filter((k) => k !== '$metadata'), []);
    await kms.send(new CreateAliasCommand({ AliasName: byArn, TargetKeyId: k1.Arn }));

    const all = (await listAllAliases(kms)).entries;
    const entry = all.find((a) => a.AliasName === byId)!;
    assert.equal(entry.AliasArn, aliasArnOf(byId));
    assert.equal(entry.TargetKeyId, k1.KeyId);
    assert.ok(entry.CreationDate instanceof Date && entry.CreationDate.getTime() >= before - 1000);
    assert.ok(entry.LastUpdatedDate instanceof Date);
    assert.equal(all.find((a) => a.AliasName === byArn)!.TargetKeyId, k1.KeyId, 'a key ARN target is stored as the key id');
    const names = all.map((a) => a.AliasName!);
    assert.deepEqual(names, [...names].sort(), 'aliases come in name order');

    assert.deepEqual((await listAllAliases(kms, k1.KeyId)).entries.map((a) => a.AliasName).sort(), [byId, byArn].sort());
    assert.deepEqual((await listAllAliases(kms, k1.Arn)).entries.length, 2);
    assert.deepEqual((await listAllAliases(kms, k2.KeyId)).entries, []);

    await new Promise((r) => setTimeout(r, 20));
    await kms.send(new UpdateAliasCommand({ AliasName: byId, TargetKeyId: k2.Arn }));
    const moved = (await listAllAliases(kms, k2.KeyId)).entries;
    assert.deepEqual(moved.map((a) => a.AliasName), [byId]);
    assert.equal(moved[0]!.TargetKeyId, k2.KeyId);
    assert.equal(moved[0]!.CreationDate!.getTime(), entry.CreationDate!.getTime());
    assert.ok(moved[0]!.LastUpdatedDate!.getTime() > entry.LastUpdatedDate!.getTime());
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: byId }))).KeyMetadata!.KeyId, k2.KeyId);

    await kms.send(new DeleteAliasCommand({ AliasName: byId }));
    assert.deepEqual((await listAllAliases(kms, k2.KeyId)).entries, []);
    const gone = await awsError(() => kms.send(new DescribeKeyCommand({ KeyId: byId })));
    assert.equal(gone.name, 'NotFoundException');
    assert.equal(gone.message, `Alias ${aliasArnOf(byId)} is not found.`);
    const again = await awsError(() => kms.send(new DeleteAliasCommand({ AliasName: byId })));
    assert.equal(again.name, 'NotFoundException');
    assert.equal(again.message, `Alias ${aliasArnOf(byId)} is not found.`);
    assert.equal(again.status, 400);
  });

  test('ListAliases pages with Limit and Marker, every alias exactly once, with or without KeyId', async () => {
    const key = await newKey();
    const made = Array.from({ length: 7 }, () => aliasName('page'));
    for (const name of made) await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId }));
    const byKey = await listAllAliases(kms, key.KeyId, 2);
    assert.deepEqual(byKey.entries.map((a) => a.AliasName), [...made].sort());
    assert.equal(byKey.pages, 4);
    const all = await listAllAliases(kms, undefined, 3);
    const names = all.entries.map((a) => a.AliasName!);
    assert.equal(new Set(names).size, names.length);
    for (const name of made) assert.ok(names.includes(name));
    const first = await kms.send(new ListAliasesCommand({ KeyId: key.KeyId }));
    assert.equal(first.Aliases!.length, 7, 'the default Limit (50) covers them all');
    assert.equal(first.Truncated, false);
    assert.equal(first.NextMarker, undefined);
  });

  test('ListAliases refuses a forged marker, a ListResourceTags marker and an out-of-range Limit', async () => {
    const forged = await awsError(() => kms.send(new ListAliasesCommand({ Marker: 'forged-marker' })));
    assert.equal(forged.name, 'InvalidMarkerException');
    const key = await newKey(kms, { Tags: [{ TagKey: 'a', TagValue: '1' }, { TagKey: 'b', TagValue: '2' }] });
    const tagPage = await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId, Limit: 1 }));
    const foreign = await awsError(() => kms.send(new ListAliasesCommand({ Marker: tagPage.NextMarker })));
    assert.equal(foreign.name, 'InvalidMarkerException');
    for (const Limit of [0, 101]) {
      const e = await awsError(() => kms.send(new ListAliasesCommand({ Limit })));
      assert.equal(e.name, 'ValidationException');
      assert.match(e.message, /^1 validation error detected: Value '\d+' at 'limit' failed to satisfy constraint: Member must have value (greater|less) than or equal to (1|100)$/);
    }
  });

  test('ListAliases with an unknown KeyId is NotFoundException', async () => {
    const unknown = '00000000-0000-4000-8000-00000000abcd';
    const e = await awsError(() => kms.send(new ListAliasesCommand({ KeyId: unknown })));
    assert.equal(e.name, 'NotFoundException');
    assert.equal(e.message, `Key 'arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${unknown}' does not exist`);
  });

  test('an alias name without the "alias/" prefix is refused with AWS\'s text, for every alias operation', async () => {
    const key = await newKey();
    for (const name of ['my-key', 'aliasx', 'arn:aws:kms:us-east-1:111122223333:alias/x']) {
      for (const send of [
        () => kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId })),
        () => kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId })),
        () => kms.send(new DeleteAliasCommand({ AliasName: name })),
      ]) {
        const e = await awsError(send);
        assert.equal(e.name, 'ValidationException');
        assert.equal(e.message, PREFIX_MESSAGE);
        assert.equal(e.status, 400);
      }
    }
  });

  test('names under alias/aws/ are reserved: NotAuthorizedException on create and update', async () => {
    const key = await newKey();
    for (const name of ['alias/aws/s3', 'alias/aws/my-own']) {
      for (const send of [
        () => kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId })),
        () => kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId })),
      ]) {
        const e = await awsError(send);
        assert.equal(e.name, 'NotAuthorizedException');
        assert.equal(e.status, 400);
      }
    }
    assert.equal((await listAllAliases(kms, key.KeyId)).entries.length, 0);
  });

  test('alias names are held to the model pattern and length, and may not contain a colon', async () => {
    const key = await newKey();
    const bad = await awsError(() => kms.send(new CreateAliasCommand({ AliasName: 'alias/has space', TargetKeyId: key.KeyId })));
    assert.equal(bad.name, 'ValidationException');
    assert.equal(bad.message,
      "1 validation error detected: Value 'alias/has space' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$");
    const long = `alias/${'x'.repeat(251)}`;
    const tooLong = await awsError(() => kms.send(new CreateAliasCommand({ AliasName: long, TargetKeyId: key.KeyId })));
    assert.equal(tooLong.name, 'ValidationException');
    assert.match(tooLong.message, /at 'aliasName' failed to satisfy constraint: Member must have length less than or equal to 256$/);
    const longest = `alias/${'y'.repeat(250)}`;
    await kms.send(new CreateAliasCommand({ AliasName: longest, TargetKeyId: key.KeyId }));
    const colon = await awsError(() => kms.send(new CreateAliasCommand({ AliasName: 'alias/a:b', TargetKeyId: key.KeyId })));
    assert.equal(colon.name, 'ValidationException');
    assert.equal(colon.message, 'alias/a:b contains invalid characters for an alias');
    const both = await awsError(() => kms.send(new CreateAliasCommand({ AliasName: 'alias/has space', TargetKeyId: '' })));
    assert.match(both.message, /^2 validation errors detected: /);
  });

  test('a duplicate name is AlreadyExistsException naming the alias ARN, whichever key it targets', async () => {
    const k1 = await newKey();
    const k2 = await newKey();
    const name = aliasName('dup');
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: k1.KeyId }));
    for (const target of [k1.KeyId, k2.KeyId]) {
      const e = await awsError(() => kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: target })));
      assert.equal(e.name, 'AlreadyExistsException');
      assert.equal(e.message, `An alias with the name ${aliasArnOf(name)} already exists`);
      assert.equal(e.status, 400);
    }
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: name }))).KeyMetadata!.KeyId, k1.KeyId);
  });

  test('concurrent CreateAlias of one name: exactly one wins, the others are AlreadyExistsException', async () => {
    const keys = await Promise.all(Array.from({ length: 8 }, () => newKey()));
    const name = aliasName('race');
    const results = await Promise.allSettled(keys.map((k) => kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: k.KeyId }))));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) {
      if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'AlreadyExistsException');
    }
    const listed = (await listAllAliases(kms)).entries.filter((a) => a.AliasName === name);
    assert.equal(listed.length, 1);
  });

  test('a missing target key is NotFoundException; UpdateAlias of an unknown alias is NotFoundException', async () => {
    const unknown = '11111111-2222-4333-8444-555555555555';
    const e1 = await awsError(() => kms.send(new CreateAliasCommand({ AliasName: aliasName('nf'), TargetKeyId: unknown })));
    assert.equal(e1.name, 'NotFoundException');
    assert.equal(e1.message, `Key 'arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${unknown}' does not exist`);
    const key = await newKey();
    const missing = aliasName('nf');
    const e2 = await awsError(() => kms.send(new UpdateAliasCommand({ AliasName: missing, TargetKeyId: key.KeyId })));
    assert.equal(e2.name, 'NotFoundException');
    assert.equal(e2.message, `Alias ${aliasArnOf(missing)} is not found.`);
    const present = aliasName('nf');
    await kms.send(new CreateAliasCommand({ AliasName: present, TargetKeyId: key.KeyId }));
    const e3 = await awsError(() => kms.send(new UpdateAliasCommand({ AliasName: present, TargetKeyId: unknown })));
    assert.equal(e3.name, 'NotFoundException');
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: present }))).KeyMetadata!.KeyId, key.KeyId);
  });

  test('UpdateAlias refuses a key of another type or key usage and leaves the alias where it was', async () => {
    const sym = await newKey();
    const other = await newKey();
    // Only symmetric keys can be created today: give one the spec of an HMAC key through storage.
    await rewriteKey(other.KeyId!, (doc) => ({ ...doc, keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC' }));
    const name = aliasName('type');
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: sym.KeyId }));
    const e = await awsError(() => kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: other.KeyId })));
    assert.equal(e.name, 'ValidationException');
    assert.match(e.message, /same type .* same key usage/);
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: name }))).KeyMetadata!.KeyId, sym.KeyId);
    const sym2 = await newKey();
    await kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: sym2.KeyId }));
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: name }))).KeyMetadata!.KeyId, sym2.KeyId);
  });

  test('a key has at most 50 aliases: the 51st is LimitExceededException, and UpdateAlias cannot exceed it either', async () => {
    const key = await newKey();
    for (let i = 0; i < 50; i++) await kms.send(new CreateAliasCommand({ AliasName: `alias/cap-${process.pid}-${i}`, TargetKeyId: key.KeyId }));
    const e = await awsError(() => kms.send(new CreateAliasCommand({ AliasName: aliasName('cap'), TargetKeyId: key.KeyId })));
    assert.equal(e.name, 'LimitExceededException');
    const other = await newKey();
    const name = aliasName('cap');
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: other.KeyId }));
    const e2 = await awsError(() => kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId })));
    assert.equal(e2.name, 'LimitExceededException');
    // Re-pointing an alias at the key it already names does not count twice.
    await kms.send(new UpdateAliasCommand({ AliasName: `alias/cap-${process.pid}-0`, TargetKeyId: key.KeyId }));
    assert.equal((await listAllAliases(kms, key.KeyId)).entries.length, 50);
  });

  test('aliases are regional: the same name can name a different key in each region', async () => {
    const east = server.kms({ region: 'us-east-1' });
    const west = server.kms({ region: 'eu-west-1' });
    const eastKey = await newKey(east);
    const westKey = await newKey(west);
    const name = aliasName('region');
    await east.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: eastKey.KeyId }));
    const e = await awsError(() => west.send(new DescribeKeyCommand({ KeyId: name })));
    assert.equal(e.name, 'NotFoundException');
    assert.equal(e.message, `Alias ${aliasArnOf(name, 'eu-west-1')} is not found.`);
    await west.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: westKey.KeyId }));
    const westList = (await listAllAliases(west)).entries;
    assert.deepEqual(westList.map((a) => [a.AliasName, a.AliasArn, a.TargetKeyId]), [[name, aliasArnOf(name, 'eu-west-1'), westKey.KeyId]]);
    assert.equal((await east.send(new EncryptCommand({ KeyId: name, Plaintext: Buffer.from('x') }))).KeyId, eastKey.Arn);
    assert.equal((await west.send(new EncryptCommand({ KeyId: name, Plaintext: Buffer.from('x') }))).KeyId, westKey.Arn);
    // An alias ARN of another region is not followed.
    const cross = await awsError(() => east.send(new EncryptCommand({ KeyId: aliasArnOf(name, 'eu-west-1'), Plaintext: Buffer.from('x') })));
    assert.equal(cross.name, 'NotFoundException');
    assert.equal(cross.message, 'Invalid arn eu-west-1');
    // A key of another region cannot be the target of an alias.
    const target = await awsError(() => east.send(new CreateAliasCommand({ AliasName: aliasName('region'), TargetKeyId: westKey.Arn })));
    assert.equal(target.name, 'NotFoundException');
    await west.send(new DeleteAliasCommand({ AliasName: name }));
    assert.equal((await east.send(new DescribeKeyCommand({ KeyId: name }))).KeyMetadata!.KeyId, eastKey.KeyId);
  });
});

describe('aliases in cryptographic operations and where AWS refuses them', () => {
  test('Encrypt, Decrypt and DescribeKey accept an alias name and an alias ARN', async () => {
    const key = await newKey();
    const name = aliasName('crypto');
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId }));
    for (const ref of [name, aliasArnOf(name)]) {
      assert.deepEqual((await kms.send(new DescribeKeyCommand({ KeyId: ref }))).KeyMetadata, key);
      const enc = await kms.send(new EncryptCommand({ KeyId: ref, Plaintext: Buffer.from('by alias'), EncryptionContext: { via: ref } }));
      assert.equal(enc.KeyId, key.Arn);
      const plain = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { via: ref } }));
      assert.equal(Buffer.from(plain.Plaintext!).toString(), 'by alias');
      const named = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { via: ref }, KeyId: ref }));
      assert.equal(named.KeyId, key.Arn);
    }
  });

  test('after UpdateAlias, Encrypt by alias uses the new key and old ciphertexts still decrypt; Decrypt naming the alias then refuses them', async () => {
    const k1 = await newKey();
    const k2 = await newKey();
    const name = aliasName('move');
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: k1.KeyId }));
    const old = await kms.send(new EncryptCommand({ KeyId: name, Plaintext: Buffer.from('old') }));
    await kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: k2.KeyId }));
    const fresh = await kms.send(new EncryptCommand({ KeyId: name, Plaintext: Buffer.from('new') }));
    assert.equal(fresh.KeyId, k2.Arn);
    assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: old.CiphertextBlob }))).Plaintext!).toString(), 'old');
    const e = await awsError(() => kms.send(new DecryptCommand({ CiphertextBlob: old.CiphertextBlob, KeyId: name })));
    assert.equal(e.name, 'IncorrectKeyException');
  });

  test('an unknown alias in Encrypt is NotFoundException with the alias ARN', async () => {
    const name = aliasName('unknown');
    const e = await awsError(() => kms.send(new EncryptCommand({ KeyId: name, Plaintext: Buffer.from('x') })));
    assert.equal(e.name, 'NotFoundException');
    assert.equal(e.message, `Alias ${aliasArnOf(name)} is not found.`);
  });

  test('key-management operations take a key id or key ARN only: an alias name or ARN is NotFoundException', async () => {
    const key = await newKey();
    const name = aliasName('mgmt');
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId }));
    const other = aliasName('mgmt');
    for (const ref of [name, aliasArnOf(name)]) {
      const calls: [string, () => Promise<unknown>][] = [
        ['TagResource', () => kms.send(new TagResourceCommand({ KeyId: ref, Tags: [{ TagKey: 'k', TagValue: 'v' }] }))],
        ['UntagResource', () => kms.send(new UntagResourceCommand({ KeyId: ref, TagKeys: ['k'] }))],
        ['ListResourceTags', () => kms.send(new ListResourceTagsCommand({ KeyId: ref }))],
        ['UpdateKeyDescription', () => kms.send(new UpdateKeyDescriptionCommand({ KeyId: ref, Description: 'd' }))],
        ['CreateAlias', () => kms.send(new CreateAliasCommand({ AliasName: other, TargetKeyId: ref }))],
        ['UpdateAlias', () => kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: ref }))],
        ['ListAliases', () => kms.send(new ListAliasesCommand({ KeyId: ref }))],
      ];
      for (const [op, call] of calls) {
        const e = await awsError(call);
        assert.equal(e.name, 'NotFoundException', `${op} with ${ref}`);
        assert.equal(e.message, `Invalid keyId '${ref}'`, `${op} with ${ref}`);
      }
    }
    const tags = await kms.send(new ListResourceTagsCommand({ KeyId: key.Arn }));
    assert.deepEqual(tags.Tags, []);
  });
});

describe('key state rules (AWS key-state table)', () => {
  test('a key pending deletion: no new alias, no tag changes, no description change; listing and DeleteAlias still work', async () => {
    const doomed = await newKey(kms, { Tags: [{ TagKey: 'keep', TagValue: 'me' }] });
    const live = await newKey();
    const onDoomed = aliasName('pd');
    const onLive = aliasName('pd');
    await kms.send(new CreateAliasCommand({ AliasName: onDoomed, TargetKeyId: doomed.KeyId }));
    await kms.send(new CreateAliasCommand({ AliasName: onLive, TargetKeyId: live.KeyId }));
    await markPendingDeletion(doomed.KeyId!);

    const refusals: [string, () => Promise<unknown>][] = [
      ['CreateAlias', () => kms.send(new CreateAliasCommand({ AliasName: aliasName('pd'), TargetKeyId: doomed.KeyId }))],
      ['UpdateAlias to it', () => kms.send(new UpdateAliasCommand({ AliasName: onLive, TargetKeyId: doomed.KeyId }))],
      ['TagResource', () => kms.send(new TagResourceCommand({ KeyId: doomed.KeyId, Tags: [{ TagKey: 'k', TagValue: 'v' }] }))],
      ['UntagResource', () => kms.send(new UntagResourceCommand({ KeyId: doomed.KeyId, TagKeys: ['keep'] }))],
      ['UpdateKeyDescription', () => kms.send(new UpdateKeyDescriptionCommand({ KeyId: doomed.KeyId, Description: 'x' }))],
    ];
    for (const [op, call] of refusals) {
      const e = await awsError(call);
      assert.equal(e.name, 'KMSInvalidStateException', op);
      assert.equal(e.message, `${doomed.Arn} is pending deletion.`, op);
      assert.equal(e.status, 400);
    }
    assert.deepEqual((await kms.send(new ListResourceTagsCommand({ KeyId: doomed.KeyId }))).Tags, [{ TagKey: 'keep', TagValue: 'me' }]);
    assert.deepEqual((await listAllAliases(kms, doomed.KeyId)).entries.map((a) => a.AliasName), [onDoomed]);
    // AWS footnote 10: moving an alias away from a key pending deletion succeeds.
    await kms.send(new UpdateAliasCommand({ AliasName: onDoomed, TargetKeyId: live.KeyId }));
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: onDoomed }))).KeyMetadata!.KeyId, live.KeyId);
    await kms.send(new UpdateAliasCommand({ AliasName: onDoomed, TargetKeyId: live.KeyId }));
    const third = aliasName('pd');
    await kms.send(new CreateAliasCommand({ AliasName: third, TargetKeyId: live.KeyId }));
    await markPendingDeletion(live.KeyId!);
    await kms.send(new DeleteAliasCommand({ AliasName: third }));
  });

  test('a disabled key can still be aliased, tagged and described', async () => {
    const key = await newKey();
    await rewriteKey(key.KeyId!, (doc) => ({ ...doc, state: 'Disabled' }));
    await kms.send(new CreateAliasCommand({ AliasName: aliasName('dis'), TargetKeyId: key.KeyId }));
    await kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'k', TagValue: 'v' }] }));
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: key.KeyId, Description: 'disabled key' }));
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.Description, 'disabled key');
  });
});

describe('TagResource, UntagResource, ListResourceTags', () => {
  test('tags are added, replaced in place, removed (unknown keys ignored) and listed in the order they were added', async () => {
    const key = await newKey(kms, { Tags: [{ TagKey: 'tag1', TagValue: 'value1' }] });
    await kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'tag2', TagValue: 'value2' }, { TagKey: 'tag3', TagValue: 'value3' }] }));
    assert.deepEqual((await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }))).Tags, [
      { TagKey: 'tag1', TagValue: 'value1' }, { TagKey: 'tag2', TagValue: 'value2' }, { TagKey: 'tag3', TagValue: 'value3' },
    ]);
    // AWS [recorded] test_update_and_add_tags_on_tagged_key: a replaced value keeps its place.
    await kms.send(new TagResourceCommand({ KeyId: key.Arn, Tags: [{ TagKey: 'tag2', TagValue: 'updated_value2' }, { TagKey: 'tag4', TagValue: 'value4' }, { TagKey: 'tag5', TagValue: '' }] }));
    assert.deepEqual((await kms.send(new ListResourceTagsCommand({ KeyId: key.Arn }))).Tags, [
      { TagKey: 'tag1', TagValue: 'value1' }, { TagKey: 'tag2', TagValue: 'updated_value2' }, { TagKey: 'tag3', TagValue: 'value3' },
      { TagKey: 'tag4', TagValue: 'value4' }, { TagKey: 'tag5', TagValue: '' },
    ]);
    await kms.send(new UntagResourceCommand({ KeyId: key.KeyId, TagKeys: ['tag2', 'tag5', 'never-there'] }));
    assert.deepEqual((await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }))).Tags, [
      { TagKey: 'tag1', TagValue: 'value1' }, { TagKey: 'tag3', TagValue: 'value3' }, { TagKey: 'tag4', TagValue: 'value4' },
    ]);
    await kms.send(new UntagResourceCommand({ KeyId: key.KeyId, TagKeys: ['tag1', 'tag3', 'tag4'] }));
    const empty = await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }));
    assert.deepEqual(empty.Tags, []);
    assert.equal(empty.Truncated, false);
  });

  test('tag keys are case-sensitive', async () => {
    const key = await newKey();
    await kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'Env', TagValue: '1' }, { TagKey: 'env', TagValue: '2' }] }));
    assert.equal((await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }))).Tags!.length, 2);
  });

  test('ListResourceTags pages with Limit and Marker; a forged marker or another key\'s marker is InvalidMarkerException', async () => {
    const tags = Array.from({ length: 7 }, (_, i) => ({ TagKey: `k${i}`, TagValue: `v${i}` }));
    const key = await newKey(kms, { Tags: tags });
    const paged = await listAllTags(key.KeyId!, 3);
    assert.deepEqual(paged.tags, tags);
    assert.equal(paged.pages, 3);
    const exact = await listAllTags(key.KeyId!, 7);
    assert.equal(exact.pages, 1);
    const first = await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId, Limit: 2 }));
    assert.equal(first.Truncated, true);
    const forged = await awsError(() => kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId, Marker: 'forged' })));
    assert.equal(forged.name, 'InvalidMarkerException');
    const other = await newKey(kms, { Tags: tags });
    const foreign = await awsError(() => kms.send(new ListResourceTagsCommand({ KeyId: other.KeyId, Marker: first.NextMarker })));
    assert.equal(foreign.name, 'InvalidMarkerException');
    for (const Limit of [0, 51]) {
      const e = await awsError(() => kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId, Limit })));
      assert.equal(e.name, 'ValidationException');
    }
  });

  test('every TagException: the aws: prefix in any case, duplicate keys, more than 50 tags', async () => {
    const key = await newKey();
    for (const TagKey of ['aws:x', 'AWS:x', 'Aws:team']) {
      const e = await awsError(() => kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey, TagValue: 'v' }] })));
      assert.equal(e.name, 'TagException');
      assert.equal(e.message, 'Tags beginning with aws: are reserved');
      assert.equal(e.status, 400);
    }
    const dup = await awsError(() => kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'a', TagValue: '1' }, { TagKey: 'a', TagValue: '2' }] })));
    assert.equal(dup.name, 'TagException');
    assert.equal(dup.message, 'Duplicate tag keys');
    const many = Array.from({ length: 51 }, (_, i) => ({ TagKey: `t${i}`, TagValue: 'v' }));
    const tooMany = await awsError(() => kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: many })));
    assert.equal(tooMany.name, 'TagException');
    assert.equal(tooMany.message, 'Too many tags');
    // 50 in all is the limit: 30 present + 20 new is fine, replacing values does not add, one more is too many.
    await kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: many.slice(0, 30) }));
    await kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: many.slice(10, 50) }));
    await kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: many.slice(0, 50).map((t) => ({ ...t, TagValue: 'new' })) }));
    const over = await awsError(() => kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [many[50]!] })));
    assert.equal(over.name, 'TagException');
    assert.equal(over.message, 'Too many tags');
    const listed = (await listAllTags(key.KeyId!)).tags;
    assert.equal(listed.length, 50);
    assert.ok(listed.every((t) => t.TagValue === 'new'));
  });

  test('tag key and value lengths are ValidationExceptions with AWS\'s member paths', async () => {
    const key = await newKey();
    const longKey = 'a'.repeat(129);
    const e1 = await awsError(() => kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: longKey, TagValue: 'v' }] })));
    assert.equal(e1.name, 'ValidationException');
    // AWS [recorded] test_create_key_with_invalid_tag_key[too_long_key]
    assert.equal(e1.message, `1 validation error detected: Value '${longKey}' at 'tags.1.member.tagKey' failed to satisfy constraint: Member must have length less than or equal to 128`);
    const longValue = 'v'.repeat(257);
    const e2 = await awsError(() => kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'ok', TagValue: 'x' }, { TagKey: 'k', TagValue: longValue }] })));
    assert.equal(e2.message, `1 validation error detected: Value '${longValue}' at 'tags.2.member.tagValue' failed to satisfy constraint: Member must have length less than or equal to 256`);
    const e3 = await awsError(() => kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: '', TagValue: 'v' }] })));
    assert.equal(e3.name, 'ValidationException');
    const e4 = await awsError(() => kms.send(new TagResourceCommand({ KeyId: key.KeyId } as never)));
    assert.equal(e4.name, 'ValidationException');
    assert.equal(e4.message, "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
    const e5 = await awsError(() => kms.send(new UntagResourceCommand({ KeyId: key.KeyId, TagKeys: ['x'.repeat(129)] })));
    assert.equal(e5.name, 'ValidationException');
    assert.match(e5.message, /at 'tagKeys\.1\.member' failed to satisfy constraint: Member must have length less than or equal to 128$/);
    assert.deepEqual((await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }))).Tags, []);
  });

  test('concurrent TagResource calls on one key all land', async () => {
    const key = await newKey();
    await Promise.all(Array.from({ length: 12 }, (_, i) =>
      kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: `c${i}`, TagValue: String(i) }] }))));
    const listed = (await listAllTags(key.KeyId!)).tags;
    assert.deepEqual(listed.map((t) => t.TagKey).sort(), Array.from({ length: 12 }, (_, i) => `c${i}`).sort());
  });

  test('tag operations on an unknown key are NotFoundException', async () => {
    const unknown = '22222222-3333-4444-8555-666666666666';
    for (const call of [
      () => kms.send(new TagResourceCommand({ KeyId: unknown, Tags: [{ TagKey: 'k', TagValue: 'v' }] })),
      () => kms.send(new UntagResourceCommand({ KeyId: unknown, TagKeys: ['k'] })),
      () => kms.send(new ListResourceTagsCommand({ KeyId: unknown })),
      () => kms.send(new UpdateKeyDescriptionCommand({ KeyId: unknown, Description: 'd' })),
    ]) {
      const e = await awsError(call);
      assert.equal(e.name, 'NotFoundException');
      assert.equal(e.message, `Key 'arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${unknown}' does not exist`);
    }
  });
});

describe('UpdateKeyDescription', () => {
  test('the new description shows in DescribeKey, by id, ARN and alias; an empty one is allowed', async () => {
    const key = await newKey(kms, { Description: 'before' });
    const name = aliasName('desc');
    await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key.KeyId }));
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: key.KeyId, Description: 'after' }));
    for (const ref of [key.KeyId, key.Arn, name]) {
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: ref }))).KeyMetadata!.Description, 'after');
    }
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: key.Arn, Description: '' }));
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    assert.equal(meta.Description, '');
    assert.deepEqual({ ...meta, Description: 'before' }, key, 'nothing else changed');
  });

  test('Description is required and at most 8192 characters', async () => {
    const key = await newKey();
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: key.KeyId, Description: 'd'.repeat(8192) }));
    const long = await awsError(() => kms.send(new UpdateKeyDescriptionCommand({ KeyId: key.KeyId, Description: 'd'.repeat(8193) })));
    assert.equal(long.name, 'ValidationException');
    assert.match(long.message, /at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192$/);
    const missing = await awsError(() => kms.send(new UpdateKeyDescriptionCommand({ KeyId: key.KeyId } as never)));
    assert.equal(missing.message, "1 validation error detected: Value null at 'description' failed to satisfy constraint: Member must not be null");
  });
});
