/**
 * `trent iam …`: a convenience over the IAM and STS query APIs the server speaks (docs/iam.md) — each
 * subcommand is one call of @aws-sdk/client-iam or client-sts (list-users/list-roles follow Marker to the
 * end; create-role without a trust policy asks GetCallerIdentity for the account), so it is authorised,
 * audited and answered exactly as `aws iam …` is. Connection as every CLI command (sdk-connection.ts).
 * Prints the API's result as JSON; an error prints AWS's code and message and exits 1.
 */
import { readFileSync } from 'node:fs';
import {
  AddUserToGroupCommand, AttachGroupPolicyCommand, AttachRolePolicyCommand, AttachUserPolicyCommand, CreateAccessKeyCommand,
  CreateGroupCommand, CreatePolicyCommand, CreateRoleCommand, CreateUserCommand, DeleteRolePolicyCommand, DeleteUserPolicyCommand,
  GetRoleCommand, GetUserCommand, IAMClient, IAMServiceException, ListRolePoliciesCommand, ListUserPoliciesCommand, PutRolePolicyCommand,
  PutUserPolicyCommand, TagRoleCommand, TagUserCommand, UpdateAccessKeyCommand, paginateListRoles, paginateListUsers,
  type Role, type User,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import type { Command } from 'commander';
import { trentEndpoint } from './admin-request.ts';
import { unreachable } from './http-client.ts';
import type { CliContext } from './main.ts';
import { cliRegion, sdkConnection } from './sdk-connection.ts';

interface Clients {
  readonly iam: IAMClient;
  readonly sts: STSClient;
}

/**
 * Runs `fn` with IAM and STS clients for this one command and turns its failure into one line: AWS's
 * code and message for an answer from the server, what to change for a network or TLS failure.
 */
async function withClients<T>(env: CliContext['env'], fn: (c: Clients) => Promise<T>): Promise<T> {
  const url = trentEndpoint(env);
  const connection = sdkConnection(env);
  // One attempt: an administration command is one deliberate change, and a retried CreateAccessKey whose
  // answer was lost would issue a second key.
  // AWS: IAM is global and signed for us-east-1 whatever region the caller uses; STS is regional.
  const iam = new IAMClient({ ...connection.config, region: 'us-east-1', maxAttempts: 1 });
  const sts = new STSClient({ ...connection.config, region: cliRegion(env), maxAttempts: 1 });
  try {
    return await fn({ iam, sts });
  } catch (err) {
    if (err instanceof IAMServiceException || err instanceof STSServiceException) {
      // The query error's <Code> (NoSuchEntity) is AWS's code; the SDK's class name adds "Exception".
      const code = (err as { Code?: unknown }).Code;
      throw new Error(`${typeof code === 'string' ? code : err.name}: ${err.message}`);
    }
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e.code === 'string' && typeof e.message === 'string') throw unreachable(url, e);
    throw err;
  } finally {
    iam.destroy();
    sts.destroy();
    connection.destroy();
  }
}

/** The result without the SDK's response metadata, as `aws … --output json` prints it (dates ISO 8601). */
function resultOf(out: object): Record<string, unknown> {
  const { $metadata: _, ...rest } = out as Record<string, unknown>;
  return rest;
}

function tags(list: string[] | undefined): { Key: string; Value: string }[] | undefined {
  return list?.map((kv) => {
    const i = kv.indexOf('=');
    if (i < 1) throw new Error(`tag must be KEY=VALUE: ${kv}`);
    return { Key: kv.slice(0, i), Value: kv.slice(i + 1) };
  });
}

/**
 * A policy given inline (starts with "{") or as a file path. Read before any call, so that a file error
 * is never mistaken for a network one.
 */
function policyText(arg: string): string {
  return arg.trimStart().startsWith('{') ? arg : readFileSync(arg, 'utf8');
}

function seconds(arg: string): number {
  if (!/^\d+$/.test(arg)) throw new Error(`--duration must be a whole number of seconds: ${arg}`);
  return Number(arg);
}

function accessKeyStatus(arg: string): 'Active' | 'Inactive' {
  if (arg !== 'Active' && arg !== 'Inactive') throw new Error(`<status> must be Active or Inactive, not ${arg}`);
  return arg;
}

/** What TrentAdmin's CreateRole assumed when no trust policy was given: the account decides, through identity policies. */
function ownAccountTrust(accountId: string): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }] });
}

const collect = (v: string, prev: string[] = []) => [...prev, v];
const opt = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

