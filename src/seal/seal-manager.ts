/**
 * The seal state machine of one node (docs/seal.md):
 *
 *   uninitialized --init--> sealed --unseal (threshold shares | HSM | dev root key)--> unsealed
 *   unsealed --seal--> sealed
 *
 * The unseal key (reconstructed from shares, unwrapped by the HSM, or the development root key) opens
 * the stored keyring of root-key versions (keyring.ts); it is never stored. While unsealed the node
 * keeps it in memory to re-seal the keyring on rotation; seal zeroes it with the keyring.
 * Every node is unsealed on its own: the state is per process, the keyring is shared through storage.
 * The workers of one node (TRENT_WORKERS > 1) are unsealed, sealed and replaced together through `peers`
 * (src/cluster-seal.ts): an unseal attempt lives in the primary, so shares may reach any worker.
 *
 * Knows nothing of HTTP. State changes run one at a time (a promise chain); `hooks` let the
 * composition root build what needs the barrier on unseal and drop it on seal. Issuing and checking
 * shares is shares.ts, collecting them quorum.ts; the types of this contract are seal-types.ts.
 */
import type { Logger } from 'pino';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { ShareCombineError } from '../crypto/shamir.ts';
import { AccessDeniedException, ConflictException, InvalidNonceException, InvalidSealStateException, ServiceUnavailableError, UnsealFailedException } from '../errors/errors.ts';
import type { Storage } from '../storage/storage.ts';
import { KeyringBarrier } from './keyring-barrier.ts';
import { Keyring, KEYRING_META, KeyringOpenError, parseStoredKeyring, ROOT_KEY_BYTES, type SealMode, type StoredKeyring } from './keyring.ts';
import { QuorumAttempt } from './quorum.ts';
import type { InitResult, PeerAttempt, PeerRekey, QuorumInput, SealHooks, SealPeers, SealStatus, UnsealKeyWrapper } from './seal-types.ts';
import { checkQuorum, issuedShare, issueShares } from './shares.ts';

export type { InitResult, PeerAttempt, PeerRekey, QuorumInput, SealHooks, SealPeers, SealStatus, UnsealKeyWrapper } from './seal-types.ts';

export interface SealManagerDeps {
  storage: Storage;
  mode: SealMode;
  logger: Logger;
  hooks: SealHooks;
  /** Development mode: the root key (adopted); it is version 1 and the unseal key of a stored keyring. */
  devRootKey?: SecretBytes;
  /** pkcs11 mode. */
  hsm?: UnsealKeyWrapper;
  /** In a worker of TRENT_WORKERS > 1: its siblings, through the primary. */
  peers?: SealPeers;
}

export class RootKeyMismatchAtStartError extends Error {}

