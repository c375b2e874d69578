/**
 * Rekey (docs/seal.md): M current shares re-seal the keyring under a new unseal key and are replaced by
 * new shares under a new N/M. A lone node holds the attempt itself; with workers the attempt is the
 * primary's, each worker checks the proof and the shares it receives, and the worker that received the
 * last share re-seals the keyring as a lone node does. Runs on the seal manager's serial chain (ctx).
 */
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { ShareCombineError } from '../crypto/shamir.ts';
import { AccessDeniedException, ConflictException, InvalidNonceException, InvalidSealStateException, ServiceUnavailableError, UnsealFailedException } from '../errors/errors.ts';
import { Keyring, KEYRING_META, KeyringOpenError, ROOT_KEY_BYTES, type StoredKeyring } from './keyring.ts';
import { QuorumAttempt } from './quorum.ts';
import { NOT_INITIALIZED, type SealContext } from './seal-context.ts';
import type { PeerRekey, QuorumInput } from './seal-types.ts';
import { checkQuorum, issuedShare, issueShares } from './shares.ts';

export type RekeyProof = { authorized: boolean; share?: string };
export type RekeyStarted = { nonce: string; progress: number; required: number };
export type RekeyProgress = { nonce: string; progress: number; required: number; complete: boolean; shares?: string[]; threshold?: number };

const RESET = 'the shares did not reconstruct the unseal key; the rekey was reset, start it again';

