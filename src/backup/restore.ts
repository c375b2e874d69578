/**
 * `trent restore` (docs/backup.md): offline, onto an empty store. The unseal key comes from the same
 * custody that sealed the deployment (development root key, M shares, or the HSM); it opens the keyring
 * row carried in the backup's header, the backup key is derived from the root-key version the header
 * names, and every chunk is authenticated before the first byte is written. A store that already holds
 * data is refused.
 */
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { KeyringBarrier } from '../seal/keyring-barrier.ts';
import { Keyring, KeyringOpenError, parseStoredKeyring, type StoredKeyring } from '../seal/keyring.ts';
import { restoreStorage } from '../storage/snapshot.ts';
import { BACKUP_KEY_INFO, BackupFileError, openBackupFile, readBackupHeader, type BackupHeader } from './backup-file.ts';

export interface RestoreInput {
  file: Buffer;
  /** TRENT_STORAGE of the deployment being restored. */
  storageUrl: string;
  /** The unseal key (development mode: the root key) for this keyring row (undefined: never rotated dev mode). */
  unsealKey(header: BackupHeader, row: StoredKeyring | undefined): Promise<SecretBytes>;
}

export { BackupFileError };

/** Checks the whole file, then restores it; throws BackupFileError (nothing restored) when it is not intact. */
export async function restoreBackup(input: RestoreInput): Promise<BackupHeader> {
  const { header } = readBackupHeader(input.file);
  let row: StoredKeyring | undefined;
  try {
    row = header.keyring === null ? undefined : parseStoredKeyring(header.keyring);
  } catch {
    throw new BackupFileError('the keyring in the backup header is not in a known format: the file was altered');
  }
  const unsealKey = await input.unsealKey(header, row);
  let barrier: KeyringBarrier;
  try {
    barrier = new KeyringBarrier(row ? Keyring.open(unsealKey, row) : Keyring.withFirst(SecretBytes.copyOf(unsealKey.expose())));
  } catch (err) {
    if (err instanceof KeyringOpenError) {
      throw new BackupFileError('the unseal key given (shares, HSM or development root key) does not open the keyring of this backup');
    }
    throw err;
  } finally {
    unsealKey.zeroize();
  }
  let payload: Buffer;
  try {
    let derived;
    try {
      derived = barrier.deriveKey(BACKUP_KEY_INFO, Buffer.from(header.salt, 'base64'), header.rootKeyVersion);
    } catch {
      throw new BackupFileError(`the backup names root-key version ${header.rootKeyVersion}, which its keyring does not hold: the file was altered`);
    }
    try {
      payload = openBackupFile(input.file, derived.key).payload;
    } finally {
      derived.key.zeroize();
    }
  } finally {
    barrier.zeroize();
  }
  await restoreStorage(input.storageUrl, { kind: header.kind, payload });
  return header;
}
