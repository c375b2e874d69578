/**
 * A worker's side of the unseal shared by the workers of one process (TRENT_WORKERS > 1, docs/seal.md
 * "Workers"): what the primary asks of this worker's seal manager (src/cluster-seal.ts calls these). The
 * other direction, this worker asking the primary, is the `SealPeers` port (seal-types.ts). Each state
 * change runs on the seal manager's serial chain (ctx).
 */
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import { ServiceUnavailableError } from '../errors/errors.ts';
import { Keyring } from './keyring.ts';
import type { SealContext } from './seal-context.ts';
import type { PeerAttempt, PeerRekey } from './seal-types.ts';

export function createWorkerPort(ctx: SealContext) {
  const { mode, logger } = ctx;
  return {
    /** The quorum was reached: open the keyring with `key` (adopted). KeyringOpenError when it does not. */
    unseal: (key: SecretBytes): Promise<void> => ctx.serial(async () => {
      ctx.peerAttempt = undefined;
      if (ctx.barrier) return key.zeroize();
      await ctx.readRow();
      if (!ctx.row) {
        key.zeroize();
        throw new ServiceUnavailableError('Trent is not initialized');
      }
      await ctx.unsealWith(key);
    }),
    /**
     * Another worker rekeyed: `key` (adopted) is the new unseal key. It must open the stored keyring; then
     * it replaces this worker's key, and the keyring is reloaded (KeyringOpenError otherwise).
     */
    rekeyed: (key: SecretBytes): Promise<void> => ctx.serial(async () => {
      if (!ctx.barrier || !ctx.unsealKey) return key.zeroize(); // sealed: the next unseal brings the new key
      await ctx.readRow();
      let keyring: Keyring;
      try {
        keyring = Keyring.open(key, ctx.row!);
      } catch (err) {
        key.zeroize();
        throw err;
      }
      ctx.unsealKey.zeroize();
      ctx.unsealKey = key;
      ctx.barrier.replace(keyring);
      logger.info({ generation: ctx.row!.generation }, 'took the unseal key of a rekey on another worker');
    }),
    /** Another worker was sealed by an operator. */
    seal: (): Promise<void> => ctx.serial(async () => {
      ctx.peerAttempt = undefined;
      if (ctx.barrier) await ctx.sealHere();
    }),
    /** Another worker initialized the deployment: read its keyring row; under HSM custody, unseal from the token. */
    initialized: (): Promise<void> => ctx.serial(async () => {
      if (ctx.barrier) return;
      await ctx.readRow();
      if (mode === 'pkcs11') await ctx.autoUnseal();
    }),
    /** The primary's attempts changed (a share arrived on some worker, or one completed or was reset). */
    attempts: (a: { unseal?: PeerAttempt; rekey?: PeerRekey }): void => {
      ctx.peerAttempt = a.unseal;
      ctx.peerRekey = a.rekey;
    },
  };
}

export type WorkerPort = ReturnType<typeof createWorkerPort>;
