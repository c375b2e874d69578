/**
 * What every key-spec family module shares: the family contract the key service dispatches through (one
 * table, no switch per operation), the errors a request breaks the key-spec matrix with, and the one
 * mapping from those and the crypto layer's typed errors to TrentErrors. Errors are mapped by class, never
 * by message text; the messages are already the AWS texts where AWS has one (recorded in aws-api.md §1.2–1.3).
 */
import {
  AsymmetricCryptoError, DecryptionError, InvalidKeyMaterialError, InvalidPublicKeyError, generateKeyPair, publicKeyFromPrivate,
  type KeyPairType,
} from '../../crypto/asymmetric.ts';
import type { SecretBytes } from '../../crypto/secret-bytes.ts';
import {
  InternalError, InvalidCiphertextException, InvalidKeyUsageException, ValidationException,
  type TrentError,
} from '../../errors/errors.ts';
import type { KeySpec, KeyUsage } from '../key-model.ts';
import type { RsaEncryptionAlgorithm } from './rsa.ts';
import type { SigningAlgorithm } from './signing-algorithms.ts';

/** Fresh material for a new key: the secret is sealed as material version 1; the public key (if any) is stored in clear. */
export interface NewMaterial {
  secret: SecretBytes;
  publicKeySpki?: Buffer;
}

/** AWS EncryptionAlgorithmSpec values Trent implements. */
export type EncryptionAlgorithm = 'SYMMETRIC_DEFAULT' | RsaEncryptionAlgorithm;
export type KeyAgreementAlgorithm = 'ECDH';

/** Encryption with the key pair itself (ENCRYPT_DECRYPT keys whose ciphertext is not a Trent blob). */
export interface KeyPairEncryption {
  /**
   * The algorithm a request names (undefined: none) for a key of `spec`; one the spec cannot use is
   * InvalidKeyUsageException in AWS's "Algorithm X is incompatible with key spec Y." form.
   */
  algorithm(spec: KeySpec, requested: string | undefined): Exclude<EncryptionAlgorithm, 'SYMMETRIC_DEFAULT'>;
  encrypt(publicKeySpki: Buffer, alg: Exclude<EncryptionAlgorithm, 'SYMMETRIC_DEFAULT'>, plaintext: Uint8Array): Buffer;
  /** Any failure is InvalidCiphertextException with an empty message. The result is plaintext: zero it when done. */
  decrypt(privateKeyPkcs8: SecretBytes, alg: Exclude<EncryptionAlgorithm, 'SYMMETRIC_DEFAULT'>, ciphertext: Uint8Array): Buffer;
}

/** KEY_AGREEMENT (DeriveSharedSecret). */
export interface KeyAgreement {
  /** The shared secret with the peer's SPKI; a bad peer key is ValidationException with an empty message. */
  deriveSharedSecret(spec: KeySpec, privateKeyPkcs8: SecretBytes, peerPublicKeySpki: Buffer): SecretBytes;
}

/** One key-spec family: which usages its specs allow, how material is made, and what DescribeKey lists. */
export interface KeySpecFamily {
  /** AWS: the KeyUsage values CreateKey accepts for this spec. */
  usages(spec: KeySpec): readonly KeyUsage[];
  /** Asymmetric families generate off the event loop where generation is slow (RSA). */
  generate(spec: KeySpec): NewMaterial | Promise<NewMaterial>;
  /**
   * Checks imported material (ImportKeyMaterial) for this spec: the public key to store beside it (asymmetric
   * specs), or undefined when the bytes are not valid material for the spec.
   */
  acceptImported(spec: KeySpec, material: SecretBytes): { publicKeySpki?: Buffer } | undefined;
  /** AWS KeyMetadata algorithm lists (EncryptionAlgorithms, SigningAlgorithms, MacAlgorithms, KeyAgreementAlgorithms) for a usage. */
  algorithmLists(spec: KeySpec, usage: KeyUsage): Record<string, string[]>;
  /** Present where ENCRYPT_DECRYPT keys encrypt with the key pair (RSA); absent: SYMMETRIC_DEFAULT only. */
  readonly keyPairEncryption?: KeyPairEncryption;
  /** Present where some spec of the family is a KEY_AGREEMENT key (ECC). */
  readonly keyAgreement?: KeyAgreement;
}

