/**
 * Edwards-curve signatures behind the KMS ECC_NIST_EDWARDS25519 key spec.
 *
 * - ED25519_SHA_512 (MessageType RAW): pure Ed25519 (RFC 8032 §5.1), keys and signatures from node:crypto.
 * - ED25519_PH_SHA_512 (MessageType DIGEST): Ed25519ph (RFC 8032 §5.1, phflag = 1, empty context) over a
 *   caller-supplied 64-byte SHA-512 digest. OpenSSL 3.0 has no Ed25519ph (it arrived in 3.2), so this
 *   uses @noble/curves. noble's `ed25519ph` computes SHA-512 of the message itself and cannot take the
 *   digest, so we build the same scheme with noble's own `eddsa()` constructor over its ed25519 curve,
 *   with PH = identity on a 64-byte digest. That needs two RFC 8032 constants noble keeps private:
 *   dom2(1, "") and the scalar clamping of §5.1.5. eddsa.test.ts proves the result is byte-identical to
 *   noble's `ed25519ph` (sign(SHA-512(M)) here == ed25519ph.sign(M)) and to the RFC 8032 §7.3 vector.
 *   The keys are ordinary Ed25519 keys: PKCS#8 / SPKI stay node's, noble only sees the 32-byte seed.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { eddsa } from '@noble/curves/abstract/edwards.js';
import { sha512 } from '@noble/hashes/sha2.js';

export const ED25519PH_DIGEST_BYTES = 64;

/** RFC 8032 §2: dom2(x, y) = "SigEd25519 no Ed25519 collisions" ‖ octet(x) ‖ octet(len(y)) ‖ y; here x = 1 (prehash), y = "". */
const DOM2_PH_EMPTY_CONTEXT = Buffer.concat([Buffer.from('SigEd25519 no Ed25519 collisions', 'ascii'), Buffer.from([1, 0])]);

/** Ed25519ph whose PH(M) is supplied by the caller: its "message" is the 64-byte SHA-512 digest. */
const ed25519phOverDigest = eddsa(ed25519.Point, sha512, {
  // RFC 8032 §5.1.5 step 2: clear the low 3 bits, clear bit 255, set bit 254.
  adjustScalarBytes: (bytes: Uint8Array) => {
    bytes[0]! &= 248;
    bytes[31]! &= 127;
    bytes[31]! |= 64;
    return bytes;
  },
  domain: (data: Uint8Array, context: Uint8Array, phflag: boolean) => {
    if (!phflag || context.length !== 0) throw new Error('Ed25519ph here takes no context');
    return Buffer.concat([DOM2_PH_EMPTY_CONTEXT, data]);
  },
  prehash: (digest: Uint8Array) => {
    if (digest.length !== ED25519PH_DIGEST_BYTES) throw new RangeError('Ed25519ph needs a 64-byte SHA-512 digest');
    return digest;
  },
  // RFC 8032 / FIPS 186-5 decoding (canonical encodings only), not ZIP-215 — as OpenSSL does for Ed25519.
  zip215: false,
});

export function ed25519GenerateKeyPair(): { privateKeyPkcs8: Buffer; publicKeySpki: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  return { privateKeyPkcs8: privateKey, publicKeySpki: publicKey };
}

/** Parses a PKCS#8 Ed25519 private key; undefined if it is anything else. */
export function ed25519PrivateKey(pkcs8: Buffer): KeyObject | undefined {
  try {
    const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    return key.asymmetricKeyType === 'ed25519' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Parses an SPKI Ed25519 public key; undefined if it is anything else. */
export function ed25519PublicKey(spki: Buffer): KeyObject | undefined {
  try {
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ed25519' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Pure Ed25519 over the message. */
export function ed25519Sign(key: KeyObject, message: Uint8Array): Buffer {
  return nodeSign(null, message, key);
}

export function ed25519Verify(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return nodeVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** Ed25519ph over a 64-byte SHA-512 digest of the message. */
export function ed25519phSignDigest(key: KeyObject, digest: Uint8Array): Buffer {
  const seed = Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
  try {
    return Buffer.from(ed25519phOverDigest.sign(digest, seed));
  } finally {
    seed.fill(0);
  }
}

export function ed25519phVerifyDigest(key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  if (digest.length !== ED25519PH_DIGEST_BYTES) return false;
  const publicKey = Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
  try {
    return ed25519phOverDigest.verify(signature, digest, publicKey);
  } catch {
    return false;
  }
}
