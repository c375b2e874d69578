/**
 * IAM SimulatePrincipalPolicy through SDK v3's IAM client against the real server: the decisions of the
 * server's own evaluator (inline, group and managed identity policies; a KMS key's policy for its ARN),
 * the permission it takes (iam:SimulatePrincipalPolicy on the simulated principal, its own included) and
 * AWS's errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddUserToGroupCommand, AttachUserPolicyCommand, CreateAccessKeyCommand, CreateGroupCommand, CreatePolicyCommand, CreateUserCommand, IAMClient,
  NoSuchEntityException, PutGroupPolicyCommand, PutUserPolicyCommand, SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { ACCOUNT_ID, ADMIN, awsError, startServer, type TestServer } from './harness.ts';

type Creds = { accessKeyId: string; secretAccessKey: string };
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const userArn = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:user/${name}`;

describe('IAM SimulatePrincipalPolicy', () => {
  let server: TestServer;
  const clients: IAMClient[] = [];
  const iam = (credentials: Creds = ADMIN) => {
    const c = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  const newUser = async (UserName: string, policy?: string): Promise<Creds> => {
    await iam().send(new CreateUserCommand({ UserName }));
    if (policy) await iam().send(new PutUserPolicyCommand({ UserName, PolicyName: 'p', PolicyDocument: policy }));
    const k = await iam().send(new CreateAccessKeyCommand({ UserName }));
    return { accessKeyId: k.AccessKey!.AccessKeyId!, secretAccessKey: k.AccessKey!.SecretAccessKey! };
  };
  const decisions = async (PolicySourceArn: string, ActionNames: string[], ResourceArns?: string[], as: Creds = ADMIN) => {
    const out = await iam(as).send(new SimulatePrincipalPolicyCommand({ PolicySourceArn, ActionNames, ...(ResourceArns ? { ResourceArns } : {}) }));
    assert.equal(out.IsTruncated, false);
    return Object.fromEntries((out.EvaluationResults ?? []).map((r) => [r.EvalActionName, r.EvalDecision]));
  };

  before(async () => {
    server = await startServer();
    // The subject: an inline Allow and Deny, a group's policy and an attached managed policy.
    await newUser('sim-subject', doc(
      { Effect: 'Allow', Action: ['kms:DescribeKey', 'kms:ScheduleKeyDeletion'], Resource: '*' },
      { Effect: 'Deny', Action: 'kms:ScheduleKeyDeletion', Resource: '*' },
    ));
    await iam().send(new CreateGroupCommand({ GroupName: 'sim-readers' }));
    await iam().send(new PutGroupPolicyCommand({ GroupName: 'sim-readers', PolicyName: 'g', PolicyDocument: doc({ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' }) }));
    await iam().send(new AddUserToGroupCommand({ GroupName: 'sim-readers', UserName: 'sim-subject' }));
    const managed = await iam().send(new CreatePolicyCommand({ PolicyName: 'sim-list', PolicyDocument: doc({ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' }) }));
    await iam().send(new AttachUserPolicyCommand({ UserName: 'sim-subject', PolicyArn: managed.Policy!.Arn! }));
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server.stop(true);
  });

  it('allowed, explicitDeny and implicitDeny, from inline, group and managed policies, in the order asked', async () => {
    const out = await iam().send(new SimulatePrincipalPolicyCommand({
      PolicySourceArn: userArn('sim-subject'),
      ActionNames: ['kms:ScheduleKeyDeletion', 'kms:DescribeKey', 'kms:Encrypt', 'ssm:GetParameter', 'secretsmanager:ListSecrets'],
    }));
    assert.deepEqual(out.EvaluationResults?.map((r) => [r.EvalActionName, r.EvalResourceName, r.EvalDecision]), [
      ['kms:ScheduleKeyDeletion', '*', 'explicitDeny'],
      ['kms:DescribeKey', '*', 'allowed'],
      ['kms:Encrypt', '*', 'implicitDeny'],
      ['ssm:GetParameter', '*', 'allowed'],
      ['secretsmanager:ListSecrets', '*', 'allowed'],
    ]);
  });

  it('on a KMS key of this deployment, its key policy counts: one naming the principal allows without an identity policy', async () => {
    const kms = server.kms();
    const key = await kms.send(new CreateKeyCommand({
      Policy: doc(
        { Sid: 'root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'subject-encrypts', Effect: 'Allow', Principal: { AWS: userArn('sim-subject') }, Action: 'kms:Encrypt', Resource: '*' },
        { Sid: 'no-describe', Effect: 'Deny', Principal: { AWS: userArn('sim-subject') }, Action: 'kms:DescribeKey', Resource: '*' },
      ),
    }));
    const keyArn = key.KeyMetadata!.Arn!;
    const out = await iam().send(new SimulatePrincipalPolicyCommand({
      PolicySourceArn: userArn('sim-subject'), ActionNames: ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'], ResourceArns: [keyArn],
    }));
    assert.deepEqual(out.EvaluationResults?.map((r) => [r.EvalActionName, r.EvalResourceName, r.EvalDecision]), [
      ['kms:Encrypt', keyArn, 'allowed'],
      ['kms:Decrypt', keyArn, 'implicitDeny'],
      // The identity policy allows DescribeKey; the key policy's Deny wins.
      ['kms:DescribeKey', keyArn, 'explicitDeny'],
    ]);
    assert.deepEqual(out.EvaluationResults?.[0]?.ResourceSpecificResults?.map((r) => [r.EvalResourceName, r.EvalResourceDecision]), [[keyArn, 'allowed']]);
    // Several resources: the most restrictive decision, each resource's own beside it.
    const both = await iam().send(new SimulatePrincipalPolicyCommand({
      PolicySourceArn: userArn('sim-subject'), ActionNames: ['kms:Encrypt'], ResourceArns: [keyArn, `arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/elsewhere`],
    }));
    assert.equal(both.EvaluationResults?.[0]?.EvalDecision, 'implicitDeny');
    assert.deepEqual(both.EvaluationResults?.[0]?.ResourceSpecificResults?.map((r) => r.EvalResourceDecision), ['allowed', 'implicitDeny']);
  });

  it('a principal may simulate itself with iam:SimulatePrincipalPolicy on its own ARN, and no one else', async () => {
    const self = await newUser('sim-self', doc(
      { Effect: 'Allow', Action: 'iam:SimulatePrincipalPolicy', Resource: userArn('sim-self') },
      { Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' },
    ));
    assert.deepEqual(await decisions(userArn('sim-self'), ['kms:ListKeys', 'kms:CreateKey'], undefined, self), { 'kms:ListKeys': 'allowed', 'kms:CreateKey': 'implicitDeny' });
    const other = await awsError(() => iam(self).send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: userArn('sim-subject'), ActionNames: ['kms:ListKeys'] })));
    assert.equal(other.name, 'AccessDenied');
    assert.match(other.message, /user\/sim-self is not authorized to perform: iam:SimulatePrincipalPolicy on resource: arn:aws:iam::\d+:user\/sim-subject/);
  });

  it('a caller without iam:SimulatePrincipalPolicy gets AccessDenied, even for itself and for a principal that does not exist', async () => {
    const nobody = await newUser('sim-nobody');
    for (const target of [userArn('sim-nobody'), userArn('sim-ghost')]) {
      const err = await awsError(() => iam(nobody).send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: target, ActionNames: ['kms:ListKeys'] })));
      assert.equal(err.name, 'AccessDenied');
      assert.equal(err.status, 403);
    }
  });

  it('AWS errors: an unknown principal is NoSuchEntity, a non-principal ARN and ContextEntries are refused as client errors', async () => {
    await assert.rejects(iam().send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: userArn('sim-ghost'), ActionNames: ['kms:ListKeys'] })),
      (e) => e instanceof NoSuchEntityException && e.$metadata.httpStatusCode === 404);
    const bad = await awsError(() => iam().send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: 'arn:aws:kms:us-east-1:111122223333:key/x', ActionNames: ['kms:ListKeys'] })));
    assert.equal(bad.status, 400);
    const ctx = await awsError(() => iam().send(new SimulatePrincipalPolicyCommand({
      PolicySourceArn: userArn('sim-subject'), ActionNames: ['kms:ListKeys'],
      ContextEntries: [{ ContextKeyName: 'aws:SourceIp', ContextKeyType: 'ip', ContextKeyValues: ['10.0.0.1'] }],
    })));
    assert.equal(ctx.status, 400);
    assert.match(ctx.message, /does not support ContextEntries/);
    const none = await awsError(() => iam().send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: userArn('sim-subject'), ActionNames: [] })));
    assert.equal(none.status, 400);
  });
});
