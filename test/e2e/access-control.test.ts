/**
 * Access control end to end, through @aws-sdk/client-kms with two principals' credentials (alice owns
 * keys, bob tries to use them): key policies, identity policies, grants and their constraints,
 * RevokeGrant/RetireGrant, the lockout safety check, temporary credentials and their expiry, and what a
 * denied call reveals. Principals are made through the TrentAdmin API (SigV4 service `trent`); the last
 * part drives `trent iam`, which goes over the IAM and STS query APIs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateAliasCommand, CreateGrantCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GetKeyPolicyCommand,
  KMSClient, ListAliasesCommand, ListGrantsCommand, ListKeyPoliciesCommand, ListKeysCommand, ListRetirableGrantsCommand, PutKeyPolicyCommand,
  RetireGrantCommand, RevokeGrantCommand,
} from '@aws-sdk/client-kms';
import { runCli } from '../../src/cli/main.ts';
import { ManualClock } from '../../src/clock.ts';
import { ACCOUNT_ID, awsError, rawCall, startServer, type TestServer } from './harness.ts';

const clock = new ManualClock(Date.now());
let server: TestServer;
let alice: KMSClient;
let bob: KMSClient;
let bobKeys: { accessKeyId: string; secretAccessKey: string };
const BOB_ARN = `arn:aws:iam::${ACCOUNT_ID}:user/bob`;
const ROOT_ARN = `arn:aws:iam::${ACCOUNT_ID}:root`;
const PLAINTEXT = new TextEncoder().encode('secret');

async function adminCall(op: string, body: Record<string, unknown>, credentials?: { accessKeyId: string; secretAccessKey: string }) {
  const res = await rawCall(server.url, `TrentAdmin.${op}`, JSON.stringify(body), { service: 'trent', ...(credentials ? { credentials } : {}) });
  if (res.status !== 200) throw Object.assign(new Error(String(res.json.message)), { name: String(res.json.__type), status: res.status });
  return res.json;
}

async function newUser(name: string, policy?: Record<string, unknown>) {
  await adminCall('CreateUser', { UserName: name });
  if (policy) await adminCall('PutUserPolicy', { UserName: name, PolicyName: 'p', PolicyDocument: JSON.stringify(policy) });
  const out = (await adminCall('CreateAccessKey', { UserName: name })) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } };
  return { accessKeyId: out.AccessKey.AccessKeyId, secretAccessKey: out.AccessKey.SecretAccessKey };
}

function allow(action: string | string[], resource: string | string[] = '*') {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] };
}

async function aliceKey(policy?: string): Promise<string> {
  const out = await alice.send(new CreateKeyCommand(policy ? { Policy: policy } : {}));
  return out.KeyMetadata!.Arn!;
}

const bobEncrypts = (keyId: string, ctx?: Record<string, string>) =>
  bob.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT, ...(ctx ? { EncryptionContext: ctx } : {}) }));

before(async () => {
  server = await startServer({ clock });
  alice = server.kms({ credentials: await newUser('alice', allow('kms:*')) });
  bobKeys = await newUser('bob');
  bob = server.kms({ credentials: bobKeys });
});
after(() => server.stop(true));

describe('B cannot use A\'s key until a policy or grant allows it', () => {
  test('denied by default, with AWS\'s AccessDeniedException message naming the identity-based policy', async () => {
    const key = await aliceKey();
    const err = await awsError(() => bobEncrypts(key));
    assert.equal(err.name, 'AccessDeniedException');
    assert.equal(
      err.message,
      `User: ${BOB_ARN} is not authorized to perform: kms:Encrypt on resource: ${key} because no identity-based policy allows the kms:Encrypt action`,
    );
  });

  test('a key policy statement naming B allows B without any identity policy', async () => {
    const key = await aliceKey();
    assert.equal((await awsError(() => bobEncrypts(key))).name, 'AccessDeniedException');
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'owner', Effect: 'Allow', Principal: { AWS: ROOT_ARN }, Action: 'kms:*', Resource: '*' },
        { Sid: 'bob', Effect: 'Allow', Principal: { AWS: BOB_ARN }, Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*' },
      ],
    };
    await alice.send(new PutKeyPolicyCommand({ KeyId: key, PolicyName: 'default', Policy: JSON.stringify(policy) }));
    const { CiphertextBlob } = await bobEncrypts(key);
    const { Plaintext } = await bob.send(new DecryptCommand({ CiphertextBlob }));
    assert.deepEqual(Buffer.from(Plaintext!), Buffer.from(PLAINTEXT));
    const got = await alice.send(new GetKeyPolicyCommand({ KeyId: key, PolicyName: 'default' }));
    assert.deepEqual(JSON.parse(got.Policy!), policy);
    assert.deepEqual((await alice.send(new ListKeyPoliciesCommand({ KeyId: key }))).PolicyNames, ['default']);
  });

  test('with the default key policy, an identity policy allowing the action on the key allows B, and only that action', async () => {
    const key = await aliceKey();
    const other = await aliceKey();
    assert.equal((await awsError(() => bobEncrypts(key))).name, 'AccessDeniedException');
    await adminCall('PutUserPolicy', { UserName: 'bob', PolicyName: 'enc', PolicyDocument: JSON.stringify(allow('kms:Encrypt', key)) });
    try {
      const { CiphertextBlob } = await bobEncrypts(key);
      assert.equal((await awsError(() => bob.send(new DecryptCommand({ CiphertextBlob })))).name, 'AccessDeniedException');
      assert.equal((await awsError(() => bobEncrypts(other))).name, 'AccessDeniedException');
    } finally {
      await adminCall('DeleteUserPolicy', { UserName: 'bob', PolicyName: 'enc' });
    }
    assert.equal((await awsError(() => bobEncrypts(key))).name, 'AccessDeniedException');
  });

  test('an explicit Deny in the key policy wins over B\'s identity policy allow', async () => {
    const key = await aliceKey(JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: ROOT_ARN }, Action: 'kms:*', Resource: '*' },
        { Effect: 'Deny', Principal: { AWS: BOB_ARN }, Action: 'kms:Encrypt', Resource: '*' },
      ],
    }));
    await adminCall('PutUserPolicy', { UserName: 'bob', PolicyName: 'all', PolicyDocument: JSON.stringify(allow('kms:*')) });
    try {
      const err = await awsError(() => bobEncrypts(key));
      assert.equal(err.name, 'AccessDeniedException');
      assert.match(err.message, /with an explicit deny in a resource-based policy$/);
    } finally {
      await adminCall('DeleteUserPolicy', { UserName: 'bob', PolicyName: 'all' });
    }
  });

  test('a grant to B allows the granted operations at once, and RevokeGrant takes effect on the next call', async () => {
    const key = await aliceKey();
    assert.equal((await awsError(() => bobEncrypts(key))).name, 'AccessDeniedException');
    const { GrantId, GrantToken } = await alice.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: BOB_ARN, Operations: ['Encrypt'] }));
    assert.match(GrantId!, /^[0-9a-f]{64}$/);
    assert.ok(GrantToken);
    const { CiphertextBlob } = await bob.send(new EncryptCommand({ KeyId: key, Plaintext: PLAINTEXT, GrantTokens: [GrantToken!] }));
    assert.equal((await awsError(() => bob.send(new DecryptCommand({ CiphertextBlob })))).name, 'AccessDeniedException');
    const listed = await alice.send(new ListGrantsCommand({ KeyId: key }));
    assert.deepEqual(listed.Grants!.map((g) => [g.GrantId, g.GranteePrincipal, g.Operations]), [[GrantId, BOB_ARN, ['Encrypt']]]);
    await alice.send(new RevokeGrantCommand({ KeyId: key, GrantId }));
    assert.equal((await awsError(() => bobEncrypts(key))).name, 'AccessDeniedException');
    assert.equal((await alice.send(new ListGrantsCommand({ KeyId: key }))).Grants!.length, 0);
    assert.equal((await awsError(() => alice.send(new RevokeGrantCommand({ KeyId: key, GrantId })))).name, 'NotFoundException');
  });

  test('B cannot create grants for itself on A\'s key', async () => {
    const key = await aliceKey();
    const err = await awsError(() => bob.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: BOB_ARN, Operations: ['Encrypt'] })));
    assert.equal(err.name, 'AccessDeniedException');
  });
});

describe('grant constraints', () => {
  test('EncryptionContextEquals: the grant works only with exactly that encryption context', async () => {
    const key = await aliceKey();
    await alice.send(new CreateGrantCommand({
      KeyId: key, GranteePrincipal: BOB_ARN, Operations: ['Encrypt', 'Decrypt'],
      Constraints: { EncryptionContextEquals: { purpose: 'test' } },
    }));
    const { CiphertextBlob } = await bobEncrypts(key, { purpose: 'test' });
    await bob.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { purpose: 'test' } }));
    assert.equal((await awsError(() => bobEncrypts(key))).name, 'AccessDeniedException');
    assert.equal((await awsError(() => bobEncrypts(key, { purpose: 'other' }))).name, 'AccessDeniedException');
    assert.equal((await awsError(() => bobEncrypts(key, { purpose: 'test', more: 'x' }))).name, 'AccessDeniedException');
  });

  test('a grantee allowed CreateGrant only by a grant cannot widen it: operations and constraints stay within its own', async () => {
    const key = await aliceKey();
    await alice.send(new CreateGrantCommand({
      KeyId: key, GranteePrincipal: BOB_ARN, Operations: ['CreateGrant', 'Encrypt'], Constraints: { EncryptionContextSubset: { team: 'a' } },
    }));
    const carol = `arn:aws:iam::${ACCOUNT_ID}:user/carol`;
    await bob.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: carol, Operations: ['Encrypt'], Constraints: { EncryptionContextSubset: { team: 'a' } } }));
    await bob.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: carol, Operations: ['Encrypt'], Constraints: { EncryptionContextEquals: { team: 'a', app: 'x' } } }));
    const widerOps = await awsError(() => bob.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: carol, Operations: ['Decrypt'], Constraints: { EncryptionContextSubset: { team: 'a' } } })));
    assert.equal(widerOps.name, 'AccessDeniedException');
    const noConstraint = await awsError(() => bob.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: carol, Operations: ['Encrypt'] })));
    assert.equal(noConstraint.name, 'AccessDeniedException');
    const otherContext = await awsError(() => bob.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: carol, Operations: ['Encrypt'], Constraints: { EncryptionContextSubset: { team: 'b' } } })));
    assert.equal(otherContext.name, 'AccessDeniedException');
  });

  test('EncryptionContextSubset: extra pairs are fine, a missing or different pair is not', async () => {
    const key = await aliceKey();
    await alice.send(new CreateGrantCommand({
      KeyId: key, GranteePrincipal: BOB_ARN, Operations: ['Encrypt'], Constraints: { EncryptionContextSubset: { team: 'a' } },
    }));
    await bobEncrypts(key, { team: 'a' });
    await bobEncrypts(key, { team: 'a', more: 'x' });
    assert.equal((await awsError(() => bobEncrypts(key, { team: 'b' }))).name, 'AccessDeniedException');
    assert.equal((await awsError(() => bobEncrypts(key))).name, 'AccessDeniedException');
  });

  test('the retiring principal retires a grant by token; Name makes CreateGrant idempotent', async () => {
    const key = await aliceKey();
    const input = { KeyId: key, GranteePrincipal: BOB_ARN, RetiringPrincipal: BOB_ARN, Operations: ['Encrypt' as const], Name: 'job-1' };
    const first = await alice.send(new CreateGrantCommand(input));
    const again = await alice.send(new CreateGrantCommand(input));
    assert.equal(again.GrantId, first.GrantId);
    const retirable = await alice.send(new ListRetirableGrantsCommand({ RetiringPrincipal: BOB_ARN }));
    assert.ok(retirable.Grants!.some((g) => g.GrantId === first.GrantId && g.Name === 'job-1'));
    await bobEncrypts(key);
    await bob.send(new RetireGrantCommand({ GrantToken: first.GrantToken }));
    assert.equal((await awsError(() => bobEncrypts(key))).name, 'AccessDeniedException');
    assert.equal((await awsError(() => bob.send(new RetireGrantCommand({ GrantToken: 'not-a-token' })))).name, 'InvalidGrantTokenException');
    // A retired grant's token names no grant any more: any call presenting it is refused.
    const err = await awsError(() => alice.send(new EncryptCommand({ KeyId: key, Plaintext: PLAINTEXT, GrantTokens: [first.GrantToken!] })));
    assert.equal(err.name, 'InvalidGrantTokenException');
  });

  test('a principal that is neither retiring principal nor grantee with RetireGrant cannot retire the grant', async () => {
    const key = await aliceKey();
    const { GrantId } = await alice.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: BOB_ARN, Operations: ['Encrypt'] }));
    assert.equal((await awsError(() => bob.send(new RetireGrantCommand({ KeyId: key, GrantId })))).name, 'AccessDeniedException');
  });
});

describe('key policy validation and the lockout safety check', () => {
  const onlyBob = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: BOB_ARN }, Action: 'kms:*', Resource: '*' }],
  });

  test('PutKeyPolicy that would lock the caller out is refused unless BypassPolicyLockoutSafetyCheck is set', async () => {
    const key = await aliceKey();
    const err = await awsError(() => alice.send(new PutKeyPolicyCommand({ KeyId: key, PolicyName: 'default', Policy: onlyBob })));
    assert.equal(err.name, 'MalformedPolicyDocumentException');
    assert.equal(err.message, 'The new key policy will not allow you to update the key policy in the future.');
    await alice.send(new GetKeyPolicyCommand({ KeyId: key, PolicyName: 'default' }));
    await alice.send(new PutKeyPolicyCommand({ KeyId: key, PolicyName: 'default', Policy: onlyBob, BypassPolicyLockoutSafetyCheck: true }));
    assert.equal((await awsError(() => alice.send(new GetKeyPolicyCommand({ KeyId: key, PolicyName: 'default' })))).name, 'AccessDeniedException');
    await bobEncrypts(key);
  });

  test('CreateKey applies the same check to its Policy, and refuses a malformed one', async () => {
    assert.equal((await awsError(() => alice.send(new CreateKeyCommand({ Policy: onlyBob })))).name, 'MalformedPolicyDocumentException');
    assert.equal((await awsError(() => alice.send(new CreateKeyCommand({ Policy: '{"Statement": [' })))).name, 'MalformedPolicyDocumentException');
    const key = await alice.send(new CreateKeyCommand({ Policy: onlyBob, BypassPolicyLockoutSafetyCheck: true }));
    await bobEncrypts(key.KeyMetadata!.Arn!);
  });

  test('a key created without Policy gets AWS\'s default key policy', async () => {
    const key = await aliceKey();
    const got = JSON.parse((await alice.send(new GetKeyPolicyCommand({ KeyId: key, PolicyName: 'default' }))).Policy!);
    assert.deepEqual(got.Statement, [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: ROOT_ARN }, Action: 'kms:*', Resource: '*' }]);
  });
});

describe('identity-only actions and what a denied call reveals', () => {
  test('CreateKey and ListKeys need an identity policy', async () => {
    assert.equal((await awsError(() => bob.send(new ListKeysCommand({})))).name, 'AccessDeniedException');
    const err = await awsError(() => bob.send(new CreateKeyCommand({})));
    assert.equal(err.name, 'AccessDeniedException');
    assert.match(err.message, /kms:CreateKey on resource: \*/);
  });

  test('a key of another account is AccessDenied whether or not it exists; a missing key of one\'s own account is NotFound, as in AWS', async () => {
    const missingOther = `arn:aws:kms:us-east-1:444455556666:key/${crypto.randomUUID()}`;
    assert.equal((await awsError(() => bob.send(new DescribeKeyCommand({ KeyId: missingOther })))).name, 'AccessDeniedException');
    assert.equal((await awsError(() => alice.send(new DescribeKeyCommand({ KeyId: missingOther })))).name, 'AccessDeniedException');
    assert.equal((await awsError(() => alice.send(new DescribeKeyCommand({ KeyId: crypto.randomUUID() })))).name, 'NotFoundException');
  });
});

