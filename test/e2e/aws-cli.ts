/**
 * Drives the real AWS CLI against a test server. Each call costs about a second, so CLI tests are a
 * few scripted tours. Without the CLI: CI fails (it must have it: .ci/run installs it); elsewhere the
 * tests skip with a loud message.
 */
import { execFile, execFileSync } from 'node:child_process';
import { ADMIN, REGION } from './harness.ts';

export function awsCliAvailable(): boolean {
  try {
    execFileSync('aws', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** The `skip` option for a CLI test: false when the CLI is there; a loud reason otherwise (or a hard failure in CI). */
export function cliSkipReason(): string | false {
  if (awsCliAvailable()) return false;
  if (process.env.CI) throw new Error('the AWS CLI is required in CI (.ci/run installs it)');
  const reason = 'AWS CLI not found on PATH: skipping the AWS CLI tour (install awscli to run it)';
  console.warn(`\n!!! ${reason}\n`);
  return reason;
}

export function awsCli(endpoint: string, args: string[], opts: { cwd?: string; region?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'aws',
      [...args, '--endpoint-url', endpoint, '--region', opts.region ?? REGION, '--output', 'json'],
      {
        cwd: opts.cwd,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_ACCESS_KEY_ID: ADMIN.accessKeyId,
          AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey,
          AWS_CONFIG_FILE: '/nonexistent/trent-test-config',
          AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/trent-test-credentials',
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_PAGER: '',
          AWS_MAX_ATTEMPTS: '1',
        },
      },
      (err, stdout, stderr) => {
        if (err) reject(Object.assign(new Error(`aws ${args.join(' ')} failed: ${stderr}`), { stderr, stdout }));
        else resolve(stdout);
      },
    );
  });
}
