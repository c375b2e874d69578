/**
 * The seal across the workers of TRENT_WORKERS > 1, over the cluster IPC channel (docs/seal.md "Workers").
 * The worker side is the seal manager's `peers` port (src/seal/seal-types.ts) and, the other way, its
 * worker port (src/seal/worker-port.ts); the primary side wraps the primary's quorum
 * (src/seal/cluster-quorum.ts).
 *
 * The channel is a local pipe between processes of one tree (the same trust boundary as their memory).
 * It uses node's "advanced" serialization (src/cluster.ts), so shares and keys travel as typed arrays the
 * receiver can zero, never as JSON strings; every buffer is zeroed once the pipe has taken it. Key material
 * never goes into a log line or an error message here.
 */
import type { Worker } from 'node:cluster';
import { isClusterMessage } from './cluster-message.ts';
import { SecretBytes } from './crypto/secret-bytes.ts';
import { TrentError, ServiceUnavailableError, type Fault } from './errors/errors.ts';
import { createClusterQuorum, type Attempts, type WorkerAnswer, type WorkerRequest } from './seal/cluster-quorum.ts';
import { KeyringOpenError } from './seal/keyring.ts';
import type { PeerAttempt, PeerRekey, QuorumInput, SealPeers, WorkerPort } from './seal/seal-manager.ts';

/** Worker → primary: a request; the primary answers with SealReply of the same id. */
type SealCallBody =
  | { op: 'join' }
  | { op: 'share'; share: Uint8Array; nonce?: string; threshold: number }
  | { op: 'reset' }
  | { op: 'sealed' }
  | { op: 'initialized' }
  | { op: 'rekeyed'; key: Uint8Array }
  | { op: 'rekey-start'; share?: Uint8Array; quorum: QuorumInput; threshold: number }
  | { op: 'rekey-share'; share: Uint8Array; nonce: string };
type SealCall = { trent: 'seal'; id: number } & SealCallBody;
type SealReply = {
  trent: 'seal-reply'; id: number; error?: { code: string; message: string; fault: Fault };
  key?: Uint8Array; sealed?: boolean; attempt?: PeerAttempt; rekey?: PeerRekey;
  /** Rekey progress; `quorum` once complete (with the old unseal key in `key`). */
  nonce?: string; progress?: number; required?: number; quorum?: QuorumInput;
};
/**
 * Primary → worker: a request, or the attempts now running; each answered by a SealAnswer of the same id
 * (an attempt once the worker's status shows it).
 */
type SealAsk = { trent: 'seal-ask'; id: number } & WorkerRequest;
type SealAttempt = { trent: 'seal-attempt'; id: number; attempts: Attempts };
type SealAnswer = { trent: 'seal-answer'; id: number } & WorkerAnswer;

/** How long the primary waits for a worker to unseal or seal (building the unsealed node included). */
const ASK_TIMEOUT_MS = 60_000;
/** How long a share's answer waits for a worker to take the new progress (a stuck worker delays, never blocks). */
const ANNOUNCE_TIMEOUT_MS = 5_000;

const zero = (...buffers: (Uint8Array | undefined)[]) => {
  for (const b of buffers) b?.fill(0);
};