export function createSealManager(deps: SealManagerDeps) {
  const { storage, mode, logger, hooks, peers } = deps;
  let row: StoredKeyring | undefined; // the stored keyring as last read or written
  let rowText: string | undefined;
  let unsealKey: SecretBytes | undefined;
  let barrier: KeyringBarrier | undefined;
  let attempt: QuorumAttempt | undefined;
  /** With peers the unseal and rekey attempts are the primary's; these mirror their progress for status(). */
  let peerAttempt: PeerAttempt | undefined;
  let peerRekey: PeerRekey | undefined;
  let rekey: { attempt: QuorumAttempt; quorum: QuorumInput } | undefined;
  let chain: Promise<unknown> = Promise.resolve();

  /** Runs state changes one after another. */
  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn);
    chain = run.catch(() => undefined);
    return run;
  }

  async function readRow(): Promise<void> {
    rowText = await storage.read((r) => r.meta.get(KEYRING_META));
    row = rowText === undefined ? undefined : parseStoredKeyring(rowText);
  }

  const initialized = () => mode === 'dev' || row !== undefined;

  function status(): SealStatus {
    return {
      mode,
      initialized: initialized(),
      sealed: barrier === undefined,
      ...(row?.threshold !== undefined ? { threshold: row.threshold, shares: row.shares! } : {}),
      progress: (peers ? peerAttempt : attempt)?.progress ?? 0,
      nonce: (peers ? peerAttempt : attempt)?.nonce ?? '',
      ...(barrier ? { rootKeyVersion: barrier.currentVersion } : {}),
      ...(row ? { keyringGeneration: row.generation } : {}),
      ...(row && mode !== 'dev' ? { sharesVerified: row.shareDigests !== undefined } : {}),
      ...(peers && peerRekey ? { rekey: peerRekey } : {}),
      ...(!peers && rekey ? {
        rekey: {
          nonce: rekey.attempt.nonce, progress: rekey.attempt.progress, required: rekey.attempt.threshold,
          shares: rekey.quorum.shares, threshold: rekey.quorum.threshold, ageRecipients: rekey.quorum.ageRecipients?.length ?? 0,
        },
      } : {}),
    };
  }

  /** Opens the keyring with `key` and brings the node up; `key` is adopted (kept while unsealed). */
  async function unsealWith(key: SecretBytes): Promise<void> {
    let keyring: Keyring;
    try {
      keyring = row ? Keyring.open(key, row) : Keyring.withFirst(SecretBytes.copyOf(key.expose()));
    } catch (err) {
      key.zeroize();
      throw err;
    }
    const b = new KeyringBarrier(keyring, () => reload());
    try {
      await hooks.onUnseal(b);
    } catch (err) {
      b.zeroize();
      key.zeroize();
      throw err;
    }
    unsealKey = key;
    barrier = b;
    logger.info({ mode, rootKeyVersion: b.currentVersion }, 'unsealed');
  }

  /**
   * Picks up a keyring another node changed (rotation); false when there was nothing new. Not part of
   * the serial chain: it runs inside requests (and possibly inside onUnseal), and concurrent callers
   * share one read.
   */
  let reloading: Promise<boolean> | undefined;
  function reload(): Promise<boolean> {
    if (reloading) return reloading;
    const run = (async () => {
      if (!barrier || !unsealKey) return false;
      const text = await storage.read((r) => r.meta.get(KEYRING_META));
      if (text === undefined) return false;
      const fresh = parseStoredKeyring(text);
      if (fresh.generation <= (row?.generation ?? 0) || !barrier || !unsealKey) return false;
      let keyring: Keyring;
      try {
        keyring = Keyring.open(unsealKey, fresh);
      } catch (err) {
        if (!(err instanceof KeyringOpenError)) throw err;
        // Rekeyed through another node: this node's unseal key is the old one. It keeps serving with the
        // versions it holds; new ones need this node to be sealed and unsealed with the new shares.
        logger.warn('the stored keyring was re-sealed under a new unseal key (rekey on another node); seal and unseal this node to pick up new root-key versions');
        return false;
      }
      row = fresh;
      rowText = text;
      barrier.replace(keyring);
      return true;
    })();
    reloading = run.finally(() => {
      reloading = undefined;
    });
    return reloading;
  }

  /** At process start: development and HSM modes unseal themselves; quorum mode waits for shares. */
  function start(): Promise<void> {
    return serial(async () => {
      // A worker first asks its primary whether the deployment is unsealed (then it is handed the key),
      // sealed by an operator (it stays sealed, even with an HSM or dev key at hand), or neither.
      const joined = peers ? await peers.join() : undefined;
      peerAttempt = joined?.attempt;
      peerRekey = joined?.rekey;
      await readRow();
      if (row && row.mode !== mode) {
        joined?.key?.zeroize();
        throw new RootKeyMismatchAtStartError(`this database was initialized in ${row.mode} seal mode; start the node with TRENT_SEAL=${row.mode}`);
      }
      if (joined?.key) {
        try {
          await unsealWith(joined.key);
        } catch (err) {
          joined.key.zeroize();
          logger.error({ err }, 'the unseal key handed over by the primary did not open the keyring; this worker stays sealed');
        }
        return;
      }
      if (joined?.sealed) {
        logger.warn('the deployment was sealed by an operator: this worker starts sealed');
        return;
      }
      if (mode === 'dev') {
        const key = deps.devRootKey;
        if (!key) throw new Error('development mode needs a root key');
        try {
          await unsealWith(key);
        } catch (err) {
          if (err instanceof KeyringOpenError) {
            throw new RootKeyMismatchAtStartError('the root key does not match the one this database was sealed with; start this node with the same root key as the others (TRENT_ROOT_KEY or root.key in the data directory)');
          }
          throw err;
        }
        return;
      }
      if (mode === 'pkcs11' && row) await autoUnseal();
    });
  }

  /** The unseal key wrapped by the HSM; an unreachable token makes init (or rekey) a retryable 503. */
  async function hsmWrap(key: SecretBytes): Promise<Buffer> {
    if (!deps.hsm) throw new Error('pkcs11 mode without an HSM');
    try {
      return await deps.hsm.wrap(key);
    } catch (err) {
      logger.error({ err }, 'the HSM could not wrap the unseal key');
      throw new ServiceUnavailableError('The HSM could not wrap the unseal key (see the server log). Check the token and retry.');
    }
  }

  async function autoUnseal(): Promise<void> {
    if (!deps.hsm || !row?.hsmWrappedUnsealKey) return;
    let key: SecretBytes;
    try {
      key = await deps.hsm.unwrap(Buffer.from(row.hsmWrappedUnsealKey, 'base64'));
    } catch (err) {
      logger.error({ err }, 'auto-unseal failed: the HSM could not unwrap the unseal key; the node stays sealed (recovery shares can unseal it)');
      return;
    }
    try {
      await unsealWith(key);
    } catch (err) {
      logger.error({ err }, 'auto-unseal failed: the unwrapped key did not open the keyring; the node stays sealed');
    }
  }

  async function init(input: QuorumInput): Promise<InitResult> {
    const result = await initHere(input);
    // The siblings read the keyring row now (their status says initialized); under HSM custody they
    // unseal from the token as this worker did right after init.
    await peers?.initialized();
    return result;
  }

  function initHere(input: QuorumInput): Promise<InitResult> {
    return serial(async () => {
      if (mode === 'dev') throw new InvalidSealStateException('this node runs in development mode (TRENT_SEAL=dev): there is nothing to initialize');
      const { shares, threshold } = input;
      checkQuorum(input);
      await readRow();
      if (row) throw new InvalidSealStateException('Trent is already initialized');
      // A database sealed in development mode holds data under the old root key: refuse to put a second
      // root beside it (moving a development deployment to quorum sealing is not supported).
      if ((await storage.read((r) => r.meta.get('root-key-check'))) !== undefined) {
        throw new InvalidSealStateException('this database was created in development mode (TRENT_SEAL=dev); initialize a new database instead');
      }
      const key = SecretBytes.adopt(randomBytesBuffer(ROOT_KEY_BYTES));
      const keyring = Keyring.fresh();
      try {
        // Shares are made (and encrypted to their operators) before anything is stored, so a bad
        // recipient cannot leave an initialized deployment whose shares nobody received.
        const { printed, digests } = await issueShares(key, input);
        const next: StoredKeyring = {
          format: 1, mode, generation: 1, shares, threshold, shareDigests: digests,
          keyring: keyring.seal(key, 1),
          ...(mode === 'pkcs11' ? { hsmWrappedUnsealKey: (await hsmWrap(key)).toString('base64') } : {}),
        };
        const text = JSON.stringify(next);
        if ((await storage.transaction((tx) => tx.meta.putIfAbsent(KEYRING_META, text))) !== text) {
          throw new InvalidSealStateException('Trent is already initialized');
        }
        row = next;
        rowText = text;
        let extra: Record<string, unknown> | undefined;
        if (hooks.onInit) {
          const temp = new KeyringBarrier(keyring.clone());
          try {
            extra = await hooks.onInit(temp);
          } finally {
            temp.zeroize();
          }
        }
        logger.info({ mode, shares, threshold }, 'initialized');
        return { shares: printed, threshold, rootKeyVersion: keyring.current, ...(extra ? { extra } : {}) };
      } finally {
        keyring.zeroize();
        key.zeroize();
        // An HSM deployment unseals itself right away, as it will at every start.
        if (row && mode === 'pkcs11') await autoUnseal();
      }
    });
  }

  function submitShare(shareText: string, nonce: string | undefined): Promise<SealStatus> {
    if (peers) return submitShareToPeers(peers, shareText, nonce);
    return serial(async () => {
      if (mode === 'dev') throw new InvalidSealStateException('this node runs in development mode (TRENT_SEAL=dev): it unseals itself at start');
      await readRow();
      if (!row) throw new ServiceUnavailableError('Trent is not initialized. Run `trent operator init` first.');
      if (barrier) throw new InvalidSealStateException('Trent is already unsealed');
      const { share } = issuedShare(row?.shareDigests, shareText);
      try {
        if (attempt) attempt.checkNonce(nonce);
        else if (nonce !== undefined) throw new InvalidNonceException('no unseal attempt is running; send the first share without a nonce');
      } catch (err) {
        share.fill(0);
        throw err;
      }
      attempt ??= new QuorumAttempt(row.threshold!);
      if (!attempt.add(share)) return status();
      const current = attempt;
      attempt = undefined;
      try {
        const key = await current.combine();
        await unsealWith(key);
      } catch (err) {
        if (err instanceof KeyringOpenError || err instanceof ShareCombineError) {
          logger.warn('unseal attempt failed: the shares did not reconstruct the unseal key; the attempt was reset');
          throw new UnsealFailedException('the shares did not reconstruct the unseal key; the unseal attempt was reset, start again with the first share');
        }
        throw err;
      } finally {
        current.zeroize();
      }
      return status();
    });
  }

  /**
   * A worker's share: checked here against the issued digests, then added to the primary's attempt. The
   * wait for the primary is outside the serial chain: at the quorum the primary has this worker (and every
   * other) open the keyring, which runs on that chain.
   */
  async function submitShareToPeers(p: SealPeers, shareText: string, nonce: string | undefined): Promise<SealStatus> {
    const checked = await serial(async () => {
      if (mode === 'dev') throw new InvalidSealStateException('this node runs in development mode (TRENT_SEAL=dev): it unseals itself at start');
      await readRow();
      if (!row) throw new ServiceUnavailableError('Trent is not initialized. Run `trent operator init` first.');
      if (barrier) throw new InvalidSealStateException('Trent is already unsealed');
      return { share: issuedShare(row.shareDigests, shareText).share, threshold: row.threshold! };
    });
    peerAttempt = await p.submitShare(checked.share, nonce, checked.threshold);
    return status();
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
    peerAttempt = undefined;
    return status();
  }

  function resetUnsealHere(shareText: string): Promise<SealStatus> {
    return serial(async () => {
      if (mode === 'dev') throw new InvalidSealStateException('this node runs in development mode (TRENT_SEAL=dev): it has no unseal attempts');
      await readRow();
      if (!row) throw new ServiceUnavailableError('Trent is not initialized. Run `trent operator init` first.');
      const { share, legacy } = issuedShare(row?.shareDigests, shareText);
      share.fill(0);
      if (legacy) throw new InvalidSealStateException('this deployment\'s shares were issued before shares were recorded, so a share cannot prove itself; rekey to issue verifiable shares');
      attempt?.zeroize();
      attempt = undefined;
      logger.warn('unseal attempt reset by a holder of a current share');
      return status();
    });
  }

  async function seal(): Promise<void> {
    await serial(async () => {
      if (!barrier) throw new InvalidSealStateException('Trent is already sealed');
      await sealHere();
    });
    // Outside the chain: the primary seals every other worker and forgets its copy of the key.
    await peers?.sealed();
  }

  /** Drops the unsealed node and zeroes every key this process holds (on the serial chain). */
  async function sealHere(): Promise<void> {
    const b = barrier!;
    barrier = undefined;
    try {
      await hooks.onSeal();
    } finally {
      b.zeroize();
      unsealKey?.zeroize();
      unsealKey = undefined;
      attempt?.zeroize();
      attempt = undefined;
      logger.warn({ mode }, 'sealed: every root key and unsealed key in memory was zeroed');
    }
  }

  /** What the primary asks of a worker (src/cluster-seal.ts); each runs on the serial chain. */
  const peer = {
    /** The quorum was reached: open the keyring with `key` (adopted). KeyringOpenError when it does not. */
    unseal: (key: SecretBytes): Promise<void> => serial(async () => {
      peerAttempt = undefined;
      if (barrier) return key.zeroize();
      await readRow();
      if (!row) {
        key.zeroize();
        throw new ServiceUnavailableError('Trent is not initialized');
      }
      await unsealWith(key);
    }),
    /**
     * Another worker rekeyed: `key` (adopted) is the new unseal key. It must open the stored keyring; then
     * it replaces this worker's key, and the keyring is reloaded (KeyringOpenError otherwise).
     */
    rekeyed: (key: SecretBytes): Promise<void> => serial(async () => {
      if (!barrier || !unsealKey) return key.zeroize(); // sealed: the next unseal brings the new key
      await readRow();
      let keyring: Keyring;
      try {
        keyring = Keyring.open(key, row!);
      } catch (err) {
        key.zeroize();
        throw err;
      }
      unsealKey.zeroize();
      unsealKey = key;
      barrier.replace(keyring);
      logger.info({ generation: row!.generation }, 'took the unseal key of a rekey on another worker');
    }),
    /** Another worker was sealed by an operator. */
    seal: (): Promise<void> => serial(async () => {
      peerAttempt = undefined;
      if (barrier) await sealHere();
    }),
    /** Another worker initialized the deployment: read its keyring row; under HSM custody, unseal from the token. */
    initialized: (): Promise<void> => serial(async () => {
      if (barrier) return;
      await readRow();
      if (mode === 'pkcs11') await autoUnseal();
    }),
    /** The primary's attempts changed (a share arrived on some worker, or one completed or was reset). */
    attempts: (a: { unseal?: PeerAttempt; rekey?: PeerRekey }): void => {
      peerAttempt = a.unseal;
      peerRekey = a.rekey;
    },
  };

  /** Adds a root-key version (re-sealing the keyring under the unseal key); new seals use it. */
  function rotateRoot(): Promise<{ rootKeyVersion: number; rootKeyVersions: number[] }> {
    return serial(async () => {
      for (let tries = 0; tries < 8; tries++) {
        if (!barrier || !unsealKey) throw new ServiceUnavailableError('Trent is sealed. An operator must unseal it.');
        await readRow();
        const base = row ? Keyring.open(unsealKey, row) : Keyring.withFirst(SecretBytes.copyOf(unsealKey.expose()));
        const version = base.addVersion();
        const generation = (row?.generation ?? 0) + 1;
        const next: StoredKeyring = row
          ? { ...row, generation, keyring: base.seal(unsealKey, generation) }
          : { format: 1, mode, generation, keyring: base.seal(unsealKey, generation) };
        const text = JSON.stringify(next);
        const written = rowText === undefined
          ? (await storage.transaction((tx) => tx.meta.putIfAbsent(KEYRING_META, text))) === text
          : await storage.transaction((tx) => tx.meta.compareAndSet(KEYRING_META, rowText!, text));
        if (!written) {
          base.zeroize();
          continue; // another node changed the keyring first: build on its version
        }
        row = next;
        rowText = text;
        const versions = base.versions;
        barrier.replace(base);
        logger.info({ rootKeyVersion: version, generation }, 'root key rotated');
        return { rootKeyVersion: version, rootKeyVersions: versions };
      }
      throw new ConflictException('the keyring kept changing under concurrent rotations; retry');
    });
  }

  /**
   * Starts a rekey: M of the current shares will replace them with new shares under a new N/M. Starting
   * (or replacing a running) rekey needs proof: `authorized` (the caller's SigV4 credentials allowed
   * trent:Rekey, checked by the caller of this function) or one current share, which then counts as the
   * first share of the new attempt. Without either nothing changes (AccessDeniedException).
   */
  async function rekeyStart(input: QuorumInput, proof: { authorized: boolean; share?: string }): Promise<{ nonce: string; progress: number; required: number }> {
    if (!peers) return rekeyStartHere(input, proof);
    // With workers the attempt is the primary's: this worker checks the proof, the primary keeps the shares.
    const checked = await serial(() => rekeyProof(input, proof));
    const started = await peers.rekeyStart(checked.share, { ...input }, checked.threshold);
    logger.warn({ shares: input.shares, threshold: input.threshold, by: proof.authorized ? 'credentials' : 'share' }, 'rekey started');
    return started;
  }

  /** What starting a rekey needs: a quorum that can be issued and a proof (a current share or credentials). */
  async function rekeyProof(input: QuorumInput, proof: { authorized: boolean; share?: string }): Promise<{ share?: Buffer; threshold: number }> {
    if (mode === 'dev') throw new InvalidSealStateException('development mode has no shares to rekey');
    checkQuorum(input);
    await readRow();
    if (!row) throw new ServiceUnavailableError('Trent is not initialized. Run `trent operator init` first.');
    let share: Buffer | undefined;
    if (proof.share !== undefined) {
      const issued = issuedShare(row?.shareDigests, proof.share);
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

  function rekeyStartHere(input: QuorumInput, proof: { authorized: boolean; share?: string }): Promise<{ nonce: string; progress: number; required: number }> {
    return serial(async () => {
      const { share, threshold } = await rekeyProof(input, proof);
      rekey?.attempt.zeroize();
      rekey = { attempt: new QuorumAttempt(threshold), quorum: { ...input } };
      if (share) rekey.attempt.add(share);
      logger.warn({ shares: input.shares, threshold: input.threshold, by: proof.authorized ? 'credentials' : 'share' }, 'rekey started');
      return { nonce: rekey.attempt.nonce, progress: rekey.attempt.progress, required: rekey.attempt.threshold };
    });
  }

  type RekeyProgress = { nonce: string; progress: number; required: number; complete: boolean; shares?: string[]; threshold?: number };

  /** Adds one current share to the rekey attempt; at the threshold, returns the new shares. */
  async function rekeySubmit(shareText: string, nonce: string): Promise<RekeyProgress> {
    if (!peers) return rekeySubmitHere(shareText, nonce);
    // With workers: checked here, added to the primary's attempt; at the threshold the primary hands this
    // worker the old unseal key it combined, and this worker re-seals the keyring as a lone node would.
    const share = await serial(async () => {
      await readRow();
      return issuedShare(row?.shareDigests, shareText).share;
    });
    const r = await peers.rekeySubmit(share, nonce);
    if (!r.complete) return { nonce, progress: r.progress, required: r.required, complete: false };
    return serial(() => finishRekey(r.key, r.quorum, nonce, r.required));
  }

  function rekeySubmitHere(shareText: string, nonce: string): Promise<RekeyProgress> {
    return serial(async () => {
      if (!rekey) throw new InvalidNonceException('no rekey is running; start one first');
      rekey.attempt.checkNonce(nonce);
      await readRow();
      const { share } = issuedShare(row?.shareDigests, shareText);
      const current = rekey;
      if (!current.attempt.add(share)) return { nonce, progress: current.attempt.progress, required: current.attempt.threshold, complete: false };
      rekey = undefined;
      let oldKey: SecretBytes;
      try {
        oldKey = await current.attempt.combine();
      } catch (err) {
        if (err instanceof ShareCombineError) throw new UnsealFailedException('the shares did not reconstruct the unseal key; the rekey was reset, start it again');
        throw err;
      } finally {
        current.attempt.zeroize();
      }
      return finishRekey(oldKey, current.quorum, nonce, current.attempt.threshold);
    });
  }

  /** Re-seals the keyring under a new unseal key and issues its shares; `oldKey` (adopted) must open it. */
  async function finishRekey(oldKey: SecretBytes, quorum: QuorumInput, nonce: string, required: number): Promise<RekeyProgress> {
    let keyring: Keyring | undefined;
    const newKey = SecretBytes.adopt(randomBytesBuffer(ROOT_KEY_BYTES));
    try {
      await readRow();
      keyring = Keyring.open(oldKey, row!);
      const generation = row!.generation + 1;
      const { hsmWrappedUnsealKey: _old, ...rest } = row!;
      const { printed, digests } = await issueShares(newKey, quorum);
      const next: StoredKeyring = {
        ...rest, generation, shares: quorum.shares, threshold: quorum.threshold, shareDigests: digests,
        keyring: keyring.seal(newKey, generation),
        ...(mode === 'pkcs11' ? { hsmWrappedUnsealKey: (await hsmWrap(newKey)).toString('base64') } : {}),
      };
      const text = JSON.stringify(next);
      if (!(await storage.transaction((tx) => tx.meta.compareAndSet(KEYRING_META, rowText!, text)))) {
        throw new ConflictException('the keyring changed during the rekey; start the rekey again');
      }
      row = next;
      rowText = text;
      if (unsealKey) {
        unsealKey.zeroize();
        unsealKey = SecretBytes.copyOf(newKey.expose());
      }
      // A worker replaced later is handed the new key, not the one the rekey retired.
      await peers?.rekeyed(newKey);
      logger.info({ shares: quorum.shares, threshold: quorum.threshold, generation }, 'rekeyed: new unseal shares issued');
      return { nonce, progress: required, required, complete: true, shares: printed, threshold: quorum.threshold };
    } catch (err) {
      if (err instanceof KeyringOpenError || err instanceof ShareCombineError) {
        throw new UnsealFailedException('the shares did not reconstruct the unseal key; the rekey was reset, start it again');
      }
      throw err;
    } finally {
      oldKey.zeroize();
      keyring?.zeroize();
      newKey.zeroize();
    }
  }

  /** At process exit: zeroes the keyring, the unseal key and any shares of a running attempt. */
  function shutdown(): void {
    barrier?.zeroize();
    barrier = undefined;
    unsealKey?.zeroize();
    unsealKey = undefined;
    attempt?.zeroize();
    attempt = undefined;
    rekey?.attempt.zeroize();
    rekey = undefined;
  }

  return { start, status, init, shutdown, submitShare, resetUnseal, seal, rotateRoot, rekeyStart, rekeySubmit, peer, get barrier() { return barrier; } };
}

export type SealManager = ReturnType<typeof createSealManager>;