export function createRekey(ctx: SealContext) {
  const { mode, logger, storage, peers } = ctx;
  /** A lone node's running rekey (with peers it is the primary's: ctx.peerRekey mirrors it). */
  let rekey: { attempt: QuorumAttempt; quorum: QuorumInput } | undefined;

  /** The running rekey as seal-status shows it. */
  function status(): PeerRekey | undefined {
    if (peers) return ctx.peerRekey;
    if (!rekey) return undefined;
    return {
      nonce: rekey.attempt.nonce, progress: rekey.attempt.progress, required: rekey.attempt.threshold,
      shares: rekey.quorum.shares, threshold: rekey.quorum.threshold, ageRecipients: rekey.quorum.ageRecipients?.length ?? 0,
    };
  }

  function logStarted(input: QuorumInput, proof: RekeyProof): void {
    logger.warn({ shares: input.shares, threshold: input.threshold, by: proof.authorized ? 'credentials' : 'share' }, 'rekey started');
  }

  /**
   * Starts a rekey: M of the current shares will replace them with new shares under a new N/M. Starting
   * (or replacing a running) rekey needs proof: `authorized` (the caller's SigV4 credentials allowed
   * trent:Rekey, checked by the caller of this function) or one current share, which then counts as the
   * first share of the new attempt. Without either nothing changes (AccessDeniedException).
   */
  async function start(input: QuorumInput, proof: RekeyProof): Promise<RekeyStarted> {
    if (!peers) return startHere(input, proof);
    // With workers the attempt is the primary's: this worker checks the proof, the primary keeps the shares.
    const checked = await ctx.serial(() => checkProof(input, proof));
    const started = await peers.rekeyStart(checked.share, { ...input }, checked.threshold);
    logStarted(input, proof);
    return started;
  }

  /** What starting a rekey needs: a quorum that can be issued and a proof (a current share or credentials). */
  async function checkProof(input: QuorumInput, proof: RekeyProof): Promise<{ share?: Buffer; threshold: number }> {
    if (mode === 'dev') throw new InvalidSealStateException('development mode has no shares to rekey');
    checkQuorum(input);
    await ctx.readRow();
    const row = ctx.row;
    if (!row) throw new ServiceUnavailableError(NOT_INITIALIZED);
    let share: Buffer | undefined;
    if (proof.share !== undefined) {
      const issued = issuedShare(row.shareDigests, proof.share);
      share = issued.share;
      if (issued.legacy && !proof.authorized) {
        share.fill(0);
        throw new AccessDeniedException('this deployment\'s shares were issued before shares were recorded and cannot prove themselves: start the rekey with the administrator\'s credentials (signed request)');
      }
    } else if (!proof.authorized) {
      throw new AccessDeniedException('starting a rekey needs a current key share (Share) or a request signed by a principal allowed trent:Rekey');
    }
    return { ...(share ? { share } : {}), threshold: row.threshold! };
  }

  function startHere(input: QuorumInput, proof: RekeyProof): Promise<RekeyStarted> {
    return ctx.serial(async () => {
      const { share, threshold } = await checkProof(input, proof);
      rekey?.attempt.zeroize();
      rekey = { attempt: new QuorumAttempt(threshold), quorum: { ...input } };
      if (share) rekey.attempt.add(share);
      logStarted(input, proof);
      return { nonce: rekey.attempt.nonce, progress: rekey.attempt.progress, required: rekey.attempt.threshold };
    });
  }

  /** Adds one current share to the rekey attempt; at the threshold, returns the new shares. */
  async function submit(shareText: string, nonce: string): Promise<RekeyProgress> {
    if (!peers) return submitHere(shareText, nonce);
    // With workers: checked here, added to the primary's attempt; at the threshold the primary hands this
    // worker the old unseal key it combined, and this worker re-seals the keyring as a lone node would.
    const share = await ctx.serial(async () => {
      await ctx.readRow();
      return issuedShare(ctx.row?.shareDigests, shareText).share;
    });
    const r = await peers.rekeySubmit(share, nonce);
    if (!r.complete) return { nonce, progress: r.progress, required: r.required, complete: false };
    return ctx.serial(() => finish(r.key, r.quorum, nonce, r.required));
  }

  function submitHere(shareText: string, nonce: string): Promise<RekeyProgress> {
    return ctx.serial(async () => {
      if (!rekey) throw new InvalidNonceException('no rekey is running; start one first');
      rekey.attempt.checkNonce(nonce);
      await ctx.readRow();
      const { share } = issuedShare(ctx.row?.shareDigests, shareText);
      const current = rekey;
      if (!current.attempt.add(share)) return { nonce, progress: current.attempt.progress, required: current.attempt.threshold, complete: false };
      rekey = undefined;
      let oldKey: SecretBytes;
      try {
        oldKey = await current.attempt.combine();
      } catch (err) {
        if (err instanceof ShareCombineError) throw new UnsealFailedException(RESET);
        throw err;
      } finally {
        current.attempt.zeroize();
      }
      return finish(oldKey, current.quorum, nonce, current.attempt.threshold);
    });
  }

  /** Re-seals the keyring under a new unseal key and issues its shares; `oldKey` (adopted) must open it. */
  async function finish(oldKey: SecretBytes, quorum: QuorumInput, nonce: string, required: number): Promise<RekeyProgress> {
    let keyring: Keyring | undefined;
    const newKey = SecretBytes.adopt(randomBytesBuffer(ROOT_KEY_BYTES));
    try {
      await ctx.readRow();
      const row = ctx.row!;
      keyring = Keyring.open(oldKey, row);
      const generation = row.generation + 1;
      const { hsmWrappedUnsealKey: _old, ...rest } = row;
      const { printed, digests } = await issueShares(newKey, quorum);
      const next: StoredKeyring = {
        ...rest, generation, shares: quorum.shares, threshold: quorum.threshold, shareDigests: digests,
        keyring: keyring.seal(newKey, generation),
        ...(mode === 'pkcs11' ? { hsmWrappedUnsealKey: (await ctx.hsmWrap(newKey)).toString('base64') } : {}),
      };
      const text = JSON.stringify(next);
      if (!(await storage.transaction((tx) => tx.meta.compareAndSet(KEYRING_META, ctx.rowText!, text)))) {
        throw new ConflictException('the keyring changed during the rekey; start the rekey again');
      }
      ctx.row = next;
      ctx.rowText = text;
      if (ctx.unsealKey) {
        ctx.unsealKey.zeroize();
        ctx.unsealKey = SecretBytes.copyOf(newKey.expose());
      }
      // A worker replaced later is handed the new key, not the one the rekey retired.
      await peers?.rekeyed(newKey);
      logger.info({ shares: quorum.shares, threshold: quorum.threshold, generation }, 'rekeyed: new unseal shares issued');
      return { nonce, progress: required, required, complete: true, shares: printed, threshold: quorum.threshold };
    } catch (err) {
      if (err instanceof KeyringOpenError || err instanceof ShareCombineError) throw new UnsealFailedException(RESET);
      throw err;
    } finally {
      oldKey.zeroize();
      keyring?.zeroize();
      newKey.zeroize();
    }
  }

  /** At process exit: zeroes the shares of a running rekey. */
  function shutdown(): void {
    rekey?.attempt.zeroize();
    rekey = undefined;
  }

  return { start, submit, status, shutdown };
}
