/**
 * Key-pair operations behind KMS asymmetric keys (SIGN_VERIFY, ENCRYPT_DECRYPT, KEY_AGREEMENT): generate,
 * sign, verify, RSAES-OAEP encrypt/decrypt and ECDH, each parameterized by what the mechanism needs — the
 * key-pair type (RSA modulus size, curve, ML-DSA parameter set) and the signature scheme and hash. Which
 * AWS key spec allows which algorithm is not known here: that matrix lives in src/kms/key-specs/, which
 * checks a request against it before calling in. One dispatch table leads to the per-family mechanisms in
 * rsa.ts, ecc.ts, eddsa.ts and mldsa.ts.
 *
 * Key material: private keys travel as PKCS#8 DER inside SecretBytes, public keys as SubjectPublicKeyInfo
 * DER. A key is parsed and checked against its key-pair type (type, modulus size or curve) on first use;
 * material that does not match is an InvalidKeyMaterialError. The parsed private key is kept beside its
 * SecretBytes until they are zeroed, parsed public keys in a bounded map (see privateKeyOf). Parsing
 * copies the key into OpenSSL / noble structures that cannot be zeroed from JavaScript; the buffers this
 * module allocates itself for raw secrets are zeroed after use.
 *
 * Errors: every failure the caller is expected to map is a subclass of AsymmetricCryptoError with a stable
 * `code` (this module cannot import errors/). A signature that does not verify is `false`, not an error.
 * A scheme that does not belong to the key-pair type is a TypeError: the caller's table is wrong.
 * Synchronous except generation and signOffLoop; the parse caches hold only pure results, so it is safe
 * to call concurrently.
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
  ed25519GenerateKeyPair, ed25519phSignDigest, ed25519phVerifyDigest, ed25519PrivateKey, ed25519PublicKey, ed25519Sign,
  ed25519Verify,
} from './eddsa.ts';
import {
  mlDsaDecodePkcs8, mlDsaDecodeSpki, mlDsaGenerateKeyPair, mlDsaPublicKeySpki, mlDsaSign, mlDsaVerify, type MlDsaParameterSet,
} from './mldsa.ts';

export type { EcCurve } from './ecc.ts';
export type { MlDsaParameterSet } from './mldsa.ts';
export type { RsaModulusBits, RsaOaepHash } from './rsa.ts';

// ---------------------------------------------------------------------------------------------------------
// Parameters

/** The kind of key pair: what generation, parsing and every operation on it need to know. */
export type KeyPairType =
  | { readonly family: 'rsa'; readonly bits: RsaModulusBits }
  | { readonly family: 'ec'; readonly curve: EcCurve }
  | { readonly family: 'ed25519' }
  | { readonly family: 'mldsa'; readonly set: MlDsaParameterSet };

export type SignatureHash = 'sha256' | 'sha384' | 'sha512';

/** A signature mechanism. RSA and ECDSA name the hash a RAW message goes through (ML-DSA has SHAKE256 inside). */
export type SignatureScheme =
  | { readonly scheme: 'RSA_PSS' | 'RSA_PKCS1_V1_5' | 'ECDSA'; readonly hash: SignatureHash }
  | { readonly scheme: 'ED25519' | 'ED25519_PH' | 'ML_DSA' };

/**
 * What `message` is: the message itself (RAW), its digest under the scheme's hash (DIGEST), or an ML-DSA
 * external μ (EXTERNAL_MU). The caller has checked that the form suits the scheme and the length suits it.
 */
export type MessageType = 'RAW' | 'DIGEST' | 'EXTERNAL_MU';

// ---------------------------------------------------------------------------------------------------------
// Errors

/** A failure this module reports on purpose. `code` is stable; the service layer maps it to an AWS error. */
export abstract class AsymmetricCryptoError extends Error {
  abstract readonly code: string;
}

/** Key material that does not parse, or does not match the key-pair type it is used under. */
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

