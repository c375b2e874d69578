/**
 * The ImportToken of GetParametersForImport: opaque to the caller, unforgeable, bound to one key.
 *
 *   format   01                   (1)
 *   tokenId  random               (16)  names the stored, sealed wrapping key (storage/import-repo.ts)
 *   expires  epoch ms, u64 BE     (8)   AWS: ParametersValidTo, 24 h after the request
 *   mac      HMAC-SHA256          (32)  over account, region, key id, token id and expiry, under a
 *                                       deployment-wide key sealed in the database
 *
 * The MAC is checked before anything else, in constant time: a token made for another key (or region,
 * or account), or altered in any byte, is refused without a storage lookup. The expiry it carries is
 * authentic, so an expired token is told apart from a forged one (ExpiredImportTokenException).
 */
import { constantTimeEqual, hmacSha256, randomBytesBuffer } from '../crypto/primitives.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import { barrierAad } from '../seal/barrier.ts';
import type { Scope } from '../storage/storage.ts';

const FORMAT = 0x01;
const TOKEN_ID_BYTES = 16;
const TOKEN_BYTES = 1 + TOKEN_ID_BYTES + 8 + 32;

export interface ImportTokenFields {
  tokenId: string;
  expiresAt: number;
}

function mac(key: SecretBytes, scope: Scope, keyId: string, tokenId: string, expiresAt: number): Buffer {
  return hmacSha256(key.expose(), barrierAad('kms/import-token', scope.accountId, scope.region, keyId, tokenId, expiresAt));
}

export function newImportToken(key: SecretBytes, scope: Scope, keyId: string, expiresAt: number): { token: Buffer; tokenId: string } {
  const id = randomBytesBuffer(TOKEN_ID_BYTES);
  const tokenId = id.toString('hex');
  const expires = Buffer.alloc(8);
  expires.writeBigUInt64BE(BigInt(expiresAt));
  return { tokenId, token: Buffer.concat([Buffer.from([FORMAT]), id, expires, mac(key, scope, keyId, tokenId, expiresAt)]) };
}

/** The fields of a token that authenticates for this key, or undefined for anything else. */
export function readImportToken(key: SecretBytes, scope: Scope, keyId: string, token: Buffer): ImportTokenFields | undefined {
  if (token.length !== TOKEN_BYTES || token[0] !== FORMAT) return undefined;
  const tokenId = token.subarray(1, 1 + TOKEN_ID_BYTES).toString('hex');
  const expires = token.readBigUInt64BE(1 + TOKEN_ID_BYTES);
  if (expires > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  const expiresAt = Number(expires);
  if (!constantTimeEqual(token.subarray(1 + TOKEN_ID_BYTES + 8), mac(key, scope, keyId, tokenId, expiresAt))) return undefined;
  return { tokenId, expiresAt };
}