/** What the matrix says about one asymmetric key spec: its key pair and its algorithms per usage. */
export interface AsymmetricSpec {
  readonly keyPair: KeyPairType;
  /** AWS DescribeKey SigningAlgorithms of a SIGN_VERIFY key (aws-api.md §1.2). */
  readonly signing: readonly SigningAlgorithm[];
  /** EncryptionAlgorithms of an ENCRYPT_DECRYPT key; empty where the spec cannot encrypt. */
  readonly encryption: readonly RsaEncryptionAlgorithm[];
  /** KeyAgreementAlgorithms of a KEY_AGREEMENT key; empty where the spec has none. */
  readonly keyAgreement: readonly KeyAgreementAlgorithm[];
}

export async function generateAsymmetricMaterial(type: KeyPairType): Promise<NewMaterial> {
  const pair = await mapCryptoErrorsAsync(() => generateKeyPair(type));
  return { secret: pair.privateKeyPkcs8, publicKeySpki: pair.publicKeySpki };
}

/** AWS: imported asymmetric material is a PKCS#8 DER private key of the key's spec (curve, modulus size). */
export function acceptImportedAsymmetric(type: KeyPairType, material: SecretBytes): { publicKeySpki: Buffer } | undefined {
  try {
    return { publicKeySpki: publicKeyFromPrivate(type, material) };
  } catch (err) {
    if (err instanceof AsymmetricCryptoError) return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Errors of a request against the key-spec matrix

/** A request that breaks the key-spec matrix. `code` is stable; trentErrorOf maps it to an AWS error. */
export abstract class KeySpecRequestError extends Error {
  abstract readonly code: string;
}

/** The algorithm is not one the key spec allows. AWS maps this to InvalidKeyUsageException. */
export class IncompatibleAlgorithmError extends KeySpecRequestError {
  readonly code = 'IncompatibleAlgorithm';
  constructor(algorithm: string, spec: string) {
    // AWS: "Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256." (recorded)
    super(`Algorithm ${algorithm} is incompatible with key spec ${spec}.`);
  }
}

/**
 * The message does not suit the algorithm: a message type the algorithm does not take, a DIGEST of the
 * wrong length, an EXTERNAL_MU that is not 64 bytes. AWS maps this to ValidationException.
 */
export class InvalidMessageError extends KeySpecRequestError {
  readonly code = 'InvalidMessage';
}

/** The plaintext exceeds what RSAES-OAEP can encrypt under this key. AWS: ValidationException. */
export class PlaintextTooLargeError extends KeySpecRequestError {
  readonly code = 'PlaintextTooLarge';
  constructor(algorithm: RsaEncryptionAlgorithm, spec: string, readonly maxBytes: number) {
    // AWS: "Algorithm RSAES_OAEP_SHA_1 and key spec RSA_2048 cannot encrypt data larger than 214 bytes." (recorded)
    super(`Algorithm ${algorithm} and key spec ${spec} cannot encrypt data larger than ${maxBytes} bytes.`);
  }
}

/** The TrentError for a key-spec or typed crypto failure, or undefined when `err` is neither. */
export function trentErrorOf(err: unknown): TrentError | undefined {
  if (!(err instanceof KeySpecRequestError) && !(err instanceof AsymmetricCryptoError)) return undefined;
  // AWS: "Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256." is InvalidKeyUsageException (recorded).
  if (err instanceof IncompatibleAlgorithmError) return new InvalidKeyUsageException(err.message);
  // AWS: "Digest is invalid length for algorithm ECDSA_SHA_384." is ValidationException (recorded).
  if (err instanceof InvalidMessageError) return new ValidationException(err.message);
  // AWS: the RSA plaintext limit is ValidationException (recorded text).
  if (err instanceof PlaintextTooLargeError) return new ValidationException(err.message);
  // AWS: DeriveSharedSecret with a bad peer public key is ValidationException with an empty message (recorded).
  if (err instanceof InvalidPublicKeyError) return new ValidationException('');
  // AWS: Decrypt failures are uniform and say nothing about which check failed.
  if (err instanceof DecryptionError) return new InvalidCiphertextException('');
  // Stored material that does not parse is Trent's fault, never the caller's.
  if (err instanceof InvalidKeyMaterialError) return new InternalError();
  return new InternalError();
}

/** Runs `fn`, turning key-spec and crypto errors into TrentErrors. */
export function mapCryptoErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw trentErrorOf(err) ?? err;
  }
}

/** mapCryptoErrors for crypto that completes later (key generation off the event loop). */
export async function mapCryptoErrorsAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw trentErrorOf(err) ?? err;
  }
}
