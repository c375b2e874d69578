/**
 * The symmetric ciphertext blob: self-describing and versioned, so Decrypt needs no KeyId.
 *
 *   magic      01 02 02 00 78      (5)  the prefix real KMS blobs have; base64 starts "AQICAH"
 *   format     01                  (1)
 *   account    12 ASCII digits     (12)
 *   keyIdLen   n                   (1)  n ≤ 40
 *   keyId      ASCII               (n)
 *   version    material version    (4)  big-endian
 *   salt       random              (16) per-message key derivation
 *   headerMac  HMAC-SHA256/128     (16) over the fields above, under a deployment-wide key
 *   box        nonce ‖ ct ‖ tag         AES-256-GCM, AAD = header ‖ encryption context
 *
 * The header (everything before the box) is authenticated twice: by its own MAC, checked before the
 * key is even looked up (so a tampered key id or account is InvalidCiphertext, never a lookup of some
 * other key), and as AAD of the box. Parsing is length-bounded and never trusts an unchecked length.
 */
import { AEAD_OVERHEAD } from '../crypto/aead.ts';
import { constantTimeEqual, hmacSha256 } from '../crypto/primitives.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';

const MAGIC = Buffer.from([0x01, 0x02, 0x02, 0x00, 0x78]);
const FORMAT_V1 = 0x01;
export const SALT_BYTES = 16;
const MAX_KEY_ID = 40;
const HEADER_MAC_BYTES = 16;

function headerMac(macKey: SecretBytes, fields: Buffer): Buffer {
  return hmacSha256(macKey.expose(), fields).subarray(0, HEADER_MAC_BYTES);
}

export interface CiphertextHeader {
  accountId: string;
  keyId: string;
  materialVersion: number;
  salt: Buffer;
}

export class CiphertextFormatError extends Error {
  constructor() {
    super('not a Trent ciphertext');
  }
}

const ACCOUNT_ID = /^\d{12}$/;
const FIXED_BYTES = MAGIC.length + 1 + 12 + 1;

/** The header bytes, written into one buffer (every byte of it is written: the fields, then the MAC). */
export function encodeHeader(h: CiphertextHeader, macKey: SecretBytes): Buffer {
  // 'ascii' is latin1 to node: one byte per UTF-16 unit, so the byte length is the string's.
  const keyIdBytes = h.keyId.length;
  if (!ACCOUNT_ID.test(h.accountId) || keyIdBytes > MAX_KEY_ID || h.salt.length !== SALT_BYTES) {
    throw new RangeError('invalid ciphertext header fields');
  }
  const fieldsEnd = FIXED_BYTES + keyIdBytes + 4 + SALT_BYTES;
  const out = Buffer.allocUnsafe(fieldsEnd + HEADER_MAC_BYTES);
  MAGIC.copy(out, 0);
  out[MAGIC.length] = FORMAT_V1;
  out.write(h.accountId, MAGIC.length + 1, 'ascii');
  out[FIXED_BYTES - 1] = keyIdBytes;
  out.write(h.keyId, FIXED_BYTES, 'ascii');
  out.writeUInt32BE(h.materialVersion, FIXED_BYTES + keyIdBytes);
  h.salt.copy(out, FIXED_BYTES + keyIdBytes + 4);
  headerMac(macKey, out.subarray(0, fieldsEnd)).copy(out, fieldsEnd);
  return out;
}

/** Splits a blob into its parsed header, the raw header bytes (the AAD prefix) and the AEAD box. */
export function decodeCiphertext(blob: Buffer, macKey: SecretBytes): { header: CiphertextHeader; headerBytes: Buffer; box: Buffer } {
  // Every offset is checked against the blob's length before it is read.
  if (blob.length < FIXED_BYTES) throw new CiphertextFormatError();
  if (blob.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0 || blob[MAGIC.length] !== FORMAT_V1) throw new CiphertextFormatError();
  const accountId = blob.toString('ascii', MAGIC.length + 1, MAGIC.length + 13);
  if (!ACCOUNT_ID.test(accountId)) throw new CiphertextFormatError();
  const keyIdLen = blob[FIXED_BYTES - 1]!;
  if (keyIdLen === 0 || keyIdLen > MAX_KEY_ID) throw new CiphertextFormatError();
  const fieldsEnd = FIXED_BYTES + keyIdLen + 4 + SALT_BYTES;
  const headerEnd = fieldsEnd + HEADER_MAC_BYTES;
  if (blob.length < headerEnd) throw new CiphertextFormatError();
  const keyId = blob.toString('ascii', FIXED_BYTES, FIXED_BYTES + keyIdLen);
  const materialVersion = blob.readUInt32BE(FIXED_BYTES + keyIdLen);
  const salt = Buffer.from(blob.subarray(FIXED_BYTES + keyIdLen + 4, fieldsEnd));
  if (!constantTimeEqual(blob.subarray(fieldsEnd, headerEnd), headerMac(macKey, blob.subarray(0, fieldsEnd)))) throw new CiphertextFormatError();
  const box = blob.subarray(headerEnd);
  if (box.length < AEAD_OVERHEAD) throw new CiphertextFormatError();
  return { header: { accountId, keyId, materialVersion, salt }, headerBytes: blob.subarray(0, headerEnd), box };
}
