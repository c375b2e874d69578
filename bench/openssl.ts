/**
 * `openssl speed` as the yardstick for the primitives: AES-256-GCM at 16 KiB blocks (envelope
 * encryption) and ECDSA P-256 / RSA-2048 signing (Sign). Machine-readable output (-mr) is parsed:
 *   +F:<n>:AES-256-GCM:<bytes per second>          (one value per block size; -bytes gives one)
 *   +F4:<n>:256:<sign/s>:<verify/s>                (ecdsap256)
 *   +F2:<n>:2048:<sign/s>:<verify/s>               (rsa2048)
 * openssl speed runs one thread, so these are one core's worth, as Trent's event loop is.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function opensslVersion(): Promise<string> {
  try {
    return (await run('openssl', ['version'])).stdout.trim();
  } catch {
    return 'openssl not found';
  }
}

/** Bytes per second of `openssl speed -evp aes-256-gcm` at `blockBytes`. */
export async function opensslAesGcm(blockBytes: number, seconds = 1): Promise<number> {
  const { stdout } = await run('openssl', ['speed', '-evp', 'aes-256-gcm', '-bytes', String(blockBytes), '-seconds', String(seconds), '-mr']);
  const line = stdout.split('\n').find((l) => l.startsWith('+F:'));
  const value = Number(line?.split(':')[3]);
  if (!Number.isFinite(value)) throw new Error(`cannot parse openssl speed output:\n${stdout}`);
  return value;
}

/** Sign and verify operations per second of `openssl speed ecdsap256` / `rsa2048`. */
export async function opensslSign(primitive: 'ecdsap256' | 'rsa2048', seconds = 1): Promise<{ signPerS: number; verifyPerS: number }> {
  const { stdout } = await run('openssl', ['speed', '-seconds', String(seconds), '-mr', primitive]);
  const tag = primitive === 'ecdsap256' ? '+F4:' : '+F2:';
  const parts = stdout.split('\n').find((l) => l.startsWith(tag))?.split(':');
  const signPerS = Number(parts?.[3]);
  const verifyPerS = Number(parts?.[4]);
  if (!Number.isFinite(signPerS)) throw new Error(`cannot parse openssl speed ${primitive} output:\n${stdout}`);
  return { signPerS, verifyPerS };
}
