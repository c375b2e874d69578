/**
 * RSA mechanisms behind the KMS RSA_2048/3072/4096 key specs: RSASSA-PSS and RSASSA-PKCS1-v1_5 signatures,
 * RSAES-OAEP encryption. Every RSA private- and public-key operation is OpenSSL's (node:crypto, OpenSSL 3.0).
 * Callers go through asymmetric.ts (one dispatch by key-pair type; src/kms/key-specs/ checks key spec and
 * algorithm first); this module only knows keys and mechanisms.
 *
 * Signing a caller-supplied digest (KMS MessageType DIGEST). Node 20 has no "sign this digest" call:
 * `crypto.sign(null, …)` on an RSA key still hashes (OpenSSL picks SHA-256 as the default digest —
 * checked in rsa.test.ts), and Sign/Verify always hash. The one route to OpenSSL's EVP_PKEY_sign (which
 * signs a digest) is `privateEncrypt`, and it cannot set a signature digest on an rsaEncryption key (node
 * applies `oaepHash` as an OAEP parameter and OpenSSL refuses it on a signing context). A
 * `crypto.signDigest()` is only being proposed upstream (nodejs/node#62345). So:
 *   - PKCS#1 v1.5 + DIGEST: EVP_PKEY_sign with RSA_PKCS1_PADDING and no digest set — OpenSSL applies the
 *     EMSA-PKCS1-v1_5 block padding itself; we supply only the DigestInfo, whose fixed DER prefix per hash
 *     is the table of RFC 8017 §9.2 note 1 (the same table OpenSSL keeps in crypto/rsa/rsa_sign.c).
 *     rsa.test.ts proves that the prefixes equal what OpenSSL itself emits and that a DIGEST signature is
 *     byte-identical to the RAW signature of the same message. Verification recovers the DigestInfo with
 *     EVP_PKEY_verify_recover (`publicDecrypt`, which checks the block padding) and compares the whole
 *     encoding in constant time — the "encode and compare" verification of RFC 8017 §8.2.2.
 *   - PSS + DIGEST: the EMSA-PSS encoding (RFC 8017 §9.1) comes from node-forge's `pss` module, the RSA
 *     operation from OpenSSL with RSA_NO_PADDING (RSASP1 / RSAVP1 of §8.1: CRT with blinding and OpenSSL's
 *     own check of the CRT result on the private side; a representative ≥ n refused on the public side).
 *     Why this split, of the routes looked at:
 *       · node:crypto alone cannot do it. OpenSSL would PSS-encode a digest in EVP_PKEY_sign only for an
 *         id-RSASSA-PSS key carrying hash parameters, which means re-wrapping our rsaEncryption PKCS#8 by
 *         hand in new ASN.1 around the private key; and it has no PSS verify over a digest at all
 *         (EVP_PKEY_verify_recover refuses PSS, and node exposes no EVP_PKEY_verify), so verification would
 *         still need a second implementation. WebCrypto hashes the message itself.
 *       · node-forge (digitalbazaar/forge, maintained, BSD-3-Clause, one of npm's most used crypto packages)
 *         keeps EMSA-PSS in one small module (lib/pss.js with lib/mgf1.js) apart from its RSA arithmetic:
 *         `verify(mHash, EM, modBits)` takes the digest directly, `encode` reads it from the md object it is
 *         given, and the salt source is pluggable — we give it node's CSPRNG. Nothing secret passes through
 *         it (H and MGF1 use forge's own SHA-2): mHash, salt and EM are all recoverable from the public
 *         signature. Its verify follows RFC 8017 §9.1.2 step by step (0xbc trailer, zero top bits, exactly
 *         emLen − hLen − sLen − 2 zero octets then 0x01, H = H').
 *       · The other libraries offer no such seam: jsrsasign's signWithMessageHashPSS takes a digest but runs
 *         its own bigint RSA private operation; micro-rsa-dsa-dh's PSS hashes the message itself and does
 *         RSASP1 as a plain, non-constant-time bigint power; node-rsa signs messages only.
 *     AWS: RSASSA_PSS_SHA_* use MGF1 with the same hash and a salt as long as the digest, both ways.
 *     Proven against OpenSSL (rsa.test.ts, src/kms/key-specs/asymmetric.test.ts): DIGEST and RAW signatures verify each other,
 *     OpenSSL's CLI verifies ours over the digest and over the message and only with salt = digest length,
 *     ours reject OpenSSL's with any other salt length or MGF1 hash, and the Wycheproof PSS vectors pass
 *     through the DIGEST path.
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  sign as nodeSign,
  timingSafeEqual,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { createRequire } from 'node:module';
import type forgeModule from 'node-forge';

export type RsaModulusBits = 2048 | 3072 | 4096;
export type RsaSignatureHash = 'sha256' | 'sha384' | 'sha512';
export type RsaOaepHash = 'sha1' | 'sha256';
export type RsaSignaturePadding = 'PSS' | 'PKCS1_V1_5';

/** KMS generates RSA keys with e = 65537. */
export const RSA_PUBLIC_EXPONENT = 0x10001;

