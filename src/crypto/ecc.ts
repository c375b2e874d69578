/**
 * Elliptic-curve mechanisms behind the KMS ECC_NIST_P256/P384/P521 and ECC_SECG_P256K1 key specs:
 * ECDSA (DER signatures, as AWS returns them) and ECDH (raw shared secret, as DeriveSharedSecret returns).
 *
 * Keys, RAW-message ECDSA and ECDH come from node:crypto (OpenSSL 3.0, which has all four curves).
 * ECDSA over a caller-supplied digest (KMS MessageType DIGEST) cannot be done with node 20 —
 * `crypto.sign(null, …)` on an EC key hashes with SHA-256 (checked in ecc.test.ts) — so that path uses
 * @noble/curves with `prehash: false`. Both paths verify each other's signatures (tested).
 */
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';

export type EcCurve = 'P-256' | 'P-384' | 'P-521' | 'secp256k1';
export type EcdsaHash = 'sha256' | 'sha384' | 'sha512';

interface CurveInfo {
  /** OpenSSL's name, as node reports it in asymmetricKeyDetails.namedCurve. */
  readonly nodeName: string;
  readonly noble: typeof p256;
}

const CURVES: Readonly<Record<EcCurve, CurveInfo>> = Object.freeze({
  'P-256': { nodeName: 'prime256v1', noble: p256 },
  'P-384': { nodeName: 'secp384r1', noble: p384 },
  'P-521': { nodeName: 'secp521r1', noble: p521 },
  secp256k1: { nodeName: 'secp256k1', noble: secp256k1 },
});

export function ecGenerateKeyPair(curve: EcCurve): { privateKeyPkcs8: Buffer; publicKeySpki: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: CURVES[curve].nodeName,
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  return { privateKeyPkcs8: privateKey, publicKeySpki: publicKey };
}

function onCurve(key: KeyObject, curve: EcCurve): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVES[curve].nodeName;
}

/** Parses a PKCS#8 EC private key on `curve`; undefined if it is anything else. */
export function ecPrivateKey(pkcs8: Buffer, curve: EcCurve): KeyObject | undefined {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } catch {
    return undefined;
  }
  return onCurve(key, curve) ? key : undefined;
}

/**
 * Parses an SPKI EC public key on `curve`; undefined if it is anything else. OpenSSL checks that the
 * point is on the curve. On top of that the input must re-encode to exactly the same bytes (named-curve
 * OID, strict DER, nothing trailing): OpenSSL maps explicit curve parameters that resemble a named curve
 * onto it even when the cofactor is wrong (Wycheproof ecdh "NoCofactor", "LargeCofactor"), and accepts
 * some BER. A compressed point (allowed by RFC 5480) re-encodes compressed, so it is accepted.
 */
export function ecPublicKey(spki: Buffer, curve: EcCurve): KeyObject | undefined {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
  if (!onCurve(key, curve)) return undefined;
  if (!key.export({ type: 'spki', format: 'der' }).equals(spki)) return undefined;
  return key;
}

/** The raw scalar of a private key, for @noble/curves. The caller zeroes it. */
function nobleSecretKey(key: KeyObject): Buffer {
  const { d } = key.export({ format: 'jwk' });
  return Buffer.from(d!, 'base64url');
}

/** The uncompressed point (0x04 ‖ x ‖ y) of a public key, for @noble/curves. */
function noblePublicKey(key: KeyObject): Buffer {
  const { x, y } = key.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from([4]), Buffer.from(x!, 'base64url'), Buffer.from(y!, 'base64url')]);
}

/**
 * ECDSA signature in DER. `data` is the message when `prehashed` is false (hashed with `hash`), or the
 * digest to sign as-is when true.
 */
export function ecdsaSign(
  key: KeyObject, curve: EcCurve, hash: EcdsaHash, prehashed: boolean, data: Uint8Array,
): Buffer {
  if (!prehashed) return nodeSign(hash, data, { key, dsaEncoding: 'der' });
  const secret = nobleSecretKey(key);
  try {
    // lowS: false — like OpenSSL (and AWS) the signature is not normalised to low S.
    // extraEntropy: true — RFC 6979 nonces hedged with fresh randomness.
    return Buffer.from(CURVES[curve].noble.sign(data, secret, {
      prehash: false, format: 'der', lowS: false, extraEntropy: true,
    }));
  } finally {
    secret.fill(0);
  }
}

/** Verifies a DER ECDSA signature (either s, high or low, is accepted). Never throws for a bad signature. */
export function ecdsaVerify(
  key: KeyObject, curve: EcCurve, hash: EcdsaHash, prehashed: boolean, data: Uint8Array, signature: Uint8Array,
): boolean {
  try {
    if (!prehashed) return nodeVerify(hash, data, { key, dsaEncoding: 'der' }, signature);
    return CURVES[curve].noble.verify(signature, data, noblePublicKey(key), {
      prehash: false, format: 'der', lowS: false,
    });
  } catch {
    return false;
  }
}

/**
 * ECDH (SP 800-56A, cofactor 1): the x-coordinate of the shared point, left-padded to the field size —
 * what AWS DeriveSharedSecret returns. Undefined when the peer key is not a valid point on the same curve
 * (OpenSSL checks the peer key before deriving) or the shared point is the identity.
 */
export function ecdhSharedSecret(privateKey: KeyObject, peer: KeyObject): Buffer | undefined {
  try {
    return diffieHellman({ privateKey, publicKey: peer });
  } catch {
    return undefined;
  }
}
