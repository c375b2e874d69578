/**
 * The sending side of a link (docs/replication.md): a background loop delivers each link's outbox in
 * sequence order, one record at a time, over HTTPS to the peer's internal endpoint (its CA pinned as the
 * only trust anchor). A record is marked delivered only once the peer has acknowledged it; on any failure
 * the link backs off (doubling, capped) and the same record is tried again, so a peer that is down, sealed
 * or restarting receives everything, in order, when it is back. The receiver applies each sequence number
 * once, so a lost acknowledgement costs only a duplicate answered with success.
 *
 * Each delivery reads the key's current state and material when it is sent (outbox rows hold none):
 * material is unsealed, wrapped under the delivery's transport key and zeroed at once.
 */
import { Agent, request } from 'node:https';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { sha256 } from '../crypto/primitives.ts';
import {
  EphemeralAgreement, linkAuthKey, signLinkRequest, unwrapFromTransport, verifyLinkRequest, wrapForTransport,
} from '../crypto/replication-transport.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import type { RemoteReplicaRecord } from '../kms/remote-replicas.ts';
import { keyFromRecord } from '../kms/key-model.ts';
import { materialAad } from '../kms/key-service.ts';
import { unsealFresh, type Barrier } from '../seal/barrier.ts';
import type { OutboxRecord, ReplicationLinkRecord } from '../storage/replication-repo.ts';
import type { Storage } from '../storage/storage.ts';
import { isKeyEventKind, keyEventWire, type KeyEventRecord } from './key-events.ts';
import { peerHeaderKeyAad, type LinkService } from './links.ts';
import { isSecretOutbox, type SecretRecords } from './secret-records.ts';
import {
  DELIVER_PATH, HELLO_PATH, LINK_HEADER, SIGNATURE_HEADER, headerKeyBoxAad, materialBoxAad, signedParts, type DeliverRequest, type WireRecord,
} from './wire.ts';

const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** Records sent per link and pass; the next pass continues. */
const BATCH = 32;

class PeerError extends Error {}