/** In the primary: answers the workers' seal calls and asks things of them. */
export function createPrimarySeal(deps: { workers: () => Worker[]; log: (line: string) => void }) {
  let nextAsk = 0;
  const asked = new Map<number, { worker: Worker; resolve(a: WorkerAnswer): void }>();
  /**
   * Workers whose seal manager has asked to join: they listen for the attempts. One still loading its
   * modules would drop the message (and hold every answer up until the timeout); it learns the attempts
   * from its join instead.
   */
  const joined = new WeakSet<Worker>();

  /** Sends `message` (given its id) to `worker` and resolves with the worker's SealAnswer, or ok: false. */
  function roundTrip(worker: Worker | undefined, message: (id: number) => SealAsk | SealAttempt, timeoutMs: number): Promise<WorkerAnswer> {
    return new Promise<WorkerAnswer>((resolve) => {
      if (!worker?.isConnected()) return resolve({ ok: false, message: 'the worker is gone' });
      const id = nextAsk++;
      const timer = setTimeout(() => {
        asked.delete(id);
        resolve({ ok: false, message: 'no answer in time' });
      }, timeoutMs);
      asked.set(id, {
        worker,
        resolve: (a) => {
          clearTimeout(timer);
          asked.delete(id);
          resolve(a);
        },
      });
      worker.send(message(id));
    });
  }

  const quorum = createClusterQuorum({
    // Only workers that joined listen; one still starting is handed the key, the seal or the keyring by its join.
    ids: () => deps.workers().filter((w) => w.isConnected() && joined.has(w)).map((w) => w.id),
    // Answered once every worker has taken the attempts, so a status read on any worker after the share's
    // answer shows the new progress (docs/seal.md "Workers": one status).
    announce: async (attempts) => {
      await Promise.all(deps.workers().filter((w) => joined.has(w)).map((w) => roundTrip(w, (id) => ({ trent: 'seal-attempt', id, attempts }), ANNOUNCE_TIMEOUT_MS)));
    },
    ask: (id, request) => roundTrip(deps.workers().find((w) => w.id === id), (askId) => ({ trent: 'seal-ask', id: askId, ...request }), ASK_TIMEOUT_MS),
  }, deps.log);

  function reply(worker: Worker, message: SealReply, secret?: Uint8Array): void {
    if (!worker.isConnected()) return zero(secret);
    worker.send(message, () => zero(secret));
  }

  async function call(worker: Worker, m: SealCall): Promise<void> {
    try {
      switch (m.op) {
        case 'join': {
          joined.add(worker);
          const j = quorum.join();
          return reply(worker, { trent: 'seal-reply', id: m.id, ...j }, j.key);
        }
        case 'share': {
          const attempt = await quorum.submitShare(worker.id, Buffer.from(m.share.buffer, m.share.byteOffset, m.share.byteLength), m.nonce, m.threshold);
          return reply(worker, { trent: 'seal-reply', id: m.id, ...(attempt ? { attempt } : {}) });
        }
        case 'reset':
          await quorum.reset();
          break;
        case 'sealed':
          await quorum.sealed(worker.id);
          break;
        case 'initialized':
          await quorum.initialized(worker.id);
          break;
        case 'rekey-start': {
          const share = m.share && Buffer.from(m.share.buffer, m.share.byteOffset, m.share.byteLength);
          return reply(worker, { trent: 'seal-reply', id: m.id, ...(await quorum.rekeyStart(share, m.quorum, m.threshold)) });
        }
        case 'rekey-share': {
          const r = await quorum.rekeySubmit(Buffer.from(m.share.buffer, m.share.byteOffset, m.share.byteLength), m.nonce);
          if (!r.complete) return reply(worker, { trent: 'seal-reply', id: m.id, progress: r.progress, required: r.required });
          // The old unseal key goes to this worker only, which re-seals the keyring; zeroed once sent.
          const key = Buffer.from(r.key.expose());
          r.key.zeroize();
          return reply(worker, { trent: 'seal-reply', id: m.id, key, quorum: r.quorum, required: r.required }, key);
        }
        case 'rekeyed':
          try {
            await quorum.rekeyed(worker.id, m.key);
          } finally {
            zero(m.key);
          }
          break;
      }
      reply(worker, { trent: 'seal-reply', id: m.id });
    } catch (err) {
      // Only TrentErrors cross as they are (their messages name no material); anything else is logged here.
      if (!(err instanceof TrentError)) deps.log(`trent: the primary could not handle a worker's seal call (${m.op}): ${err instanceof Error ? err.message : String(err)}\n`);
      const e = err instanceof TrentError ? err : new ServiceUnavailableError('the primary could not complete the seal operation; see its log');
      reply(worker, { trent: 'seal-reply', id: m.id, error: { code: e.code, message: e.message, fault: e.fault } });
    }
  }

  return {
    /** Handles a seal message from `worker`; false when the message is not one. */
    onMessage(worker: Worker, m: unknown): boolean {
      if (isClusterMessage<SealCall>(m, 'seal')) {
        void call(worker, m);
        return true;
      }
      if (isClusterMessage<SealAnswer>(m, 'seal-answer')) {
        const { trent: _t, id, ...answer } = m;
        asked.get(id)?.resolve(answer);
        return true;
      }
      return false;
    },
    /** A worker died: what was asked of it will not be answered. */
    onExit(worker: Worker): void {
      for (const a of [...asked.values()]) if (a.worker === worker) a.resolve({ ok: false, message: 'the worker exited' });
    },
    shutdown: () => quorum.shutdown(),
  };
}

/**
 * In a worker: the seal manager's port to its siblings. Requests from the primary that arrive before the
 * seal manager exists (a worker asked to unseal while it starts) wait for `attach`.
 */