describe('condition keys reach the evaluator', () => {
  test('aws:ResourceTag and kms:RequestAlias conditions in B\'s identity policy are honoured', async () => {
    const tagged = (await alice.send(new CreateKeyCommand({ Tags: [{ TagKey: 'team', TagValue: 'a' }] }))).KeyMetadata!.Arn!;
    const untagged = await aliceKey();
    await alice.send(new CreateAliasCommand({ AliasName: 'alias/bob-ok', TargetKeyId: untagged }));
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'a' } } },
        { Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*', Condition: { StringEquals: { 'kms:RequestAlias': 'alias/bob-ok' } } },
      ],
    };
    await adminCall('PutUserPolicy', { UserName: 'bob', PolicyName: 'cond', PolicyDocument: JSON.stringify(policy) });
    try {
      await bobEncrypts(tagged);
      await bobEncrypts('alias/bob-ok');
      assert.equal((await awsError(() => bobEncrypts(untagged))).name, 'AccessDeniedException');
    } finally {
      await adminCall('DeleteUserPolicy', { UserName: 'bob', PolicyName: 'cond' });
    }
  });

  test('ListAliases is allowed by an identity policy alone', async () => {
    assert.equal((await awsError(() => bob.send(new ListAliasesCommand({})))).name, 'AccessDeniedException');
    await adminCall('PutUserPolicy', { UserName: 'bob', PolicyName: 'la', PolicyDocument: JSON.stringify(allow('kms:ListAliases')) });
    try {
      await bob.send(new ListAliasesCommand({}));
    } finally {
      await adminCall('DeleteUserPolicy', { UserName: 'bob', PolicyName: 'la' });
    }
  });
});