export function createSender(deps: {
  storage: Storage; barrier: Barrier; clock: Clock; links: LinkService; headerKey: SecretBytes; logger: Logger;
  /** Secret records (secret-records.ts): built and acknowledged there; absent, the outbox holds key records only. */
  secrets?: Pick<SecretRecords, 'wireRecord' | 'acknowledged'>;
}) {
  const { storage, barrier, clock, links, headerKey, logger, secrets } = deps;
  const backoff = new Map<string, { until: number; delayMs: number }>();

  /** One signed POST; resolves with the verified JSON answer, rejects with PeerError otherwise. */
  function post(link: ReplicationLinkRecord, agent: Agent, authKey: SecretBytes, path: string, payload: unknown): Promise<Record<string, unknown>> {
    const body = Buffer.from(JSON.stringify(payload), 'utf8');
    const signature = signLinkRequest(authKey, signedParts('request', path, link.linkId, sha256(body)));
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, `${link.endpoint}/`), {
        method: 'POST', agent, ca: link.caPem, timeout: REQUEST_TIMEOUT_MS,
        headers: { 'content-type': 'application/json', 'content-length': String(body.length), [LINK_HEADER]: link.linkId, [SIGNATURE_HEADER]: signature },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const answer = Buffer.concat(chunks);
          if (res.statusCode !== 200) return reject(new PeerError(`${path}: HTTP ${res.statusCode} ${answer.subarray(0, 300).toString('utf8')}`));
          const sig = res.headers[SIGNATURE_HEADER];
          if (typeof sig !== 'string' || !verifyLinkRequest(authKey, signedParts('response', path, link.linkId, sha256(answer)), sig)) {
            return reject(new PeerError(`${path}: the answer is not signed with the link secret`));
          }
          try {
            resolve(JSON.parse(answer.toString('utf8')) as Record<string, unknown>);
          } catch {
            reject(new PeerError(`${path}: the answer is not JSON`));
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new PeerError(`${path}: timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** The record as sent: the key's current state and every material version, wrapped. Undefined when the key is gone. */
  async function wireRecord(link: ReplicationLinkRecord, o: OutboxRecord, transport: SecretBytes): Promise<WireRecord | KeyEventRecord | undefined> {
    const r = o.doc as unknown as RemoteReplicaRecord;
    if (isKeyEventKind(r.kind)) return keyEventWire({ ...r, kind: r.kind });
    const scope = { accountId: r.accountId, region: r.sourceRegion };
    // In a transaction: reads there reach the store, never the read cache, whose copy of the key may predate
    // a rotation made by another worker (and the record would then carry the old current version for good);
    // and the key and its versions are read at one point.
    const [row, materials] = await storage.transaction(async (repos) => [await repos.keys.get(scope, r.keyId), await repos.materials.list(scope, r.keyId)] as const);
    if (!row) return undefined;
    const key = keyFromRecord(row);
    const versions: WireRecord['versions'] = [];
    for (const m of materials) {
      const plain = await unsealFresh(barrier, m.sealed, materialAad(scope, r.keyId, m.version));
      try {
        const wrapped = wrapForTransport(transport, plain, materialBoxAad(link.linkId, o.seq, r.accountId, r.keyId, m.version, r.region));
        versions.push({ version: m.version, createdAt: m.createdAt, doc: m.doc, wrapped: wrapped.toString('base64') });
      } finally {
        plain.zeroize();
      }
    }
    const d = key.doc;
    return {
      accountId: r.accountId, keyId: r.keyId, sourceRegion: r.sourceRegion, region: r.region,
      ...(r.create ? { create: r.create } : {}),
      key: {
        keySpec: d.keySpec, keyUsage: d.keyUsage, origin: d.origin, currentVersion: d.currentVersion, currentKeyMaterialId: d.currentKeyMaterialId,
        multiRegionConfig: d.multiRegionConfig ?? { primaryRegion: r.sourceRegion, replicaRegions: [r.region] },
        ...(d.importedMaterial ? { importedMaterial: { ...d.importedMaterial } } : {}),
      },
      versions,
    };
  }

  /** Delivers one record; true when the peer acknowledged it, false when there was nothing left to send. */
  async function deliverOne(link: ReplicationLinkRecord, o: OutboxRecord): Promise<boolean> {
    const secret = await links.secretOf(link);
    const authKey = linkAuthKey(secret, link.linkId);
    let transport: SecretBytes | undefined;
    // Hello and deliver travel on one kept-alive connection: the peer's exchange (its ephemeral key) lives
    // in the process that answered hello, and with TRENT_WORKERS > 1 a connection stays with one worker.
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: link.caPem });
    try {
      const hello = await post(link, agent, authKey, HELLO_PATH, {});
      const exchangeId = String(hello.ExchangeId);
      const receiverPublic = Buffer.from(String(hello.PublicKey), 'base64');
      const mine = EphemeralAgreement.generate();
      transport = mine.transportKey(receiverPublic, secret, link.linkId, exchangeId, mine.publicKey, receiverPublic);
      const secretRecord = secrets && isSecretOutbox(o) ? secrets : undefined;
      const record = secretRecord ? await secretRecord.wireRecord(link, o, transport) : await wireRecord(link, o, transport);
      if (!record) return false;
      const body: DeliverRequest = {
        ExchangeId: exchangeId, SenderPublicKey: mine.publicKey.toString('base64'), Seq: o.seq,
        HeaderKey: wrapForTransport(transport, headerKey, headerKeyBoxAad(link.linkId, exchangeId, 'sender')).toString('base64'),
        Record: record,
      };
      const answer = await post(link, agent, authKey, DELIVER_PATH, body);
      if (typeof answer.LastAppliedSeq !== 'number' || answer.LastAppliedSeq < o.seq) throw new PeerError(`the peer did not acknowledge record ${o.seq}`);
      await secretRecord?.acknowledged(o, answer);
      // The peer's header key, so its replicas' ciphertexts decrypt here too.
      const peerHeader = unwrapFromTransport(transport, Buffer.from(String(answer.HeaderKey), 'base64'), headerKeyBoxAad(link.linkId, exchangeId, 'receiver'));
      const sealed = barrier.seal(peerHeader.expose(), peerHeaderKeyAad(link.linkId));
      peerHeader.zeroize();
      await storage.transaction((tx) => tx.replication.setPeerHeaderKey(link.linkId, sealed));
      return true;
    } finally {
      agent.destroy();
      secret.zeroize();
      authKey.zeroize();
      transport?.zeroize();
    }
  }

  /** One pass over every link: delivers pending records in order until one fails (then the link backs off). */
  async function runOnce(): Promise<{ delivered: number; failed: number }> {
    let delivered = 0;
    let failed = 0;
    for (const link of await storage.read((r) => r.replication.listLinks())) {
      const wait = backoff.get(link.linkId);
      if (wait && wait.until > clock.now()) continue;
      for (const o of await storage.read((r) => r.replication.pending(link.linkId, BATCH))) {
        try {
          const sent = await deliverOne(link, o);
          if (!sent) logger.warn({ link: link.name, seq: o.seq }, 'replication: the key or secret of a record no longer exists here (or could not be read); record skipped');
          await storage.transaction((tx) => tx.replication.markDelivered(link.linkId, o.seq, clock.now()));
          backoff.delete(link.linkId);
          delivered++;
        } catch (err) {
          const delayMs = Math.min(MAX_BACKOFF_MS, wait ? wait.delayMs * 2 : FIRST_BACKOFF_MS);
          backoff.set(link.linkId, { until: clock.now() + delayMs, delayMs });
          logger.warn({ link: link.name, seq: o.seq, retryInMs: delayMs, reason: err instanceof Error ? err.message : String(err) }, 'replication: delivery failed; retrying');
          failed++;
          break;
        }
      }
    }
    return { delivered, failed };
  }

  /** Forgets a link's backoff (its secret changed or it went): the next pass tries it at once. */
  function reset(linkId: string): void {
    backoff.delete(linkId);
  }

  return { runOnce, reset };
}
