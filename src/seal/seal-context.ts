/**
 * What the parts of one node's seal state machine share (docs/seal.md): seal-manager.ts owns this state
 * and the steps below; unseal.ts (shares), rekey.ts and worker-port.ts (what the primary asks of a worker)
 * read and change it. Every change runs on the one serial chain, so the parts never interleave.
 */
import type { Logger } from 'pino';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import type { Storage } from '../storage/storage.ts';
import type { KeyringBarrier } from './keyring-barrier.ts';
import type { SealMode, StoredKeyring } from './keyring.ts';
import type { QuorumAttempt } from './quorum.ts';
import type { PeerAttempt, PeerRekey, SealPeers, SealStatus } from './seal-types.ts';

export interface SealContext {
  readonly storage: Storage;
  readonly mode: SealMode;
  readonly logger: Logger;
  /** In a worker of TRENT_WORKERS > 1: its siblings, through the primary. */
  readonly peers?: SealPeers;
  /** The stored keyring as last read or written, and its exact text (what a compare-and-set expects). */
  row?: StoredKeyring;
  rowText?: string;
  /** Kept while unsealed, to re-seal the keyring on rotation; zeroed on seal. */
  unsealKey?: SecretBytes;
  /** Present exactly while the node is unsealed. */
  barrier?: KeyringBarrier;
  /** The running unseal attempt of a lone node. */
  attempt?: QuorumAttempt;
  /** With peers the unseal and rekey attempts are the primary's; these mirror their progress for status(). */
  peerAttempt?: PeerAttempt;
  peerRekey?: PeerRekey;

  /** Runs state changes one after another. */
  serial<T>(fn: () => Promise<T>): Promise<T>;
  /** Reads the keyring row into `row` and `rowText`. */
  readRow(): Promise<void>;
  status(): SealStatus;
  /** Opens the keyring with `key` and brings the node up; `key` is adopted (kept while unsealed). */
  unsealWith(key: SecretBytes): Promise<void>;
  /** Drops the unsealed node and zeroes every key this process holds (call it on the serial chain). */
  sealHere(): Promise<void>;
  /** HSM custody: unwraps the stored unseal key and unseals; a failure is logged and leaves the node sealed. */
  autoUnseal(): Promise<void>;
  /** The unseal key wrapped by the HSM; an unreachable token makes init (or rekey) a retryable 503. */
  hsmWrap(key: SecretBytes): Promise<Buffer>;
}

/** The refusal of a share-bearing call before init. */
export const NOT_INITIALIZED = 'Trent is not initialized. Run `trent operator init` first.';
