/**
 * The primitives behind KMS asymmetric (SIGN_VERIFY, ENCRYPT_DECRYPT, KEY_AGREEMENT) and HMAC keys.
 *
 * This is the public face: the AWS key-spec / algorithm matrix (reference: aws-api.md §1.2–1.3), request
 * checks that do not depend on the key (algorithm allowed for the spec, digest length), and one dispatch
 * table to the per-family mechanisms in rsa.ts, ecc.ts, eddsa.ts and mldsa.ts; HMAC lives in hmac.ts and
 * is re-exported here.
 *
 * Key material: private keys travel as PKCS#8 DER inside SecretBytes, public keys as SubjectPublicKeyInfo
 * DER (what AWS GetPublicKey returns). A key is parsed and checked against the key spec (type, modulus
 * size or curve) on first use; material that does not match is an InvalidKeyMaterialError. The parsed
 * private key is kept beside its SecretBytes until they are zeroed, parsed public keys in a bounded map
 * (see privateKeyOf). Parsing copies the key into OpenSSL / noble structures that cannot be zeroed from
 * JavaScript; the buffers this module allocates itself for raw secrets are zeroed after use.
 *
 * Errors: every failure the caller is expected to map is a subclass of AsymmetricCryptoError with a stable
 * `code` (this module cannot import errors/). A signature that does not verify is `false`, not an error.
 * Synchronous; the parse caches hold only pure results, so it is safe to call concurrently.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { Derivation, SecretBytes } from './secret-bytes.ts';
import {
  rsaGenerateKeyPair, rsaOaepDecrypt as rsaOaepDecryptRaw, rsaOaepEncrypt as rsaOaepEncryptRaw,
  rsaOaepMaxPlaintextBytes, rsaModulusBits, rsaPrivateKey, rsaPublicKey, rsaSign, rsaSignMessageOffLoop, rsaVerify,
  type RsaModulusBits, type RsaOaepHash,
} from './rsa.ts';
import { ecdhSharedSecret, ecdsaSign, ecdsaVerify, ecGenerateKeyPair, ecPrivateKey, ecPublicKey, type EcCurve } from './ecc.ts';
import {
  ED25519PH_DIGEST_BYTES, ed25519GenerateKeyPair, ed25519phSignDigest, ed25519phVerifyDigest, ed25519PrivateKey,
  ed25519PublicKey, ed25519Sign, ed25519Verify,
} from './eddsa.ts';
import {
  ML_DSA_MU_BYTES, mlDsaDecodePkcs8, mlDsaDecodeSpki, mlDsaGenerateKeyPair, mlDsaPublicKeySpki, mlDsaSign,
  mlDsaVerify, type MlDsaParameterSet,
} from './mldsa.ts';

export {
  generateHmacKey, hmac, hmacKeyLength, hmacVerify, isHmacKeySpec, isMacAlgorithm, macAlgorithmsFor, macLength,
  HMAC_KEY_SPECS, MAC_ALGORITHMS,
  type HmacKeySpec, type MacAlgorithm,
} from './hmac.ts';

// ---------------------------------------------------------------------------------------------------------
// Enums

export type AsymmetricKeySpec =
  | 'RSA_2048' | 'RSA_3072' | 'RSA_4096'
  | 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521' | 'ECC_SECG_P256K1'
  | 'ECC_NIST_EDWARDS25519'
  | 'ML_DSA_44' | 'ML_DSA_65' | 'ML_DSA_87';
export type SigningAlgorithm =
  | 'RSASSA_PSS_SHA_256' | 'RSASSA_PSS_SHA_384' | 'RSASSA_PSS_SHA_512'
  | 'RSASSA_PKCS1_V1_5_SHA_256' | 'RSASSA_PKCS1_V1_5_SHA_384' | 'RSASSA_PKCS1_V1_5_SHA_512'
  | 'ECDSA_SHA_256' | 'ECDSA_SHA_384' | 'ECDSA_SHA_512'
  | 'ED25519_SHA_512' | 'ED25519_PH_SHA_512'
  | 'ML_DSA_SHAKE_256';
export type MessageType = 'RAW' | 'DIGEST' | 'EXTERNAL_MU';
export type RsaEncryptionAlgorithm = 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256';
export type KeyAgreementAlgorithm = 'ECDH';
export type EcdhKeySpec = 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521';

type Family = 'rsa' | 'ec' | 'ed25519' | 'mldsa';
type SpecInfo =
  | { readonly family: 'rsa'; readonly bits: RsaModulusBits }
  | { readonly family: 'ec'; readonly curve: EcCurve; readonly keyAgreement: boolean }
  | { readonly family: 'ed25519' }
  | { readonly family: 'mldsa'; readonly set: MlDsaParameterSet };

const SPECS: Readonly<Record<AsymmetricKeySpec, SpecInfo>> = Object.freeze({
  RSA_2048: { family: 'rsa', bits: 2048 },
  RSA_3072: { family: 'rsa', bits: 3072 },
  RSA_4096: { family: 'rsa', bits: 4096 },
  ECC_NIST_P256: { family: 'ec', curve: 'P-256', keyAgreement: true },
  ECC_NIST_P384: { family: 'ec', curve: 'P-384', keyAgreement: true },
  ECC_NIST_P521: { family: 'ec', curve: 'P-521', keyAgreement: true },
  // AWS: ECC_SECG_P256K1 is SIGN_VERIFY only.
  ECC_SECG_P256K1: { family: 'ec', curve: 'secp256k1', keyAgreement: false },
  ECC_NIST_EDWARDS25519: { family: 'ed25519' },
  ML_DSA_44: { family: 'mldsa', set: 'ML-DSA-44' },
  ML_DSA_65: { family: 'mldsa', set: 'ML-DSA-65' },
  ML_DSA_87: { family: 'mldsa', set: 'ML-DSA-87' },
});

type Scheme = 'RSA_PSS' | 'RSA_PKCS1_V1_5' | 'ECDSA' | 'ED25519' | 'ED25519_PH' | 'ML_DSA';
type Hash = 'sha256' | 'sha384' | 'sha512';
interface SigningInfo {
  readonly scheme: Scheme;
  /** The hash a RAW message goes through (ML-DSA has its own SHAKE256 inside). */
  readonly hash: Hash | undefined;
  /** AWS: the message types the algorithm accepts. */
  readonly messageTypes: readonly MessageType[];
  /** Length a DIGEST message must have; undefined where DIGEST is not accepted. */
  readonly digestLength: number | undefined;
}