describe('temporary credentials', () => {
  test('AssumeRole credentials work with their session token until they expire, and not after', async () => {
    await adminCall('CreateRole', { RoleName: 'worker', Tags: [{ Key: 'team', Value: 'a' }] });
    await adminCall('PutRolePolicy', { RoleName: 'worker', PolicyName: 'kms', PolicyDocument: JSON.stringify(allow('kms:*')) });
    const roleArn = `arn:aws:iam::${ACCOUNT_ID}:role/worker`;
    // bob may not assume the role until an identity policy allows sts:AssumeRole on it.
    await assert.rejects(adminCall('AssumeRole', { RoleArn: roleArn, RoleSessionName: 'job' }, bobKeys), { name: 'AccessDeniedException' });
    await adminCall('PutUserPolicy', { UserName: 'bob', PolicyName: 'assume', PolicyDocument: JSON.stringify(allow('sts:AssumeRole', roleArn)) });
    const out = (await adminCall('AssumeRole', { RoleArn: roleArn, RoleSessionName: 'job', DurationSeconds: 900 }, bobKeys)) as {
      Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: number };
      AssumedRoleUser: { Arn: string };
    };
    const c = out.Credentials;
    assert.match(c.AccessKeyId, /^ASIA/);
    assert.equal(out.AssumedRoleUser.Arn, `arn:aws:sts::${ACCOUNT_ID}:assumed-role/worker/job`);
    const session = server.kms({ credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken } });
    const key = (await session.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await session.send(new EncryptCommand({ KeyId: key, Plaintext: PLAINTEXT }));

    const noToken = server.kms({ credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey } });
    assert.equal((await awsError(() => noToken.send(new ListKeysCommand({})))).name, 'UnrecognizedClientException');
    const wrongToken = server.kms({ credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: `${c.SessionToken}x` } });
    assert.equal((await awsError(() => wrongToken.send(new ListKeysCommand({})))).name, 'UnrecognizedClientException');

    clock.advance(899_000);
    await session.send(new EncryptCommand({ KeyId: key, Plaintext: PLAINTEXT }));
    clock.advance(1_000);
    const err = await awsError(() => session.send(new EncryptCommand({ KeyId: key, Plaintext: PLAINTEXT })));
    assert.equal(err.name, 'ExpiredTokenException');
  });
  test("a role's trust policy decides who may assume it: naming another principal refuses even an identity allow", async () => {
    const roleArn = `arn:aws:iam::${ACCOUNT_ID}:role/trusts-nobody-here`;
    const trust = (principal: string) => JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }],
    });
    await adminCall('CreateRole', { RoleName: 'trusts-nobody-here', AssumeRolePolicyDocument: trust(`arn:aws:iam::${ACCOUNT_ID}:user/someone-else`) });
    await adminCall('PutUserPolicy', { UserName: 'bob', PolicyName: 'assume-any', PolicyDocument: JSON.stringify(allow('sts:AssumeRole')) });
    await assert.rejects(adminCall('AssumeRole', { RoleArn: roleArn, RoleSessionName: 's1' }, bobKeys), { name: 'AccessDeniedException' });

    const bobArn = `arn:aws:iam::${ACCOUNT_ID}:user/bob`;
    const directRole = `arn:aws:iam::${ACCOUNT_ID}:role/trusts-bob`;
    await adminCall('CreateRole', { RoleName: 'trusts-bob', AssumeRolePolicyDocument: trust(bobArn) });
    const out = (await adminCall('AssumeRole', { RoleArn: directRole, RoleSessionName: 's2' }, bobKeys)) as { Credentials: { AccessKeyId: string } };
    assert.match(out.Credentials.AccessKeyId, /^ASIA/);
  });
});

