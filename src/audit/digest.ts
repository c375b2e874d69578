/**
 * Audit digests: the signed statements that anchor the hash chain, their file form (as delivered out of
 * the store, like CloudTrail's digest files) and the public key's text forms.
 *
 * A digest (version 2) signs, in canonical JSON, the hash of EVERY event it covers: events
 * firstEventSeq..lastEventSeq, where firstEventSeq is the previous digest's lastEventSeq + 1. So the
 * digests together cover the chain without gaps, and a chain rewritten with recomputed hashes is named
 * at the first event whose hash differs, not only at the next digest. A digest covers at most
 * `MAX_EVENTS_PER_DIGEST` events (a long unsigned stretch is signed as several digests), which bounds a
 * digest to about 65 KB. Version 1 digests (before this format) signed only the head; they still verify.
 */
import { canonicalJson } from './canonical-json.ts';
import { chainHash } from './chain-hash.ts';
import type { AuditDigestRow } from '../storage/audit-repo.ts';

export const DIGEST_TYPE = 'TrentAuditDigest';
export const MAX_EVENTS_PER_DIGEST = 1000;

/** The signed statement, as parsed (fields absent in version 1 are undefined). */
export interface DigestStatement {
  readonly type: string;
  readonly version: number;
  readonly digestSeq: number;
  readonly createdAt: string;
  readonly firstEventSeq?: number;
  readonly lastEventSeq: number;
  readonly lastHash: string;
  readonly eventHashes?: readonly string[];
  readonly prevDigest: string;
  readonly publicKeyFingerprint: string;
}

/** The canonical JSON of a version 2 statement covering `hashes` (events firstEventSeq, firstEventSeq+1, …). */
export function digestStatement(p: {
  digestSeq: number;
  now: number;
  firstEventSeq: number;
  hashes: readonly string[];
  prevSignature: string | undefined;
  fingerprint: string;
}): string {
  return canonicalJson({
    type: DIGEST_TYPE,
    version: 2,
    digestSeq: p.digestSeq,
    createdAt: new Date(p.now).toISOString(),
    firstEventSeq: p.firstEventSeq,
    lastEventSeq: p.firstEventSeq + p.hashes.length - 1,
    lastHash: p.hashes[p.hashes.length - 1]!,
    eventHashes: [...p.hashes],
    // Links the digests into their own chain: a digest removed from the middle breaks the next one.
    prevDigest: chainHash('', p.prevSignature ?? ''),
    publicKeyFingerprint: p.fingerprint,
  });
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isHex64 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

/** Parses a statement; undefined when it is not a well-formed digest statement. */
export function parseDigestStatement(record: string): DigestStatement | undefined {
  let s: Record<string, unknown>;
  try {
    s = JSON.parse(record) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (s === null || typeof s !== 'object' || s.type !== DIGEST_TYPE) return undefined;
  if (!isCount(s.digestSeq) || !isCount(s.lastEventSeq) || !isHex64(s.lastHash) || typeof s.prevDigest !== 'string') return undefined;
  if (typeof s.publicKeyFingerprint !== 'string' || typeof s.createdAt !== 'string') return undefined;
  if (s.version === 2) {
    const hashes = s.eventHashes;
    if (!isCount(s.firstEventSeq) || !Array.isArray(hashes) || hashes.length === 0 || !hashes.every(isHex64)) return undefined;
    if (s.firstEventSeq + hashes.length - 1 !== s.lastEventSeq || hashes[hashes.length - 1] !== s.lastHash) return undefined;
  } else if (s.version !== 1) {
    return undefined;
  }
  return s as unknown as DigestStatement;
}

/** A delivered digest file: the signed statement verbatim and its signature. */
export interface DigestFile {
  readonly digestSeq: number;
  readonly record: string;
  readonly signature: string;
}

export function digestFileName(digestSeq: number): string {
  return `trent-audit-digest-${String(digestSeq).padStart(12, '0')}.json`;
}

export const DIGEST_FILE_PATTERN = /^trent-audit-digest-(\d{12})\.json$/;

export function digestFileContent(d: AuditDigestRow): string {
  return JSON.stringify({ digestSeq: d.digestSeq, record: d.record, signature: d.signature }) + '\n';
}

/** The row a delivered file stands for (fields taken from the signed record, never from the file's other fields). */
export function digestRowFromFile(content: string): AuditDigestRow | undefined {
  let f: { record?: unknown; signature?: unknown };
  try {
    f = JSON.parse(content) as typeof f;
  } catch {
    return undefined;
  }
  if (typeof f.record !== 'string' || typeof f.signature !== 'string') return undefined;
  const s = parseDigestStatement(f.record);
  if (!s) return undefined;
  return { digestSeq: s.digestSeq, createdAt: Date.parse(s.createdAt), lastEventSeq: s.lastEventSeq, lastHash: s.lastHash, record: f.record, signature: f.signature };
}

/** PEM ("PUBLIC KEY") of an SPKI. */
export function spkiToPem(spki: Buffer): string {
  const b64 = spki.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----\n`;
}

/** SPKI from PEM text (the first PUBLIC KEY block; other lines around it are ignored) or bare base64. */
export function spkiFromText(text: string): Buffer | undefined {
  const pem = /-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----/.exec(text);
  const body = (pem ? pem[1]! : text).replace(/\s+/g, '');
  if (body.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return undefined;
  return Buffer.from(body, 'base64');
}