const RAW_OR_DIGEST: readonly MessageType[] = Object.freeze(['RAW', 'DIGEST']);
const sig = (scheme: Scheme, hash: Hash | undefined, messageTypes: readonly MessageType[], digestLength?: number): SigningInfo =>
  Object.freeze({ scheme, hash, messageTypes, digestLength });

const SIGNING: Readonly<Record<SigningAlgorithm, SigningInfo>> = Object.freeze({
  RSASSA_PSS_SHA_256: sig('RSA_PSS', 'sha256', RAW_OR_DIGEST, 32),
  RSASSA_PSS_SHA_384: sig('RSA_PSS', 'sha384', RAW_OR_DIGEST, 48),
  RSASSA_PSS_SHA_512: sig('RSA_PSS', 'sha512', RAW_OR_DIGEST, 64),
  RSASSA_PKCS1_V1_5_SHA_256: sig('RSA_PKCS1_V1_5', 'sha256', RAW_OR_DIGEST, 32),
  RSASSA_PKCS1_V1_5_SHA_384: sig('RSA_PKCS1_V1_5', 'sha384', RAW_OR_DIGEST, 48),
  RSASSA_PKCS1_V1_5_SHA_512: sig('RSA_PKCS1_V1_5', 'sha512', RAW_OR_DIGEST, 64),
  ECDSA_SHA_256: sig('ECDSA', 'sha256', RAW_OR_DIGEST, 32),
  ECDSA_SHA_384: sig('ECDSA', 'sha384', RAW_OR_DIGEST, 48),
  ECDSA_SHA_512: sig('ECDSA', 'sha512', RAW_OR_DIGEST, 64),
  // AWS: ED25519_SHA_512 requires MessageType RAW, ED25519_PH_SHA_512 requires DIGEST.
  ED25519_SHA_512: sig('ED25519', 'sha512', ['RAW']),
  ED25519_PH_SHA_512: sig('ED25519_PH', 'sha512', ['DIGEST'], ED25519PH_DIGEST_BYTES),
  // AWS: ML_DSA_SHAKE_256 takes RAW or EXTERNAL_MU (a 64-byte μ); DIGEST is not accepted.
  ML_DSA_SHAKE_256: sig('ML_DSA', undefined, ['RAW', 'EXTERNAL_MU']),
});

