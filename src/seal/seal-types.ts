/**
 * The seal manager's contract (seal-manager.ts): the HSM port of auto-unseal, the hooks the composition
 * root builds and drops the unsealed node with, the status it reports and the quorum an init or rekey issues.
 */
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import type { KeyringBarrier } from './keyring-barrier.ts';
import type { SealMode } from './keyring.ts';

/** The HSM side of auto-unseal: a non-extractable AES key in the token wraps the unseal key. */
export interface UnsealKeyWrapper {
  wrap(unsealKey: SecretBytes): Promise<Buffer>;
  unwrap(wrapped: Buffer): Promise<SecretBytes>;
}

export interface SealHooks {
  /** Builds everything that needs the barrier; a throw leaves the node sealed. */
  onUnseal(barrier: KeyringBarrier): Promise<void>;
  /** Drops (and zeroes) everything built by onUnseal; called before the keyring is zeroed. */
  onSeal(): Promise<void>;
  /** Runs once, right after init, with a temporary barrier (e.g. to create the first administrator). */
  onInit?(barrier: KeyringBarrier): Promise<Record<string, unknown>>;
}

export interface SealStatus {
  mode: SealMode;
  initialized: boolean;
  sealed: boolean;
  /** Quorum: threshold of shares needed, number issued (absent in development mode). */
  threshold?: number;
  shares?: number;
  /** Shares received in the current unseal attempt, and its nonce ('' when none is running). */
  progress: number;
  nonce: string;
  rootKeyVersion?: number;
  rootKeyVersions?: number[];
  keyringGeneration?: number;
  /** False on keyrings initialized before issued shares were recorded: shares are then not checked one by one. */
  sharesVerified?: boolean;
  /** The running rekey: its nonce, progress and the quorum it will issue. */
  rekey?: { nonce: string; progress: number; required: number; shares: number; threshold: number; ageRecipients: number };
}

export interface QuorumInput {
  shares: number;
  threshold: number;
  /** One age public key (`age1…`) per share, in order: each share is returned encrypted to it. */
  ageRecipients?: readonly string[];
}

export interface InitResult {
  shares: string[];
  threshold: number;
  rootKeyVersion: number;
  extra?: Record<string, unknown>;
}

/** A running unseal attempt as the primary of TRENT_WORKERS > 1 holds it: what every worker's status shows. */
export interface PeerAttempt {
  progress: number;
  nonce: string;
}

/** A running rekey as the primary holds it: the status fields of SealStatus.rekey. */
export type PeerRekey = NonNullable<SealStatus['rekey']>;

/**
 * TRENT_WORKERS > 1: how one worker's seal manager reaches its siblings, through the primary
 * (src/cluster-seal.ts). The primary holds the shares of a running unseal attempt and, while the
 * deployment is unsealed by shares, the unseal key (never on disk); every worker opens the stored
 * keyring itself with that key. Buffers passed in are owned by the port and zeroed once sent.
 */
export interface SealPeers {
  /**
   * At start: the deployment as the primary knows it — unsealed by shares (`key`, owned by the caller),
   * sealed by an operator since the primary started (`sealed`: stay sealed, even with an HSM or dev key),
   * or neither (unseal as a lone node would).
   */
  join(): Promise<{ key?: SecretBytes; sealed: boolean; attempt?: PeerAttempt; rekey?: PeerRekey }>;
  /**
   * Adds a share that this worker has checked against the issued digests to the primary's attempt. At the
   * threshold the primary combines the key and has every worker (this one first) open the keyring with it,
   * and answers once they have. TrentErrors (nonce, failed reconstruction) come back as they were thrown.
   */
  submitShare(share: Buffer, nonce: string | undefined, threshold: number): Promise<PeerAttempt | undefined>;
  /** Abandons the primary's attempt (the caller has checked the requester's share). */
  resetAttempt(): Promise<void>;
  /** This worker was sealed by an operator: the primary forgets the key and seals every other worker. */
  sealed(): Promise<void>;
  /** This worker initialized the deployment: every other worker reads the keyring (and, HSM, unseals from the token). */
  initialized(): Promise<void>;
  /** Starts (or replaces) the primary's rekey attempt; the caller checked the proof and `share` (owned), if any. */
  rekeyStart(share: Buffer | undefined, quorum: QuorumInput, threshold: number): Promise<{ nonce: string; progress: number; required: number }>;
  /**
   * Adds a checked share to the primary's rekey attempt. At the threshold the primary answers with the
   * old unseal key it combined (owned by the caller) and the quorum to issue: the caller re-seals.
   */
  rekeySubmit(share: Buffer, nonce: string): Promise<{ complete: false; progress: number; required: number } | { complete: true; key: SecretBytes; quorum: QuorumInput; required: number }>;
  /** A rekey here replaced the unseal key: the primary's copy (for replacement workers) becomes `key` (copied). */
  rekeyed(key: SecretBytes): Promise<void>;
}
