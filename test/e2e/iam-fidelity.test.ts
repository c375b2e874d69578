/**
 * IAM fidelity through the SDK v3 clients against the real server: List* paging with AWS's exact
 * IsTruncated/Marker, paths carried into ARNs, PathPrefix and authorization (key policies matching
 * aws:PrincipalArn, identity policies on path ARNs, the audit trail), AssumeRole of a role with a path,
 * GetAccessKeyLastUsed before and after use, and each IAM/STS error as the SDKs surface it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AttachUserPolicyCommand, CreateAccessKeyCommand, CreateGroupCommand, CreatePolicyCommand, CreatePolicyVersionCommand, CreateRoleCommand,
  CreateUserCommand, EntityAlreadyExistsException, GetAccessKeyLastUsedCommand, GetGroupCommand, GetRoleCommand, GetUserCommand, IAMClient,
  IAMServiceException, ListAccessKeysCommand, ListAttachedUserPoliciesCommand, ListGroupsCommand, ListPoliciesCommand, ListPolicyVersionsCommand,
  ListRolesCommand, ListUserPoliciesCommand, ListUserTagsCommand, ListUsersCommand, MalformedPolicyDocumentException, NoSuchEntityException,
  AddUserToGroupCommand, PutGroupPolicyCommand, PutRolePolicyCommand, PutUserPolicyCommand, paginateListUsers, type AccessKeyLastUsed,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { CreateKeyCommand, EncryptCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { ManualClock } from '../../src/clock.ts';
import { ACCOUNT_ID, ADMIN, awsError, rawCall, startServer, type TestServer } from './harness.ts';

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

describe('IAM fidelity: paging, paths, last use, errors', () => {
  let server: TestServer;
  const clock = new ManualClock(Date.now());
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
  const keyOf = async (UserName: string): Promise<Creds> => {
    const k = await iam().send(new CreateAccessKeyCommand({ UserName }));
    return { accessKeyId: k.AccessKey!.AccessKeyId!, secretAccessKey: k.AccessKey!.SecretAccessKey! };
  };
  before(async () => {
    server = await startServer({ clock });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server.stop(true);
  });

  it('ListUsers pages by MaxItems and Marker: IsTruncated and Marker exactly as AWS, the last page without a Marker', async () => {
    const names = ['pg-a', 'pg-b', 'pg-c', 'pg-d', 'pg-e'];
    for (const UserName of names) await iam().send(new CreateUserCommand({ UserName, Path: '/paging/' }));
    const first = await iam().send(new ListUsersCommand({ PathPrefix: '/paging/', MaxItems: 2 }));
    assert.deepEqual(first.Users?.map((u) => u.UserName), ['pg-a', 'pg-b']);
    assert.equal(first.IsTruncated, true);
    assert.ok(first.Marker);
    const second = await iam().send(new ListUsersCommand({ PathPrefix: '/paging/', MaxItems: 2, Marker: first.Marker }));
    assert.deepEqual(second.Users?.map((u) => u.UserName), ['pg-c', 'pg-d']);
    assert.equal(second.IsTruncated, true);
    const last = await iam().send(new ListUsersCommand({ PathPrefix: '/paging/', MaxItems: 2, Marker: second.Marker }));
    assert.deepEqual(last.Users?.map((u) => u.UserName), ['pg-e']);
    assert.equal(last.IsTruncated, false);
    assert.equal(last.Marker, undefined);
    // Exactly MaxItems left: not truncated.
    const exact = await iam().send(new ListUsersCommand({ PathPrefix: '/paging/', MaxItems: 5 }));
    assert.equal(exact.Users?.length, 5);
    assert.equal(exact.IsTruncated, false);
    assert.equal(exact.Marker, undefined);
    // The SDK's paginator follows the markers to the end.
    const seen: string[] = [];
    for await (const page of paginateListUsers({ client: iam(), pageSize: 2 }, { PathPrefix: '/paging/' })) seen.push(...(page.Users ?? []).map((u) => u.UserName!));
    assert.deepEqual(seen, names);

    const badMarker = await awsError(() => iam().send(new ListUsersCommand({ Marker: 'not-a-marker' })));
    assert.equal(badMarker.name, 'ValidationError');
    assert.equal(badMarker.message, 'Invalid Marker.');
    for (const MaxItems of [0, 1001]) {
      const bad = await awsError(() => iam().send(new ListUsersCommand({ MaxItems })));
      assert.equal(bad.name, 'ValidationError');
      assert.match(bad.message, /maxItems/);
    }
  });

  it('every List* operation pages: policies, tags, access keys, attachments, groups, roles, policy versions', async () => {
    await iam().send(new CreateUserCommand({ UserName: 'lister', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
    for (const PolicyName of ['p1', 'p2']) {
      await iam().send(new PutUserPolicyCommand({ UserName: 'lister', PolicyName, PolicyDocument: doc({ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }) }));
    }
    await keyOf('lister');
    await keyOf('lister');
    const arns: string[] = [];
    for (const PolicyName of ['m1', 'm2']) {
      const p = await iam().send(new CreatePolicyCommand({ PolicyName, Path: '/paging/', PolicyDocument: doc({ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }) }));
      arns.push(p.Policy!.Arn!);
      await iam().send(new AttachUserPolicyCommand({ UserName: 'lister', PolicyArn: p.Policy!.Arn! }));
    }
    await iam().send(new CreatePolicyVersionCommand({ PolicyArn: arns[0]!, PolicyDocument: doc({ Effect: 'Allow', Action: 'kms:DescribeKey', Resource: '*' }) }));
    for (const GroupName of ['pg-g1', 'pg-g2']) {
      await iam().send(new CreateGroupCommand({ GroupName, Path: '/paging/' }));
      await iam().send(new AddUserToGroupCommand({ GroupName, UserName: 'lister' }));
    }
    for (const RoleName of ['pg-r1', 'pg-r2']) await iam().send(new CreateRoleCommand({ RoleName, Path: '/paging/', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { AWS: ACCOUNT_ID }, Action: 'sts:AssumeRole' }) }));

    const pages = async <T extends { IsTruncated?: boolean; Marker?: string }>(list: (marker?: string) => Promise<T>, items: (page: T) => unknown[]) => {
      const out: unknown[] = [];
      let marker: string | undefined;
      let count = 0;
      do {
        const page = await list(marker);
        assert.equal(items(page).length, 1, 'MaxItems 1 gives one item a page');
        out.push(...items(page));
        assert.equal(page.Marker !== undefined, page.IsTruncated === true);
        marker = page.Marker;
        count++;
      } while (marker);
      return { out, count };
    };
    const policies = await pages((Marker) => iam().send(new ListUserPoliciesCommand({ UserName: 'lister', MaxItems: 1, Marker })), (p) => p.PolicyNames ?? []);
    assert.deepEqual(policies, { out: ['p1', 'p2'], count: 2 });
    const tags = await pages((Marker) => iam().send(new ListUserTagsCommand({ UserName: 'lister', MaxItems: 1, Marker })), (p) => p.Tags ?? []);
    assert.deepEqual(tags.out, [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }]);
    const keys = await pages((Marker) => iam().send(new ListAccessKeysCommand({ UserName: 'lister', MaxItems: 1, Marker })), (p) => p.AccessKeyMetadata ?? []);
    assert.equal(keys.count, 2);
    const attached = await pages((Marker) => iam().send(new ListAttachedUserPoliciesCommand({ UserName: 'lister', MaxItems: 1, Marker })), (p) => p.AttachedPolicies ?? []);
    assert.deepEqual(attached.out.map((a) => (a as { PolicyArn: string }).PolicyArn), arns);
    const groups = await pages((Marker) => iam().send(new ListGroupsCommand({ PathPrefix: '/paging/', MaxItems: 1, Marker })), (p) => p.Groups ?? []);
    assert.deepEqual(groups.out.map((g) => (g as { GroupName: string }).GroupName), ['pg-g1', 'pg-g2']);
    const roles = await pages((Marker) => iam().send(new ListRolesCommand({ PathPrefix: '/paging/', MaxItems: 1, Marker })), (p) => p.Roles ?? []);
    assert.deepEqual(roles.out.map((r) => (r as { RoleName: string }).RoleName), ['pg-r1', 'pg-r2']);
    const managed = await pages((Marker) => iam().send(new ListPoliciesCommand({ PathPrefix: '/paging/', MaxItems: 1, Marker })), (p) => p.Policies ?? []);
    assert.deepEqual(managed.out.map((p) => (p as { Arn: string }).Arn), arns);
    const versions = await pages((Marker) => iam().send(new ListPolicyVersionsCommand({ PolicyArn: arns[0]!, MaxItems: 1, Marker })), (p) => p.Versions ?? []);
    assert.deepEqual(versions.out.map((v) => [(v as { VersionId: string }).VersionId, (v as { IsDefaultVersion: boolean }).IsDefaultVersion]), [['v1', true], ['v2', false]]);
    const members = await iam().send(new GetGroupCommand({ GroupName: 'pg-g1', MaxItems: 1 }));
    assert.deepEqual([members.Users?.map((u) => u.UserName), members.IsTruncated, members.Marker], [['lister'], false, undefined]);
  });

  it('a Path is carried into the ARN; PathPrefix filters; names stay unique across paths; a bad path is ValidationError', async () => {
    const alice = await iam().send(new CreateUserCommand({ UserName: 'alice', Path: '/engineering/' }));
    assert.equal(alice.User?.Arn, `arn:aws:iam::${ACCOUNT_ID}:user/engineering/alice`);
    assert.equal(alice.User?.Path, '/engineering/');
    const got = await iam().send(new GetUserCommand({ UserName: 'alice' }));
    assert.deepEqual([got.User?.Arn, got.User?.Path, got.User?.UserId], [alice.User?.Arn, '/engineering/', alice.User?.UserId]);
    await assert.rejects(iam().send(new CreateUserCommand({ UserName: 'alice' })), (e) => e instanceof EntityAlreadyExistsException);
    const listed = await iam().send(new ListUsersCommand({ PathPrefix: '/engineering/' }));
    assert.deepEqual(listed.Users?.map((u) => u.Arn), [alice.User?.Arn]);
    const group = await iam().send(new CreateGroupCommand({ GroupName: 'eng', Path: '/engineering/' }));
    assert.equal(group.Group?.Arn, `arn:aws:iam::${ACCOUNT_ID}:group/engineering/eng`);
    const policy = await iam().send(new CreatePolicyCommand({ PolicyName: 'eng-read', Path: '/engineering/', PolicyDocument: doc({ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }) }));
    assert.equal(policy.Policy?.Arn, `arn:aws:iam::${ACCOUNT_ID}:policy/engineering/eng-read`);
    assert.equal(policy.Policy?.Path, '/engineering/');
    for (const Path of ['engineering', '/engineering', '//', `/${'a'.repeat(511)}/`]) {
      const bad = await awsError(() => iam().send(new CreateUserCommand({ UserName: 'badpath', Path })));
      assert.equal(bad.name, 'ValidationError', Path);
    }
    assert.equal((await awsError(() => iam().send(new ListUsersCommand({ PathPrefix: 'engineering' })))).name, 'ValidationError');
  });

  it('path ARNs decide: a key policy matching aws:PrincipalArn user/engineering/*, identity policies on path ARNs, group policies; the trail shows the path ARN', async () => {
    await iam().send(new CreateUserCommand({ UserName: 'erin', Path: '/engineering/' }));
    await iam().send(new CreateUserCommand({ UserName: 'sam', Path: '/sales/' }));
    const kmsUse = doc({ Effect: 'Allow', Action: ['kms:Encrypt', 'kms:ListKeys'], Resource: '*' });
    for (const UserName of ['erin', 'sam']) await iam().send(new PutUserPolicyCommand({ UserName, PolicyName: 'kms', PolicyDocument: kmsUse }));
    const keyId = (await server.kms().send(new CreateKeyCommand({
      Policy: doc(
        { Sid: 'admin', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:user/admin` }, Action: 'kms:*', Resource: '*' },
        {
          Sid: 'engineering', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'kms:Encrypt', Resource: '*',
          Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT_ID}:user/engineering/*` } },
        },
      ),
    }))).KeyMetadata!.KeyId!;
    const erin = await keyOf('erin');
    const sam = await keyOf('sam');
    assert.equal((await sts(erin).send(new GetCallerIdentityCommand({}))).Arn, `arn:aws:iam::${ACCOUNT_ID}:user/engineering/erin`);
    await server.kms({ credentials: erin }).send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
    const denied = await awsError(() => server.kms({ credentials: sam }).send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })));
    assert.equal(denied.name, 'AccessDeniedException');
    assert.match(denied.message, /user\/sales\/sam/);

    // An identity policy naming users by their path ARN: erin may read users under /engineering/ only.
    await iam().send(new PutUserPolicyCommand({
      UserName: 'erin', PolicyName: 'read-engineering',
      PolicyDocument: doc({ Effect: 'Allow', Action: 'iam:GetUser', Resource: `arn:aws:iam::${ACCOUNT_ID}:user/engineering/*` }),
    }));
    assert.equal((await iam(erin).send(new GetUserCommand({ UserName: 'erin' }))).User?.Path, '/engineering/');
    assert.equal((await awsError(() => iam(erin).send(new GetUserCommand({ UserName: 'sam' })))).name, 'AccessDenied');

    // A group with a path gives its policies to its members.
    await iam().send(new CreateGroupCommand({ GroupName: 'sales-team', Path: '/sales/' }));
    await iam().send(new PutGroupPolicyCommand({ GroupName: 'sales-team', PolicyName: 'get', PolicyDocument: doc({ Effect: 'Allow', Action: 'iam:GetUser', Resource: '*' }) }));
    assert.equal((await awsError(() => iam(sam).send(new GetUserCommand({ UserName: 'erin' })))).name, 'AccessDenied');
    await iam().send(new AddUserToGroupCommand({ GroupName: 'sales-team', UserName: 'sam' }));
    assert.equal((await iam(sam).send(new GetUserCommand({ UserName: 'erin' }))).User?.UserName, 'erin');

    const r = await rawCall(server.url, 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents', JSON.stringify({
      LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'Encrypt' }],
    }), { service: 'cloudtrail' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const events = (r.json.Events as { CloudTrailEvent: string; Username?: string }[]).map((e) => ({ ...e, event: JSON.parse(e.CloudTrailEvent) as { userIdentity: { arn: string }; errorCode?: string } }));
    assert.ok(events.some((e) => e.event.userIdentity.arn === `arn:aws:iam::${ACCOUNT_ID}:user/engineering/erin` && e.event.errorCode === undefined && e.Username === 'erin'));
    assert.ok(events.some((e) => e.event.userIdentity.arn === `arn:aws:iam::${ACCOUNT_ID}:user/sales/sam` && e.event.errorCode === 'AccessDeniedException'));
  });

  it('AssumeRole of a role with a path: the session ARN names the role without it; the role\'s policies decide', async () => {
    const role = await iam().send(new CreateRoleCommand({
      RoleName: 'runner', Path: '/service/ci/',
      AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:user/admin` }, Action: 'sts:AssumeRole' }),
    }));
    const roleArn = `arn:aws:iam::${ACCOUNT_ID}:role/service/ci/runner`;
    assert.equal(role.Role?.Arn, roleArn);
    assert.equal((await iam().send(new GetRoleCommand({ RoleName: 'runner' }))).Role?.Path, '/service/ci/');
    await iam().send(new PutRolePolicyCommand({ RoleName: 'runner', PolicyName: 'list', PolicyDocument: doc({ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }) }));
    // The path-less ARN is another role, which does not exist.
    assert.equal((await awsError(() => sts().send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/runner`, RoleSessionName: 's0' })))).name, 'AccessDenied');
    const assumed = await sts().send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 's1' }));
    assert.equal(assumed.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT_ID}:assumed-role/runner/s1`);
    const session = { accessKeyId: assumed.Credentials!.AccessKeyId!, secretAccessKey: assumed.Credentials!.SecretAccessKey!, sessionToken: assumed.Credentials!.SessionToken! };
    const who = await sts(session).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, `arn:aws:sts::${ACCOUNT_ID}:assumed-role/runner/s1`);
    assert.equal(who.UserId, `${role.Role?.RoleId}:s1`);
    await server.kms({ credentials: session }).send(new ListKeysCommand({}));
  });

  it('GetAccessKeyLastUsed: N/A before the first use; then the date, service and region of a use', async () => {
    await iam().send(new CreateUserCommand({ UserName: 'carol', Path: '/ops/' }));
    const carol = await keyOf('carol');
    const before = await iam().send(new GetAccessKeyLastUsedCommand({ AccessKeyId: carol.accessKeyId }));
    assert.equal(before.UserName, 'carol');
    assert.deepEqual(before.AccessKeyLastUsed, { ServiceName: 'N/A', Region: 'N/A' });

    // Denied or not, an authenticated request is a use of the key.
    await awsError(() => server.kms({ credentials: carol, region: 'eu-west-1' }).send(new ListKeysCommand({})));
    let used: AccessKeyLastUsed | undefined = before.AccessKeyLastUsed;
    for (let i = 0; i < 250 && used?.LastUsedDate === undefined; i++) { // up to 5 s: written by a background transaction
      await new Promise((r) => setTimeout(r, 20));
      used = (await iam().send(new GetAccessKeyLastUsedCommand({ AccessKeyId: carol.accessKeyId }))).AccessKeyLastUsed;
    }
    assert.equal(used?.ServiceName, 'kms');
    assert.equal(used?.Region, 'eu-west-1');
    assert.ok(used?.LastUsedDate instanceof Date);
    assert.ok(Math.abs(used.LastUsedDate.getTime() - clock.now()) < 2000);

    // Recorded at most once a minute per key: a use 30 s later is not written, one after the minute is.
    clock.advance(30_000);
    await sts(carol).send(new GetCallerIdentityCommand({}));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await iam().send(new GetAccessKeyLastUsedCommand({ AccessKeyId: carol.accessKeyId }))).AccessKeyLastUsed?.ServiceName, 'kms');
    clock.advance(31_000);
    await sts(carol).send(new GetCallerIdentityCommand({}));
    let later: AccessKeyLastUsed | undefined = used;
    for (let i = 0; i < 250 && later?.ServiceName !== 'sts'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      later = (await iam().send(new GetAccessKeyLastUsedCommand({ AccessKeyId: carol.accessKeyId }))).AccessKeyLastUsed;
    }
    assert.deepEqual([later?.ServiceName, later?.Region], ['sts', 'us-east-1']);

    await assert.rejects(iam().send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAUNKNOWNKEY000000' })), (e) => e instanceof NoSuchEntityException);
    // The user's own policy decides, on the user's (path) ARN.
    await iam().send(new PutUserPolicyCommand({
      UserName: 'carol', PolicyName: 'own-key',
      PolicyDocument: doc({ Effect: 'Allow', Action: 'iam:GetAccessKeyLastUsed', Resource: `arn:aws:iam::${ACCOUNT_ID}:user/ops/\${aws:username}` }),
    }));
    assert.equal((await iam(carol).send(new GetAccessKeyLastUsedCommand({ AccessKeyId: carol.accessKeyId }))).UserName, 'carol');
    const admins = await awsError(() => iam(carol).send(new GetAccessKeyLastUsedCommand({ AccessKeyId: ADMIN.accessKeyId })));
    assert.equal(admins.name, 'AccessDenied');
  });

  it('each IAM and STS error reaches SDK v3 as AWS declares it: typed where modelled, by code and status otherwise', async () => {
    await assert.rejects(iam().send(new GetUserCommand({ UserName: 'ghost' })), (e) => e instanceof NoSuchEntityException && e.$metadata.httpStatusCode === 404);
    await iam().send(new CreateUserCommand({ UserName: 'dup' }));
    await assert.rejects(iam().send(new CreateUserCommand({ UserName: 'dup' })), (e) => e instanceof EntityAlreadyExistsException && e.$metadata.httpStatusCode === 409);
    // AWS: IAM names are unique without regard to case ("Admin" beside "admin", "DUP" beside "dup").
    for (const name of ['DUP', 'Admin']) await assert.rejects(iam().send(new CreateUserCommand({ UserName: name })), (e) => e instanceof EntityAlreadyExistsException, name);
    await iam().send(new CreatePolicyCommand({ PolicyName: 'case-policy', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }] }) }));
    await assert.rejects(iam().send(new CreatePolicyCommand({ PolicyName: 'Case-Policy', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }] }) })),
      (e) => e instanceof EntityAlreadyExistsException);
    await assert.rejects(
      iam().send(new CreatePolicyCommand({ PolicyName: 'broken', PolicyDocument: '{"Statement": [' })),
      (e) => e instanceof MalformedPolicyDocumentException && e.$metadata.httpStatusCode === 400,
    );
    // AccessDenied and ValidationError are common errors: not modelled, so the SDK gives the service's base class with AWS's code.
    const dup = await keyOf('dup');
    await assert.rejects(iam(dup).send(new ListUsersCommand({})),
      (e) => e instanceof IAMServiceException && e.name === 'AccessDenied' && e.$metadata.httpStatusCode === 403);
    await assert.rejects(iam().send(new ListUsersCommand({ MaxItems: 0 })),
      (e) => e instanceof IAMServiceException && e.name === 'ValidationError' && e.$metadata.httpStatusCode === 400);
    const session = await sts(dup).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    const temp = { accessKeyId: session.Credentials!.AccessKeyId!, secretAccessKey: session.Credentials!.SecretAccessKey!, sessionToken: session.Credentials!.SessionToken! };
    clock.advance(901_000);
    await assert.rejects(sts(temp).send(new GetCallerIdentityCommand({})),
      (e) => e instanceof STSServiceException && e.name === 'ExpiredToken' && e.$metadata.httpStatusCode === 400);
    await assert.rejects(iam(temp).send(new GetUserCommand({})),
      (e) => e instanceof IAMServiceException && e.name === 'ExpiredToken' && e.$metadata.httpStatusCode === 400);
  });
});
