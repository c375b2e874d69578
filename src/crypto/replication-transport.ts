/**
 * The transport of key material between two linked deployments (docs/replication.md "Wrapping"):
 *
 * - Each delivery agrees a fresh key: both sides draw an ephemeral X25519 key pair (the receiver's private
 *   half lives only in its memory, for one exchange), and the transport key is
 *   HKDF-SHA256(ikm = X25519 shared secret ‖ link secret, salt = "trent-replication-v1",
 *   info = link id ‖ exchange id ‖ sender public ‖ receiver public). An eavesdropper without the link secret
 *   cannot derive it, a holder of the link secret alone cannot either (it needs an ephemeral private key),
 *   and neither side's storage ever holds it or the ephemeral keys.
 * - Material crosses as AES-256-GCM boxes under that key with AAD naming what the box is (purpose, link,
 *   sequence number, account, key id, material version, receiving region), so a box cannot be replayed as
 *   another key's or another version's material.
 * - Every request of the link is authenticated by HMAC-SHA256 under a key derived from the link secret,
 *   compared in constant time.
 */
import { createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { aeadOpen, aeadSeal } from './aead.ts';
import { constantTimeEqual, hkdfSha256, hmacSha256 } from './primitives.ts';
import { SecretBytes } from './secret-bytes.ts';

const SALT = Buffer.from('trent-replication-v1', 'utf8');
/** DER prefix of an X25519 SubjectPublicKeyInfo; the raw 32-byte key follows. */
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
export const X25519_PUBLIC_BYTES = 32;

/** Length-prefixed fields, so that no two field lists encode alike (AAD, HKDF info, signed strings). */
export function framedFields(...fields: (string | number | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    const b = typeof f === 'string' || typeof f === 'number' ? Buffer.from(String(f), 'utf8') : Buffer.from(f);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  }
  return Buffer.concat(parts);
}

/** One side's ephemeral X25519 key pair for one exchange. */
export class EphemeralAgreement {
  private constructor(private readonly privateKey: KeyObject, readonly publicKey: Buffer) {}

  static generate(): EphemeralAgreement {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    return new EphemeralAgreement(privateKey, Buffer.from(spki.subarray(spki.length - X25519_PUBLIC_BYTES)));
  }

  /**
   * The transport key of the exchange `exchangeId` on link `linkId`, agreed with the peer's raw public key.
   * Throws RangeError for a public key that is not 32 bytes, or one of low order (all-zero shared secret).
   */
  transportKey(peerPublic: Uint8Array, linkSecret: SecretBytes, linkId: string, exchangeId: string, senderPublic: Uint8Array, receiverPublic: Uint8Array): SecretBytes {
    if (peerPublic.length !== X25519_PUBLIC_BYTES) throw new RangeError('an X25519 public key is 32 bytes');
    const peer = createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, peerPublic]), format: 'der', type: 'spki' });
    const shared = diffieHellman({ privateKey: this.privateKey, publicKey: peer });
    const ikm = Buffer.concat([shared, linkSecret.expose()]);
    try {
      if (shared.every((b) => b === 0)) throw new RangeError('low-order X25519 public key');
      return SecretBytes.adopt(hkdfSha256(ikm, SALT, framedFields('transport', linkId, exchangeId, senderPublic, receiverPublic), 32));
    } finally {
      shared.fill(0);
      ikm.fill(0);
    }
  }
}

/** Wraps material (or any secret) under a transport key with AAD naming it. */
export function wrapForTransport(transportKey: SecretBytes, secret: SecretBytes, aad: Uint8Array): Buffer {
  return aeadSeal(transportKey, secret.expose(), aad);
}

/** Opens a box of wrapForTransport; throws AeadOpenError on any mismatch. The caller zeroizes the result. */
export function unwrapFromTransport(transportKey: SecretBytes, box: Uint8Array, aad: Uint8Array): SecretBytes {
  return SecretBytes.adopt(aeadOpen(transportKey, box, aad));
}

/** The request-signing key of a link (separate from the transport keys by its HKDF info). */
export function linkAuthKey(linkSecret: SecretBytes, linkId: string): SecretBytes {
  return SecretBytes.adopt(hkdfSha256(linkSecret, SALT, framedFields('request-auth', linkId), 32));
}

/** The signature (hex) of a request: HMAC-SHA256 over its framed parts. */
export function signLinkRequest(authKey: SecretBytes, parts: (string | number | Uint8Array)[]): string {
  return hmacSha256(authKey.expose(), framedFields(...parts)).toString('hex');
}

/** Whether `signature` (hex) is the signature of `parts`, compared in constant time. */
export function verifyLinkRequest(authKey: SecretBytes, parts: (string | number | Uint8Array)[], signature: string): boolean {
  const expected = hmacSha256(authKey.expose(), framedFields(...parts));
  if (!/^[0-9a-f]{64}$/.test(signature)) return false; // its form is no secret
  return constantTimeEqual(expected, Buffer.from(signature, 'hex'));
}
