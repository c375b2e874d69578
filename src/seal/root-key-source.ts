/**
 * Development-mode root key: TRENT_ROOT_KEY (base64 of 32 bytes) or a file `root.key` in the data
 * directory, created with mode 0600 on first start. Production modes (quorum unseal, HSM) replace this.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';

export interface LoadedRootKey {
  key: SecretBytes;
  source: 'environment' | 'file-existing' | 'file-created';
  path?: string;
}

export class RootKeyError extends Error {}

function decode(base64: string, where: string): SecretBytes {
  const raw = Buffer.from(base64.trim(), 'base64');
  if (raw.length !== 32) {
    raw.fill(0);
    throw new RootKeyError(`${where} must hold 32 bytes, base64-encoded`);
  }
  return SecretBytes.adopt(raw);
}

export function loadDevRootKey(dataDir: string, rootKeyBase64: string | undefined): LoadedRootKey {
  if (rootKeyBase64 !== undefined) return { key: decode(rootKeyBase64, 'TRENT_ROOT_KEY'), source: 'environment' };
  const path = join(dataDir, 'root.key');
  if (existsSync(path)) {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) chmodSync(path, 0o600); // tighten a key file someone loosened
    return { key: decode(readFileSync(path, 'utf8'), path), source: 'file-existing', path };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const raw = randomBytesBuffer(32);
  writeFileSync(path, raw.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return { key: SecretBytes.adopt(raw), source: 'file-created', path };
}
