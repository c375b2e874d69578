/**
 * The administration API: X-Amz-Target prefix `TrentAdmin`, SigV4 service name `trent`, awsJson1_1.
 * Member names and shapes follow IAM (CreateUser, PutUserPolicy, CreateAccessKey, TagUser…) and STS
 * (AssumeRole → Credentials{AccessKeyId, SecretAccessKey, SessionToken, Expiration}). See docs/iam.md.
 */
import type { IamService } from '../../auth/iam-service.ts';
import type { PrincipalKind, PrincipalRecord } from '../../storage/iam-repos.ts';
import { epochSeconds } from '../../kms/key-model.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import { defineOperations, type Operation, type ServiceDefinition } from '../operation.ts';

const NAME = { required: true, min: 1, max: 64 } as const;

function tagMap(tags: { TagKey: string; TagValue: string }[] | undefined): Record<string, string> | undefined {
  return tags && Object.fromEntries(tags.map((t) => [t.TagKey, t.TagValue]));
}

function principalView(p: PrincipalRecord): Record<string, unknown> {
  const doc = p.doc as { tags?: Record<string, string>; policies?: Record<string, string>; assumeRolePolicy?: string };
  return definedMembers({
    [p.kind === 'user' ? 'UserName' : 'RoleName']: p.name,
    Arn: p.arn,
    CreateDate: epochSeconds(p.createdAt),
    Tags: Object.entries(doc.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    PolicyNames: Object.keys(doc.policies ?? {}),
    AssumeRolePolicyDocument: doc.assumeRolePolicy,
  });
}

function op(name: string, readOnly: boolean, handle: Operation['handle']): Operation {
  return { name, readOnly, handle };
}

function perKind(kind: PrincipalKind, iam: IamService): Operation[] {
  const K = kind === 'user' ? 'User' : 'Role';
  const nameMember = `${K}Name`;
  return [
    op(`Get${K}`, true, async (input, { caller }) => {
      const r = new InputReader(input);
      const name = r.string(nameMember, NAME);
      r.done();
      return { [K]: principalView(await iam.getPrincipal(caller, kind, name)) };
    }),
    op(`List${K}s`, true, async (input, { caller }) => {
      new InputReader(input).done();
      return { [`${K}s`]: (await iam.listPrincipals(caller, kind)).map(principalView) };
    }),
    op(`Put${K}Policy`, false, async (input, { caller }) => {
      const r = new InputReader(input);
      const name = r.string(nameMember, NAME);
      const policyName = r.string('PolicyName', { required: true, min: 1, max: 128 });
      const policyDocument = r.string('PolicyDocument', { required: true, min: 1, max: 131072 });
      r.done();
      await iam.putPolicy(caller, kind, { name, policyName, policyDocument });
      return undefined;
    }),
    op(`Delete${K}Policy`, false, async (input, { caller }) => {
      const r = new InputReader(input);
      const name = r.string(nameMember, NAME);
      const policyName = r.string('PolicyName', { required: true, min: 1, max: 128 });
      r.done();
      await iam.deletePolicy(caller, kind, { name, policyName });
      return undefined;
    }),
    op(`Tag${K}`, false, async (input, { caller }) => {
      const r = new InputReader(input);
      const name = r.string(nameMember, NAME);
      const tags = r.tags('Tags', 'Key', 'Value');
      r.done();
      await iam.tagPrincipal(caller, kind, { name, tags: tagMap(tags) ?? {} });
      return undefined;
    }),
  ];
}

export function adminServiceDefinition(iam: IamService): ServiceDefinition {
  return {
    targetPrefix: 'TrentAdmin',
    signingName: 'trent',
    eventSource: 'trent.amazonaws.com',
    internalErrorCode: 'ServiceFailure',
    operations: defineOperations([
      op('CreateUser', false, async (input, { caller }) => {
        const r = new InputReader(input);
        const userName = r.string('UserName', NAME);
        const tags = r.tags('Tags', 'Key', 'Value');
        r.done();
        const t = tagMap(tags);
        return { User: principalView(await iam.createUser(caller, definedMembers({ userName, tags: t }))) };
      }),
      op('CreateRole', false, async (input, { caller }) => {
        const r = new InputReader(input);
        const roleName = r.string('RoleName', NAME);
        const trust = r.string('AssumeRolePolicyDocument', { min: 1, max: 131072 });
        const tags = r.tags('Tags', 'Key', 'Value');
        r.done();
        const t = tagMap(tags);
        return {
          Role: principalView(await iam.createRole(caller, definedMembers({ roleName, tags: t, assumeRolePolicyDocument: trust }))),
        };
      }),
      ...perKind('user', iam),
      ...perKind('role', iam),
      op('CreateAccessKey', false, async (input, { caller }) => {
        const r = new InputReader(input);
        const userName = r.string('UserName', NAME);
        r.done();
        const pair = await iam.createAccessKey(caller, { userName });
        return { AccessKey: { UserName: userName, AccessKeyId: pair.accessKeyId, SecretAccessKey: pair.secretAccessKey, Status: 'Active' } };
      }),
      op('UpdateAccessKey', false, async (input, { caller }) => {
        const r = new InputReader(input);
        const userName = r.string('UserName', NAME);
        const accessKeyId = r.string('AccessKeyId', { required: true, min: 16, max: 128 });
        const status = r.enumValue('Status', ['Active', 'Inactive'] as const, { required: true });
        r.done();
        await iam.updateAccessKey(caller, { userName, accessKeyId, status });
        return undefined;
      }),
      op('AssumeRole', false, async (input, { caller }) => {
        const r = new InputReader(input);
        const roleArn = r.string('RoleArn', { required: true, min: 20, max: 2048 });
        const sessionName = r.string('RoleSessionName', { required: true, min: 2, max: 64 });
        const duration = r.integer('DurationSeconds', { min: 1, max: 43200 });
        r.done();
        const c = await iam.assumeRole(caller, definedMembers({ roleArn, roleSessionName: sessionName, durationSeconds: duration }));
        return {
          Credentials: {
            AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken,
            Expiration: epochSeconds(c.expiration),
          },
          AssumedRoleUser: { Arn: c.assumedRoleArn, AssumedRoleId: `${c.accessKeyId}:${sessionName}` },
        };
      }),
    ]),
  };
}