const HASH_LENGTH: Readonly<Record<RsaSignatureHash | RsaOaepHash, number>> = Object.freeze({
  sha1: 20,
  sha256: 32,
  sha384: 48,
  sha512: 64,
});

/**
 * DER prefix of DigestInfo ::= SEQUENCE { AlgorithmIdentifier { hash OID, NULL }, OCTET STRING digest }
 * for each hash, from RFC 8017 §9.2 note 1. The digest follows it.
 */
export const PKCS1_DIGEST_INFO_PREFIX: Readonly<Record<RsaSignatureHash, Buffer>> = Object.freeze({
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
});

/**
 * RSA key generation runs on libuv's thread pool: a 4096-bit key takes hundreds of milliseconds, which
 * on the event loop would stall every other request (and, on PostgreSQL, their pool checkouts).
 */
export function rsaGenerateKeyPair(bits: RsaModulusBits): Promise<{ privateKeyPkcs8: Buffer; publicKeySpki: Buffer }> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', {
      modulusLength: bits,
      publicExponent: RSA_PUBLIC_EXPONENT,
      privateKeyEncoding: { type: 'pkcs8', format: 'der' },
      publicKeyEncoding: { type: 'spki', format: 'der' },
    }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ privateKeyPkcs8: privateKey, publicKeySpki: publicKey })));
  });
}

function hasModulus(key: KeyObject, bits: readonly number[]): boolean {
  // 'rsa' only: an id-RSASSA-PSS ('rsa-pss') key is not a KMS RSA key.
  return key.asymmetricKeyType === 'rsa' && bits.includes(key.asymmetricKeyDetails?.modulusLength ?? -1);
}

/** Parses a PKCS#8 RSA private key whose modulus has one of `bits`; undefined if it is anything else. */
export function rsaPrivateKey(pkcs8: Buffer, bits: readonly RsaModulusBits[]): KeyObject | undefined {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } catch {
    return undefined;
  }
  return hasModulus(key, bits) ? key : undefined;
}

/** Parses an SPKI RSA public key whose modulus has one of `bits`; undefined if it is anything else. */
export function rsaPublicKey(spki: Buffer, bits: readonly RsaModulusBits[]): KeyObject | undefined {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
  return hasModulus(key, bits) ? key : undefined;
}

export function rsaModulusBits(key: KeyObject): RsaModulusBits {
  return key.asymmetricKeyDetails!.modulusLength as RsaModulusBits;
}

function modulusBytes(key: KeyObject): number {
  return Math.ceil(key.asymmetricKeyDetails!.modulusLength! / 8);
}

function signingOptions(key: KeyObject, padding: RsaSignaturePadding, hash: RsaSignatureHash) {
  return padding === 'PSS'
    // AWS: RSASSA-PSS uses MGF1 with the same hash and a salt as long as the digest.
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LENGTH[hash] }
    : { key, padding: constants.RSA_PKCS1_PADDING };
}

function checkDigestLength(hash: RsaSignatureHash, digest: Uint8Array): void {
  if (digest.length !== HASH_LENGTH[hash]) throw new RangeError(`a ${hash} digest is ${HASH_LENGTH[hash]} bytes`);
}

