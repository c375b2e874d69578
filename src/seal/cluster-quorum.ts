/**
 * The primary's side of the seal of TRENT_WORKERS > 1 (docs/seal.md "Workers"): one unseal attempt for
 * every worker, and, while the deployment is unsealed by shares, the unseal key for workers that start
 * later. Knows nothing of IPC: src/cluster-seal.ts carries its messages.
 *
 * Why the primary combines and hands out the 32-byte unseal key, rather than forwarding the shares: every
 * worker keeps the unseal key anyway while unsealed (to re-seal the keyring on rotation), so the key adds
 * no new kind of secret to a worker, while forwarding would put M shares in every worker. The root keys
 * themselves never cross the pipe: each worker opens the stored keyring with the key, which also checks
 * it (AES-GCM) — the primary has no storage and cannot. Every copy made for a worker is zeroed once the
 * worker has answered (the pipe has taken the bytes by then); the shares are zeroed once combined.
 */
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { ShareCombineError } from '../crypto/shamir.ts';
import { InvalidNonceException, type TrentError, InvalidSealStateException, ServiceUnavailableError, UnsealFailedException } from '../errors/errors.ts';
import { QuorumAttempt } from './quorum.ts';
import type { PeerAttempt, PeerRekey, QuorumInput } from './seal-types.ts';

/** What the primary asks of a worker. `key` is a copy for that worker; the caller zeroes it after the answer. */
export type WorkerRequest = { op: 'unseal'; key: Uint8Array } | { op: 'rekeyed'; key: Uint8Array } | { op: 'seal' } | { op: 'initialized' };
/** `keyring`: the key did not open the stored keyring (wrong shares). */
export type WorkerAnswer = { ok: true } | { ok: false; keyring?: boolean; message: string };

export interface Attempts {
  unseal?: PeerAttempt;
  rekey?: PeerRekey;
}

export interface WorkerChannel {
  /** The live workers. */
  ids(): number[];
  /** Resolves with the worker's answer; with ok: false when it died or did not answer in time. */
  ask(id: number, request: WorkerRequest): Promise<WorkerAnswer>;
  /** Tells every worker the attempts now running (absent: none); resolves once each has taken them (or timed out or died). */
  announce(attempts: Attempts): Promise<void>;
}

