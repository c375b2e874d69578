/**
 * `trent backup` on the server side (docs/backup.md): who may take a backup (`trent:Backup`, allowed to
 * the administrator), and the backup itself — a consistent online snapshot of the store, encrypted and
 * authenticated under a key derived from the unsealed keyring. The keyring never leaves the process:
 * only the derived key is used, and only the encrypted file is returned. Knows nothing of HTTP.
 */
import type { Authorizer } from '../auth/authorizer.ts';
import type { Caller } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import { ServiceUnavailableError } from '../errors/errors.ts';
import type { KeyringBarrier } from '../seal/keyring-barrier.ts';
import { KEYRING_META, type SealMode } from '../seal/keyring.ts';
import { snapshotStorage } from '../storage/snapshot.ts';
import type { Storage } from '../storage/storage.ts';
import { BACKUP_KEY_INFO, newSalt, writeBackupFile, type BackupHeader } from './backup-file.ts';

export interface BackupServiceDeps {
  /** The store as opened (not the read cache around it). */
  storage: Storage;
  seal: { readonly barrier: KeyringBarrier | undefined };
  sealMode: SealMode;
  authorizer: Pick<Authorizer, 'authorize'>;
  clock: Clock;
}

export interface BackupResult {
  file: Buffer;
  header: BackupHeader;
}

export function createBackupService(deps: BackupServiceDeps) {
  return {
    async backup(caller: Caller): Promise<BackupResult> {
      await deps.authorizer.authorize(caller, 'trent:Backup');
      const barrier = deps.seal.barrier;
      if (!barrier) throw new ServiceUnavailableError('Trent is sealed. An operator must unseal it (trent operator unseal).');
      const salt = newSalt();
      // The key first, the keyring row last: versions are only ever added, so the row read afterwards
      // holds the version the key came from (and everything the snapshot was sealed under).
      const { version, key } = barrier.deriveKey(BACKUP_KEY_INFO, salt);
      try {
        const snap = await snapshotStorage(deps.storage);
        const keyring = (await deps.storage.read((r) => r.meta.get(KEYRING_META))) ?? null;
        const header: BackupHeader = {
          format: 1, kind: snap.kind, createdAt: new Date(deps.clock.now()).toISOString(), sealMode: deps.sealMode,
          rootKeyVersion: version, salt: salt.toString('base64'), keyring, schemaVersion: snap.schemaVersion,
        };
        return { file: writeBackupFile(header, key, snap.payload), header };
      } finally {
        key.zeroize();
      }
    },
  };
}

export type BackupService = ReturnType<typeof createBackupService>;