const RSA_SIGNING: readonly SigningAlgorithm[] = [
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512',
];
/** AWS DescribeKey SigningAlgorithms per key spec (aws-api.md §1.2). */
const SIGNING_BY_SPEC: Readonly<Record<AsymmetricKeySpec, readonly SigningAlgorithm[]>> = Object.freeze({
  RSA_2048: RSA_SIGNING,
  RSA_3072: RSA_SIGNING,
  RSA_4096: RSA_SIGNING,
  ECC_NIST_P256: ['ECDSA_SHA_256'],
  ECC_NIST_P384: ['ECDSA_SHA_384'],
  ECC_NIST_P521: ['ECDSA_SHA_512'],
  ECC_SECG_P256K1: ['ECDSA_SHA_256'],
  ECC_NIST_EDWARDS25519: ['ED25519_SHA_512', 'ED25519_PH_SHA_512'],
  ML_DSA_44: ['ML_DSA_SHAKE_256'],
  ML_DSA_65: ['ML_DSA_SHAKE_256'],
  ML_DSA_87: ['ML_DSA_SHAKE_256'],
});

const OAEP_HASH: Readonly<Record<RsaEncryptionAlgorithm, RsaOaepHash>> = Object.freeze({
  RSAES_OAEP_SHA_1: 'sha1',
  RSAES_OAEP_SHA_256: 'sha256',
});
const RSA_SPEC_BY_BITS: Readonly<Record<RsaModulusBits, AsymmetricKeySpec>> = Object.freeze({
  2048: 'RSA_2048', 3072: 'RSA_3072', 4096: 'RSA_4096',
});

export const ASYMMETRIC_KEY_SPECS: readonly AsymmetricKeySpec[] = Object.freeze(Object.keys(SPECS) as AsymmetricKeySpec[]);
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = Object.freeze(Object.keys(SIGNING) as SigningAlgorithm[]);
export const MESSAGE_TYPES: readonly MessageType[] = Object.freeze(['RAW', 'DIGEST', 'EXTERNAL_MU']);
export const RSA_ENCRYPTION_ALGORITHMS: readonly RsaEncryptionAlgorithm[] = Object.freeze(Object.keys(OAEP_HASH) as RsaEncryptionAlgorithm[]);

const has = (table: object, key: string): boolean => Object.prototype.hasOwnProperty.call(table, key);
export const isAsymmetricKeySpec = (v: string): v is AsymmetricKeySpec => has(SPECS, v);
export const isSigningAlgorithm = (v: string): v is SigningAlgorithm => has(SIGNING, v);
export const isMessageType = (v: string): v is MessageType => (MESSAGE_TYPES as readonly string[]).includes(v);
export const isRsaEncryptionAlgorithm = (v: string): v is RsaEncryptionAlgorithm => has(OAEP_HASH, v);

// ---------------------------------------------------------------------------------------------------------
// Errors

/** A failure this module reports on purpose. `code` is stable; the service layer maps it to an AWS error. */
export abstract class AsymmetricCryptoError extends Error {
  abstract readonly code: string;
}