function digestInfo(hash: RsaSignatureHash, digest: Uint8Array): Buffer {
  checkDigestLength(hash, digest);
  return Buffer.concat([PKCS1_DIGEST_INFO_PREFIX[hash], digest]);
}

// --- EMSA-PSS over a digest (see the module comment) --------------------------------------------------------

/**
 * The object node-forge's `pss.create` returns (lib/pss.js); @types/node-forge types it as `any`, so the two
 * calls we make are typed here. Strings are forge's "binary" strings, one char per byte.
 */
interface ForgeEmsaPss {
  /** EMSA-PSS-ENCODE (RFC 8017 §9.1.1): mHash is `source.digest().getBytes()`; returns EM, emLen octets. */
  encode(source: { digest(): { getBytes(): string } }, modBits: number): string;
  /** EMSA-PSS-VERIFY (RFC 8017 §9.1.2): true for "consistent"; false or a throw for "inconsistent". */
  verify(mHash: string, em: string, modBits: number): boolean;
}

/** node-forge, loaded on the first PSS-over-a-digest call: nothing else needs it, and it is ~2 MB of heap. */
let forgeLoaded: typeof forgeModule | undefined;
function forge(): typeof forgeModule {
  forgeLoaded ??= createRequire(import.meta.url)('node-forge') as typeof forgeModule;
  return forgeLoaded;
}

const FORGE_MD: Readonly<Record<RsaSignatureHash, () => forgeModule.md.MessageDigest>> = Object.freeze({
  sha256: () => forge().md.sha256.create(),
  sha384: () => forge().md.sha384.create(),
  sha512: () => forge().md.sha512.create(),
});

/** The salt comes from node's CSPRNG (OpenSSL RAND_bytes), not from forge's own PRNG. */
const CSPRNG = Object.freeze({ getBytesSync: (count: number): string => randomBytes(count).toString('binary') });

/**
 * A fresh EMSA-PSS object per call: forge's md objects carry state between start() and digest().
 * AWS: MGF1 with the signature hash, salt length = digest length.
 */
function emsaPss(hash: RsaSignatureHash): ForgeEmsaPss {
  const scheme: ForgeEmsaPss = forge().pss.create({
    md: FORGE_MD[hash](),
    mgf: forge().mgf.mgf1.create(FORGE_MD[hash]()),
    saltLength: HASH_LENGTH[hash],
    prng: CSPRNG,
  });
  return scheme;
}

/** emLen of RFC 8017 §9.1: the octets of a modulus of modBits, less its top bit. */
const emLength = (modBits: number): number => Math.ceil((modBits - 1) / 8);

/** RSASSA-PSS-SIGN (RFC 8017 §8.1.1) of a precomputed digest: forge's EMSA-PSS-ENCODE, then OpenSSL's RSASP1. */
function pssSignDigest(key: KeyObject, hash: RsaSignatureHash, digest: Uint8Array): Buffer {
  checkDigestLength(hash, digest);
  const modBits = rsaModulusBits(key);
  const mHash = Buffer.from(digest).toString('binary');
  const em = Buffer.from(emsaPss(hash).encode({ digest: () => ({ getBytes: () => mHash }) }, modBits), 'binary');
  if (em.length !== emLength(modBits)) throw new Error('EMSA-PSS encoding has the wrong length');
  // OS2IP(EM) as a k-octet big-endian integer; EM's top bit is clear, so it is below n.
  const representative = Buffer.concat([Buffer.alloc(modulusBytes(key) - em.length), em]);
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, representative);
}

/**
 * RSASSA-PSS-VERIFY (RFC 8017 §8.1.2) of a precomputed digest: OpenSSL's RSAVP1, then forge's
 * EMSA-PSS-VERIFY. The caller has checked that the signature is exactly k octets. H and H' (forge compares
 * them as strings) are derived from public values only, so the comparison leaks nothing secret.
 */
