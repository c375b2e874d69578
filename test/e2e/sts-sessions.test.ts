/**
 * STS sessions through the SDK v3 clients against the real server: session policies narrower than the
 * role's (the narrower wins, an explicit Deny in either refuses), session tags as aws:PrincipalTag,
 * GetSessionToken, and an expired session refused as ExpiredToken (domain time advanced, not waited for).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateAccessKeyCommand, CreatePolicyCommand, CreateRoleCommand, CreateUserCommand, DeleteAccessKeyCommand, DeleteRoleCommand, DeleteUserCommand, IAMClient,
  PutRolePolicyCommand, PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand, MalformedPolicyDocumentException, STSClient } from '@aws-sdk/client-sts';
import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { ManualClock } from '../../src/clock.ts';
import { ACCOUNT_ID, ADMIN, awsError, startServer, type TestServer } from './harness.ts';

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
/** The members of an audit record these tests read. */
interface AuditRecord {
  eventName: string; eventSource: string;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: { assumedRoleUser?: { arn?: string }; role?: { arn?: string } } | null;
}
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

describe('STS sessions', () => {
  let server: TestServer;
  const clock = new ManualClock(Date.now());
  const clients: { destroy(): void }[] = [];
  const sts = (credentials: Creds = ADMIN) => {
    const c = new STSClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  const roleArn = `arn:aws:iam::${ACCOUNT_ID}:role/worker`;
  let keyId: string;
  const temp = (r: { Credentials?: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } }): Creds => ({
    accessKeyId: r.Credentials!.AccessKeyId!, secretAccessKey: r.Credentials!.SecretAccessKey!, sessionToken: r.Credentials!.SessionToken!,
  });

  before(async () => {
    server = await startServer({ clock });
    const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 });
    clients.push(iam);
    await iam.send(new CreateRoleCommand({
      RoleName: 'worker',
      AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: ['sts:AssumeRole', 'sts:TagSession'] }),
    }));
    // The role may list keys, describe and encrypt; Encrypt only for sessions tagged team=blue.
    await iam.send(new PutRolePolicyCommand({
      RoleName: 'worker', PolicyName: 'kms',
      PolicyDocument: doc(
        { Effect: 'Allow', Action: ['kms:ListKeys', 'kms:DescribeKey'], Resource: '*' },
        { Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/team': 'blue' } } },
      ),
    }));
    await iam.send(new CreatePolicyCommand({ PolicyName: 'describe-only', PolicyDocument: doc({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*' }) }));
    keyId = (await server.kms().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server.stop(true);
  });

  it('a session policy narrower than the role limits the session; the role limits a wider one', async () => {
    const full = temp(await sts().send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'full' })));
    await server.kms({ credentials: full }).send(new ListKeysCommand({}));

    const narrow = temp(await sts().send(new AssumeRoleCommand({
      RoleArn: roleArn, RoleSessionName: 'narrow', Policy: doc({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*' }),
    })));
    await server.kms({ credentials: narrow }).send(new DescribeKeyCommand({ KeyId: keyId }));
    const denied = await awsError(() => server.kms({ credentials: narrow }).send(new ListKeysCommand({})));
    assert.equal(denied.name, 'AccessDeniedException');
    assert.match(denied.message, /assumed-role\/worker\/narrow/);

    // A session policy allowing more than the role (kms:*) gives nothing the role does not.
    const wide = temp(await sts().send(new AssumeRoleCommand({
      RoleArn: roleArn, RoleSessionName: 'wide', Policy: doc({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }),
    })));
    await server.kms({ credentials: wide }).send(new ListKeysCommand({}));
    assert.equal((await awsError(() => server.kms({ credentials: wide }).send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })))).name, 'AccessDeniedException');

    // Managed session policies (PolicyArns) count the same way.
    const managed = temp(await sts().send(new AssumeRoleCommand({
      RoleArn: roleArn, RoleSessionName: 'managed', PolicyArns: [{ arn: `arn:aws:iam::${ACCOUNT_ID}:policy/describe-only` }],
    })));
    await server.kms({ credentials: managed }).send(new DescribeKeyCommand({ KeyId: keyId }));
    assert.equal((await awsError(() => server.kms({ credentials: managed }).send(new ListKeysCommand({})))).name, 'AccessDeniedException');

    // An explicit Deny in the session policy refuses what the role allows.
    const deny = temp(await sts().send(new AssumeRoleCommand({
      RoleArn: roleArn, RoleSessionName: 'deny',
      Policy: doc({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }, { Effect: 'Deny', Action: 'kms:ListKeys', Resource: '*' }),
    })));
    assert.equal((await awsError(() => server.kms({ credentials: deny }).send(new ListKeysCommand({})))).name, 'AccessDeniedException');

    await assert.rejects(
      sts().send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'bad', Policy: '{"Statement":' })),
      (e) => e instanceof MalformedPolicyDocumentException,
    );
  });

  it('session tags are principal tags of the session, and need sts:TagSession in the trust policy', async () => {
    const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 });
    clients.push(iam);
    await iam.send(new CreateRoleCommand({
      RoleName: 'no-tags', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:user/admin` }, Action: 'sts:AssumeRole' }),
    }));
    const noTagsArn = `arn:aws:iam::${ACCOUNT_ID}:role/no-tags`;
    await sts().send(new AssumeRoleCommand({ RoleArn: noTagsArn, RoleSessionName: 'plain' }));
    const refused = await awsError(() => sts().send(new AssumeRoleCommand({ RoleArn: noTagsArn, RoleSessionName: 'tagged', Tags: [{ Key: 'team', Value: 'blue' }] })));
    assert.equal(refused.name, 'AccessDenied');
    assert.match(refused.message, /sts:TagSession/);

    const untagged = temp(await sts().send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'untagged' })));
    assert.equal((await awsError(() => server.kms({ credentials: untagged }).send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })))).name, 'AccessDeniedException');
    const tagged = temp(await sts().send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'tagged', Tags: [{ Key: 'team', Value: 'blue' }] })));
    await server.kms({ credentials: tagged }).send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
  });

  it('GetSessionToken gives the user its own identity; an expired session is ExpiredToken', async () => {
    const session = temp(await sts().send(new GetSessionTokenCommand({ DurationSeconds: 900 })));
    assert.equal((await sts(session).send(new GetCallerIdentityCommand({}))).Arn, `arn:aws:iam::${ACCOUNT_ID}:user/admin`);
    await server.kms({ credentials: session }).send(new ListKeysCommand({}));
    assert.equal((await awsError(() => sts(session).send(new GetSessionTokenCommand({})))).name, 'AccessDenied');

    const assumed = temp(await sts().send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'short', DurationSeconds: 900 })));
    clock.advance(901_000);
    const expired = await awsError(() => sts(assumed).send(new GetCallerIdentityCommand({})));
    assert.equal(expired.name, 'ExpiredToken');
    assert.equal(expired.message, 'The security token included in the request is expired');
    assert.equal((await awsError(() => sts(session).send(new GetCallerIdentityCommand({})))).name, 'ExpiredToken');
  });

  it('IAM and STS calls are audited; a session acts under its assumed-role ARN; no credential is recorded', async () => {
    const assumed = await sts().send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'audited' }));
    const creds = temp(assumed);
    const who = await sts(creds).send(new GetCallerIdentityCommand({}));
    const denied = await awsError(() => server.kms({ credentials: creds }).send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })));
    assert.equal(denied.name, 'AccessDeniedException');
    const rows = (await server.app.storage.read((r) => r.audit.scan(0, 100_000))).map((r) => r.record);
    const events = rows.map((r) => JSON.parse(r) as { eventSource: string; eventName: string; userIdentity: { arn?: string; type?: string }; errorCode?: string });
    const sessionArn = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/worker/audited`;
    assert.equal(who.Arn, sessionArn);
    assert.ok(events.some((e) => e.eventSource === 'sts.amazonaws.com' && e.eventName === 'AssumeRole' && e.userIdentity.arn === `arn:aws:iam::${ACCOUNT_ID}:user/admin`));
    assert.ok(events.some((e) => e.eventSource === 'sts.amazonaws.com' && e.eventName === 'GetCallerIdentity' && e.userIdentity.arn === sessionArn && e.userIdentity.type === 'AssumedRole'));
    assert.ok(events.some((e) => e.eventSource === 'kms.amazonaws.com' && e.eventName === 'Encrypt' && e.userIdentity.arn === sessionArn && e.errorCode === 'AccessDeniedException'));
    assert.ok(events.some((e) => e.eventSource === 'iam.amazonaws.com' && e.eventName === 'CreateRole'));
    for (const secret of [creds.secretAccessKey, creds.sessionToken!]) assert.ok(!rows.some((r) => r.includes(secret)), 'a credential reached the audit trail');
    const assumeEvent = rows.map((r) => JSON.parse(r) as AuditRecord)
      .find((e) => e.eventName === 'AssumeRole' && e.responseElements?.assumedRoleUser?.arn === sessionArn);
    assert.deepEqual(assumeEvent?.requestParameters, { roleArn, roleSessionName: 'audited' });
    const createRole = rows.map((r) => JSON.parse(r) as AuditRecord).find((e) => e.eventName === 'CreateRole' && e.eventSource === 'iam.amazonaws.com');
    assert.deepEqual(createRole?.requestParameters, { roleName: 'worker' });
    assert.equal(createRole?.responseElements?.role?.arn, roleArn);
  });

  it('AssumeRole refuses DurationSeconds above the role\'s MaxSessionDuration, so a chained session cannot outlive an hour', async () => {
    const long = await awsError(() => sts().send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'long', DurationSeconds: 43_200 })));
    assert.deepEqual([long.name, long.message], ['ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.']);
    const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 });
    clients.push(iam);
    await iam.send(new CreateRoleCommand({ RoleName: 'chain', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'sts:AssumeRole' }) }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'chain', PolicyName: 'sts', PolicyDocument: doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }) }));
    const chainArn = `arn:aws:iam::${ACCOUNT_ID}:role/chain`;
    const first = temp(await sts().send(new AssumeRoleCommand({ RoleArn: chainArn, RoleSessionName: 'first' })));
    const renewed = await awsError(() => sts(first).send(new AssumeRoleCommand({ RoleArn: chainArn, RoleSessionName: 'renewed', DurationSeconds: 43_200 })));
    assert.equal(renewed.name, 'ValidationError');
    const chained = await sts(first).send(new AssumeRoleCommand({ RoleArn: chainArn, RoleSessionName: 'chained' }));
    assert.ok(chained.Credentials!.Expiration!.getTime() <= clock.now() + 3_600_000);
  });

  it('GetSessionToken credentials cannot call IAM (AWS: not without MFA)', async () => {
    const session = temp(await sts().send(new GetSessionTokenCommand({})));
    const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: session, maxAttempts: 1 });
    clients.push(iam);
    assert.equal((await awsError(() => iam.send(new CreateUserCommand({ UserName: 'made-by-session' })))).name, 'InvalidClientTokenId');
    // The same credentials still work where AWS lets them.
    await server.kms({ credentials: session }).send(new ListKeysCommand({}));
  });

  it('a session of a deleted user or role gets nothing from a principal created again under the same name', async () => {
    const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 });
    clients.push(iam);
    const listKeys = doc({ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' });
    // A user with no policy: GetSessionToken needs none.
    await iam.send(new CreateUserCommand({ UserName: 'bob' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }))).AccessKey!;
    const bobSession = temp(await sts({ accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! }).send(new GetSessionTokenCommand({})));
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: key.AccessKeyId! }));
    await iam.send(new DeleteUserCommand({ UserName: 'bob' }));
    await iam.send(new CreateUserCommand({ UserName: 'bob' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'bob', PolicyName: 'keys', PolicyDocument: listKeys }));
    assert.equal((await awsError(() => server.kms({ credentials: bobSession }).send(new ListKeysCommand({})))).name, 'AccessDeniedException');
    // A role with no policy, assumed, deleted, created again with one.
    const trust = doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'sts:AssumeRole' });
    await iam.send(new CreateRoleCommand({ RoleName: 'temp', AssumeRolePolicyDocument: trust }));
    const tempSession = temp(await sts().send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/temp`, RoleSessionName: 'old' })));
    await iam.send(new DeleteRoleCommand({ RoleName: 'temp' }));
    await iam.send(new CreateRoleCommand({ RoleName: 'temp', AssumeRolePolicyDocument: trust }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'temp', PolicyName: 'keys', PolicyDocument: listKeys }));
    assert.equal((await awsError(() => server.kms({ credentials: tempSession }).send(new ListKeysCommand({})))).name, 'AccessDeniedException');
    // A session of the new role is allowed.
    const fresh = temp(await sts().send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/temp`, RoleSessionName: 'new' })));
    await server.kms({ credentials: fresh }).send(new ListKeysCommand({}));
  });

  it('the trust policy sees the request\'s session tags on sts:AssumeRole; a role that does not exist is refused in the same words as one that trusts nobody', async () => {
    const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 });
    clients.push(iam);
    await iam.send(new CreateRoleCommand({
      RoleName: 'no-top', AssumeRolePolicyDocument: doc(
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: ['sts:AssumeRole', 'sts:TagSession'] },
        { Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:RequestTag/clearance': 'top' } } },
      ),
    }));
    const noTop = `arn:aws:iam::${ACCOUNT_ID}:role/no-top`;
    const topErr = await awsError(() => sts().send(new AssumeRoleCommand({ RoleArn: noTop, RoleSessionName: 'tagged', Tags: [{ Key: 'clearance', Value: 'top' }] })));
    assert.equal(topErr.name, 'AccessDenied', topErr.message);
    await sts().send(new AssumeRoleCommand({ RoleArn: noTop, RoleSessionName: 'tagged', Tags: [{ Key: 'clearance', Value: 'low' }] }));
    await iam.send(new CreateRoleCommand({ RoleName: 'trusts-nobody', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }) }));
    const words = async (name: string) => (await awsError(() => sts().send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/${name}`, RoleSessionName: 'probe' })))).message.replace(name, '<role>');
    assert.equal(await words('no-such-role'), await words('trusts-nobody'));
  });
});