export function createClusterQuorum(workers: WorkerChannel, log: (line: string) => void) {
  let attempt: QuorumAttempt | undefined;
  /** A rekey runs while sealed or unsealed; the worker whose share completes it re-seals the keyring. */
  let rekey: { attempt: QuorumAttempt; quorum: QuorumInput } | undefined;
  /** The unseal key while the deployment is unsealed by shares; handed to workers that start later. */
  let key: SecretBytes | undefined;
  /** Sealed by an operator since this primary started: workers that start now stay sealed. */
  let sealedByOperator = false;
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn);
    chain = run.catch(() => undefined);
    return run;
  };
  const current = (): PeerAttempt | undefined => (attempt ? { progress: attempt.progress, nonce: attempt.nonce } : undefined);
  const currentRekey = (): PeerRekey | undefined => rekey && {
    nonce: rekey.attempt.nonce, progress: rekey.attempt.progress, required: rekey.attempt.threshold,
    shares: rekey.quorum.shares, threshold: rekey.quorum.threshold, ageRecipients: rekey.quorum.ageRecipients?.length ?? 0,
  };
  const attempts = (): Attempts => {
    const u = current();
    const r = currentRekey();
    return { ...(u ? { unseal: u } : {}), ...(r ? { rekey: r } : {}) };
  };
  const announce = () => workers.announce(attempts());

  /** Hands a copy of `k` to one worker and zeroes the copy once it has answered. */
  async function unsealOn(id: number, k: SecretBytes, op: 'unseal' | 'rekeyed' = 'unseal'): Promise<WorkerAnswer> {
    const copy = Buffer.from(k.expose());
    try {
      return await workers.ask(id, { op, key: copy });
    } finally {
      copy.fill(0);
    }
  }

  function dropKey(): void {
    key?.zeroize();
    key = undefined;
  }

  return {
    /**
     * A starting worker's view of the deployment; not on the chain, so a worker that starts while a quorum
     * completes is not waited for (it is asked to unseal right after its start). `key` is a copy: the
     * caller zeroes it once sent.
     */
    join(): { key?: Buffer; sealed: boolean; attempt?: PeerAttempt; rekey?: PeerRekey } {
      const { unseal, rekey: r } = attempts();
      return { ...(key ? { key: Buffer.from(key.expose()) } : {}), sealed: sealedByOperator, ...(unseal ? { attempt: unseal } : {}), ...(r ? { rekey: r } : {}) };
    },

    /**
     * Adds a share (owned; the worker checked it against the issued digests) from worker `from`. At the
     * threshold: combine, have `from` open the keyring first (it verifies the key), then every other worker.
     * Resolves with the attempt still running (undefined once complete).
     */
    submitShare(from: number, share: Buffer, nonce: string | undefined, threshold: number): Promise<PeerAttempt | undefined> {
      return serial(async () => {
        try {
          if (key) throw new InvalidSealStateException('Trent is already unsealed');
          if (attempt) attempt.checkNonce(nonce);
          else if (nonce !== undefined) throw new InvalidNonceException('no unseal attempt is running; send the first share without a nonce');
        } catch (err) {
          share.fill(0);
          throw err;
        }
        attempt ??= new QuorumAttempt(threshold);
        if (!attempt.add(share)) {
          await announce();
          return current();
        }
        const done = attempt;
        attempt = undefined;
        await announce();
        let combined: SecretBytes;
        try {
          combined = await done.combine();
        } catch (err) {
          if (err instanceof ShareCombineError) throw unsealFailed();
          throw err;
        } finally {
          done.zeroize();
        }
        const first = await unsealOn(from, combined);
        if (!first.ok) {
          combined.zeroize();
          if (first.keyring) throw unsealFailed();
          throw new ServiceUnavailableError(`the worker that received the last share could not unseal (${first.message}); the attempt was reset`);
        }
        // Kept before the others are asked: a worker that starts meanwhile (not among them) is handed it by join().
        dropKey();
        key = combined;
        sealedByOperator = false;
        const others = await Promise.all(workers.ids().filter((id) => id !== from).map(async (id) => ({ id, answer: await unsealOn(id, combined) })));
        for (const { id, answer } of others) if (!answer.ok) log(`trent: worker ${id} could not unseal with the quorum's key (${answer.message}); it stays sealed\n`);
        return undefined;
      });
    },

    /** Abandons the running attempt (the worker checked the requester's share). */
    reset(): Promise<void> {
      return serial(async () => {
        attempt?.zeroize();
        attempt = undefined;
        await announce();
      });
    },

    /** Worker `from` was sealed by an operator: forget the key, seal every other worker, wait for them. */
    sealed(from: number): Promise<void> {
      return serial(async () => {
        dropKey();
        attempt?.zeroize();
        attempt = undefined;
        sealedByOperator = true;
        await announce();
        const answers = await Promise.all(workers.ids().filter((id) => id !== from).map(async (id) => ({ id, answer: await workers.ask(id, { op: 'seal' }) })));
        for (const { id, answer } of answers) if (!answer.ok) log(`trent: worker ${id} did not confirm the seal (${answer.message})\n`);
      });
    },

    /**
     * Worker `from` initialized the deployment: the others read the new keyring row (so their status says
     * initialized) and, under HSM custody, unseal from the token as `from` did.
     */
    initialized(from: number): Promise<void> {
      return serial(async () => {
        sealedByOperator = false;
        await Promise.all(workers.ids().filter((id) => id !== from).map((id) => workers.ask(id, { op: 'initialized' })));
      });
    },

    /** Starts (or replaces) the rekey attempt; the worker checked the proof and `share` (owned), if any. */
    rekeyStart(share: Buffer | undefined, quorum: QuorumInput, threshold: number): Promise<{ nonce: string; progress: number; required: number }> {
      return serial(async () => {
        rekey?.attempt.zeroize();
        rekey = { attempt: new QuorumAttempt(threshold), quorum };
        if (share) rekey.attempt.add(share);
        await announce();
        return { nonce: rekey.attempt.nonce, progress: rekey.attempt.progress, required: threshold };
      });
    },

    /**
     * Adds a checked share (owned) to the rekey attempt. At the threshold: the old unseal key combined
     * (owned by the caller, who re-seals the keyring with it and zeroes it) and the quorum to issue.
     */
    rekeySubmit(share: Buffer, nonce: string): Promise<{ complete: false; progress: number; required: number } | { complete: true; key: SecretBytes; quorum: QuorumInput; required: number }> {
      return serial(async () => {
        try {
          if (!rekey) throw new InvalidNonceException('no rekey is running; start one first');
          rekey.attempt.checkNonce(nonce);
        } catch (err) {
          share.fill(0);
          throw err;
        }
        const done = rekey;
        if (!done.attempt.add(share)) {
          await announce();
          return { complete: false, progress: done.attempt.progress, required: done.attempt.threshold };
        }
        rekey = undefined;
        await announce();
        try {
          return { complete: true, key: await done.attempt.combine(), quorum: done.quorum, required: done.attempt.threshold };
        } catch (err) {
          if (err instanceof ShareCombineError) throw new UnsealFailedException('the shares did not reconstruct the unseal key; the rekey was reset, start it again');
          throw err;
        } finally {
          done.attempt.zeroize();
        }
      });
    },

    /**
     * Worker `from` rekeyed: the new unseal key (copied; the caller zeroes `fresh`) replaces the primary's
     * copy, if it holds one, and every other worker's, so all of them keep loading root-key versions added
     * later (a worker with the old key could not open the re-sealed keyring).
     */
    rekeyed(from: number, fresh: Uint8Array): Promise<void> {
      return serial(async () => {
        const next = SecretBytes.copyOf(fresh);
        // Replaced before the others are asked: a worker that starts meanwhile is handed the new key by join().
        const keep = key !== undefined;
        if (keep) {
          dropKey();
          key = next;
        }
        try {
          const answers = await Promise.all(workers.ids().filter((id) => id !== from).map(async (id) => ({ id, answer: await unsealOn(id, next, 'rekeyed') })));
          for (const { id, answer } of answers) if (!answer.ok) log(`trent: worker ${id} could not take the rekeyed unseal key (${answer.message}); seal and unseal to bring it up to date\n`);
        } finally {
          if (!keep) next.zeroize();
        }
      });
    },

    /** At exit: zeroes the key and any shares. */
    shutdown(): void {
      dropKey();
      attempt?.zeroize();
      attempt = undefined;
      rekey?.attempt.zeroize();
      rekey = undefined;
    },

    /** For GET-style inspection in tests: whether the primary holds a key or shares now. */
    holds(): { key: boolean; shares: number } {
      return { key: key !== undefined && !key.isZeroized, shares: (attempt?.progress ?? 0) + (rekey?.attempt.progress ?? 0) };
    },
  };
}

function unsealFailed(): TrentError {
  return new UnsealFailedException('the shares did not reconstruct the unseal key; the unseal attempt was reset, start again with the first share');
}

export type ClusterQuorum = ReturnType<typeof createClusterQuorum>;