/** The algorithm is not one the key spec allows. AWS maps this to InvalidKeyUsageException. */
export class IncompatibleAlgorithmError extends AsymmetricCryptoError {
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
export class InvalidMessageError extends AsymmetricCryptoError {
  readonly code = 'InvalidMessage';
}

/** Key material that does not parse, or does not match the key spec it is used under. */
export class InvalidKeyMaterialError extends AsymmetricCryptoError {
  readonly code = 'InvalidKeyMaterial';
  constructor(what: string) {
    super(`${what} is not valid key material for this key spec`);
  }
}

/** A peer public key for key agreement that is malformed, on another curve, or not a valid point. */
export class InvalidPublicKeyError extends AsymmetricCryptoError {
  readonly code = 'InvalidPublicKey';
  constructor() {
    super('The public key is not a valid DER-encoded public key for this key spec.');
  }
}

/** RSAES-OAEP decryption failed. Uniform: it never says which check failed. AWS: InvalidCiphertextException. */
export class DecryptionError extends AsymmetricCryptoError {
  readonly code = 'DecryptionFailed';
  constructor() {
    super('decryption failed');
  }
}

/** The plaintext exceeds what RSAES-OAEP can encrypt under this key. AWS: ValidationException. */
export class PlaintextTooLargeError extends AsymmetricCryptoError {
  readonly code = 'PlaintextTooLarge';
  constructor(algorithm: RsaEncryptionAlgorithm, spec: AsymmetricKeySpec, readonly maxBytes: number) {
    // AWS: "Algorithm RSAES_OAEP_SHA_1 and key spec RSA_2048 cannot encrypt data larger than 214 bytes." (recorded)
    super(`Algorithm ${algorithm} and key spec ${spec} cannot encrypt data larger than ${maxBytes} bytes.`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The matrix

function specInfo(spec: AsymmetricKeySpec): SpecInfo {
  if (!isAsymmetricKeySpec(spec)) throw new TypeError(`unknown asymmetric key spec ${String(spec)}`);
  return SPECS[spec];
}

function signingInfo(alg: SigningAlgorithm): SigningInfo {
  if (!isSigningAlgorithm(alg)) throw new TypeError(`unknown signing algorithm ${String(alg)}`);
  return SIGNING[alg];
}

/** AWS: the SigningAlgorithms of a SIGN_VERIFY key of this spec. */
export function signingAlgorithmsFor(spec: AsymmetricKeySpec): SigningAlgorithm[] {
  specInfo(spec);
  return [...SIGNING_BY_SPEC[spec]];
}

/** AWS: the EncryptionAlgorithms of an ENCRYPT_DECRYPT key of this spec (RSA only; empty otherwise). */
export function encryptionAlgorithmsFor(spec: AsymmetricKeySpec): RsaEncryptionAlgorithm[] {
  return specInfo(spec).family === 'rsa' ? [...RSA_ENCRYPTION_ALGORITHMS] : [];
}

/** AWS: the KeyAgreementAlgorithms of a KEY_AGREEMENT key of this spec (ECDH on the NIST curves; empty otherwise). */
export function keyAgreementAlgorithmsFor(spec: AsymmetricKeySpec): KeyAgreementAlgorithm[] {
  const info = specInfo(spec);
  return info.family === 'ec' && info.keyAgreement ? ['ECDH'] : [];
}

/** AWS: the MessageType values a signing algorithm accepts. */
export function messageTypesFor(alg: SigningAlgorithm): MessageType[] {
  return [...signingInfo(alg).messageTypes];
}

/** The digest length a DIGEST message must have for an algorithm (32/48/64), or undefined where DIGEST is not allowed. */
export function digestLengthFor(alg: SigningAlgorithm): number | undefined {
  return signingInfo(alg).digestLength;
}

/** Checks everything about a Sign/Verify request that does not need the key. */
function checkSigningRequest(spec: AsymmetricKeySpec, alg: SigningAlgorithm, messageType: MessageType, message: Uint8Array): SigningInfo {
  specInfo(spec);
  const info = signingInfo(alg);
  if (!SIGNING_BY_SPEC[spec].includes(alg)) throw new IncompatibleAlgorithmError(alg, spec);
  if (!info.messageTypes.includes(messageType)) {
    throw new InvalidMessageError(`MessageType ${String(messageType)} is not valid for algorithm ${alg}.`);
  }
  if (messageType === 'DIGEST' && message.length !== info.digestLength) {
    // AWS: "Digest is invalid length for algorithm ECDSA_SHA_384." (recorded)
    throw new InvalidMessageError(`Digest is invalid length for algorithm ${alg}.`);
  }
  if (messageType === 'EXTERNAL_MU' && message.length !== ML_DSA_MU_BYTES) {
    throw new InvalidMessageError(`External mu must be ${ML_DSA_MU_BYTES} bytes for algorithm ${alg}.`);
  }
  return info;
}

// ---------------------------------------------------------------------------------------------------------
// Per-family mechanisms: one table, no switch in every operation.

interface KeyPairDer {
  privateKeyPkcs8: Buffer;
  publicKeySpki: Buffer;
}

interface FamilyOps<I extends SpecInfo> {
  /** RSA generates off the event loop (a promise); the fast curves answer at once. */
  generate(info: I): KeyPairDer | Promise<KeyPairDer>;
  publicKeyFromPrivate(info: I, pkcs8: SecretBytes): Buffer;
  sign(info: I, pkcs8: SecretBytes, alg: SigningInfo, messageType: MessageType, message: Uint8Array): Buffer;
  verify(info: I, spki: Buffer, alg: SigningInfo, messageType: MessageType, message: Uint8Array, signature: Uint8Array): boolean;
}
type InfoOf<F extends Family> = Extract<SpecInfo, { family: F }>;

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new InvalidKeyMaterialError(what);
  return value;
}

const spkiOf = (privateKey: KeyObject): Buffer => createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
const rsaPadding = (alg: SigningInfo): 'PSS' | 'PKCS1_V1_5' => (alg.scheme === 'RSA_PSS' ? 'PSS' : 'PKCS1_V1_5');
// RSA and ECDSA entries of SIGNING all carry a hash.
const hashOf = (alg: SigningInfo): Hash => alg.hash!;

/**
 * Parsed keys. A private key is parsed and checked against its spec once per unsealed material and kept
 * beside it (SecretBytes.derive): it goes when the material is zeroed (cache eviction, key deletion,
 * sealing). A public key is not secret; parsed ones are kept in a small bounded map keyed by spec and
 * SPKI bytes. Why: parsing (and, for EC public keys, the re-encoding check) cost more than the
 * signature or verification itself.
 */
const privateKeyDerivations = new Map<SpecInfo, Derivation<KeyObject>>();
function privateKeyOf(info: SpecInfo, pkcs8: SecretBytes, parse: (der: Buffer) => KeyObject | undefined): KeyObject {
  let derivation = privateKeyDerivations.get(info);
  if (!derivation) {
    derivation = new Derivation('private key', (der) => required(parse(der), 'private key'));
    privateKeyDerivations.set(info, derivation);
  }
  return pkcs8.derive(derivation);
}

function rsaPrivateKeyOf(info: InfoOf<'rsa'>, pkcs8: SecretBytes): KeyObject {
  return privateKeyOf(info, pkcs8, (der) => rsaPrivateKey(der, [info.bits]));
}

const MAX_PARSED_PUBLIC_KEYS = 1000;
const parsedPublicKeys = new Map<string, KeyObject>();
function publicKeyOf(info: SpecInfo, spki: Buffer, parse: (der: Buffer) => KeyObject | undefined): KeyObject {
  const id = `${SPEC_NAMES.get(info) ?? ''}:${spki.toString('base64')}`;
  const known = parsedPublicKeys.get(id);
  if (known) return known;
  const key = required(parse(spki), 'public key');
  // Public keys only, so no zeroing is owed: dropping the whole map when full keeps it bounded simply.
  if (parsedPublicKeys.size >= MAX_PARSED_PUBLIC_KEYS) parsedPublicKeys.clear();
  parsedPublicKeys.set(id, key);
  return key;
}
const SPEC_NAMES = new Map<SpecInfo, string>(Object.entries(SPECS).map(([name, info]) => [info, name]));

const FAMILIES: { readonly [F in Family]: FamilyOps<InfoOf<F>> } = Object.freeze({
  rsa: {
    generate: (info) => rsaGenerateKeyPair(info.bits),
    publicKeyFromPrivate: (info, pkcs8) => spkiOf(rsaPrivateKeyOf(info, pkcs8)),
    sign: (info, pkcs8, alg, messageType, message) =>
      rsaSign(rsaPrivateKeyOf(info, pkcs8), rsaPadding(alg), hashOf(alg), messageType === 'DIGEST', message),
    verify: (info, spki, alg, messageType, message, signature) =>
      rsaVerify(publicKeyOf(info, spki, (der) => rsaPublicKey(der, [info.bits])), rsaPadding(alg), hashOf(alg), messageType === 'DIGEST', message, signature),
  },
  ec: {
    generate: (info) => ecGenerateKeyPair(info.curve),
    publicKeyFromPrivate: (info, pkcs8) => spkiOf(privateKeyOf(info, pkcs8, (der) => ecPrivateKey(der, info.curve))),
    sign: (info, pkcs8, alg, messageType, message) =>
      ecdsaSign(privateKeyOf(info, pkcs8, (der) => ecPrivateKey(der, info.curve)), info.curve, hashOf(alg), messageType === 'DIGEST', message),
    verify: (info, spki, alg, messageType, message, signature) =>
      ecdsaVerify(publicKeyOf(info, spki, (der) => ecPublicKey(der, info.curve)), info.curve, hashOf(alg), messageType === 'DIGEST', message, signature),
  },
  ed25519: {
    generate: () => ed25519GenerateKeyPair(),
    publicKeyFromPrivate: (info, pkcs8) => spkiOf(privateKeyOf(info, pkcs8, ed25519PrivateKey)),
    sign: (info, pkcs8, alg, _messageType, message) => {
      const key = privateKeyOf(info, pkcs8, ed25519PrivateKey);
      return alg.scheme === 'ED25519_PH' ? ed25519phSignDigest(key, message) : ed25519Sign(key, message);
    },
    verify: (info, spki, alg, _messageType, message, signature) => {
      const key = publicKeyOf(info, spki, ed25519PublicKey);
      return alg.scheme === 'ED25519_PH' ? ed25519phVerifyDigest(key, message, signature) : ed25519Verify(key, message, signature);
    },
  },
  mldsa: {
    generate: (info) => mlDsaGenerateKeyPair(info.set),
    publicKeyFromPrivate: (info, pkcs8) => withSeed(info, pkcs8.expose(), (seed) => mlDsaPublicKeySpki(info.set, seed)),
    sign: (info, pkcs8, _alg, messageType, message) =>
      withSeed(info, pkcs8.expose(), (seed) => mlDsaSign(info.set, seed, messageType as 'RAW' | 'EXTERNAL_MU', message)),
    verify: (info, spki, _alg, messageType, message, signature) => {
      const publicKey = required(mlDsaDecodeSpki(info.set, spki), 'public key');
      return mlDsaVerify(info.set, publicKey, messageType as 'RAW' | 'EXTERNAL_MU', message, signature);
    },
  },
});

/** The operations for a spec's family. TypeScript cannot correlate `info.family` with FAMILIES' key, hence the one cast. */
function opsFor(info: SpecInfo): FamilyOps<SpecInfo> {
  return FAMILIES[info.family] as FamilyOps<SpecInfo>;
}

function withSeed<T>(info: InfoOf<'mldsa'>, pkcs8: Buffer, use: (seed: Buffer) => T): T {
  const seed = required(mlDsaDecodePkcs8(info.set, pkcs8), 'private key');
  try {
    return use(seed);
  } finally {
    seed.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Operations

/** Generates a key pair; private key as PKCS#8 DER (SecretBytes), public as SubjectPublicKeyInfo DER. */
export async function generateKeyPair(spec: AsymmetricKeySpec): Promise<{ privateKeyPkcs8: SecretBytes; publicKeySpki: Buffer }> {
  const info = specInfo(spec);
  const { privateKeyPkcs8, publicKeySpki } = await opsFor(info).generate(info);
  return { privateKeyPkcs8: SecretBytes.adopt(privateKeyPkcs8), publicKeySpki };
}

/** The SubjectPublicKeyInfo DER of a private key (AWS GetPublicKey). */
export function publicKeyFromPrivate(spec: AsymmetricKeySpec, privateKeyPkcs8: SecretBytes): Buffer {
  const info = specInfo(spec);
  return opsFor(info).publicKeyFromPrivate(info, privateKeyPkcs8);
}

/**
 * AWS Sign. RAW: `message` is hashed with the algorithm's hash (ML-DSA: signed as the FIPS 204 message).
 * DIGEST: `message` is the digest and is signed as-is. EXTERNAL_MU (ML-DSA): `message` is the 64-byte μ.
 * ECDSA signatures are DER; RSA signatures are the modulus length; Ed25519 64 bytes; ML-DSA per FIPS 204.
 */
export function sign(
  spec: AsymmetricKeySpec, privateKeyPkcs8: SecretBytes, alg: SigningAlgorithm, messageType: MessageType, message: Uint8Array,
): Buffer {
  const algInfo = checkSigningRequest(spec, alg, messageType, message);
  const info = SPECS[spec];
  return opsFor(info).sign(info, privateKeyPkcs8, algInfo, messageType, message);
}

/**
 * sign(), with an RSA signature of a RAW message computed on libuv's thread pool (rsaSignMessageOffLoop);
 * everything else is signed inline. Request errors throw at once, before anything is started. The private
 * key is parsed (or taken from beside the material) before this returns, so the caller may zero or drop
 * the material while the job runs: the job holds OpenSSL's own copy of the key.
 */
export function signOffLoop(
  spec: AsymmetricKeySpec, privateKeyPkcs8: SecretBytes, alg: SigningAlgorithm, messageType: MessageType, message: Uint8Array,
): Promise<Buffer> {
  const algInfo = checkSigningRequest(spec, alg, messageType, message);
  const info = SPECS[spec];
  if (info.family === 'rsa' && messageType === 'RAW') {
    const key = rsaPrivateKeyOf(info, privateKeyPkcs8);
    return rsaSignMessageOffLoop(key, rsaPadding(algInfo), hashOf(algInfo), message);
  }
  return Promise.resolve(opsFor(info).sign(info, privateKeyPkcs8, algInfo, messageType, message));
}

/** AWS Verify: true when `signature` is a valid signature as `sign` would make it. Request errors throw. */
export function verify(
  spec: AsymmetricKeySpec, publicKeySpki: Buffer, alg: SigningAlgorithm, messageType: MessageType, message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const algInfo = checkSigningRequest(spec, alg, messageType, message);
  const info = SPECS[spec];
  return opsFor(info).verify(info, publicKeySpki, algInfo, messageType, message, signature);
}

function oaepHash(alg: RsaEncryptionAlgorithm): RsaOaepHash {
  if (!isRsaEncryptionAlgorithm(alg)) throw new TypeError(`unknown encryption algorithm ${String(alg)}`);
  return OAEP_HASH[alg];
}

const ALL_RSA_BITS: readonly RsaModulusBits[] = [2048, 3072, 4096];
const RSA_PRIVATE_KEY_ANY_SIZE = new Derivation('RSA private key', (der) => required(rsaPrivateKey(der, ALL_RSA_BITS), 'private key'));

/** AWS: the largest plaintext Encrypt takes — RSA_2048 214/190, RSA_3072 342/318, RSA_4096 470/446 bytes. */
export function rsaOaepMaxPlaintext(spec: AsymmetricKeySpec, alg: RsaEncryptionAlgorithm): number {
  const info = specInfo(spec);
  if (info.family !== 'rsa') throw new IncompatibleAlgorithmError(alg, spec);
  return rsaOaepMaxPlaintextBytes(info.bits, oaepHash(alg));
}

/** AWS Encrypt with an RSA key: RSAES-OAEP, MGF1 with the same hash, empty label. */
export function rsaOaepEncrypt(publicKeySpki: Buffer, alg: RsaEncryptionAlgorithm, plaintext: Uint8Array): Buffer {
  const hash = oaepHash(alg);
  const key = required(rsaPublicKey(publicKeySpki, ALL_RSA_BITS), 'public key');
  const modulusBits = rsaModulusBits(key);
  const max = rsaOaepMaxPlaintextBytes(modulusBits, hash);
  if (plaintext.length > max) throw new PlaintextTooLargeError(alg, RSA_SPEC_BY_BITS[modulusBits], max);
  return rsaOaepEncryptRaw(key, hash, plaintext);
}

/**
 * AWS Decrypt with an RSA key. Any failure of the ciphertext — wrong length, bad padding, wrong key —
 * is the one DecryptionError. The returned buffer holds plaintext: zero it when done.
 */
export function rsaOaepDecrypt(privateKeyPkcs8: SecretBytes, alg: RsaEncryptionAlgorithm, ciphertext: Uint8Array): Buffer {
  const hash = oaepHash(alg);
  const key = privateKeyPkcs8.derive(RSA_PRIVATE_KEY_ANY_SIZE);
  const plaintext = rsaOaepDecryptRaw(key, hash, ciphertext);
  if (plaintext === undefined) throw new DecryptionError();
  return plaintext;
}

/**
 * AWS DeriveSharedSecret (KeyAgreementAlgorithm ECDH): the raw ECDH shared secret (x-coordinate, padded to
 * the field size) between our private key and the peer's SubjectPublicKeyInfo DER. The peer key must be a
 * strict-DER, named-curve SPKI (uncompressed or compressed point) of a valid point on the same curve, else
 * InvalidPublicKeyError; explicit curve parameters, BER and trailing bytes are refused.
 */
export function ecdhDeriveSharedSecret(spec: EcdhKeySpec, privateKeyPkcs8: SecretBytes, peerPublicKeySpki: Buffer): SecretBytes {
  const info = specInfo(spec);
  if (info.family !== 'ec' || !info.keyAgreement) throw new IncompatibleAlgorithmError('ECDH', spec);
  const privateKey = privateKeyOf(info, privateKeyPkcs8, (der) => ecPrivateKey(der, info.curve));
  const peer = ecPublicKey(peerPublicKeySpki, info.curve);
  if (peer === undefined) throw new InvalidPublicKeyError();
  const secret = ecdhSharedSecret(privateKey, peer);
  if (secret === undefined) throw new InvalidPublicKeyError();
  return SecretBytes.adopt(secret);
}