/** The plaintext exceeds what RSAES-OAEP can encrypt under this key (its modulus size and the hash). */
export class OaepPlaintextTooLargeError extends AsymmetricCryptoError {
  readonly code = 'OaepPlaintextTooLarge';
  constructor(readonly modulusBits: RsaModulusBits, readonly maxBytes: number) {
    super(`RSAES-OAEP under a ${modulusBits}-bit key cannot encrypt more than ${maxBytes} bytes`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Per-family mechanisms: one table, no switch in every operation.

interface KeyPairDer {
  privateKeyPkcs8: Buffer;
  publicKeySpki: Buffer;
}

type Family = KeyPairType['family'];
type TypeOf<F extends Family> = Extract<KeyPairType, { family: F }>;
type Scheme = SignatureScheme['scheme'];
type HashedScheme = Extract<SignatureScheme, { hash: SignatureHash }>;

interface FamilyOps<T extends KeyPairType> {
  /** The signature schemes keys of this family make. */
  readonly schemes: readonly Scheme[];
  /** RSA generates off the event loop (a promise); the fast curves answer at once. */
  generate(type: T): KeyPairDer | Promise<KeyPairDer>;
  publicKeyFromPrivate(type: T, pkcs8: SecretBytes): Buffer;
  sign(type: T, pkcs8: SecretBytes, scheme: SignatureScheme, messageType: MessageType, message: Uint8Array): Buffer;
  verify(type: T, spki: Buffer, scheme: SignatureScheme, messageType: MessageType, message: Uint8Array, signature: Uint8Array): boolean;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new InvalidKeyMaterialError(what);
  return value;
}

const spkiOf = (privateKey: KeyObject): Buffer => createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
const rsaPadding = (scheme: SignatureScheme): 'PSS' | 'PKCS1_V1_5' => (scheme.scheme === 'RSA_PSS' ? 'PSS' : 'PKCS1_V1_5');
// RSA and ECDSA schemes carry a hash (checked against FAMILIES[family].schemes before use).
const hashOf = (scheme: SignatureScheme): SignatureHash => (scheme as HashedScheme).hash;

/** A stable name of a key-pair type, for the parse caches. */
function typeId(type: KeyPairType): string {
  switch (type.family) {
    case 'rsa': return `rsa:${type.bits}`;
    case 'ec': return `ec:${type.curve}`;
    case 'ed25519': return 'ed25519';
    case 'mldsa': return `mldsa:${type.set}`;
  }
}

/**
 * Parsed keys. A private key is parsed and checked against its type once per unsealed material and kept
 * beside it (SecretBytes.derive): it goes when the material is zeroed (cache eviction, key deletion,
 * sealing). A public key is not secret; parsed ones are kept in a small bounded map keyed by type and
 * SPKI bytes. Why: parsing (and, for EC public keys, the re-encoding check) cost more than the
 * signature or verification itself.
 */
const privateKeyDerivations = new Map<string, Derivation<KeyObject>>();
function privateKeyOf(type: KeyPairType, pkcs8: SecretBytes, parse: (der: Buffer) => KeyObject | undefined): KeyObject {
  const id = typeId(type);
  let derivation = privateKeyDerivations.get(id);
  if (!derivation) {
    derivation = new Derivation('private key', (der) => required(parse(der), 'private key'));
    privateKeyDerivations.set(id, derivation);
  }
  return pkcs8.derive(derivation);
}

function rsaPrivateKeyOf(type: TypeOf<'rsa'>, pkcs8: SecretBytes): KeyObject {
  return privateKeyOf(type, pkcs8, (der) => rsaPrivateKey(der, [type.bits]));
}

const MAX_PARSED_PUBLIC_KEYS = 1000;
const parsedPublicKeys = new Map<string, KeyObject>();
function publicKeyOf(type: KeyPairType, spki: Buffer, parse: (der: Buffer) => KeyObject | undefined): KeyObject {
  const id = `${typeId(type)}:${spki.toString('base64')}`;
  const known = parsedPublicKeys.get(id);
  if (known) return known;
  const key = required(parse(spki), 'public key');
  // Public keys only, so no zeroing is owed: dropping the whole map when full keeps it bounded simply.
  if (parsedPublicKeys.size >= MAX_PARSED_PUBLIC_KEYS) parsedPublicKeys.clear();
  parsedPublicKeys.set(id, key);
  return key;
}

const FAMILIES: { readonly [F in Family]: FamilyOps<TypeOf<F>> } = Object.freeze({
  rsa: {
    schemes: ['RSA_PSS', 'RSA_PKCS1_V1_5'],
    generate: (type) => rsaGenerateKeyPair(type.bits),
    publicKeyFromPrivate: (type, pkcs8) => spkiOf(rsaPrivateKeyOf(type, pkcs8)),
    sign: (type, pkcs8, scheme, messageType, message) =>
      rsaSign(rsaPrivateKeyOf(type, pkcs8), rsaPadding(scheme), hashOf(scheme), messageType === 'DIGEST', message),
    verify: (type, spki, scheme, messageType, message, signature) =>
      rsaVerify(publicKeyOf(type, spki, (der) => rsaPublicKey(der, [type.bits])), rsaPadding(scheme), hashOf(scheme), messageType === 'DIGEST', message, signature),
  },
  ec: {
    schemes: ['ECDSA'],
    generate: (type) => ecGenerateKeyPair(type.curve),
    publicKeyFromPrivate: (type, pkcs8) => spkiOf(privateKeyOf(type, pkcs8, (der) => ecPrivateKey(der, type.curve))),
    sign: (type, pkcs8, scheme, messageType, message) =>
      ecdsaSign(privateKeyOf(type, pkcs8, (der) => ecPrivateKey(der, type.curve)), type.curve, hashOf(scheme), messageType === 'DIGEST', message),
    verify: (type, spki, scheme, messageType, message, signature) =>
      ecdsaVerify(publicKeyOf(type, spki, (der) => ecPublicKey(der, type.curve)), type.curve, hashOf(scheme), messageType === 'DIGEST', message, signature),
  },
  ed25519: {
    schemes: ['ED25519', 'ED25519_PH'],
    generate: () => ed25519GenerateKeyPair(),
    publicKeyFromPrivate: (type, pkcs8) => spkiOf(privateKeyOf(type, pkcs8, ed25519PrivateKey)),
    sign: (type, pkcs8, scheme, _messageType, message) => {
      const key = privateKeyOf(type, pkcs8, ed25519PrivateKey);
      return scheme.scheme === 'ED25519_PH' ? ed25519phSignDigest(key, message) : ed25519Sign(key, message);
    },
    verify: (type, spki, scheme, _messageType, message, signature) => {
      const key = publicKeyOf(type, spki, ed25519PublicKey);
      return scheme.scheme === 'ED25519_PH' ? ed25519phVerifyDigest(key, message, signature) : ed25519Verify(key, message, signature);
    },
  },
  mldsa: {
    schemes: ['ML_DSA'],
    generate: (type) => mlDsaGenerateKeyPair(type.set),
    publicKeyFromPrivate: (type, pkcs8) => withSeed(type, pkcs8.expose(), (seed) => mlDsaPublicKeySpki(type.set, seed)),
    sign: (type, pkcs8, _scheme, messageType, message) =>
      withSeed(type, pkcs8.expose(), (seed) => mlDsaSign(type.set, seed, messageType as 'RAW' | 'EXTERNAL_MU', message)),
    verify: (type, spki, _scheme, messageType, message, signature) => {
      const publicKey = required(mlDsaDecodeSpki(type.set, spki), 'public key');
      return mlDsaVerify(type.set, publicKey, messageType as 'RAW' | 'EXTERNAL_MU', message, signature);
    },
  },
});

/** The operations for a type's family. TypeScript cannot correlate `type.family` with FAMILIES' key, hence the one cast. */
function opsFor(type: KeyPairType): FamilyOps<KeyPairType> {
  const ops = FAMILIES[type.family] as FamilyOps<KeyPairType> | undefined;
  if (!ops) throw new TypeError(`unknown key-pair family ${String(type.family)}`);
  return ops;
}

/** The operations for signing with `scheme` under a key of `type`; a scheme of another family is the caller's bug. */
function signingOpsFor(type: KeyPairType, scheme: SignatureScheme): FamilyOps<KeyPairType> {
  const ops = opsFor(type);
  if (!ops.schemes.includes(scheme.scheme)) throw new TypeError(`signature scheme ${String(scheme.scheme)} is not one of ${type.family} keys`);
  return ops;
}

function withSeed<T>(type: TypeOf<'mldsa'>, pkcs8: Buffer, use: (seed: Buffer) => T): T {
  const seed = required(mlDsaDecodePkcs8(type.set, pkcs8), 'private key');
  try {
    return use(seed);
  } finally {
    seed.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Operations

/** Generates a key pair; private key as PKCS#8 DER (SecretBytes), public as SubjectPublicKeyInfo DER. */
export async function generateKeyPair(type: KeyPairType): Promise<{ privateKeyPkcs8: SecretBytes; publicKeySpki: Buffer }> {
  const { privateKeyPkcs8, publicKeySpki } = await opsFor(type).generate(type);
  return { privateKeyPkcs8: SecretBytes.adopt(privateKeyPkcs8), publicKeySpki };
}

/** The SubjectPublicKeyInfo DER of a private key. */
export function publicKeyFromPrivate(type: KeyPairType, privateKeyPkcs8: SecretBytes): Buffer {
  return opsFor(type).publicKeyFromPrivate(type, privateKeyPkcs8);
}

/**
 * Signs. RAW: `message` is hashed with the scheme's hash (ML-DSA: signed as the FIPS 204 message).
 * DIGEST: `message` is the digest and is signed as-is. EXTERNAL_MU (ML-DSA): `message` is the 64-byte μ.
 * ECDSA signatures are DER; RSA signatures are the modulus length; Ed25519 64 bytes; ML-DSA per FIPS 204.
 */
export function sign(
  type: KeyPairType, privateKeyPkcs8: SecretBytes, scheme: SignatureScheme, messageType: MessageType, message: Uint8Array,
): Buffer {
  return signingOpsFor(type, scheme).sign(type, privateKeyPkcs8, scheme, messageType, message);
}

/**
 * sign(), with an RSA signature of a RAW message computed on libuv's thread pool (rsaSignMessageOffLoop);
 * everything else is signed inline. The private key is parsed (or taken from beside the material) before
 * this returns, so the caller may zero or drop the material while the job runs: the job holds OpenSSL's
 * own copy of the key.
 */
export function signOffLoop(
  type: KeyPairType, privateKeyPkcs8: SecretBytes, scheme: SignatureScheme, messageType: MessageType, message: Uint8Array,
): Promise<Buffer> {
  const ops = signingOpsFor(type, scheme);
  if (type.family === 'rsa' && messageType === 'RAW') {
    const key = rsaPrivateKeyOf(type, privateKeyPkcs8);
    return rsaSignMessageOffLoop(key, rsaPadding(scheme), hashOf(scheme), message);
  }
  return Promise.resolve(ops.sign(type, privateKeyPkcs8, scheme, messageType, message));
}

/** True when `signature` is a valid signature as `sign` would make it. */
export function verify(
  type: KeyPairType, publicKeySpki: Buffer, scheme: SignatureScheme, messageType: MessageType, message: Uint8Array,
  signature: Uint8Array,
): boolean {
  return signingOpsFor(type, scheme).verify(type, publicKeySpki, scheme, messageType, message, signature);
}

const ALL_RSA_BITS: readonly RsaModulusBits[] = [2048, 3072, 4096];
const RSA_PRIVATE_KEY_ANY_SIZE = new Derivation('RSA private key', (der) => required(rsaPrivateKey(der, ALL_RSA_BITS), 'private key'));

/** The largest plaintext RSAES-OAEP takes under a modulus of `bits` with `hash`. */
export function rsaOaepMaxPlaintext(bits: RsaModulusBits, hash: RsaOaepHash): number {
  return rsaOaepMaxPlaintextBytes(bits, hash);
}

/** RSAES-OAEP, MGF1 with the same hash, empty label. Too long a plaintext is OaepPlaintextTooLargeError. */
export function rsaOaepEncrypt(publicKeySpki: Buffer, hash: RsaOaepHash, plaintext: Uint8Array): Buffer {
  const key = required(rsaPublicKey(publicKeySpki, ALL_RSA_BITS), 'public key');
  const modulusBits = rsaModulusBits(key);
  const max = rsaOaepMaxPlaintextBytes(modulusBits, hash);
  if (plaintext.length > max) throw new OaepPlaintextTooLargeError(modulusBits, max);
  return rsaOaepEncryptRaw(key, hash, plaintext);
}

/**
 * RSAES-OAEP decryption. Any failure of the ciphertext — wrong length, bad padding, wrong key — is the
 * one DecryptionError. The returned buffer holds plaintext: zero it when done.
 */
export function rsaOaepDecrypt(privateKeyPkcs8: SecretBytes, hash: RsaOaepHash, ciphertext: Uint8Array): Buffer {
  const key = privateKeyPkcs8.derive(RSA_PRIVATE_KEY_ANY_SIZE);
  const plaintext = rsaOaepDecryptRaw(key, hash, ciphertext);
  if (plaintext === undefined) throw new DecryptionError();
  return plaintext;
}

/**
 * The raw ECDH shared secret (x-coordinate, padded to the field size) between our private key on `curve`
 * and the peer's SubjectPublicKeyInfo DER. The peer key must be a strict-DER, named-curve SPKI
 * (uncompressed or compressed point) of a valid point on the same curve, else InvalidPublicKeyError;
 * explicit curve parameters, BER and trailing bytes are refused.
 */
export function ecdhDeriveSharedSecret(curve: EcCurve, privateKeyPkcs8: SecretBytes, peerPublicKeySpki: Buffer): SecretBytes {
  const type: KeyPairType = { family: 'ec', curve };
  const privateKey = privateKeyOf(type, privateKeyPkcs8, (der) => ecPrivateKey(der, curve));
  const peer = ecPublicKey(peerPublicKeySpki, curve);
  if (peer === undefined) throw new InvalidPublicKeyError();
  const secret = ecdhSharedSecret(privateKey, peer);
  if (secret === undefined) throw new InvalidPublicKeyError();
  return SecretBytes.adopt(secret);
}
