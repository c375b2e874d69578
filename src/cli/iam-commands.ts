/**
 * `trent iam …`: principals and credentials through the TrentAdmin API of a running server (JSON over
 * HTTP, X-Amz-Target TrentAdmin.<Operation>, SigV4 service `trent`; see docs/iam.md). Connection from the
 * environment: TRENT_ENDPOINT (default: the server's default address, http://127.0.0.1:4599), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN (optional), TRENT_REGION (default us-east-1); over HTTPS, TRENT_CA_BUNDLE (http-client.ts).
 * Prints the JSON answer.
 */
import { readFileSync } from 'node:fs';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Command } from 'commander';
import { cliRequest } from './http-client.ts';
import type { CliContext } from './main.ts';

/** The server the CLI talks to: TRENT_ENDPOINT, else where `npm start` listens by default. */
export function trentEndpoint(env: CliContext['env']): URL {
  return new URL(env.TRENT_ENDPOINT ?? 'http://127.0.0.1:4599');
}

/**
 * Headers of a POST of `payload` to `path`, SigV4-signed (service `trent`) with the environment's
 * credentials; `missing` is the error when they are not set.
 */
export async function signedTrentHeaders(
  env: CliContext['env'], endpoint: URL, path: string, payload: string, headers: Record<string, string>, missing: string,
): Promise<Record<string, string>> {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new Error(missing);
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) },
    region: env.TRENT_REGION ?? 'us-east-1',
    service: 'trent',
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign({
    method: 'POST', protocol: endpoint.protocol, hostname: endpoint.hostname, path,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    headers: { host: endpoint.host, ...headers },
    body: payload,
  });
  return signed.headers as Record<string, string>;
}

export async function adminRequest(env: CliContext['env'], operation: string, body: Record<string, unknown>, targetPrefix = 'TrentAdmin'): Promise<Record<string, unknown>> {
  const endpoint = trentEndpoint(env);
  const payload = JSON.stringify(body);
  const headers = await signedTrentHeaders(env, endpoint, '/', payload,
    { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${targetPrefix}.${operation}` },
    'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (e.g. the administrator printed at first start)');
  const res = await cliRequest(env, new URL('/', endpoint), { method: 'POST', headers, body: payload });
  const json = (res.text ? JSON.parse(res.text) : {}) as Record<string, unknown>;
  if (res.status < 200 || res.status > 299) throw new Error(`${String(json.__type ?? res.status)}: ${String(json.message ?? '')}`);
  return json;
}

function tags(list: string[] | undefined): { Key: string; Value: string }[] | undefined {
  return list?.map((kv) => {
    const i = kv.indexOf('=');
    if (i < 1) throw new Error(`tag must be KEY=VALUE: ${kv}`);
    return { Key: kv.slice(0, i), Value: kv.slice(i + 1) };
  });
}

/** A policy given inline (starts with "{") or as a file path. */
function policyText(arg: string): string {
  return arg.trimStart().startsWith('{') ? arg : readFileSync(arg, 'utf8');
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerIamCommands(program: Command, ctx: CliContext): void {
  const iam = program.command('iam').description('users, roles, identity policies, access keys and temporary credentials (TrentAdmin API)');
  const run = (op: string, body: Record<string, unknown>) =>
    adminRequest(ctx.env, op, body).then((out) => void ctx.stdout.write(`${JSON.stringify(out, null, 2)}\n`));

  iam.command('create-user <name>').option('--tag <key=value>', 'tag (repeatable)', collect)
    .action((name: string, o: { tag?: string[] }) => run('CreateUser', { UserName: name, ...(o.tag ? { Tags: tags(o.tag) } : {}) }));
  iam.command('create-role <name>').option('--tag <key=value>', 'tag (repeatable)', collect)
    .action((name: string, o: { tag?: string[] }) => run('CreateRole', { RoleName: name, ...(o.tag ? { Tags: tags(o.tag) } : {}) }));
  iam.command('get-user <name>').action((name: string) => run('GetUser', { UserName: name }));
  iam.command('get-role <name>').action((name: string) => run('GetRole', { RoleName: name }));
  iam.command('list-users').action(() => run('ListUsers', {}));
  iam.command('list-roles').action(() => run('ListRoles', {}));
  iam.command('create-access-key <user>').action((user: string) => run('CreateAccessKey', { UserName: user }));
  iam.command('update-access-key <user> <access-key-id> <status>').description('<status>: Active or Inactive')
    .action((user: string, id: string, status: string) => run('UpdateAccessKey', { UserName: user, AccessKeyId: id, Status: status }));
  iam.command('put-user-policy <user> <policy-name> <policy>').description('<policy>: JSON text or a file')
    .action((user: string, name: string, p: string) => run('PutUserPolicy', { UserName: user, PolicyName: name, PolicyDocument: policyText(p) }));
  iam.command('put-role-policy <role> <policy-name> <policy>').description('<policy>: JSON text or a file')
    .action((role: string, name: string, p: string) => run('PutRolePolicy', { RoleName: role, PolicyName: name, PolicyDocument: policyText(p) }));
  iam.command('delete-user-policy <user> <policy-name>').action((user: string, name: string) => run('DeleteUserPolicy', { UserName: user, PolicyName: name }));
  iam.command('delete-role-policy <role> <policy-name>').action((role: string, name: string) => run('DeleteRolePolicy', { RoleName: role, PolicyName: name }));
  iam.command('tag-user <user> <key=value...>').action((user: string, kv: string[]) => run('TagUser', { UserName: user, Tags: tags(kv) }));
  iam.command('tag-role <role> <key=value...>').action((role: string, kv: string[]) => run('TagRole', { RoleName: role, Tags: tags(kv) }));
  iam.command('assume-role <role-arn> <session-name>').option('--duration <seconds>', 'DurationSeconds (default 3600)')
    .action((arn: string, session: string, o: { duration?: string }) =>
      run('AssumeRole', { RoleArn: arn, RoleSessionName: session, ...(o.duration ? { DurationSeconds: Number(o.duration) } : {}) }));
}
