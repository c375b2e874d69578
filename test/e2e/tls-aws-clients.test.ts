/**
 * The AWS CLI v1 and v2 and boto3 over HTTPS, trusting the CA of `trent tls init` with --ca-bundle or
 * AWS_CA_BUNDLE (docs/tls.md). CLI v1 is the `aws` of pyenv's Python, v2 Debian's awscli (/usr/bin/aws);
 * CI installs both (.ci/run), elsewhere a missing one is skipped loudly. Each CLI call costs about a second:
 * two per CLI, and one that must fail.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { ADMIN, REGION, startServer, type TestServer } from './harness.ts';
import { devPki, httpsKms, type Pki } from './tls-support.ts';

function versionOf(cmd: string[]): string | undefined {
  try {
    return execFileSync(cmd[0]!, [...cmd.slice(1), '--version'], { stdio: 'pipe', encoding: 'utf8', timeout: 60_000 }).trim();
  } catch {
    return undefined;
  }
}

/** The AWS CLI of major version `major` on this machine: PATH's `aws` or Debian's /usr/bin/aws. */
function awsCliOf(major: 1 | 2): string | undefined {
  for (const bin of ['aws', '/usr/bin/aws']) if (versionOf([bin])?.startsWith(`aws-cli/${major}.`)) return bin;
  return undefined;
}

function python(): string | undefined {
  for (const bin of ['python', 'python3']) {
    try {
      execFileSync(bin, ['-c', 'import boto3'], { stdio: 'pipe', timeout: 60_000 });
      return bin;
    } catch {
      /* next */
    }
  }
  return undefined;
}

function skipUnless(found: string | undefined, what: string): string | false {
  if (found) return false;
  if (process.env.CI) throw new Error(`${what} is required in CI (.ci/run installs it)`);
  const reason = `${what} not found: skipping its HTTPS tour`;
  console.warn(`\n!!! ${reason}\n`);
  return reason;
}

const baseEnv = {
  PATH: process.env.PATH, HOME: process.env.HOME,
  AWS_ACCESS_KEY_ID: ADMIN.accessKeyId, AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey, AWS_DEFAULT_REGION: REGION,
  AWS_CONFIG_FILE: '/nonexistent/trent-test-config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/trent-test-credentials',
  AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1',
};

function run(bin: string, args: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env: { ...baseEnv, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(new Error(`${bin} ${args.join(' ')} failed: ${stderr}`), { stderr }));
      else resolve(stdout);
    });
  });
}

describe('AWS CLI and boto3 over HTTPS', () => {
  let pki: Pki;
  let server: TestServer;
  let keyId: string;
  before(async () => {
    pki = await devPki();
    server = await startServer({ env: pki.env });
    const kms = httpsKms(server.url, pki.ca);
    keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    kms.destroy();
  });
  after(() => server.stop(true));

  for (const major of [1, 2] as const) {
    const bin = awsCliOf(major);
    test(`AWS CLI v${major} works with --ca-bundle and with AWS_CA_BUNDLE`, { skip: skipUnless(bin, `AWS CLI v${major}`) }, async () => {
      const cli = (args: string[], env?: Record<string, string>) => run(bin!, [...args, '--endpoint-url', server.url, '--output', 'json'], env);
      const listed = JSON.parse(await cli(['kms', 'list-keys', '--ca-bundle', pki.ca])) as { Keys: { KeyId: string }[] };
      assert.ok(listed.Keys.some((k) => k.KeyId === keyId));
      const described = JSON.parse(await cli(['kms', 'describe-key', '--key-id', keyId], { AWS_CA_BUNDLE: pki.ca })) as { KeyMetadata: { KeyId: string } };
      assert.equal(described.KeyMetadata.KeyId, keyId);
      if (major === 1) {
        // Without the CA the CLI refuses the server: verification is really on.
        const err = await cli(['kms', 'list-keys']).then(() => undefined, (e: { stderr: string }) => e.stderr);
        assert.match(err ?? 'it succeeded', /SSL|CERTIFICATE_VERIFY_FAILED|certificate verify failed/i);
      }
    });
  }

  const py = python();
  test('boto3 works with AWS_CA_BUNDLE and with verify=<ca.pem>', { skip: skipUnless(py, 'boto3 (python)') }, async () => {
    const script = [
      'import boto3, os, sys',
      'url, key, ca = sys.argv[1], sys.argv[2], sys.argv[3]',
      'a = boto3.client("kms", endpoint_url=url)',  // AWS_CA_BUNDLE from the environment
      'ct = a.encrypt(KeyId=key, Plaintext=b"boto3 over TLS")["CiphertextBlob"]',
      'b = boto3.client("kms", endpoint_url=url, verify=ca)',
      'print(b.decrypt(CiphertextBlob=ct)["Plaintext"].decode())',
    ].join('\n');
    const out = await run(py!, ['-c', script, server.url, keyId, pki.ca], { AWS_CA_BUNDLE: pki.ca });
    assert.equal(out.trim(), 'boto3 over TLS');
  });
});
