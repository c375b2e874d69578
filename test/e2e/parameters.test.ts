/** SSM Parameter Store end to end: the official @aws-sdk/client-ssm against a real Trent. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import {
  AddTagsToResourceCommand,
  DeleteParameterCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  RemoveTagsFromResourceCommand,
  SSMClient,
  UnlabelParameterVersionCommand,
  paginateGetParametersByPath,
} from '@aws-sdk/client-ssm';
import { CreateKeyCommand, DecryptCommand, ListAliasesCommand } from '@aws-sdk/client-kms';
import { DAY_MS, ManualClock } from '../../src/clock.ts';
import { ACCOUNT_ID, ADMIN, E2E_STORAGE, REGION, awsError, filesUnder, rawCall, startServer, type TestServer } from './harness.ts';

let server: TestServer;
let ssm: SSMClient;
const clients: SSMClient[] = [];

function ssmClient(s: TestServer, region = REGION): SSMClient {
  const c = new SSMClient({ endpoint: s.url, region, credentials: ADMIN, maxAttempts: 1 });
  clients.push(c);
  return c;
}

before(async () => {
  server = await startServer();
  ssm = ssmClient(server);
});
after(async () => {
  for (const c of clients) c.destroy();
  await server.stop(true);
});

const arnOf = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter${name.startsWith('/') ? '' : '/'}${name}`;

test('PutParameter creates version 1 in the Standard tier; GetParameter finds it by name and by ARN', async () => {
  const put = await ssm.send(new PutParameterCommand({ Name: '/basic/greeting', Value: 'hello', Type: 'String', Description: 'hi' }));
  assert.equal(put.Version, 1);
  assert.equal(put.Tier, 'Standard');
  const byName = (await ssm.send(new GetParameterCommand({ Name: '/basic/greeting' }))).Parameter!;
  assert.equal(byName.Value, 'hello');
  assert.equal(byName.Type, 'String');
  assert.equal(byName.Version, 1);
  assert.equal(byName.ARN, arnOf('/basic/greeting'));
  assert.equal(byName.DataType, 'text');
  assert.ok(byName.LastModifiedDate instanceof Date);
  assert.equal(byName.Selector, undefined);
  const byArn = (await ssm.send(new GetParameterCommand({ Name: arnOf('/basic/greeting') }))).Parameter!;
  assert.equal(byArn.Value, 'hello');
  await ssm.send(new PutParameterCommand({ Name: 'flat', Value: 'a,b,c', Type: 'StringList' }));
  const flat = (await ssm.send(new GetParameterCommand({ Name: arnOf('flat') }))).Parameter!;
  assert.equal(flat.Name, 'flat');
  assert.equal(flat.Type, 'StringList');
  assert.equal(flat.Value, 'a,b,c');
  const missing = await awsError(() => ssm.send(new GetParameterCommand({ Name: '/basic/nope' })));
  assert.equal(missing.name, 'ParameterNotFound');
  assert.equal(missing.status, 400);
});

test('SecureString is encrypted under alias/aws/ssm with PARAMETER_ARN; WithDecryption false returns the ciphertext', async () => {
  const name = '/secure/db-password';
  await ssm.send(new PutParameterCommand({ Name: name, Value: 's3cr3t-value', Type: 'SecureString' }));
  const plain = (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter!;
  assert.equal(plain.Value, 's3cr3t-value');
  const cipher = (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter!;
  assert.notEqual(cipher.Value, 's3cr3t-value');
  const kms = server.kms();
  const aliases = await kms.send(new ListAliasesCommand({}));
  const ssmAlias = aliases.Aliases!.find((a) => a.AliasName === 'alias/aws/ssm');
  assert.ok(ssmAlias, 'alias/aws/ssm is created on first use');
  // AWS: the AWS-managed key may be used only through Parameter Store, even by the administrator.
  const direct = await awsError(() =>
    kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(cipher.Value!, 'base64'), EncryptionContext: { PARAMETER_ARN: arnOf(name) } })),
  );
  assert.equal(direct.name, 'AccessDeniedException');

  // A customer key by id; an unknown key is InvalidKeyId.
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  await ssm.send(new PutParameterCommand({ Name: '/secure/custom', Value: 'custom-secret', Type: 'SecureString', KeyId: keyId }));
  const custom = (await ssm.send(new GetParameterCommand({ Name: '/secure/custom', WithDecryption: true }))).Parameter!;
  assert.equal(custom.Value, 'custom-secret');
  // The stored value is a KMS ciphertext that KMS itself decrypts with the parameter's ARN as context.
  const customCipher = (await ssm.send(new GetParameterCommand({ Name: '/secure/custom' }))).Parameter!.Value!;
  const dec = await kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(customCipher, 'base64'), EncryptionContext: { PARAMETER_ARN: arnOf('/secure/custom') } }));
  assert.equal(Buffer.from(dec.Plaintext!).toString(), 'custom-secret');
  assert.equal(dec.KeyId!.endsWith(keyId), true);
  const wrongContext = await awsError(() =>
    kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(customCipher, 'base64'), EncryptionContext: { PARAMETER_ARN: arnOf('/other') } })),
  );
  assert.equal(wrongContext.name, 'InvalidCiphertextException');
  const described = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: ['/secure/custom'] }] }));
  assert.equal(described.Parameters![0]!.KeyId, keyId);
  const bad = await awsError(() =>
    ssm.send(new PutParameterCommand({ Name: '/secure/bad', Value: 'x', Type: 'SecureString', KeyId: '11111111-2222-3333-4444-555555555555' })),
  );
  assert.equal(bad.name, 'InvalidKeyId');
});

test('Overwrite: without it ParameterAlreadyExists; the type cannot change; tags and overwrite are exclusive', async () => {
  await ssm.send(new PutParameterCommand({ Name: '/ow/p', Value: 'v1', Type: 'String' }));
  assert.equal((await awsError(() => ssm.send(new PutParameterCommand({ Name: '/ow/p', Value: 'v2', Type: 'String' })))).name, 'ParameterAlreadyExists');
  const v2 = await ssm.send(new PutParameterCommand({ Name: '/ow/p', Value: 'v2', Overwrite: true }));
  assert.equal(v2.Version, 2);
  assert.equal((await ssm.send(new GetParameterCommand({ Name: '/ow/p' }))).Parameter!.Value, 'v2');
  const typeChange = await awsError(() => ssm.send(new PutParameterCommand({ Name: '/ow/p', Value: 'v3', Type: 'SecureString', Overwrite: true })));
  assert.equal(typeChange.name, 'HierarchyTypeMismatchException');
  const tagsAndOverwrite = await awsError(() =>
    ssm.send(new PutParameterCommand({ Name: '/ow/p', Value: 'v3', Overwrite: true, Tags: [{ Key: 'a', Value: 'b' }] })),
  );
  assert.equal(tagsAndOverwrite.name, 'ValidationException');
  const noType = await awsError(() => ssm.send(new PutParameterCommand({ Name: '/ow/new', Value: 'x' })));
  assert.equal(noType.name, 'ValidationException');
});

test('concurrent overwrites never lose a version or reuse a number', async () => {
  await ssm.send(new PutParameterCommand({ Name: '/race/p', Value: 'v0', Type: 'String' }));
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => ssm.send(new PutParameterCommand({ Name: '/race/p', Value: `v${i + 1}`, Overwrite: true }))),
  );
  // AWS answers contention with TooManyUpdates; any write that succeeded has its own number and its row.
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'TooManyUpdates');
  const versions = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.Version!] : [])).sort((a, b) => a - b);
  assert.ok(versions.length >= 15, `only ${versions.length} of 20 writes succeeded`);
  assert.deepEqual(versions, Array.from({ length: versions.length }, (_, i) => i + 2));
  const history = await ssm.send(new GetParameterHistoryCommand({ Name: '/race/p' }));
  assert.deepEqual(history.Parameters!.map((p) => p.Version), [1, ...versions]);
  const values = new Set(history.Parameters!.map((p) => p.Value));
  assert.equal(values.size, versions.length + 1);
});

test('name rules: characters, aws/ssm prefixes, hierarchy depth 15, 1011 characters including the ARN', async () => {
  for (const bad of ['has space', 'bad*char', 'awsThing', '/ssm/x', '/AWS/x', 'no/leading/slash']) {
    const e = await awsError(() => ssm.send(new PutParameterCommand({ Name: bad, Value: 'x', Type: 'String' })));
    assert.equal(e.name, 'ValidationException', bad);
  }
  const levels = (n: number) => Array.from({ length: n }, (_, i) => `/l${i}`).join('');
  await ssm.send(new PutParameterCommand({ Name: levels(15), Value: 'deep', Type: 'String' }));
  const tooDeep = await awsError(() => ssm.send(new PutParameterCommand({ Name: levels(16), Value: 'x', Type: 'String' })));
  assert.equal(tooDeep.name, 'HierarchyLevelLimitExceededException');
  // arn:aws:ssm:us-east-1:111122223333:parameter is 44 characters; the name brings its own leading slash.
  const prefix = `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter`.length;
  const longest = `/${'n'.repeat(1011 - prefix - 1)}`;
  await ssm.send(new PutParameterCommand({ Name: longest, Value: 'long', Type: 'String' }));
  assert.equal((await ssm.send(new GetParameterCommand({ Name: longest }))).Parameter!.Value, 'long');
  const tooLong = await awsError(() => ssm.send(new PutParameterCommand({ Name: `${longest}x`, Value: 'x', Type: 'String' })));
  assert.equal(tooLong.name, 'ValidationException');
  const wireMax = await awsError(() => ssm.send(new PutParameterCommand({ Name: `/${'z'.repeat(2048)}`, Value: 'x', Type: 'String' })));
  assert.equal(wireMax.name, 'ValidationException');
  assert.match(wireMax.message, /Member must have length less than or equal to 2048/);
});

test('value sizes and tiers: Standard 4 KB, Advanced 8 KB, Intelligent-Tiering, Advanced is never downgraded', async () => {
  await ssm.send(new PutParameterCommand({ Name: '/size/std', Value: 'a'.repeat(4096), Type: 'String' }));
  const big = await awsError(() => ssm.send(new PutParameterCommand({ Name: '/size/std2', Value: 'a'.repeat(4097), Type: 'String' })));
  assert.equal(big.name, 'ValidationException');
  const adv = await ssm.send(new PutParameterCommand({ Name: '/size/adv', Value: 'a'.repeat(8192), Type: 'String', Tier: 'Advanced' }));
  assert.equal(adv.Tier, 'Advanced');
  const tooBig = await awsError(() => ssm.send(new PutParameterCommand({ Name: '/size/adv2', Value: 'a'.repeat(8193), Type: 'String', Tier: 'Advanced' })));
  assert.equal(tooBig.name, 'ValidationException');
  const smart = await ssm.send(new PutParameterCommand({ Name: '/size/it', Value: 'a'.repeat(5000), Type: 'String', Tier: 'Intelligent-Tiering' }));
  assert.equal(smart.Tier, 'Advanced');
  const smartSmall = await ssm.send(new PutParameterCommand({ Name: '/size/it-small', Value: 'a', Type: 'String', Tier: 'Intelligent-Tiering' }));
  assert.equal(smartSmall.Tier, 'Standard');
  const down = await awsError(() => ssm.send(new PutParameterCommand({ Name: '/size/adv', Value: 'b', Overwrite: true, Tier: 'Standard' })));
  assert.equal(down.name, 'ValidationException');
  const kept = await ssm.send(new PutParameterCommand({ Name: '/size/adv', Value: 'b', Overwrite: true }));
  assert.equal(kept.Tier, 'Advanced');
});

test('AllowedPattern: a value must match it; an invalid pattern is refused', async () => {
  await ssm.send(new PutParameterCommand({ Name: '/pattern/port', Value: '8080', Type: 'String', AllowedPattern: '^\\d+$' }));
  const mismatch = await awsError(() => ssm.send(new PutParameterCommand({ Name: '/pattern/port', Value: 'eighty', Overwrite: true })));
  assert.equal(mismatch.name, 'ParameterPatternMismatchException');
  const invalid = await awsError(() => ssm.send(new PutParameterCommand({ Name: '/pattern/bad', Value: 'x', Type: 'String', AllowedPattern: '([' })));
  assert.equal(invalid.name, 'InvalidAllowedPatternException');
});

test('selectors name:version and name:label return the Selector; GetParameters lists what it could not find', async () => {
  await ssm.send(new PutParameterCommand({ Name: '/sel/p', Value: 'one', Type: 'String' }));
  await ssm.send(new PutParameterCommand({ Name: '/sel/p', Value: 'two', Overwrite: true }));
  await ssm.send(new LabelParameterVersionCommand({ Name: '/sel/p', ParameterVersion: 1, Labels: ['prod'] }));
  const v1 = (await ssm.send(new GetParameterCommand({ Name: '/sel/p:1' }))).Parameter!;
  assert.equal(v1.Value, 'one');
  assert.equal(v1.Selector, ':1');
  const prod = (await ssm.send(new GetParameterCommand({ Name: `${arnOf('/sel/p')}:prod` }))).Parameter!;
  assert.equal(prod.Value, 'one');
  assert.equal(prod.Selector, ':prod');
  assert.equal((await awsError(() => ssm.send(new GetParameterCommand({ Name: '/sel/p:9' })))).name, 'ParameterVersionNotFound');
  const many = await ssm.send(new GetParametersCommand({ Names: ['/sel/p', '/sel/p:1', '/sel/missing', '/sel/p:7'] }));
  assert.deepEqual(many.Parameters!.map((p) => p.Value), ['two', 'one']);
  assert.deepEqual(many.InvalidParameters, ['/sel/missing', '/sel/p:7']);
  const tooMany = await awsError(() => ssm.send(new GetParametersCommand({ Names: Array.from({ length: 11 }, (_, i) => `/n${i}`) })));
  assert.equal(tooMany.name, 'ValidationException');
});

test('GetParametersByPath: one level or recursive, at most 10 per page with NextToken, filters, decryption', async () => {
  for (let i = 0; i < 23; i++) await ssm.send(new PutParameterCommand({ Name: `/tree/app/p${String(i).padStart(2, '0')}`, Value: `v${i}`, Type: 'String' }));
  await ssm.send(new PutParameterCommand({ Name: '/tree/app/deep/x', Value: 'deep', Type: 'String' }));
  await ssm.send(new PutParameterCommand({ Name: '/tree/app/deep/secret', Value: 'hidden', Type: 'SecureString' }));
  await ssm.send(new PutParameterCommand({ Name: '/tree/top', Value: 'top', Type: 'String' }));

  const first = await ssm.send(new GetParametersByPathCommand({ Path: '/tree/app' }));
  assert.equal(first.Parameters!.length, 10);
  assert.ok(first.NextToken);
  const names: string[] = [];
  for await (const page of paginateGetParametersByPath({ client: ssm }, { Path: '/tree/app/' })) {
    assert.ok(page.Parameters!.length <= 10);
    names.push(...page.Parameters!.map((p) => p.Name!));
  }
  assert.equal(names.length, 23);
  assert.ok(names.every((n) => /^\/tree\/app\/p\d\d$/.test(n)));

  const all: Record<string, string> = {};
  for await (const page of paginateGetParametersByPath({ client: ssm }, { Path: '/tree', Recursive: true, WithDecryption: true, MaxResults: 7 })) {
    for (const p of page.Parameters!) all[p.Name!] = p.Value!;
  }
  assert.equal(Object.keys(all).length, 26);
  assert.equal(all['/tree/app/deep/secret'], 'hidden');

  const secure = await ssm.send(new GetParametersByPathCommand({ Path: '/tree', Recursive: true, ParameterFilters: [{ Key: 'Type', Values: ['SecureString'] }] }));
  assert.deepEqual(secure.Parameters!.map((p) => p.Name), ['/tree/app/deep/secret']);
  assert.notEqual(secure.Parameters![0]!.Value, 'hidden');

  const badKey = await awsError(() => ssm.send(new GetParametersByPathCommand({ Path: '/tree', ParameterFilters: [{ Key: 'Name', Values: ['x'] }] })));
  assert.equal(badKey.name, 'InvalidFilterKey');
  const badOption = await awsError(() =>
    ssm.send(new GetParametersByPathCommand({ Path: '/tree', ParameterFilters: [{ Key: 'Label', Option: 'BeginsWith', Values: ['x'] }] })),
  );
  assert.equal(badOption.name, 'InvalidFilterOption');
  const pageTooBig = await awsError(() => ssm.send(new GetParametersByPathCommand({ Path: '/tree', MaxResults: 11 })));
  assert.equal(pageTooBig.name, 'ValidationException');
  const badToken = await awsError(() => ssm.send(new GetParametersByPathCommand({ Path: '/tree', NextToken: 'garbage' })));
  assert.equal(badToken.name, 'InvalidNextToken');
});

test('DeleteParameter and DeleteParameters', async () => {
  await ssm.send(new PutParameterCommand({ Name: '/del/a', Value: 'a', Type: 'String' }));
  await ssm.send(new PutParameterCommand({ Name: '/del/b', Value: 'b', Type: 'String' }));
  await ssm.send(new PutParameterCommand({ Name: '/del/c', Value: 'c', Type: 'String' }));
  await ssm.send(new DeleteParameterCommand({ Name: '/del/a' }));
  assert.equal((await awsError(() => ssm.send(new GetParameterCommand({ Name: '/del/a' })))).name, 'ParameterNotFound');
  assert.equal((await awsError(() => ssm.send(new DeleteParameterCommand({ Name: '/del/a' })))).name, 'ParameterNotFound');
  const out = await ssm.send(new DeleteParametersCommand({ Names: ['/del/b', arnOf('/del/c'), '/del/zzz'] }));
  assert.deepEqual(out.DeletedParameters, ['/del/b', arnOf('/del/c')]);
  assert.deepEqual(out.InvalidParameters, ['/del/zzz']);
  // A deleted name can be created again, from version 1.
  assert.equal((await ssm.send(new PutParameterCommand({ Name: '/del/a', Value: 'again', Type: 'String' }))).Version, 1);
});

test('DescribeParameters: Filters and ParameterFilters (Name, Type, KeyId, Path, Tier, DataType, tag:)', async () => {
  await ssm.send(new PutParameterCommand({ Name: '/desc/one', Value: '1', Type: 'String', Tags: [{ Key: 'team', Value: 'blue' }] }));
  await ssm.send(new PutParameterCommand({ Name: '/desc/two', Value: '2', Type: 'SecureString', Description: 'second' }));
  await ssm.send(new PutParameterCommand({ Name: '/desc/sub/three', Value: '3', Type: 'String', Tier: 'Advanced' }));
  const names = async (input: ConstructorParameters<typeof DescribeParametersCommand>[0]) => {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await ssm.send(new DescribeParametersCommand({ ...input, ...(token ? { NextToken: token } : {}) }));
      out.push(...page.Parameters!.map((p) => p.Name!));
      token = page.NextToken;
    } while (token);
    return out;
  };
  assert.deepEqual(await names({ ParameterFilters: [{ Key: 'Path', Values: ['/desc'] }] }), ['/desc/one', '/desc/two']);
  assert.deepEqual(await names({ ParameterFilters: [{ Key: 'Path', Option: 'Recursive', Values: ['/desc'] }] }), ['/desc/one', '/desc/sub/three', '/desc/two']);
  assert.deepEqual(await names({ ParameterFilters: [{ Key: 'Path', Option: 'Recursive', Values: ['/desc'] }, { Key: 'Type', Values: ['SecureString'] }] }), ['/desc/two']);
  assert.deepEqual(await names({ ParameterFilters: [{ Key: 'Name', Option: 'Contains', Values: ['sub/thr'] }] }), ['/desc/sub/three']);
  assert.deepEqual(await names({ ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/desc/t'] }] }), ['/desc/two']);
  assert.deepEqual(await names({ ParameterFilters: [{ Key: 'Tier', Values: ['Advanced'] }, { Key: 'Path', Option: 'Recursive', Values: ['/desc'] }] }), ['/desc/sub/three']);
  assert.deepEqual(await names({ ParameterFilters: [{ Key: 'tag:team', Values: ['blue'] }] }), ['/desc/one']);
  assert.deepEqual(await names({ ParameterFilters: [{ Key: 'DataType', Values: ['text'] }, { Key: 'Path', Values: ['/desc/sub'] }] }), ['/desc/sub/three']);
  assert.deepEqual(await names({ ParameterFilters: [{ Key: 'KeyId', Values: ['alias/aws/ssm'] }, { Key: 'Path', Values: ['/desc'] }] }), ['/desc/two']);
  assert.deepEqual((await names({ Filters: [{ Key: 'Name', Values: ['/desc/'] }] })).length, 3);
  const two = (await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: ['/desc/two'] }] }))).Parameters![0]!;
  assert.equal(two.Description, 'second');
  assert.equal(two.Tier, 'Standard');
  assert.equal(two.Version, 1);
  assert.equal(two.ARN, arnOf('/desc/two'));
  assert.equal((await awsError(() => ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Label', Values: ['x'] }] })))).name, 'InvalidFilterKey');
  assert.equal((await awsError(() => ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Path', Option: 'Equals', Values: ['/x'] }] })))).name, 'InvalidFilterOption');
  assert.equal((await awsError(() => ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Type', Option: 'Contains', Values: ['x'] }] })))).name, 'InvalidFilterOption');
  assert.equal((await awsError(() => ssm.send(new DescribeParametersCommand({ MaxResults: 51 })))).name, 'ValidationException');
  assert.equal(
    (await awsError(() => ssm.send(new DescribeParametersCommand({ Filters: [{ Key: 'Name', Values: ['x'] }], ParameterFilters: [{ Key: 'Name', Values: ['x'] }] })))).name,
    'ValidationException',
  );
});

test('history and labels: labels move between versions, at most 10 per version, invalid labels are returned, unlabel', async () => {
  const name = '/labels/p';
  for (let i = 1; i <= 3; i++) await ssm.send(new PutParameterCommand({ Name: name, Value: `v${i}`, Type: 'String', ...(i > 1 ? { Overwrite: true } : {}) }));
  const l1 = await ssm.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 1, Labels: ['stable', '1bad', 'awsNo', 'ok.label-x_y'] }));
  assert.equal(l1.ParameterVersion, 1);
  assert.deepEqual(l1.InvalidLabels, ['1bad', 'awsNo']);
  const latest = await ssm.send(new LabelParameterVersionCommand({ Name: name, Labels: ['stable'] }));
  assert.equal(latest.ParameterVersion, 3);
  const history = (await ssm.send(new GetParameterHistoryCommand({ Name: name }))).Parameters!;
  assert.deepEqual(history.map((h) => [h.Version, h.Value, h.Labels]), [[1, 'v1', ['ok.label-x_y']], [2, 'v2', []], [3, 'v3', ['stable']]]);
  const paged = await ssm.send(new GetParameterHistoryCommand({ Name: name, MaxResults: 2 }));
  assert.equal(paged.Parameters!.length, 2);
  const rest = await ssm.send(new GetParameterHistoryCommand({ Name: name, MaxResults: 2, NextToken: paged.NextToken }));
  assert.deepEqual(rest.Parameters!.map((p) => p.Version), [3]);
  assert.equal(rest.NextToken, undefined);

  const ten = Array.from({ length: 10 }, (_, i) => `l${i}`);
  await ssm.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 2, Labels: ten }));
  const eleventh = await awsError(() => ssm.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 2, Labels: ['one-more'] })));
  assert.equal(eleventh.name, 'ParameterVersionLabelLimitExceeded');
  const noVersion = await awsError(() => ssm.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 9, Labels: ['x'] })));
  assert.equal(noVersion.name, 'ParameterVersionNotFound');
  const noParam = await awsError(() => ssm.send(new LabelParameterVersionCommand({ Name: '/labels/none', Labels: ['x'] })));
  assert.equal(noParam.name, 'ParameterNotFound');

  const un = await ssm.send(new UnlabelParameterVersionCommand({ Name: name, ParameterVersion: 2, Labels: ['l0', 'l1', 'stable'] }));
  assert.deepEqual(un.RemovedLabels, ['l0', 'l1']);
  assert.deepEqual(un.InvalidLabels, ['stable']);
  const secure = '/labels/secure';
  await ssm.send(new PutParameterCommand({ Name: secure, Value: 'hush', Type: 'SecureString' }));
  const h = (await ssm.send(new GetParameterHistoryCommand({ Name: secure, WithDecryption: true }))).Parameters!;
  assert.equal(h[0]!.Value, 'hush');
  assert.equal(h[0]!.KeyId, 'alias/aws/ssm');
});

test('100 versions are kept: the oldest is dropped, unless it is labelled (ParameterMaxVersionLimitExceeded)', async () => {
  const name = '/versions/p';
  await ssm.send(new PutParameterCommand({ Name: name, Value: 'v1', Type: 'String' }));
  for (let i = 2; i <= 100; i++) await ssm.send(new PutParameterCommand({ Name: name, Value: `v${i}`, Overwrite: true }));
  await ssm.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 2, Labels: ['keep'] }));
  const v101 = await ssm.send(new PutParameterCommand({ Name: name, Value: 'v101', Overwrite: true }));
  assert.equal(v101.Version, 101);
  assert.equal((await awsError(() => ssm.send(new GetParameterCommand({ Name: `${name}:1` })))).name, 'ParameterVersionNotFound');
  const versions: number[] = [];
  let token: string | undefined;
  do {
    const page = await ssm.send(new GetParameterHistoryCommand({ Name: name, ...(token ? { NextToken: token } : {}) }));
    versions.push(...page.Parameters!.map((p) => p.Version!));
    token = page.NextToken;
  } while (token);
  assert.equal(versions.length, 100);
  assert.equal(versions[0], 2);
  // Version 2 is now the oldest and carries a label: the next write is refused and changes nothing.
  const refused = await awsError(() => ssm.send(new PutParameterCommand({ Name: name, Value: 'v102', Overwrite: true })));
  assert.equal(refused.name, 'ParameterMaxVersionLimitExceeded');
  assert.equal((await ssm.send(new GetParameterCommand({ Name: name }))).Parameter!.Version, 101);
  await ssm.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 50, Labels: ['keep'] }));
  assert.equal((await ssm.send(new PutParameterCommand({ Name: name, Value: 'v102', Overwrite: true }))).Version, 102);
});

test('tags: AddTagsToResource, ListTagsForResource, RemoveTagsFromResource; unknown resources and types refused', async () => {
  await ssm.send(new PutParameterCommand({ Name: '/tags/p', Value: 'x', Type: 'String', Tags: [{ Key: 'env', Value: 'dev' }] }));
  await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: '/tags/p', Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'a' }] }));
  const listed = await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/tags/p' }));
  assert.deepEqual(listed.TagList, [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'a' }]);
  await ssm.send(new RemoveTagsFromResourceCommand({ ResourceType: 'Parameter', ResourceId: '/tags/p', TagKeys: ['env'] }));
  assert.deepEqual((await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/tags/p' }))).TagList, [{ Key: 'team', Value: 'a' }]);
  assert.equal((await awsError(() => ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/tags/none' })))).name, 'InvalidResourceId');
  assert.equal((await awsError(() => ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Document', ResourceId: '/tags/p' })))).name, 'InvalidResourceType');
  const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
  assert.equal((await awsError(() => ssm.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: '/tags/p', Tags: many })))).name, 'TooManyTagsError');
});

test('parameters are regional: another region of the same account sees none of them', async () => {
  await ssm.send(new PutParameterCommand({ Name: '/region/only-here', Value: 'x', Type: 'String' }));
  const other = ssmClient(server, 'eu-west-1');
  assert.equal((await awsError(() => other.send(new GetParameterCommand({ Name: '/region/only-here' })))).name, 'ParameterNotFound');
  assert.equal((await awsError(() => other.send(new GetParameterCommand({ Name: arnOf('/region/only-here') })))).name, 'ParameterNotFound');
  await other.send(new PutParameterCommand({ Name: '/region/only-here', Value: 'eu', Type: 'String' }));
  assert.equal((await ssm.send(new GetParameterCommand({ Name: '/region/only-here' }))).Parameter!.Value, 'x');
});

test('Expiration policy: the background job deletes the parameter when due; notifications are recorded', async () => {
  const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
  const s = await startServer({ clock });
  try {
    const c = ssmClient(s);
    const policies = JSON.stringify([
      { Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: '2030-01-03T00:00:00.000Z' } },
      { Type: 'ExpirationNotification', Version: '1.0', Attributes: { Before: '1', Unit: 'Days' } },
      { Type: 'NoChangeNotification', Version: '1.0', Attributes: { After: '10', Unit: 'Days' } },
    ]);
    const standard = await awsError(() => c.send(new PutParameterCommand({ Name: '/exp/p', Value: 'x', Type: 'String', Policies: policies })));
    assert.equal(standard.name, 'ValidationException');
    const put = await c.send(new PutParameterCommand({ Name: '/exp/p', Value: 'x', Type: 'String', Policies: policies, Tier: 'Intelligent-Tiering' }));
    assert.equal(put.Tier, 'Advanced');
    await c.send(new PutParameterCommand({ Name: '/exp/keep', Value: 'y', Type: 'String' }));
    const meta = (await c.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: ['/exp/p'] }] }))).Parameters![0]!;
    assert.deepEqual(meta.Policies!.map((p) => [p.PolicyType, p.PolicyStatus]), [['Expiration', 'Pending'], ['ExpirationNotification', 'Pending'], ['NoChangeNotification', 'Pending']]);
    const badType = await awsError(() => c.send(new PutParameterCommand({ Name: '/exp/bad', Value: 'x', Type: 'String', Tier: 'Advanced', Policies: '[{"Type":"Nope"}]' })));
    assert.equal(badType.name, 'InvalidPolicyTypeException');

    clock.advance(DAY_MS);
    await s.app.jobs.runOnce();
    assert.equal((await c.send(new GetParameterCommand({ Name: '/exp/p' }))).Parameter!.Value, 'x');
    clock.advance(DAY_MS + 1000);
    await s.app.jobs.runOnce();
    assert.equal((await awsError(() => c.send(new GetParameterCommand({ Name: '/exp/p' })))).name, 'ParameterNotFound');
    assert.equal((await c.send(new GetParameterCommand({ Name: '/exp/keep' }))).Parameter!.Value, 'y');
  } finally {
    await s.stop(true);
  }
});

const sqliteOnly = E2E_STORAGE === 'sqlite' ? false : `searches SQLite's files; this run stores in ${E2E_STORAGE}`;

test('no SecureString value is in the data dir files (database, WAL), in any encoding', { skip: sqliteOnly }, async () => {
  const s = await startServer();
  const c = ssmClient(s);
  const values = ['correct-horse-battery-staple-1', 'correct-horse-battery-staple-2'];
  await c.send(new PutParameterCommand({ Name: '/leak/a', Value: values[0], Type: 'SecureString' }));
  await c.send(new PutParameterCommand({ Name: '/leak/a', Value: values[1], Overwrite: true }));
  await c.send(new PutParameterCommand({ Name: '/leak/plain', Value: 'visible-string-value', Type: 'String' }));
  assert.equal((await c.send(new GetParameterCommand({ Name: '/leak/a', WithDecryption: true }))).Parameter!.Value, values[1]);
  const dir = s.dataDir;
  await s.stop();
  // Every file below the data dir (audit digests and exports included), but the development root key.
  const files = filesUnder(dir).filter((f) => basename(f) !== 'root.key');
  const haystack = Buffer.concat(files.map((f) => readFileSync(f)));
  // The search works: the String value is stored as given…
  assert.ok(haystack.includes(Buffer.from('visible-string-value')));
  // …and the SecureString values are not, raw, hex or base64.
  for (const v of values) {
    for (const needle of [v, Buffer.from(v).toString('hex'), Buffer.from(v).toString('base64')]) {
      assert.equal(haystack.includes(Buffer.from(needle)), false, `found ${needle} in the data dir`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

test('the AmazonSSM wire: SigV4 service ssm, typed errors, bounded validation that never echoes a value', async () => {
  const call = (op: string, body: unknown, service = 'ssm') => rawCall(server.url, `AmazonSSM.${op}`, JSON.stringify(body), { service });
  const ok = await call('PutParameter', { Name: '/wire/p', Value: 'w', Type: 'String' });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json, { Version: 1, Tier: 'Standard' });
  const wrongService = await call('GetParameter', { Name: '/wire/p' }, 'kms');
  assert.equal(wrongService.status, 400);
  const unknown = await call('SendCommand', {});
  assert.equal(unknown.json.__type, 'UnknownOperationException');
  const wrongType = await call('GetParameter', { Name: 7 });
  assert.equal(wrongType.json.__type, 'SerializationException');
  const missing = await call('PutParameter', { Value: 'x' });
  assert.equal(missing.json.__type, 'ValidationException');
  assert.match(String(missing.json.message), /Value null at 'name' failed to satisfy constraint: Member must not be null/);
  const secret = `top-secret-${'s'.repeat(8200)}`;
  const tooLong = await call('PutParameter', { Name: '/wire/big', Value: secret, Type: 'SecureString' });
  assert.equal(tooLong.json.__type, 'ValidationException');
  assert.equal(String(tooLong.json.message).includes('top-secret'), false);
  assert.match(String(tooLong.json.message), /less than or equal to 8192/);
  const badEnum = await call('PutParameter', { Name: '/wire/e', Value: 'x', Type: 'Integer' });
  assert.match(String(badEnum.json.message), /Member must satisfy enum value set: \[String, StringList, SecureString\]/);
});
