/**
 * The receiving side of a link (docs/replication.md): authenticates each request with the link secret,
 * answers a hello with a fresh ephemeral X25519 public key (its private half kept in memory, for one use),
 * and applies each delivered record exactly once, in sequence order:
 *
 * - a record whose sequence number is not above the link's last applied one is a duplicate: answered with
 *   success, nothing changes (the sender lost our acknowledgement);
 * - otherwise, in one transaction: the replica is created or brought up to date, and the link's last
 *   applied sequence number moves to the record's (compare-and-set), so a crash applies it fully or not;
 * - a record updates only a replica of the peer's primary (requireReplicaOfPeer), and creates one only where
 *   every copy of the key id in the other regions served here is such a replica too, so a peer never adds a
 *   copy beside a key of ours under its id;
 * - material older than the replica's current version is refused (a replica never goes back), and a
 *   version it has is never overwritten;
 * - each material version is unwrapped, sealed under this deployment's root keyring at once, and zeroed.
 */
import type { JobEventRecorder } from '../audit/service-event.ts';
import type { Clock } from '../clock.ts';
import { timeOrderedUuid, randomUuid, sha256 } from '../crypto/primitives.ts';
import {
  EphemeralAgreement, linkAuthKey, signLinkRequest, unwrapFromTransport, verifyLinkRequest, wrapForTransport,
} from '../crypto/replication-transport.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import { AccessDeniedException, ConflictException, ValidationException } from '../errors/errors.ts';
import { keyArn } from '../kms/arn.ts';
import { KEY_SPECS, KEY_USAGES, keyFromRecord, ORIGINS, recordFromKey, type Key, type KeyDoc } from '../kms/key-model.ts';
import { materialAad } from '../kms/key-service.ts';
import { synchronizeMultiRegionKeyEvent } from '../kms/multi-region-events.ts';
import type { Barrier } from '../seal/barrier.ts';
import type { ReplicationLinkRecord } from '../storage/replication-repo.ts';
import type { MaterialRecord, Storage } from '../storage/storage.ts';
import type { LinkService } from './links.ts';
import { peerHeaderKeyAad } from './links.ts';
import { applyKeyEvent, isKeyEvent } from './key-events.ts';
import { isSecretRecord } from './secret-wire.ts';
import type { SecretRecords } from './secret-records.ts';
import { headerKeyBoxAad, materialBoxAad, signedParts, type DeliverRequest, type WireRecord } from './wire.ts';

/** An exchange not used within this long is dropped. */
const EXCHANGE_TTL_MS = 60_000;
/** Exchanges held at once (hellos beyond it evict the oldest): bounded memory whatever a peer sends. */
const MAX_EXCHANGES = 256;

export type Receiver = ReturnType<typeof createReceiver>;

