/**
 * What every key-spec family module shares: the family contract the key service dispatches through (one
 * table, no switch per operation), and the one mapping from the crypto layer's typed errors to TrentErrors.
 * Errors are mapped by class, never by message text; the messages the crypto layer writes are already the
 * AWS texts where AWS has one (recorded in aws-api.md §1.2–1.3).
 */
import {
  AsymmetricCryptoError, DecryptionError, IncompatibleAlgorithmError, InvalidKeyMaterialError, InvalidMessageError,
  InvalidPublicKeyError, PlaintextTooLargeError, generateKeyPair, publicKeyFromPrivate, type AsymmetricKeySpec,
} from '../../crypto/asymmetric.ts';
import type { SecretBytes } from '../../crypto/secret-bytes.ts';
import {
  InternalError, InvalidCiphertextException, InvalidKeyUsageException, ValidationException,
  type TrentError,
} from '../../errors/errors.ts';
import type { KeySpec, KeyUsage } from '../key-model.ts';

/** Fresh material for a new key: the secret is sealed as material version 1; the public key (if any) is stored in clear. */
export interface NewMaterial {
  secret: SecretBytes;
  publicKeySpki?: Buffer;
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
}

/** The KeySpec values that are asymmetric key pairs (as the crypto layer names them). */
export function asAsymmetricSpec(spec: KeySpec): AsymmetricKeySpec {
  return spec as AsymmetricKeySpec;
}

export async function generateAsymmetricMaterial(spec: KeySpec): Promise<NewMaterial> {
  const pair = await mapCryptoErrorsAsync(() => generateKeyPair(asAsymmetricSpec(spec)));
  return { secret: pair.privateKeyPkcs8, publicKeySpki: pair.publicKeySpki };
}

/** AWS: imported asymmetric material is a PKCS#8 DER private key of the key's spec (curve, modulus size). */
export function acceptImportedAsymmetric(spec: KeySpec, material: SecretBytes): { publicKeySpki: Buffer } | undefined {
  try {
    return { publicKeySpki: publicKeyFromPrivate(asAsymmetricSpec(spec), material) };
  } catch (err) {
    if (err instanceof AsymmetricCryptoError) return undefined;
    throw err;
  }
}

/** The TrentError for a typed crypto failure, or undefined when `err` is not one. */
export function trentErrorOf(err: unknown): TrentError | undefined {
  if (!(err instanceof AsymmetricCryptoError)) return undefined;
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

/** Runs `fn`, turning the crypto layer's typed errors into TrentErrors. */
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
