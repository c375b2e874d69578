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
