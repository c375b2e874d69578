/**
 * The backup file (docs/backup.md): a public header, then the payload (a storage snapshot) in
 * AES-256-GCM chunks under a key derived by HKDF-SHA256 from one root-key version and a random salt.
 *
 *   "TRENT-BACKUP\n" | header length u32 BE | header (JSON) | chunk* ;  chunk = length u32 BE | AEAD box
 *
 * Each chunk's AAD binds the SHA-256 of everything before the first chunk (magic and header), the
 * chunk's index and whether it is the last one. So an edited header, a chunk moved, dropped or
 * duplicated, a file cut short (no chunk marked last) or with bytes after the last chunk is refused
 * before anything is restored. The header is not secret: it holds the stored keyring row (already
 * sealed under the unseal key, exactly as it sits in the database) so that a restore can reopen the
 * keyring with the same shares, HSM or development root key, and only then derive the backup key.
 */
import { aeadOpen, aeadSeal, AeadOpenError } from '../crypto/aead.ts';
import { randomBytesBuffer, sha256 } from '../crypto/primitives.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import { barrierAad } from '../seal/barrier.ts';
import type { SealMode } from '../seal/keyring.ts';

const MAGIC = Buffer.from('TRENT-BACKUP\n', 'utf8');
const CHUNK_BYTES = 1 << 20;
const MAX_HEADER_BYTES = 1 << 20;

/** HKDF info of the backup key; the salt is random per file (in the header). */
export const BACKUP_KEY_INFO = Buffer.from('trent/backup/v1', 'utf8');

export interface BackupHeader {
  readonly format: 1;
  /** The storage adapter the snapshot came from; a backup restores onto the same kind. */
  readonly kind: 'sqlite' | 'postgres';
  readonly createdAt: string;
  readonly sealMode: SealMode;
  /** The root-key version the backup key was derived from. */
  readonly rootKeyVersion: number;
  /** HKDF salt, base64 of 32 bytes. */
  readonly salt: string;
  /** The stored keyring row (meta `seal:keyring`) as text, or null (development mode, never rotated). */
  readonly keyring: string | null;
  /** Highest schema migration of the snapshot. */
  readonly schemaVersion: number;
}

/** The file is not a complete, authentic Trent backup; nothing was restored. */
export class BackupFileError extends Error {}

export function newSalt(): Buffer {
  return randomBytesBuffer(32);
}

function chunkAad(prefixHash: Buffer, index: number, last: boolean): Buffer {
  return barrierAad('backup/chunk', prefixHash.toString('hex'), index, last ? 1 : 0);
}

/** Encrypts `payload` under `key` (derived from the header's root-key version and salt). */
export function writeBackupFile(header: BackupHeader, key: SecretBytes, payload: Buffer): Buffer {
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(headerBytes.length);
  const prefix = Buffer.concat([MAGIC, len, headerBytes]);
  const prefixHash = sha256(prefix);
  const parts: Buffer[] = [prefix];
  const count = Math.max(1, Math.ceil(payload.length / CHUNK_BYTES));
  for (let i = 0; i < count; i++) {
    const box = aeadSeal(key, payload.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES), chunkAad(prefixHash, i, i === count - 1));
    const l = Buffer.alloc(4);
    l.writeUInt32BE(box.length);
    parts.push(l, box);
  }
  return Buffer.concat(parts);
}

/** Reads the public header, checking only the framing (the chunks authenticate it later). */
export function readBackupHeader(file: Buffer): { header: BackupHeader; bodyOffset: number; prefixHash: Buffer } {
  if (file.length < MAGIC.length + 4 || !file.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new BackupFileError('not a Trent backup file (the magic bytes are missing)');
  }
  const len = file.readUInt32BE(MAGIC.length);
  const start = MAGIC.length + 4;
  if (len > MAX_HEADER_BYTES || file.length < start + len) throw new BackupFileError('the backup file is truncated (its header is incomplete)');
  let header: BackupHeader;
  try {
    header = JSON.parse(file.subarray(start, start + len).toString('utf8')) as BackupHeader;
  } catch {
    throw new BackupFileError('the backup file header is not valid JSON: the file was altered');
  }
  if (header.format !== 1 || (header.kind !== 'sqlite' && header.kind !== 'postgres') || !Number.isInteger(header.rootKeyVersion)
    || typeof header.salt !== 'string' || !(header.keyring === null || typeof header.keyring === 'string')) {
    throw new BackupFileError('the backup file header is not in a known format');
  }
  return { header, bodyOffset: start + len, prefixHash: sha256(file.subarray(0, start + len)) };
}

/**
 * Decrypts and authenticates every chunk; returns the payload only if the whole file is intact. The
 * caller zeroes nothing here: the payload is a storage snapshot, which holds only sealed material.
 */
export function openBackupFile(file: Buffer, key: SecretBytes): { header: BackupHeader; payload: Buffer } {
  const { header, bodyOffset, prefixHash } = readBackupHeader(file);
  const out: Buffer[] = [];
  let at = bodyOffset;
  for (let i = 0; ; i++) {
    if (at + 4 > file.length) throw new BackupFileError('the backup file is truncated (its last chunk is missing)');
    const len = file.readUInt32BE(at);
    if (at + 4 + len > file.length) throw new BackupFileError('the backup file is truncated (a chunk is cut short)');
    const box = file.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    const last = at === file.length;
    try {
      out.push(aeadOpen(key, box, chunkAad(prefixHash, i, last)));
    } catch (err) {
      if (!(err instanceof AeadOpenError)) throw err;
      // The last box present may be a middle chunk of a file cut at a chunk boundary.
      if (last) {
        try {
          aeadOpen(key, box, chunkAad(prefixHash, i, false));
          throw new BackupFileError('the backup file is truncated (its last chunk is missing)');
        } catch (inner) {
          if (inner instanceof BackupFileError) throw inner;
        }
      }
      throw new BackupFileError(
        `the backup file failed authentication at chunk ${i}: it was altered, or it was not made under this deployment's root key (version ${header.rootKeyVersion})`,
      );
    }
    if (last) return { header, payload: Buffer.concat(out) };
  }
}
