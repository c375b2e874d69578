/**
 * IAM and STS over the AWS query protocol, driven by the official SDK v3 IAM, STS and KMS clients against
 * the real server: users and access keys, inline policies deciding KMS calls, a deactivated key refused
 * at once, AssumeRole with a trust policy requiring an ExternalId, the temporary credentials on KMS and
 * GetCallerIdentity, and the XML error shape surfacing as the SDKs' typed exceptions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteAccessKeyCommand, DeleteConflictException, DeleteGroupCommand, DeletePolicyCommand, DeleteRoleCommand, DeleteUserCommand, DeleteUserPolicyCommand,
  ListAccessKeysCommand, RemoveUserFromGroupCommand, DeleteRolePolicyCommand, AttachUserPolicyCommand, DetachUserPolicyCommand,
  SetDefaultPolicyVersionCommand, DeletePolicyVersionCommand,
  UpdateUserCommand,
  AddUserToGroupCommand, AttachGroupPolicyCommand, CreateAccessKeyCommand, CreateGroupCommand, CreatePolicyCommand, CreatePolicyVersionCommand,
  DetachGroupPolicyCommand, DeleteGroupPolicyCommand, GetGroupPolicyCommand, ListGroupPoliciesCommand, ListGroupsCommand, ListGroupsForUserCommand,
  ListPoliciesCommand, ListUserTagsCommand, PutGroupPolicyCommand, TagUserCommand, UntagUserCommand, UpdateAssumeRolePolicyCommand, GetPolicyCommand, GetPolicyVersionCommand, ListAttachedGroupPoliciesCommand, CreateRoleCommand, CreateUserCommand, EntityAlreadyExistsException, GetRoleCommand, GetUserCommand, IAMClient,
  MalformedPolicyDocumentException, NoSuchEntityException, PutRolePolicyCommand, PutUserPolicyCommand, UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CreateKeyCommand, EncryptCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { ACCOUNT_ID, ADMIN, awsError, startServer, type TestServer } from './harness.ts';

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

describe('IAM and STS over the query protocol', () => {
  let server: TestServer;
  const clients: { destroy(): void }[] = [];
  const iam = (credentials: Creds = ADMIN) => {
    const c = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  const sts = (credentials: Creds = ADMIN) => {
    const c = new STSClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server.stop(true);
  });

  it('creates a user and access key; KMS is denied until a policy allows it; a deactivated key is refused at once', async () => {
    const created = await iam().send(new CreateUserCommand({ UserName: 'alice', Tags: [{ Key: 'team', Value: 'blue' }] }));
    assert.equal(created.User?.Arn, `arn:aws:iam::${ACCOUNT_ID}:user/alice`);
    assert.equal(created.User?.Path, '/');
    assert.match(created.User?.UserId ?? '', /^AIDA[A-Z2-7]{17}$/);
    assert.ok(created.User?.CreateDate instanceof Date);
    const key = await iam().send(new CreateAccessKeyCommand({ UserName: 'alice' }));
    assert.equal(key.AccessKey?.Status, 'Active');
    const alice = { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! };

    const me = await sts(alice).send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, `arn:aws:iam::${ACCOUNT_ID}:user/alice`);
    assert.equal(me.Account, ACCOUNT_ID);
    assert.equal(me.UserId, created.User?.UserId);

    const denied = await awsError(() => server.kms({ credentials: alice }).send(new ListKeysCommand({})));
    assert.equal(denied.name, 'AccessDeniedException');
    await iam().send(new PutUserPolicyCommand({
      UserName: 'alice', PolicyName: 'kms-read',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }] }),
    }));
    await server.kms({ credentials: alice }).send(new ListKeysCommand({}));

    await iam().send(new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: alice.accessKeyId, Status: 'Inactive' }));
    const refused = await awsError(() => server.kms({ credentials: alice }).send(new ListKeysCommand({})));
    assert.equal(refused.name, 'UnrecognizedClientException');
    const refusedSts = await awsError(() => sts(alice).send(new GetCallerIdentityCommand({})));
    assert.equal(refusedSts.name, 'InvalidClientTokenId');
    assert.equal(refusedSts.status, 403);
  });

  it('IAM errors arrive as the SDK typed exceptions (NoSuchEntity, EntityAlreadyExists, MalformedPolicyDocument, AccessDenied, ValidationError)', async () => {
    await assert.rejects(iam().send(new GetUserCommand({ UserName: 'nobody' })), (e) => e instanceof NoSuchEntityException && e.$metadata.httpStatusCode === 404);
    await iam().send(new CreateUserCommand({ UserName: 'bob' }));
    await assert.rejects(iam().send(new CreateUserCommand({ UserName: 'bob' })), (e) => e instanceof EntityAlreadyExistsException && e.$metadata.httpStatusCode === 409);
    await assert.rejects(
      iam().send(new PutUserPolicyCommand({ UserName: 'bob', PolicyName: 'p', PolicyDocument: '{"Statement": "nope"' })),
      (e) => e instanceof MalformedPolicyDocumentException,
    );
    const key = await iam().send(new CreateAccessKeyCommand({ UserName: 'bob' }));
    const bob = { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! };
    const denied = await awsError(() => iam(bob).send(new CreateUserCommand({ UserName: 'mallory' })));
    assert.equal(denied.name, 'AccessDenied');
    assert.equal(denied.status, 403);
    assert.match(denied.message, /iam:CreateUser/);
    const invalid = await awsError(() => iam().send(new UpdateAccessKeyCommand({ UserName: 'bob', AccessKeyId: bob.accessKeyId, Status: 'Sleeping' as 'Active' })));
    assert.equal(invalid.name, 'ValidationError');
  });

  it('answers AWS XML error shape for a raw query request', async () => {
    const u = new URL(server.url);
    const body = 'Action=GetUser&Version=2010-05-08&UserName=ghost';
    const signer = new SignatureV4({ credentials: ADMIN, region: 'us-east-1', service: 'iam', sha256: Hash.bind(null, 'sha256') });
    const signed = await signer.sign({
      method: 'POST', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: '/',
      headers: { host: u.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body,
    });
    const res = await fetch(server.url, { method: 'POST', headers: signed.headers as Record<string, string>, body });
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^text\/xml/);
    const text = await res.text();
    const requestId = res.headers.get('x-amzn-requestid');
    assert.equal(text,
      '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>' +
      `<Message>The user with name ghost cannot be found.</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
  });

  it('assumes a role only with the ExternalId its trust policy requires; the temporary credentials work on KMS and STS', async () => {
    const roleArn = `arn:aws:iam::${ACCOUNT_ID}:role/deployer`;
    await iam().send(new CreateRoleCommand({
      RoleName: 'deployer',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'ext-42' } } }],
      }),
    }));
    const role = await iam().send(new GetRoleCommand({ RoleName: 'deployer' }));
    assert.equal(role.Role?.Arn, roleArn);
    assert.match(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? ''), /ext-42/);
    await iam().send(new PutRolePolicyCommand({
      RoleName: 'deployer', PolicyName: 'encrypt',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' }] }),
    }));

    const without = await awsError(() => sts().send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'ci' })));
    assert.equal(without.name, 'AccessDenied');
    const wrong = await awsError(() => sts().send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'ci', ExternalId: 'ext-43' })));
    assert.equal(wrong.name, 'AccessDenied');

    const assumed = await sts().send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'ci', ExternalId: 'ext-42', DurationSeconds: 900 }));
    assert.equal(assumed.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT_ID}:assumed-role/deployer/ci`);
    assert.ok(assumed.Credentials?.Expiration instanceof Date);
    const temp = {
      accessKeyId: assumed.Credentials!.AccessKeyId!, secretAccessKey: assumed.Credentials!.SecretAccessKey!, sessionToken: assumed.Credentials!.SessionToken!,
    };
    const who = await sts(temp).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, `arn:aws:sts::${ACCOUNT_ID}:assumed-role/deployer/ci`);
    assert.equal(who.UserId, assumed.AssumedRoleUser?.AssumedRoleId);

    const { KeyMetadata } = await server.kms().send(new CreateKeyCommand({}));
    await server.kms({ credentials: temp }).send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId!, Plaintext: Buffer.from('x') }));
    const listDenied = await awsError(() => server.kms({ credentials: temp }).send(new ListKeysCommand({})));
    assert.equal(listDenied.name, 'AccessDeniedException');
    assert.match(listDenied.message, /assumed-role\/deployer\/ci/);
  });

  it('a managed policy attached to a group decides KMS for its members, by its default version', async () => {
    await iam().send(new CreateUserCommand({ UserName: 'carol' }));
    const key = await iam().send(new CreateAccessKeyCommand({ UserName: 'carol' }));
    const carol = { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! };
    const allowList = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }] });
    const allowOther = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:ListAliases', Resource: '*' }] });

    assert.equal((await awsError(() => server.kms({ credentials: carol }).send(new ListKeysCommand({})))).name, 'AccessDeniedException');
    await iam().send(new CreateGroupCommand({ GroupName: 'readers' }));
    await iam().send(new AddUserToGroupCommand({ GroupName: 'readers', UserName: 'carol' }));
    const policy = await iam().send(new CreatePolicyCommand({ PolicyName: 'kms-list', PolicyDocument: allowList }));
    const policyArn = policy.Policy!.Arn!;
    assert.equal(policyArn, `arn:aws:iam::${ACCOUNT_ID}:policy/kms-list`);
    assert.equal(policy.Policy?.DefaultVersionId, 'v1');
    // Created but not attached: still denied.
    assert.equal((await awsError(() => server.kms({ credentials: carol }).send(new ListKeysCommand({})))).name, 'AccessDeniedException');
    await iam().send(new AttachGroupPolicyCommand({ GroupName: 'readers', PolicyArn: policyArn }));
    assert.deepEqual((await iam().send(new ListAttachedGroupPoliciesCommand({ GroupName: 'readers' }))).AttachedPolicies, [{ PolicyName: 'kms-list', PolicyArn: policyArn }]);
    await server.kms({ credentials: carol }).send(new ListKeysCommand({}));

    // A new version is not the default unless asked: v1 still decides.
    const v2 = await iam().send(new CreatePolicyVersionCommand({ PolicyArn: policyArn, PolicyDocument: allowOther }));
    assert.equal(v2.PolicyVersion?.VersionId, 'v2');
    assert.equal(v2.PolicyVersion?.IsDefaultVersion, false);
    await server.kms({ credentials: carol }).send(new ListKeysCommand({}));
    await iam().send(new CreatePolicyVersionCommand({ PolicyArn: policyArn, PolicyDocument: allowOther, SetAsDefault: true }));
    assert.equal((await iam().send(new GetPolicyCommand({ PolicyArn: policyArn }))).Policy?.DefaultVersionId, 'v3');
    const v1 = await iam().send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: 'v1' }));
    assert.equal(decodeURIComponent(v1.PolicyVersion!.Document!), allowList);
    assert.equal(v1.PolicyVersion?.IsDefaultVersion, false);
    assert.equal((await awsError(() => server.kms({ credentials: carol }).send(new ListKeysCommand({})))).name, 'AccessDeniedException');

    // v1 (allowList) becomes the default again; the default version cannot be deleted, another can.
    await iam().send(new SetDefaultPolicyVersionCommand({ PolicyArn: policyArn, VersionId: 'v1' }));
    await server.kms({ credentials: carol }).send(new ListKeysCommand({}));
    await assert.rejects(iam().send(new DeletePolicyVersionCommand({ PolicyArn: policyArn, VersionId: 'v1' })), (e) => e instanceof DeleteConflictException);
    await iam().send(new DeletePolicyVersionCommand({ PolicyArn: policyArn, VersionId: 'v2' }));
    await assert.rejects(iam().send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: 'v2' })), (e) => e instanceof NoSuchEntityException);
    // At most 5 versions: v1, v3 + three more.
    for (let i = 0; i < 3; i++) await iam().send(new CreatePolicyVersionCommand({ PolicyArn: policyArn, PolicyDocument: allowOther }));
    const limited = await awsError(() => iam().send(new CreatePolicyVersionCommand({ PolicyArn: policyArn, PolicyDocument: allowOther })));
    assert.equal(limited.name, 'LimitExceededException');
    await server.kms({ credentials: carol }).send(new ListKeysCommand({}));
    await iam().send(new DetachGroupPolicyCommand({ GroupName: 'readers', PolicyArn: policyArn }));
    assert.equal((await awsError(() => server.kms({ credentials: carol }).send(new ListKeysCommand({})))).name, 'AccessDeniedException');
  });

  it('group inline policies, lists, untagging and UpdateAssumeRolePolicy take effect', async () => {
    await iam().send(new CreateUserCommand({ UserName: 'erin' }));
    const key = await iam().send(new CreateAccessKeyCommand({ UserName: 'erin' }));
    const erin = { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! };
    await iam().send(new CreateGroupCommand({ GroupName: 'ops' }));
    await iam().send(new AddUserToGroupCommand({ GroupName: 'ops', UserName: 'erin' }));
    const allow = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }] });
    await iam().send(new PutGroupPolicyCommand({ GroupName: 'ops', PolicyName: 'list', PolicyDocument: allow }));
    await server.kms({ credentials: erin }).send(new ListKeysCommand({}));
    assert.equal(decodeURIComponent((await iam().send(new GetGroupPolicyCommand({ GroupName: 'ops', PolicyName: 'list' }))).PolicyDocument!), allow);
    assert.deepEqual((await iam().send(new ListGroupPoliciesCommand({ GroupName: 'ops' }))).PolicyNames, ['list']);
    assert.ok((await iam().send(new ListGroupsCommand({}))).Groups?.some((g) => g.GroupName === 'ops'));
    assert.deepEqual((await iam().send(new ListGroupsForUserCommand({ UserName: 'erin' }))).Groups?.map((g) => g.GroupName), ['ops']);
    assert.ok((await iam().send(new ListPoliciesCommand({}))).Policies !== undefined);
    await iam().send(new DeleteGroupPolicyCommand({ GroupName: 'ops', PolicyName: 'list' }));
    assert.equal((await awsError(() => server.kms({ credentials: erin }).send(new ListKeysCommand({})))).name, 'AccessDeniedException');
    await assert.rejects(iam().send(new GetGroupPolicyCommand({ GroupName: 'ops', PolicyName: 'list' })), (e) => e instanceof NoSuchEntityException);

    await iam().send(new TagUserCommand({ UserName: 'erin', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
    await iam().send(new UntagUserCommand({ UserName: 'erin', TagKeys: ['a'] }));
    assert.deepEqual((await iam().send(new ListUserTagsCommand({ UserName: 'erin' }))).Tags, [{ Key: 'b', Value: '2' }]);

    // A new trust policy decides at the next AssumeRole.
    await iam().send(new CreateRoleCommand({
      RoleName: 'switch',
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'sts:AssumeRole' }] }),
    }));
    const switchArn = `arn:aws:iam::${ACCOUNT_ID}:role/switch`;
    await sts().send(new AssumeRoleCommand({ RoleArn: switchArn, RoleSessionName: 'one' }));
    await iam().send(new UpdateAssumeRolePolicyCommand({
      RoleName: 'switch',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:user/admin` }, Action: 'sts:AssumeRole' }] }),
    }));
    assert.equal((await awsError(() => sts().send(new AssumeRoleCommand({ RoleArn: switchArn, RoleSessionName: 'two' })))).name, 'AccessDenied');
  });

  it('deletes access keys (refused at once), users, roles, groups and policies only once nothing is attached', async () => {
    await iam().send(new CreateUserCommand({ UserName: 'frank' }));
    const key = await iam().send(new CreateAccessKeyCommand({ UserName: 'frank' }));
    const frank = { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! };
    const listed = await iam().send(new ListAccessKeysCommand({ UserName: 'frank' }));
    assert.deepEqual(listed.AccessKeyMetadata?.map((k) => [k.AccessKeyId, k.Status]), [[frank.accessKeyId, 'Active']]);
    assert.equal((listed.AccessKeyMetadata?.[0] as Record<string, unknown>).SecretAccessKey, undefined);
    await sts(frank).send(new GetCallerIdentityCommand({}));

    const allow = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }] });
    await iam().send(new PutUserPolicyCommand({ UserName: 'frank', PolicyName: 'p', PolicyDocument: allow }));
    const policyArn = (await iam().send(new CreatePolicyCommand({ PolicyName: 'frank-managed', PolicyDocument: allow }))).Policy!.Arn!;
    await iam().send(new AttachUserPolicyCommand({ UserName: 'frank', PolicyArn: policyArn }));
    await iam().send(new CreateGroupCommand({ GroupName: 'frankly' }));
    await iam().send(new AddUserToGroupCommand({ GroupName: 'frankly', UserName: 'frank' }));

    const conflict = (e: unknown) => e instanceof DeleteConflictException && e.$metadata.httpStatusCode === 409;
    await assert.rejects(iam().send(new DeleteUserCommand({ UserName: 'frank' })), conflict);
    await assert.rejects(iam().send(new DeletePolicyCommand({ PolicyArn: policyArn })), conflict);
    await assert.rejects(iam().send(new DeleteGroupCommand({ GroupName: 'frankly' })), conflict);

    await iam().send(new DeleteAccessKeyCommand({ UserName: 'frank', AccessKeyId: frank.accessKeyId }));
    assert.equal((await awsError(() => sts(frank).send(new GetCallerIdentityCommand({})))).name, 'InvalidClientTokenId');
    assert.equal((await awsError(() => server.kms({ credentials: frank }).send(new ListKeysCommand({})))).name, 'UnrecognizedClientException');
    await assert.rejects(iam().send(new DeleteAccessKeyCommand({ UserName: 'frank', AccessKeyId: frank.accessKeyId })), (e) => e instanceof NoSuchEntityException);

    await iam().send(new DeleteUserPolicyCommand({ UserName: 'frank', PolicyName: 'p' }));
    await iam().send(new DetachUserPolicyCommand({ UserName: 'frank', PolicyArn: policyArn }));
    await assert.rejects(iam().send(new DeleteUserCommand({ UserName: 'frank' })), conflict);
    await iam().send(new RemoveUserFromGroupCommand({ GroupName: 'frankly', UserName: 'frank' }));
    await iam().send(new DeleteUserCommand({ UserName: 'frank' }));
    await assert.rejects(iam().send(new GetUserCommand({ UserName: 'frank' })), (e) => e instanceof NoSuchEntityException);
    await iam().send(new DeleteGroupCommand({ GroupName: 'frankly' }));
    await iam().send(new DeletePolicyCommand({ PolicyArn: policyArn }));
    // The name is free again.
    await iam().send(new CreateUserCommand({ UserName: 'frank' }));

    await iam().send(new CreateRoleCommand({ RoleName: 'temp', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'sts:AssumeRole' }] }) }));
    await iam().send(new PutRolePolicyCommand({ RoleName: 'temp', PolicyName: 'p', PolicyDocument: allow }));
    await assert.rejects(iam().send(new DeleteRoleCommand({ RoleName: 'temp' })), conflict);
    await iam().send(new DeleteRolePolicyCommand({ RoleName: 'temp', PolicyName: 'p' }));
    await iam().send(new DeleteRoleCommand({ RoleName: 'temp' }));
    assert.equal((await awsError(() => sts().send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/temp`, RoleSessionName: 'gone' })))).name, 'AccessDenied');
  });

  it('UpdateUser renames a user; its access keys follow it', async () => {
    await iam().send(new CreateUserCommand({ UserName: 'gina' }));
    const key = await iam().send(new CreateAccessKeyCommand({ UserName: 'gina' }));
    const gina = { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! };
    await assert.rejects(iam().send(new UpdateUserCommand({ UserName: 'gina', NewUserName: 'bob' })), (e) => e instanceof EntityAlreadyExistsException);
    await iam().send(new UpdateUserCommand({ UserName: 'gina', NewUserName: 'gina2' }));
    await assert.rejects(iam().send(new GetUserCommand({ UserName: 'gina' })), (e) => e instanceof NoSuchEntityException);
    assert.equal((await iam().send(new GetUserCommand({ UserName: 'gina2' }))).User?.Arn, `arn:aws:iam::${ACCOUNT_ID}:user/gina2`);
    assert.deepEqual((await iam().send(new ListAccessKeysCommand({ UserName: 'gina2' }))).AccessKeyMetadata?.map((k) => k.AccessKeyId), [gina.accessKeyId]);
    // The key was not used before the rename, so no node holds it cached under the old ARN.
    assert.equal((await sts(gina).send(new GetCallerIdentityCommand({}))).Arn, `arn:aws:iam::${ACCOUNT_ID}:user/gina2`);
  });
});