export function createReceiver(deps: {
  storage: Storage; barrier: Barrier; clock: Clock; links: LinkService;
  /** This deployment's ciphertext-header key, sent to the peer so our replicas' ciphertexts decrypt there. */
  headerKey: SecretBytes;
  localRegions?: ReadonlySet<string>;
  events?: JobEventRecorder;
  /** Applies secret records (secret-records.ts); absent, they are refused. */
  secrets?: Pick<SecretRecords, 'apply'>;
}) {
  const { storage, barrier, clock, links, headerKey, localRegions, events, secrets } = deps;
  const exchanges = new Map<string, { linkId: string; agreement: EphemeralAgreement; expiresAt: number }>();

  async function withAuthKey<T>(link: ReplicationLinkRecord, use: (key: SecretBytes) => T): Promise<T> {
    const secret = await links.secretOf(link);
    const key = linkAuthKey(secret, link.linkId);
    secret.zeroize();
    try {
      return use(key);
    } finally {
      key.zeroize();
    }
  }

  /**
   * The link a request is from, if its signature verifies; AccessDeniedException otherwise (the same
   * answer for an unknown link and a wrong signature).
   */
  async function authenticate(linkId: string | undefined, path: string, body: Buffer, signature: string | undefined): Promise<ReplicationLinkRecord> {
    const link = linkId && /^[0-9a-f]{32}$/.test(linkId) ? await storage.read((r) => r.replication.getLink(linkId)) : undefined;
    const ok = link && signature !== undefined
      ? await withAuthKey(link, (k) => verifyLinkRequest(k, signedParts('request', path, link.linkId, sha256(body)), signature))
      : false;
    if (!link || !ok) throw new AccessDeniedException('The replication request is not signed by a linked peer.');
    return link;
  }

  function signResponse(link: ReplicationLinkRecord, path: string, body: Buffer): Promise<string> {
    return withAuthKey(link, (k) => signLinkRequest(k, signedParts('response', path, link.linkId, sha256(body))));
  }

  function hello(link: ReplicationLinkRecord): { ExchangeId: string; PublicKey: string } {
    const now = clock.now();
    for (const [id, x] of exchanges) if (x.expiresAt <= now) exchanges.delete(id);
    while (exchanges.size >= MAX_EXCHANGES) exchanges.delete(exchanges.keys().next().value!);
    const agreement = EphemeralAgreement.generate();
    const id = randomUuid();
    exchanges.set(id, { linkId: link.linkId, agreement, expiresAt: now + EXCHANGE_TTL_MS });
    return { ExchangeId: id, PublicKey: agreement.publicKey.toString('base64') };
  }

  /** Applies one record (see the module comment). The exchange is used up first: a replayed request is refused. */
  async function deliver(link: ReplicationLinkRecord, req: DeliverRequest): Promise<{ Applied: boolean; LastAppliedSeq: number; HeaderKey: string }> {
    const exchange = exchanges.get(req.ExchangeId);
    exchanges.delete(req.ExchangeId);
    if (!exchange || exchange.linkId !== link.linkId || exchange.expiresAt <= clock.now()) {
      throw new AccessDeniedException('Unknown or used replication exchange.');
    }
    const senderPublic = Buffer.from(req.SenderPublicKey, 'base64');
    const secret = await links.secretOf(link);
    let transport: SecretBytes;
    try {
      transport = exchange.agreement.transportKey(senderPublic, secret, link.linkId, req.ExchangeId, senderPublic, exchange.agreement.publicKey);
    } catch {
      throw new ValidationException('Malformed replication request: sender public key.');
    } finally {
      secret.zeroize();
    }
    try {
      const peerHeader = open(transport, req.HeaderKey, headerKeyBoxAad(link.linkId, req.ExchangeId, 'sender'));
      const sealedPeerHeader = barrier.seal(peerHeader.expose(), peerHeaderKeyAad(link.linkId));
      peerHeader.zeroize();
      const applied = await apply(link, req, transport, sealedPeerHeader);
      return { ...applied, HeaderKey: wrapForTransport(transport, headerKey, headerKeyBoxAad(link.linkId, req.ExchangeId, 'receiver')).toString('base64') };
    } finally {
      transport.zeroize();
    }
  }

  function open(transport: SecretBytes, box: string, aad: Buffer): SecretBytes {
    try {
      return unwrapFromTransport(transport, Buffer.from(box, 'base64'), aad);
    } catch {
      throw new AccessDeniedException('A wrapped value of the replication request failed authentication.');
    }
  }

  async function apply(link: ReplicationLinkRecord, req: DeliverRequest, transport: SecretBytes, sealedPeerHeader: Buffer): Promise<{ Applied: boolean; LastAppliedSeq: number }> {
    // The record's Kind: a secret's is applied by secret-records.ts; absent or 'key' is a key's (below).
    if (isSecretRecord(req.Record)) {
      if (!secrets) throw new ValidationException('Malformed replication request: Record.Kind.');
      return secrets.apply(link, { ...req, Record: req.Record }, transport, sealedPeerHeader);
    }
    const rec = req.Record;
    if (req.Seq <= link.lastAppliedSeq) {
      await storage.transaction((tx) => tx.replication.setPeerHeaderKey(link.linkId, sealedPeerHeader));
      return { Applied: false, LastAppliedSeq: link.lastAppliedSeq };
    }
    if (isKeyEvent(rec)) return { Applied: await applyKeyEvent({ storage, clock, localRegions, ...(events ? { events } : {}) }, link, req.Seq, rec, sealedPeerHeader), LastAppliedSeq: req.Seq };
    // A peer writes only replicas of its own primaries, into regions this deployment serves.
    if (!localRegions?.has(rec.region)) throw new ValidationException(`The Region ${rec.region} is not served by this deployment.`);
    if (!link.regions.includes(rec.sourceRegion) || rec.key.multiRegionConfig.primaryRegion !== rec.sourceRegion) {
      throw new ValidationException(`The Region ${rec.sourceRegion} is not served by the linked peer ${link.name}.`);
    }
    if (!(KEY_SPECS as readonly string[]).includes(rec.key.keySpec) || !(KEY_USAGES as readonly string[]).includes(rec.key.keyUsage)
      || !['AWS_KMS', 'EXTERNAL'].includes(rec.key.origin) || !(ORIGINS as readonly string[]).includes(rec.key.origin)) {
      throw new ValidationException('Malformed replication request: key spec, usage or origin.');
    }
    if (!rec.versions.some((v) => v.version === rec.key.currentVersion)) throw new ValidationException('Malformed replication request: the current material version is missing.');
    const scope = { accountId: rec.accountId, region: rec.region };
    // Unwrapped and sealed under our own keyring at once; the plaintext is zeroed before the transaction.
    const rows: MaterialRecord[] = [];
    for (const v of rec.versions) {
      const plain = open(transport, v.wrapped, materialBoxAad(link.linkId, req.Seq, rec.accountId, rec.keyId, v.version, rec.region));
      try {
        rows.push({ ...scope, keyId: rec.keyId, version: v.version, createdAt: v.createdAt, doc: v.doc, sealed: barrier.seal(plain.expose(), materialAad(scope, rec.keyId, v.version)) });
      } finally {
        plain.zeroize();
      }
    }
    const created = await storage.transaction(async (tx) => {
      const now = (await tx.replication.getLink(link.linkId))!;
      if (req.Seq <= now.lastAppliedSeq) return undefined; // applied by a racing delivery of the same record
      const existing = await tx.keys.getForUpdate(scope, rec.keyId);
      let made: Key | undefined;
      let synced = false;
      if (!existing && !rec.create) {
        // The replica was deleted here (its deletion is reported back in our outbox): nothing to update, and
        // refusing would hold up every later record of the link.
      } else if (!existing) {
        // The copies of the key id in our other regions, locked until the replica is in (a local ReplicateKey
        // of a primary there takes the same row lock first). Each must be a replica of the peer's primary (the
        // peer replicating its key into a second region of ours); a primary here, or a replica of one, refuses
        // the record: the peer would add a key of its own under the id of one of ours.
        for (const region of localRegions) {
          if (region === rec.region) continue;
          const other = await tx.keys.getForUpdate({ accountId: rec.accountId, region }, rec.keyId);
          if (other) requireReplicaOfPeer(keyFromRecord(other), link);
        }
        made = replicaFrom(rec, scope);
        await tx.keys.insert(recordFromKey(made));
        for (const m of rows) await tx.materials.insert(m);
      } else if (existing) {
        const key = keyFromRecord(existing);
        requireReplicaOfPeer(key, link);
        if (rec.key.currentVersion < key.doc.currentVersion) {
          throw new ConflictException(`${key.arn} has material version ${key.doc.currentVersion}; refusing older material (version ${rec.key.currentVersion}).`);
        }
        const have = new Set((await tx.materials.list(scope, rec.keyId)).map((m) => m.version));
        for (const m of rows) if (!have.has(m.version)) await tx.materials.insert(m);
        const doc: KeyDoc = {
          ...key.doc,
          currentVersion: rec.key.currentVersion,
          currentKeyMaterialId: rec.key.currentKeyMaterialId,
          multiRegionConfig: rec.key.multiRegionConfig,
          ...(rec.key.importedMaterial ? { importedMaterial: rec.key.importedMaterial as unknown as KeyDoc['importedMaterial'] } : {}),
        };
        if (!(await tx.keys.update(recordFromKey({ ...key, doc }), key.revision))) throw new ConflictException(`${key.arn} is being changed by another request. Retry.`);
        synced = rec.key.currentVersion > key.doc.currentVersion;
      }
      if (!(await tx.replication.advanceApplied(link.linkId, now.lastAppliedSeq, req.Seq))) throw new ConflictException('The replication link moved on. Retry.');
      await tx.replication.setPeerHeaderKey(link.linkId, sealedPeerHeader);
      // Last (the chain lock is taken after the link row's, as a call's unit does) and in this transaction:
      // the replica's change and its trail entry commit together (multi-region-events.ts).
      if (made && events) {
        // AWS CloudTrail records a ReplicateKey as a CreateKey in the replica's region: here, by the service.
        await events.recordIn(tx, {
          eventId: timeOrderedUuid(), eventTime: clock.now(), eventSource: 'kms.amazonaws.com', eventName: 'CreateKey',
          accountId: scope.accountId, region: scope.region,
          resources: [{ accountId: scope.accountId, type: 'AWS::KMS::Key', ARN: made.arn }],
          details: { replicateKeyFrom: keyArn({ accountId: rec.accountId, region: rec.sourceRegion }, rec.keyId), linkedPeer: link.name },
        });
      }
      if (synced) await events?.recordIn(tx, synchronizeMultiRegionKeyEvent(scope, rec.keyId, clock.now()));
      return { made };
    });
    if (!created) return { Applied: false, LastAppliedSeq: req.Seq };
    return { Applied: true, LastAppliedSeq: req.Seq };
  }

  /**
   * A copy here a record of `link` may stand beside or update: a multi-Region replica whose primary is in the
   * peer's regions (not necessarily the record's source region: the peer may have moved the primary between
   * its own regions with UpdatePrimaryRegion). ConflictException otherwise; thrown inside the record's
   * transaction, so nothing of the record is written and the link's last applied sequence number stays.
   */
  function requireReplicaOfPeer(key: Key, link: ReplicationLinkRecord): void {
    const primaryRegion = key.doc.multiRegionConfig?.primaryRegion;
    if (!key.doc.multiRegion || primaryRegion === undefined || !link.regions.includes(primaryRegion) || primaryRegion === key.scope.region) {
      throw new ConflictException(`${key.arn} is not a replica of the peer's primary key.`);
    }
  }

  function replicaFrom(rec: WireRecord, scope: { accountId: string; region: string }): Key {
    const k = rec.key;
    const doc = {
      description: rec.create!.description, keyUsage: k.keyUsage, keySpec: k.keySpec, origin: k.origin, keyManager: 'CUSTOMER',
      state: 'Enabled', currentVersion: k.currentVersion, currentKeyMaterialId: k.currentKeyMaterialId,
      multiRegion: true, tags: rec.create!.tags, policy: rec.create!.policy, multiRegionConfig: k.multiRegionConfig,
      ...(k.importedMaterial ? { importedMaterial: k.importedMaterial } : {}),
    } as KeyDoc;
    return { scope, keyId: rec.keyId, arn: keyArn(scope, rec.keyId), createdAt: clock.now(), revision: 1, doc };
  }

  function forget(): void {
    exchanges.clear();
  }

  return { authenticate, signResponse, hello, deliver, forget };
}
