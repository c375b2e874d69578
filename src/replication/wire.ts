/**
 * The messages of the link's internal endpoint (docs/replication.md "Protocol"), shared by sender and
 * receiver: shapes, their checks, and the AAD of each wrapped box. Every request and response is JSON,
 * signed with the link's request-signing key over (direction, path, link id, SHA-256 of the body).
 *
 *   POST /v1/replication/hello    {}                                  -> { ExchangeId, PublicKey }
 *   POST /v1/replication/deliver  { ExchangeId, SenderPublicKey, Seq, HeaderKey, Record } -> { Applied, LastAppliedSeq, HeaderKey }
 */
import { framedFields } from '../crypto/replication-transport.ts';
import { ValidationException } from '../errors/errors.ts';
import { isKeyEventKind, MRK_ID, parseKeyEvent, type KeyEventRecord } from './key-events.ts';
import { isSecretKind, parseSecretRecord, type SecretWireRecord } from './secret-wire.ts';

export const HELLO_PATH = '/v1/replication/hello';
export const DELIVER_PATH = '/v1/replication/deliver';
export const LINK_HEADER = 'x-trent-link';
export const SIGNATURE_HEADER = 'x-trent-signature';
export const MAX_BODY = 4 * 1024 * 1024;

/** The signed parts of a request or response body. */
export const signedParts = (direction: 'request' | 'response', path: string, linkId: string, bodyHash: Buffer) => [direction, path, linkId, bodyHash];

/** AAD of one material version in a delivery: what it is, for which link, record, key and region. */
export function materialBoxAad(linkId: string, seq: number, accountId: string, keyId: string, version: number, region: string): Buffer {
  return framedFields('trent-replication/material', linkId, seq, accountId, keyId, version, region);
}

/**
 * AAD of one secret version's value in a delivery: what it is, for which link, record, account, secret
 * (the primary's ARN and name), version and receiving region.
 */
export function secretValueBoxAad(linkId: string, seq: number, accountId: string, arn: string, name: string, versionId: string, region: string): Buffer {
  return framedFields('trent-replication/secret-value', linkId, seq, accountId, arn, name, versionId, region);
}

/** AAD of a side's ciphertext-header key; `from` is 'sender' or 'receiver', so the two boxes cannot be swapped. */
export function headerKeyBoxAad(linkId: string, exchangeId: string, from: 'sender' | 'receiver'): Buffer {
  return framedFields('trent-replication/header-key', linkId, exchangeId, from);
}

export interface WireVersion {
  version: number;
  createdAt: number;
  /** Non-secret facts of the version (material id, rotation type). */
  doc: Record<string, unknown>;
  /** base64 AES-GCM box under the transport key (materialBoxAad). */
  wrapped: string;
}

export interface WireRecord {
  /** Which kind of record: absent (records of older senders) or 'key' is a multi-Region key's; others: secret-wire.ts. */
  Kind?: 'key';
  accountId: string;
  keyId: string;
  sourceRegion: string;
  region: string;
  create?: { description: string; policy: string; tags: { TagKey: string; TagValue: string }[] };
  key: {
    keySpec: string;
    keyUsage: string;
    origin: string;
    currentVersion: number;
    currentKeyMaterialId: string;
    multiRegionConfig: { primaryRegion: string; replicaRegions: string[] };
    importedMaterial?: Record<string, unknown>;
  };
  versions: WireVersion[];
}

export interface DeliverRequest {
  ExchangeId: string;
  SenderPublicKey: string;
  Seq: number;
  HeaderKey: string;
  /** A material record (no Kind, or Kind 'key'), a key event (key-events.ts) or a secret record (secret-wire.ts). */
  Record: WireRecord | KeyEventRecord | SecretWireRecord;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max = 256): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const int = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const REGION = /^([a-z]+-){2,3}\d+$/;

function bad(what: string): never {
  throw new ValidationException(`Malformed replication request: ${what}.`);
}

/** Checks a deliver body's shape (its meaning is checked by the receiver). */
export function parseDeliver(body: unknown): DeliverRequest {
  if (!isObject(body)) bad('not an object');
  const { ExchangeId, SenderPublicKey, Seq, HeaderKey, Record: rec } = body;
  if (!str(ExchangeId, 64) || !str(SenderPublicKey, 64) || !str(HeaderKey, 256) || !int(Seq) || Seq < 1) bad('exchange, public key, header key or sequence');
  if (!isObject(rec)) bad('Record');
  if (isKeyEventKind(rec.Kind)) return { ...(body as unknown as DeliverRequest), Record: parseKeyEvent(rec) };
  if (rec.Kind !== undefined && rec.Kind !== 'key') {
    if (!isSecretKind(rec.Kind)) bad('Record.Kind');
    parseSecretRecord(rec);
    return body as unknown as DeliverRequest;
  }
  if (!/^\d{12}$/.test(String(rec.accountId)) || !MRK_ID.test(String(rec.keyId)) || !REGION.test(String(rec.sourceRegion)) || !REGION.test(String(rec.region))) bad('Record ids');
  const key = rec.key;
  if (!isObject(key) || !str(key.keySpec, 64) || !str(key.keyUsage, 64) || !str(key.origin, 64) || !int(key.currentVersion) || typeof key.currentKeyMaterialId !== 'string') bad('Record.key');
  const mrc = key.multiRegionConfig;
  if (!isObject(mrc) || !REGION.test(String(mrc.primaryRegion)) || !Array.isArray(mrc.replicaRegions) || !mrc.replicaRegions.every((r) => REGION.test(String(r)))) bad('Record.key.multiRegionConfig');
  if (rec.create !== undefined) {
    const c = rec.create;
    // The limits of CreateKey (description, tags): what a replica made here could not have been given by a call.
    if (!isObject(c) || typeof c.description !== 'string' || c.description.length > 8192 || !str(c.policy, 131072) || !Array.isArray(c.tags) || c.tags.length > 50
      || !c.tags.every((t) => isObject(t) && str(t.TagKey, 128) && typeof t.TagValue === 'string' && t.TagValue.length <= 256)) bad('Record.create');
  }
  if (!Array.isArray(rec.versions) || rec.versions.length > 10_000) bad('Record.versions');
  const seen = new Set<number>();
  for (const v of rec.versions) {
    if (!isObject(v) || !int(v.version) || v.version < 1 || seen.has(v.version) || !int(v.createdAt) || !isObject(v.doc) || !str(v.wrapped, 65536)) bad('Record.versions');
    seen.add(v.version);
  }
  return body as unknown as DeliverRequest;
}
