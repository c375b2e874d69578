/**
 * Test helper (imported only by tests): SoftHSM2 tokens in a fresh temporary directory.
 *
 * libsofthsm2 reads SOFTHSM2_CONF when it is C_Initialize'd, and a process initialises it once, so
 * the first call writes one softhsm2.conf for this process (node's test runner gives each test file its
 * own process) and points SOFTHSM2_CONF at it; every token of the process lives in that directory.
 * The server itself never reads the variable: for a separately started server it is the operator's
 * environment (docs/hsm.md).
 *
 * Without softhsm2-util, `softHsmAvailable()` says why; tests skip loudly, or fail when CI is set.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytesBuffer } from '../crypto/primitives.ts';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface TestToken {
  modulePath: string;
  tokenLabel: string;
  /** Crypto-user PIN. */
  pin: string;
  soPin: string;
  confPath: string;
}

let tokenDir: { dir: string; confPath: string } | undefined;

/** Undefined when SoftHSM2 can be used here, else the reason. */
export function softHsmUnavailable(): string | undefined {
  if (!existsSync(SOFTHSM_MODULE)) return `${SOFTHSM_MODULE} is missing (apt-get install softhsm2)`;
  const probe = spawnSync('softhsm2-util', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return 'softhsm2-util is not on PATH (apt-get install softhsm2)';
  return undefined;
}

/**
 * For `test(name, { skip: hsmSkip() }, …)`: false when SoftHSM2 is usable; otherwise a loud skip reason,
 * or, when CI is set, an exception (HSM tests never skip in CI).
 */
export function hsmSkip(): string | false {
  const reason = softHsmUnavailable();
  if (reason === undefined) return false;
  if (process.env.CI) throw new Error(`CI is set but SoftHSM2 is unusable: ${reason}`);
  console.warn(`\n!!! SKIPPING HSM TESTS: ${reason} !!!\n`);
  return `SoftHSM2 unavailable: ${reason}`;
}

function ensureTokenDir(): { dir: string; confPath: string } {
  if (tokenDir) return tokenDir;
  const dir = mkdtempSync(join(tmpdir(), 'trent-softhsm-'));
  const confPath = join(dir, 'softhsm2.conf');
  writeFileSync(confPath, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  process.env.SOFTHSM2_CONF = confPath;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  tokenDir = { dir, confPath };
  return tokenDir;
}

/** Initialises a new token with fresh PINs (call before the first open of the module in this process). */
export function createTestToken(labelPrefix = 'trent-test'): TestToken {
  const { confPath } = ensureTokenDir();
  const tokenLabel = `${labelPrefix}-${randomBytesBuffer(4).toString('hex')}`;
  const pin = randomBytesBuffer(6).toString('hex');
  const soPin = randomBytesBuffer(6).toString('hex');
  const r = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', tokenLabel, '--so-pin', soPin, '--pin', pin], {
    encoding: 'utf8',
    env: { ...process.env, SOFTHSM2_CONF: confPath },
  });
  if (r.status !== 0) throw new Error(`softhsm2-util --init-token failed: ${r.stderr || r.stdout || r.error?.message}`);
  return { modulePath: SOFTHSM_MODULE, tokenLabel, pin, soPin, confPath };
}