export function registerIamCommands(program: Command, ctx: CliContext): void {
  const iam = program.command('iam')
    .description('users, groups, roles, policies, access keys and temporary credentials (the IAM and STS APIs)');
  const run = (call: (c: Clients) => Promise<object>) =>
    withClients(ctx.env, call).then((out) => void ctx.stdout.write(`${JSON.stringify(resultOf(out), null, 2)}\n`));
  const tagged = (c: Command) => c.option('--tag <key=value>', 'tag (repeatable)', collect).option('--path <path>', 'IAM path, e.g. /engineering/');
  type TagOpts = { tag?: string[]; path?: string };

  tagged(iam.command('create-user <name>'))
    .action((name: string, o: TagOpts) => run(({ iam }) => iam.send(new CreateUserCommand({ UserName: name, ...opt('Path', o.path), ...opt('Tags', tags(o.tag)) }))));
  tagged(iam.command('create-role <name>'))
    .option('--assume-role-policy <policy>', 'trust policy, JSON text or a file (default: the account, i.e. its identity policies, decides)')
    .action((name: string, o: TagOpts & { assumeRolePolicy?: string }) => {
      const given = o.assumeRolePolicy === undefined ? undefined : policyText(o.assumeRolePolicy);
      return run(async ({ iam, sts }) => {
        const trust = given ?? ownAccountTrust((await sts.send(new GetCallerIdentityCommand({}))).Account!);
        return iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust, ...opt('Path', o.path), ...opt('Tags', tags(o.tag)) }));
      });
    });
  iam.command('create-group <name>').option('--path <path>', 'IAM path')
    .action((name: string, o: { path?: string }) => run(({ iam }) => iam.send(new CreateGroupCommand({ GroupName: name, ...opt('Path', o.path) }))));
  iam.command('create-policy <name> <policy>').description('a managed policy; <policy>: JSON text or a file').option('--path <path>', 'IAM path')
    .action((name: string, p: string, o: { path?: string }) => {
      const doc = policyText(p);
      return run(({ iam }) => iam.send(new CreatePolicyCommand({ PolicyName: name, PolicyDocument: doc, ...opt('Path', o.path) })));
    });
  iam.command('get-user [name]').description('without a name: the caller')
    .action((name: string | undefined) => run(({ iam }) => iam.send(new GetUserCommand({ ...opt('UserName', name) }))));
  iam.command('get-role <name>').action((name: string) => run(({ iam }) => iam.send(new GetRoleCommand({ RoleName: name }))));
  iam.command('list-users').action(() => run(async ({ iam }) => {
    const Users: User[] = [];
    for await (const page of paginateListUsers({ client: iam }, {})) Users.push(...(page.Users ?? []));
    return { Users };
  }));
  iam.command('list-roles').action(() => run(async ({ iam }) => {
    const Roles: Role[] = [];
    for await (const page of paginateListRoles({ client: iam }, {})) Roles.push(...(page.Roles ?? []));
    return { Roles };
  }));
  iam.command('list-user-policies <user>').description('names of the user\'s inline policies')
    .action((user: string) => run(({ iam }) => iam.send(new ListUserPoliciesCommand({ UserName: user, MaxItems: 1000 }))));
  iam.command('list-role-policies <role>').description('names of the role\'s inline policies')
    .action((role: string) => run(({ iam }) => iam.send(new ListRolePoliciesCommand({ RoleName: role, MaxItems: 1000 }))));
  iam.command('create-access-key <user>').action((user: string) => run(({ iam }) => iam.send(new CreateAccessKeyCommand({ UserName: user }))));
  iam.command('update-access-key <user> <access-key-id> <status>').description('<status>: Active or Inactive')
    .action((user: string, id: string, status: string) =>
      run(({ iam }) => iam.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: id, Status: accessKeyStatus(status) }))));
  iam.command('put-user-policy <user> <policy-name> <policy>').description('<policy>: JSON text or a file')
    .action((user: string, name: string, p: string) => {
      const doc = policyText(p);
      return run(({ iam }) => iam.send(new PutUserPolicyCommand({ UserName: user, PolicyName: name, PolicyDocument: doc })));
    });
  iam.command('put-role-policy <role> <policy-name> <policy>').description('<policy>: JSON text or a file')
    .action((role: string, name: string, p: string) => {
      const doc = policyText(p);
      return run(({ iam }) => iam.send(new PutRolePolicyCommand({ RoleName: role, PolicyName: name, PolicyDocument: doc })));
    });
  iam.command('delete-user-policy <user> <policy-name>')
    .action((user: string, name: string) => run(({ iam }) => iam.send(new DeleteUserPolicyCommand({ UserName: user, PolicyName: name }))));
  iam.command('delete-role-policy <role> <policy-name>')
    .action((role: string, name: string) => run(({ iam }) => iam.send(new DeleteRolePolicyCommand({ RoleName: role, PolicyName: name }))));
  iam.command('tag-user <user> <key=value...>')
    .action((user: string, kv: string[]) => run(({ iam }) => iam.send(new TagUserCommand({ UserName: user, Tags: tags(kv) }))));
  iam.command('tag-role <role> <key=value...>')
    .action((role: string, kv: string[]) => run(({ iam }) => iam.send(new TagRoleCommand({ RoleName: role, Tags: tags(kv) }))));
  iam.command('add-user-to-group <group> <user>')
    .action((group: string, user: string) => run(({ iam }) => iam.send(new AddUserToGroupCommand({ GroupName: group, UserName: user }))));
  iam.command('attach-user-policy <user> <policy-arn>')
    .action((user: string, arn: string) => run(({ iam }) => iam.send(new AttachUserPolicyCommand({ UserName: user, PolicyArn: arn }))));
  iam.command('attach-role-policy <role> <policy-arn>')
    .action((role: string, arn: string) => run(({ iam }) => iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: arn }))));
  iam.command('attach-group-policy <group> <policy-arn>')
    .action((group: string, arn: string) => run(({ iam }) => iam.send(new AttachGroupPolicyCommand({ GroupName: group, PolicyArn: arn }))));
  iam.command('assume-role <role-arn> <session-name>').option('--duration <seconds>', 'DurationSeconds, 900–43200 (default 3600)')
    .action((arn: string, session: string, o: { duration?: string }) =>
      run(({ sts }) => sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: session, ...opt('DurationSeconds', o.duration === undefined ? undefined : seconds(o.duration)) }))));
  iam.command('get-caller-identity').description('who the credentials are (STS; needs no permission)')
    .action(() => run(({ sts }) => sts.send(new GetCallerIdentityCommand({}))));
}