describe('trent iam (CLI over the IAM and STS query APIs)', () => {
  interface TrailEvent { eventSource: string; eventName: string; errorCode?: string; userIdentity: { accessKeyId?: string; arn?: string } }
  /** Runs `trent …` in-process with these credentials; resolves with its exit code and what it printed. */
  async function trent(args: string[], credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, {
      env: {
        TRENT_ENDPOINT: server.url, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_SESSION_TOKEN: credentials.sessionToken, TRENT_REGION: 'us-east-1',
      },
      stdout: { write: (s: string) => ((stdout += s), true) } as unknown as NodeJS.WritableStream,
      stderr: { write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WritableStream,
    });
    return { code, stderr, json: () => JSON.parse(stdout) as Record<string, unknown> };
  }
  const lastSeq = async () => (await server.app.storage.read((r) => r.audit.scan(0, 1_000_000))).at(-1)?.seq ?? 0;
  const trailAfter = async (seq: number) =>
    (await server.app.storage.read((r) => r.audit.scan(seq, 100_000))).map((r) => JSON.parse(r.record) as TrailEvent);
  const credsOf = (out: { json(): Record<string, unknown> }) => {
    const key = (out.json() as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } }).AccessKey;
    return { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
  };

  test('the administrator creates a user, attaches a policy and issues an access key; each call is an IAM query call in the trail', async () => {
    const { ADMIN } = await import('./harness.ts');
    const before = await lastSeq();
    assert.equal((await trent(['iam', 'create-user', 'carol', '--tag', 'team=b'], ADMIN)).code, 0);
    assert.equal((await trent(['iam', 'put-user-policy', 'carol', 'list', JSON.stringify(allow('kms:ListKeys'))], ADMIN)).code, 0);
    const created = await trent(['iam', 'create-access-key', 'carol'], ADMIN);
    assert.equal(created.code, 0);
    const carol = server.kms({ credentials: credsOf(created) });
    await carol.send(new ListKeysCommand({}));
    assert.equal((await awsError(() => carol.send(new CreateKeyCommand({})))).name, 'AccessDeniedException');
    const got = await trent(['iam', 'get-user', 'carol'], ADMIN);
    const user = (got.json() as { User: { Arn: string; Tags: unknown; CreateDate: string } }).User;
    assert.equal(user.Arn, `arn:aws:iam::${ACCOUNT_ID}:user/carol`);
    assert.deepEqual(user.Tags, [{ Key: 'team', Value: 'b' }]);
    assert.match(user.CreateDate, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual((await trent(['iam', 'list-user-policies', 'carol'], ADMIN)).json().PolicyNames, ['list']);
    assert.ok(((await trent(['iam', 'list-users'], ADMIN)).json().Users as { UserName: string }[]).some((u) => u.UserName === 'carol'));

    // Every call went over the IAM query API (eventSource iam.amazonaws.com), none over TrentAdmin.
    const mine = (await trailAfter(before)).filter((e) => e.userIdentity.accessKeyId === ADMIN.accessKeyId);
    assert.deepEqual(mine.map((e) => `${e.eventSource} ${e.eventName}`), [
      'iam.amazonaws.com CreateUser', 'iam.amazonaws.com PutUserPolicy', 'iam.amazonaws.com CreateAccessKey',
      'iam.amazonaws.com GetUser', 'iam.amazonaws.com ListUserPolicies', 'iam.amazonaws.com ListUsers',
    ]);
  });

  test('a principal with no iam:* permission is refused (AccessDenied, exit 1, nothing created); an unknown user is NoSuchEntity', async () => {
    const { ADMIN } = await import('./harness.ts');
    const before = await lastSeq();
    const refused = await trent(['iam', 'create-user', 'mallory'], bobKeys);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^trent: AccessDenied: User: arn:aws:iam::\d{12}:user\/bob is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::\d{12}:user\/mallory/);
    const missing = await trent(['iam', 'get-user', 'mallory'], ADMIN);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^trent: NoSuchEntity: /);
    const trail = await trailAfter(before);
    assert.ok(trail.some((e) => e.eventSource === 'iam.amazonaws.com' && e.eventName === 'CreateUser' && e.errorCode === 'AccessDenied' && e.userIdentity.accessKeyId === bobKeys.accessKeyId),
      JSON.stringify(trail.map((e) => [e.eventSource, e.eventName, e.errorCode])));
  });

  test('groups, managed policies, roles and sessions from the command line', async () => {
    const { ADMIN } = await import('./harness.ts');
    const ok = async (...args: string[]) => {
      const r = await trent(['iam', ...args], ADMIN);
      assert.equal(r.code, 0, `trent iam ${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    const policyArn = ((await ok('create-policy', 'cli-list-keys', JSON.stringify(allow('kms:ListKeys')))).json() as { Policy: { Arn: string } }).Policy.Arn;
    assert.equal(policyArn, `arn:aws:iam::${ACCOUNT_ID}:policy/cli-list-keys`);
    await ok('create-group', 'cli-listers');
    await ok('attach-group-policy', 'cli-listers', policyArn);
    await ok('create-user', 'dave');
    const dave = server.kms({ credentials: credsOf(await ok('create-access-key', 'dave')) });
    assert.equal((await awsError(() => dave.send(new ListKeysCommand({})))).name, 'AccessDeniedException');
    await ok('add-user-to-group', 'cli-listers', 'dave');
    await dave.send(new ListKeysCommand({})); // allowed through the group's managed policy

    await ok('create-user', 'erin');
    const erinKeys = credsOf(await ok('create-access-key', 'erin'));
    await ok('attach-user-policy', 'erin', policyArn);
    await server.kms({ credentials: erinKeys }).send(new ListKeysCommand({}));
    assert.equal(((await trent(['iam', 'get-caller-identity'], erinKeys)).json()).Arn, `arn:aws:iam::${ACCOUNT_ID}:user/erin`);

    // Without --assume-role-policy the account trusts the role to its identity policies, as before.
    await ok('create-role', 'cli-worker');
    await ok('attach-role-policy', 'cli-worker', policyArn);
    const roleArn = `arn:aws:iam::${ACCOUNT_ID}:role/cli-worker`;
    const assumed = (await ok('assume-role', roleArn, 'job-1', '--duration', '900')).json() as {
      Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: string };
    };
    assert.match(assumed.Credentials.AccessKeyId, /^ASIA/);
    const session = { accessKeyId: assumed.Credentials.AccessKeyId, secretAccessKey: assumed.Credentials.SecretAccessKey, sessionToken: assumed.Credentials.SessionToken };
    await server.kms({ credentials: session }).send(new ListKeysCommand({}));
    assert.equal((await trent(['iam', 'get-caller-identity'], session)).json().Arn, `arn:aws:sts::${ACCOUNT_ID}:assumed-role/cli-worker/job-1`);
    // STS's own bounds, not TrentAdmin's: 899 s is a ValidationError.
    const short = await trent(['iam', 'assume-role', roleArn, 'job-2', '--duration', '899'], ADMIN);
    assert.equal(short.code, 1);
    assert.match(short.stderr, /^trent: ValidationError: /);
  });
});
