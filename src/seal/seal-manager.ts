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
 * composition root build what needs the barrier on unseal and drop it on seal. This file is the
 * coordinator: start, init, seal, rotation and the state the parts share (seal-context.ts). Unsealing
 * with shares is unseal.ts, rekey rekey.ts, what the primary asks of a worker worker-port.ts; issuing and
 * checking shares is shares.ts, collecting them quorum.ts; the types of this contract are seal-types.ts.
 */
import type { Logger } from 'pino';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { ConflictException, InvalidSealStateException, ServiceUnavailableError } from '../errors/errors.ts';
import type { Storage } from '../storage/storage.ts';
import { KeyringBarrier } from './keyring-barrier.ts';
import { Keyring, KEYRING_META, KeyringOpenError, parseStoredKeyring, ROOT_KEY_BYTES, type SealMode, type StoredKeyring } from './keyring.ts';
import { createRekey } from './rekey.ts';
import type { SealContext } from './seal-context.ts';
import type { InitResult, QuorumInput, SealHooks, SealPeers, SealStatus, UnsealKeyWrapper } from './seal-types.ts';
import { checkQuorum, issueShares } from './shares.ts';
import { createUnseal } from './unseal.ts';
import { createWorkerPort } from './worker-port.ts';

export type { InitResult, PeerAttempt, PeerRekey, QuorumInput, SealHooks, SealPeers, SealStatus, UnsealKeyWrapper } from './seal-types.ts';
export type { WorkerPort } from './worker-port.ts';

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
  let chain: Promise<unknown> = Promise.resolve();

  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn);
    chain = run.catch(() => undefined);
    return run;
  }

  async function readRow(): Promise<void> {
    ctx.rowText = await storage.read((r) => r.meta.get(KEYRING_META));
    ctx.row = ctx.rowText === undefined ? undefined : parseStoredKeyring(ctx.rowText);
  }

  const initialized = () => mode === 'dev' || ctx.row !== undefined;

  function status(): SealStatus {
    const { row, barrier } = ctx;
    const running = peers ? ctx.peerAttempt : ctx.attempt;
    const rekeying = rekey.status();
    return {
      mode,
      initialized: initialized(),
      sealed: barrier === undefined,
      ...(row?.threshold !== undefined ? { threshold: row.threshold, shares: row.shares! } : {}),
      progress: running?.progress ?? 0,
      nonce: running?.nonce ?? '',
      ...(barrier ? { rootKeyVersion: barrier.currentVersion } : {}),
      ...(row ? { keyringGeneration: row.generation } : {}),
      ...(row && mode !== 'dev' ? { sharesVerified: row.shareDigests !== undefined } : {}),
      ...(rekeying ? { rekey: rekeying } : {}),
    };
  }

  async function unsealWith(key: SecretBytes): Promise<void> {
    let keyring: Keyring;
    try {
      keyring = ctx.row ? Keyring.open(key, ctx.row) : Keyring.withFirst(SecretBytes.copyOf(key.expose()));
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
    ctx.unsealKey = key;
    ctx.barrier = b;
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
      if (!ctx.barrier || !ctx.unsealKey) return false;
      const text = await storage.read((r) => r.meta.get(KEYRING_META));
      if (text === undefined) return false;
      const fresh = parseStoredKeyring(text);
      if (fresh.generation <= (ctx.row?.generation ?? 0) || !ctx.barrier || !ctx.unsealKey) return false;
      let keyring: Keyring;
      try {
        keyring = Keyring.open(ctx.unsealKey, fresh);
      } catch (err) {
        if (!(err instanceof KeyringOpenError)) throw err;
        // Rekeyed through another node: this node's unseal key is the old one. It keeps serving with the
        // versions it holds; new ones need this node to be sealed and unsealed with the new shares.
        logger.warn('the stored keyring was re-sealed under a new unseal key (rekey on another node); seal and unseal this node to pick up new root-key versions');
        return false;
      }
      ctx.row = fresh;
      ctx.rowText = text;
      ctx.barrier.replace(keyring);
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
      ctx.peerAttempt = joined?.attempt;
      ctx.peerRekey = joined?.rekey;
      await readRow();
      if (ctx.row && ctx.row.mode !== mode) {
        joined?.key?.zeroize();
        throw new RootKeyMismatchAtStartError(`this database was initialized in ${ctx.row.mode} seal mode; start the node with TRENT_SEAL=${ctx.row.mode}`);
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
      if (mode === 'pkcs11' && ctx.row) await autoUnseal();
    });
  }

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
    if (!deps.hsm || !ctx.row?.hsmWrappedUnsealKey) return;
    let key: SecretBytes;
    try {
      key = await deps.hsm.unwrap(Buffer.from(ctx.row.hsmWrappedUnsealKey, 'base64'));
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
      if (ctx.row) throw new InvalidSealStateException('Trent is already initialized');
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
        ctx.row = next;
        ctx.rowText = text;
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
        if (ctx.row && mode === 'pkcs11') await autoUnseal();
      }
    });
  }

  async function seal(): Promise<void> {
    await serial(async () => {
      if (!ctx.barrier) throw new InvalidSealStateException('Trent is already sealed');
      await sealHere();
    });
    // Outside the chain: the primary seals every other worker and forgets its copy of the key.
    await peers?.sealed();
  }

  async function sealHere(): Promise<void> {
    const b = ctx.barrier!;
    ctx.barrier = undefined;
    try {
      await hooks.onSeal();
    } finally {
      b.zeroize();
      ctx.unsealKey?.zeroize();
      ctx.unsealKey = undefined;
      ctx.attempt?.zeroize();
      ctx.attempt = undefined;
      logger.warn({ mode }, 'sealed: every root key and unsealed key in memory was zeroed');
    }
  }

  /** Adds a root-key version (re-sealing the keyring under the unseal key); new seals use it. */
  function rotateRoot(): Promise<{ rootKeyVersion: number; rootKeyVersions: number[] }> {
    return serial(async () => {
      for (let tries = 0; tries < 8; tries++) {
        const { barrier, unsealKey } = ctx;
        if (!barrier || !unsealKey) throw new ServiceUnavailableError('Trent is sealed. An operator must unseal it.');
        await readRow();
        const row = ctx.row;
        const base = row ? Keyring.open(unsealKey, row) : Keyring.withFirst(SecretBytes.copyOf(unsealKey.expose()));
        const version = base.addVersion();
        const generation = (row?.generation ?? 0) + 1;
        const next: StoredKeyring = row
          ? { ...row, generation, keyring: base.seal(unsealKey, generation) }
          : { format: 1, mode, generation, keyring: base.seal(unsealKey, generation) };
        const text = JSON.stringify(next);
        const rowText = ctx.rowText;
        const written = rowText === undefined
          ? (await storage.transaction((tx) => tx.meta.putIfAbsent(KEYRING_META, text))) === text
          : await storage.transaction((tx) => tx.meta.compareAndSet(KEYRING_META, rowText, text));
        if (!written) {
          base.zeroize();
          continue; // another node changed the keyring first: build on its version
        }
        ctx.row = next;
        ctx.rowText = text;
        const versions = base.versions;
        barrier.replace(base);
        logger.info({ rootKeyVersion: version, generation }, 'root key rotated');
        return { rootKeyVersion: version, rootKeyVersions: versions };
      }
      throw new ConflictException('the keyring kept changing under concurrent rotations; retry');
    });
  }

  /** At process exit: zeroes the keyring, the unseal key and any shares of a running attempt. */
  function shutdown(): void {
    ctx.barrier?.zeroize();
    ctx.barrier = undefined;
    ctx.unsealKey?.zeroize();
    ctx.unsealKey = undefined;
    ctx.attempt?.zeroize();
    ctx.attempt = undefined;
    rekey.shutdown();
  }

  const ctx: SealContext = { storage, mode, logger, ...(peers ? { peers } : {}), serial, readRow, status, unsealWith, sealHere, autoUnseal, hsmWrap };
  const unseal = createUnseal(ctx);
  const rekey = createRekey(ctx);
  const peer = createWorkerPort(ctx);

  return {
    start, status, init, shutdown, seal, rotateRoot, peer,
    submitShare: unseal.submitShare,
    resetUnseal: unseal.resetUnseal,
    rekeyStart: rekey.start,
    rekeySubmit: rekey.submit,
    get barrier() { return ctx.barrier; },
  };
}

export type SealManager = ReturnType<typeof createSealManager>;
