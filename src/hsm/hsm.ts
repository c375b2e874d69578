/**
 * The HSM port: named AES-256 keys that live in a PKCS#11 token and never leave it, AES-GCM with them,
 * and the token's random generator. Used by the root-key seal (HSM auto-unseal) and by custom key
 * stores. Implementation: pkcs11-hsm.ts (the only place that speaks PKCS#11).
 *
 * Contract:
 * - Keys are addressed by name; the name is both CKA_LABEL and CKA_ID (UTF-8) of the key object.
 * - Keys are generated in the token: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true, CKA_EXTRACTABLE false,
 *   CKA_ENCRYPT/DECRYPT/WRAP/UNWRAP true. No method returns key bytes.
 * - encrypt() returns iv(12) ‖ ciphertext ‖ tag(16); the IV comes from the token's RNG for every call.
 *   Random IVs under one key are safe up to 2^32 messages (NIST SP 800-38D §8.3).
 * - decrypt() fails with HsmDecryptionError for every kind of bad input (tampered, wrong AAD, wrong
 *   key, truncated); every other failure is an HsmError with a `failure` reason.
 * - PKCS#11 calls are synchronous (they block the event loop for the token's time: microseconds for
 *   SoftHSM2). pkcs11js's threaded forms keep no reference to the input buffer while the worker runs,
 *   and we saw heap corruption under concurrency with them; a network HSM would want a worker thread.
 * - Safe for concurrent use: calls borrow sessions from a bounded pool. A call whose session the token
 *   dropped (restart, logout, finalize) reopens a session, logs in again and retries once.
 * - Not atomic across processes: two processes calling findOrCreateAesKey for the same new name at once
 *   may create two objects; a later lookup then fails with HsmError('INTERNAL') rather than guess.
 */
import type { SecretBytes } from '../crypto/secret-bytes.ts';

export interface HsmOptions {
  /** Path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  modulePath: string;
  /** CKA label of the token (trailing blanks of the token's padded label are ignored). */
  tokenLabel: string;
  /** The user (crypto-user) PIN. Kept for re-login while the Hsm is open; zeroed by close(). */
  pin: SecretBytes;
  /** Upper bound of concurrently open sessions (default 4). */
  maxSessions?: number;
}

/** What a test (or an operator tool) may learn about a key object; never its value. */
export interface HsmKeyAttributes {
  token: boolean;
  private: boolean;
  sensitive: boolean;
  extractable: boolean;
  alwaysSensitive: boolean;
  neverExtractable: boolean;
  /** Generated in the token (CKA_LOCAL), as opposed to imported. */
  local: boolean;
  valueLength: number;
}

export const HSM_GCM_IV_BYTES = 12;
export const HSM_GCM_TAG_BYTES = 16;
export const HSM_GCM_OVERHEAD = HSM_GCM_IV_BYTES + HSM_GCM_TAG_BYTES;

export interface Hsm {
  readonly modulePath: string;
  readonly tokenLabel: string;
  /** Generates the key in the token unless one with this name exists; says which happened. */
  findOrCreateAesKey(name: string): Promise<{ created: boolean }>;
  /** Generates a new key; HsmError('INTERNAL') if one with this name exists already. */
  createAesKey(name: string): Promise<void>;
  hasKey(name: string): Promise<boolean>;
  /** C_DestroyObject on the key; false when there was none. */
  destroyKey(name: string): Promise<boolean>;
  encrypt(keyName: string, plaintext: Uint8Array, aad: Uint8Array): Promise<Buffer>;
  /** The returned buffer holds plaintext: zero it when done. */
  decrypt(keyName: string, blob: Uint8Array, aad: Uint8Array): Promise<Buffer>;
  /**
   * An ECDSA P-256 signing key pair generated in the token unless one with this name exists (the private
   * key: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true, CKA_EXTRACTABLE false, CKA_SIGN only). Returns the
   * public key as DER SPKI; says whether it was created now.
   */
  findOrCreateEcSigningKey(name: string): Promise<{ created: boolean; publicKeySpki: Buffer }>;
  /** ECDSA P-256 over SHA-256(message) (the hash computed here, the signature in the token), DER-encoded. */
  signEcdsaP256Sha256(keyName: string, message: Uint8Array): Promise<Buffer>;
  /** `n` bytes from the token's RNG (C_GenerateRandom), 1 ≤ n ≤ 1024. */
  randomBytes(n: number): Promise<Buffer>;
  /** Of the AES key `keyName`, or with `signing`, of the private key of findOrCreateEcSigningKey (valueLength 0). */
  keyAttributes(keyName: string, kind?: 'aes' | 'signing'): Promise<HsmKeyAttributes>;
  /** Closes the sessions, zeroes the PIN and releases the module; further calls fail. Idempotent. */
  close(): Promise<void>;
}