function pssVerifyDigest(key: KeyObject, hash: RsaSignatureHash, digest: Uint8Array, signature: Uint8Array): boolean {
  checkDigestLength(hash, digest);
  const modBits = rsaModulusBits(key);
  const k = modulusBytes(key);
  let representative: Buffer;
  try {
    // OpenSSL refuses a signature representative ≥ n (§5.2.2 step 1: "signature representative out of range").
    representative = publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature);
  } catch {
    return false;
  }
  // I2OSP(m, emLen) (§8.1.2 step 2c): octets above emLen must be zero, not silently dropped.
  const emLen = emLength(modBits);
  if (representative.length !== k || representative.subarray(0, k - emLen).some((b) => b !== 0)) return false;
  const em = representative.subarray(k - emLen).toString('binary');
  try {
    return emsaPss(hash).verify(Buffer.from(digest).toString('binary'), em, modBits) === true;
  } catch {
    return false; // forge throws for most "inconsistent" outcomes
  }
}

// --- Sign / verify ------------------------------------------------------------------------------------------

/** Signs `data`: the message itself when `prehashed` is false, its `hash` digest (checked for length) when true. */
export function rsaSign(
  key: KeyObject, padding: RsaSignaturePadding, hash: RsaSignatureHash, prehashed: boolean, data: Uint8Array,
): Buffer {
  if (!prehashed) return nodeSign(hash, data, signingOptions(key, padding, hash));
  if (padding === 'PSS') return pssSignDigest(key, hash, data);
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digestInfo(hash, data));
}

/**
 * rsaSign of a message (not a digest) as a job on libuv's thread pool. The private-key operation is
 * about 0.25 ms of CPU for RSA_2048 and 4 ms for RSA_4096; run inline it stopped the event loop for
 * every other request, and it was the largest item of the RSA Sign profile. node:crypto has no async
 * form of privateEncrypt, so the DIGEST paths stay inline.
 *
 * The jobs share libuv's four threads with the WAL fsyncs every request waits for, so a burst of slow
 * (RSA_4096) signatures delays those. Capping the jobs in flight (2 or 3 at once) was measured and cost
 * a third of RSA_2048 throughput at c = 64 (2,300 -> 1,500-1,800 req/s): a freed slot waits for the
 * busy event loop to hand it on. Not capped, then.
 */
export function rsaSignMessageOffLoop(key: KeyObject, padding: RsaSignaturePadding, hash: RsaSignatureHash, message: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    nodeSign(hash, message, signingOptions(key, padding, hash), (err, signature) => (err ? reject(err) : resolve(signature)));
  });
}

/** Verifies a signature made by rsaSign with the same parameters. Never throws for a bad signature. */
export function rsaVerify(
  key: KeyObject, padding: RsaSignaturePadding, hash: RsaSignatureHash, prehashed: boolean,
  data: Uint8Array, signature: Uint8Array,
): boolean {
  if (signature.length !== modulusBytes(key)) return false;
  if (!prehashed) {
    try {
      return nodeVerify(hash, data, signingOptions(key, padding, hash), signature);
    } catch {
      return false;
    }
  }
  if (padding === 'PSS') return pssVerifyDigest(key, hash, data, signature);
  const expected = digestInfo(hash, data);
  let recovered: Buffer;
  try {
    recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
  return recovered.length === expected.length && timingSafeEqual(recovered, expected);
}

/** Largest plaintext RSAES-OAEP can take: k − 2·hLen − 2 (RFC 8017 §7.1.1). */
export function rsaOaepMaxPlaintextBytes(bits: RsaModulusBits, hash: RsaOaepHash): number {
  return bits / 8 - 2 * HASH_LENGTH[hash] - 2;
}

/** RSAES-OAEP with MGF1 over the same hash and an empty label, as AWS uses. */
export function rsaOaepEncrypt(key: KeyObject, hash: RsaOaepHash, plaintext: Uint8Array): Buffer {
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext);
}

/** Decrypts RSAES-OAEP; undefined on any failure, without saying which check failed. */
export function rsaOaepDecrypt(key: KeyObject, hash: RsaOaepHash, ciphertext: Uint8Array): Buffer | undefined {
  if (ciphertext.length !== modulusBytes(key)) return undefined;
  try {
    return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ciphertext);
  } catch {
    return undefined;
  }
}
