/**
 * Unsealing with shares (docs/seal.md): shares arrive one at a time under an attempt nonce; each is
 * checked against the issued digests before it touches the attempt; at the threshold the combined key
 * must open the keyring. A lone node holds the attempt; a worker checks the share and forwards it to the
 * primary, which holds the one attempt of the process (src/cluster-seal.ts). Runs on the seal manager's
 * serial chain (ctx).
 */
import { ShareCombineError } from '../crypto/shamir.ts';
import { InvalidNonceException, InvalidSealStateException, ServiceUnavailableError, UnsealFailedException } from '../errors/errors.ts';
import { KeyringOpenError, type StoredKeyring } from './keyring.ts';
import { QuorumAttempt } from './quorum.ts';
import { NOT_INITIALIZED, type SealContext } from './seal-context.ts';
import type { SealPeers, SealStatus } from './seal-types.ts';
import { issuedShare } from './shares.ts';

export function createUnseal(ctx: SealContext) {
  const { mode, logger, peers } = ctx;

  /** The checks every share-bearing unseal call makes first; returns the keyring row it was checked against. */
  async function sealedRow(devRefusal: string): Promise<StoredKeyring> {
    if (mode === 'dev') throw new InvalidSealStateException(devRefusal);
    await ctx.readRow();
    if (!ctx.row) throw new ServiceUnavailableError(NOT_INITIALIZED);
    return ctx.row;
  }

  const DEV_UNSEALS_ITSELF = 'this node runs in development mode (TRENT_SEAL=dev): it unseals itself at start';

  function submitShare(shareText: string, nonce: string | undefined): Promise<SealStatus> {
    if (peers) return submitShareToPeers(peers, shareText, nonce);
    return ctx.serial(async () => {
      const row = await sealedRow(DEV_UNSEALS_ITSELF);
      if (ctx.barrier) throw new InvalidSealStateException('Trent is already unsealed');
      const { share } = issuedShare(row.shareDigests, shareText);
      try {
        if (ctx.attempt) ctx.attempt.checkNonce(nonce);
        else if (nonce !== undefined) throw new InvalidNonceException('no unseal attempt is running; send the first share without a nonce');
      } catch (err) {
        share.fill(0);
        throw err;
      }
      ctx.attempt ??= new QuorumAttempt(row.threshold!);
      if (!ctx.attempt.add(share)) return ctx.status();
      const current = ctx.attempt;
      ctx.attempt = undefined;
      try {
        const key = await current.combine();
        await ctx.unsealWith(key);
      } catch (err) {
        if (err instanceof KeyringOpenError || err instanceof ShareCombineError) {
          logger.warn('unseal attempt failed: the shares did not reconstruct the unseal key; the attempt was reset');
          throw new UnsealFailedException('the shares did not reconstruct the unseal key; the unseal attempt was reset, start again with the first share');
        }
        throw err;
      } finally {
        current.zeroize();
      }
      return ctx.status();
    });
  }

  /**
   * A worker's share: checked here against the issued digests, then added to the primary's attempt. The
   * wait for the primary is outside the serial chain: at the quorum the primary has this worker (and every
   * other) open the keyring, which runs on that chain.
   */
  async function submitShareToPeers(p: SealPeers, shareText: string, nonce: string | undefined): Promise<SealStatus> {
    const checked = await ctx.serial(async () => {
      const row = await sealedRow(DEV_UNSEALS_ITSELF);
      if (ctx.barrier) throw new InvalidSealStateException('Trent is already unsealed');
      return { share: issuedShare(row.shareDigests, shareText).share, threshold: row.threshold! };
    });
    ctx.peerAttempt = await p.submitShare(checked.share, nonce, checked.threshold);
    return ctx.status();
  }

  /**
   * Abandons the running unseal attempt. Only a holder of a current share may (the share is checked, not
   * added); a keyring that cannot check shares (legacy) cannot be reset this way: its attempt ends at the
   * threshold or with the process.
   */
  async function resetUnseal(shareText: string): Promise<SealStatus> {
    const out = await resetUnsealHere(shareText);
    if (!peers) return out;
    // Outside the chain: the primary may be waiting for this worker's chain (e.g. handing out a rekeyed key).
    await peers.resetAttempt();
    ctx.peerAttempt = undefined;
    return ctx.status();
  }

  function resetUnsealHere(shareText: string): Promise<SealStatus> {
    return ctx.serial(async () => {
      const row = await sealedRow('this node runs in development mode (TRENT_SEAL=dev): it has no unseal attempts');
      const { share, legacy } = issuedShare(row.shareDigests, shareText);
      share.fill(0);
      if (legacy) throw new InvalidSealStateException('this deployment\'s shares were issued before shares were recorded, so a share cannot prove itself; rekey to issue verifiable shares');
      ctx.attempt?.zeroize();
      ctx.attempt = undefined;
      logger.warn('unseal attempt reset by a holder of a current share');
      return ctx.status();
    });
  }

  return { submitShare, resetUnseal };
}