export function workerSealPeers(): { peers: SealPeers; attach(peer: WorkerPort): void } {
  let nextCall = 0;
  const calls = new Map<number, { resolve(r: SealReply): void }>();
  let peer: WorkerPort | undefined;
  const waiting: SealAsk[] = [];
  /** Attempts announced after this worker's join but before its seal manager attached: newer than the join's. */
  let announced: Attempts | undefined;

  async function answer(p: WorkerPort, m: SealAsk): Promise<void> {
    let a: WorkerAnswer = { ok: true };
    try {
      if (m.op === 'unseal') await p.unseal(SecretBytes.adopt(Buffer.from(m.key.buffer, m.key.byteOffset, m.key.byteLength)));
      else if (m.op === 'rekeyed') await p.rekeyed(SecretBytes.adopt(Buffer.from(m.key.buffer, m.key.byteOffset, m.key.byteLength)));
      else if (m.op === 'seal') await p.seal();
      else await p.initialized();
    } catch (err) {
      a = { ok: false, keyring: err instanceof KeyringOpenError, message: err instanceof TrentError ? err.message : err instanceof KeyringOpenError ? 'the key does not open the keyring' : 'the worker could not build the unsealed node; see its log' };
    }
    process.send?.({ trent: 'seal-answer', id: m.id, ...a } satisfies SealAnswer);
  }

  process.on('message', (m: unknown) => {
    if (isClusterMessage<SealReply>(m, 'seal-reply')) calls.get(m.id)?.resolve(m);
    else if (isClusterMessage<SealAttempt>(m, 'seal-attempt')) {
      if (peer) peer.attempts(m.attempts);
      else announced = m.attempts;
      process.send?.({ trent: 'seal-answer', id: m.id, ok: true } satisfies SealAnswer);
    }
    else if (isClusterMessage<SealAsk>(m, 'seal-ask')) {
      if (peer) void answer(peer, m);
      else waiting.push(m);
    }
  });

  /** Sends a call and waits for the reply; `secret` is zeroed once the pipe has taken it. */
  function send(call: SealCallBody, secret?: Uint8Array): Promise<SealReply> {
    return new Promise((resolve, reject) => {
      if (!process.send || !process.connected) {
        zero(secret);
        return reject(new ServiceUnavailableError('this worker has lost its primary; restart Trent'));
      }
      const id = nextCall++;
      calls.set(id, {
        resolve: (r) => {
          calls.delete(id);
          if (!r.error) return resolve(r);
          zero(r.key);
          reject(new TrentError(r.error.code, r.error.message, r.error.fault));
        },
      });
      process.send({ trent: 'seal', id, ...call } as SealCall, undefined, {}, () => zero(secret));
    });
  }

  const peers: SealPeers = {
    async join() {
      const r = await send({ op: 'join' });
      return {
        sealed: r.sealed === true,
        ...(r.key ? { key: SecretBytes.adopt(Buffer.from(r.key.buffer, r.key.byteOffset, r.key.byteLength)) } : {}),
        ...(r.attempt ? { attempt: r.attempt } : {}),
        ...(r.rekey ? { rekey: r.rekey } : {}),
      };
    },
    async submitShare(share, nonce, threshold) {
      const r = await send({ op: 'share', share, threshold, ...(nonce !== undefined ? { nonce } : {}) }, share);
      return r.attempt;
    },
    async resetAttempt() {
      await send({ op: 'reset' });
    },
    async sealed() {
      await send({ op: 'sealed' });
    },
    async initialized() {
      await send({ op: 'initialized' });
    },
    async rekeyStart(share, quorum, threshold) {
      const r = await send({ op: 'rekey-start', quorum, threshold, ...(share ? { share } : {}) }, share);
      return { nonce: r.nonce!, progress: r.progress!, required: r.required! };
    },
    async rekeySubmit(share, nonce) {
      const r = await send({ op: 'rekey-share', share, nonce }, share);
      if (!r.key) return { complete: false, progress: r.progress!, required: r.required! };
      return { complete: true, key: SecretBytes.adopt(Buffer.from(r.key.buffer, r.key.byteOffset, r.key.byteLength)), quorum: r.quorum!, required: r.required! };
    },
    async rekeyed(key) {
      const copy = Buffer.from(key.expose());
      await send({ op: 'rekeyed', key: copy }, copy);
    },
  };

  return {
    peers,
    attach(p) {
      peer = p;
      if (announced) p.attempts(announced);
      announced = undefined;
      for (const m of waiting.splice(0)) void answer(p, m);
    },
  };
}
