/**
 * `trent backup --out FILE` and `trent restore FILE` (docs/backup.md).
 *
 * backup asks the running server (a SigV4-signed TrentBackup call: AWS_ACCESS_KEY_ID…, TRENT_ENDPOINT)
 * for an encrypted backup and writes it; the keyring stays in the server. restore runs offline, with the
 * server stopped, onto an empty data dir or database (TRENT_DATA_DIR / TRENT_STORAGE or the flags), and
 * takes the unseal key from the same custody as the server: the development root key (TRENT_ROOT_KEY or
 * root.key in the data dir), M key shares (--share, once per share), or the HSM (TRENT_SEAL=pkcs11).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BackupFileError, restoreBackup } from '../backup/restore.ts';
import { loadConfig } from '../config/config.ts';
import { combineShares } from '../crypto/shamir.ts';
import { openHsm } from '../hsm/index.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { createHsmUnsealKeyWrapper } from '../seal/hsm-unseal.ts';
import { decodeShare } from '../seal/quorum.ts';
import { loadDevRootKey } from '../seal/root-key-source.ts';
import { adminRequest } from './admin-request.ts';
import type { CliContext } from './main.ts';

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface RestoreOptions {
  dataDir?: string;
  storage?: string;
  share?: string[];
}

export function registerBackupCommands(program: Command, ctx: CliContext): void {
  program.command('backup').description('take an online, encrypted backup of the running server (authenticated: trent:Backup)')
    .requiredOption('--out <file>', 'where to write the backup (must not exist)')
    .action(async (o: { out: string }) => {
      const out = await adminRequest(ctx.env, 'CreateBackup', {}, 'TrentBackup');
      const file = Buffer.from(String(out.Backup), 'base64');
      writeFileSync(o.out, file, { mode: 0o600, flag: 'wx' });
      ctx.stdout.write(`backup written to ${o.out}: ${file.length} bytes, ${String(out.StorageKind)} store, schema ${String(out.SchemaVersion)}, root-key version ${String(out.RootKeyVersion)}, taken ${String(out.CreatedAt)}\n`);
    });

  program.command('restore <file>').description('restore a backup onto an empty data dir or database (offline: the server must be stopped)')
    .option('--data-dir <dir>', 'data directory of a SQLite deployment (default TRENT_DATA_DIR)')
    .option('--storage <url>', 'storage URL (sqlite:<path> or postgres://…; default TRENT_STORAGE)')
    .option('--share <share>', 'an unseal (or, with an HSM, recovery) key share; repeat until the threshold', collect)
    .action(async (path: string, o: RestoreOptions) => {
      const env = { ...ctx.env, ...(o.dataDir ? { TRENT_DATA_DIR: o.dataDir, TRENT_STORAGE: undefined } : {}), ...(o.storage ? { TRENT_STORAGE: o.storage } : {}) };
      const config = loadConfig(env);
      try {
        const header = await restoreBackup({
          file: readFileSync(path),
          storageUrl: config.storageUrl,
          async unsealKey(h, row) {
            if (o.share && o.share.length > 0) {
              if (row?.threshold !== undefined && o.share.length < row.threshold) {
                throw new Error(`this deployment needs ${row.threshold} key shares; ${o.share.length} given`);
              }
              return combineShares(o.share.map(decodeShare));
            }
            if (h.sealMode === 'dev') {
              // Never create a root key here: the backup opens only with the one that sealed it.
              if (config.rootKeyBase64 === undefined && !existsSync(join(config.dataDir, 'root.key'))) {
                throw new Error('a development-mode backup opens with the root key that sealed it: set TRENT_ROOT_KEY or put its root.key in the data directory');
              }
              return loadDevRootKey(config.dataDir, config.rootKeyBase64).key;
            }
            if (h.sealMode === 'pkcs11' && config.seal.pkcs11 && row?.hsmWrappedUnsealKey) {
              const p11 = config.seal.pkcs11;
              const hsm = createHsmUnsealKeyWrapper({
                keyLabel: p11.keyLabel,
                open: () => openHsm({ modulePath: p11.modulePath, tokenLabel: p11.tokenLabel, pin: SecretBytes.copyOf(Buffer.from(p11.pin, 'utf8')) }),
              });
              try {
                return await hsm.unwrap(Buffer.from(row.hsmWrappedUnsealKey, 'base64'));
              } finally {
                await hsm.close();
              }
            }
            throw new Error(`this backup's deployment unseals with ${h.sealMode === 'pkcs11' ? 'its HSM (TRENT_SEAL=pkcs11 and TRENT_PKCS11_*) or recovery shares' : 'key shares'}: give --share <share> once per share`);
          },
        });
        ctx.stdout.write(`restored a ${header.kind} backup taken ${header.createdAt} (schema ${header.schemaVersion}) onto ${config.storageUrl.startsWith('sqlite:') ? config.storageUrl.slice(7) : 'the PostgreSQL database'}; start Trent and unseal it as before\n`);
      } catch (err) {
        if (err instanceof BackupFileError) {
          ctx.stderr.write(`trent: backup refused, nothing was restored: ${err.message}\n`);
          process.exitCode = 1;
          return;
        }
        throw err;
      }
    });
}
