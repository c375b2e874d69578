/**
 * Links to peer deployments (docs/replication.md "Linking"): `trent replication link` registers a peer, its
 * endpoint, its TLS CA, the regions it serves and the link secret both sides share. The secret is generated
 * on one side (and shown once, as a credential to paste on the other) or given; it is stored sealed under
 * the root keyring and unsealed only while a request of the link is signed, checked or a transport key derived.
 */
import type { Authorizer } from '../auth/authorizer.ts';
import type { Caller } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { AlreadyExistsException, ValidationException } from '../errors/errors.ts';
import { barrierAad, unsealFresh, type Barrier } from '../seal/barrier.ts';
import type { ReplicationLinkRecord } from '../storage/replication-repo.ts';
import { DuplicateError, type Storage } from '../storage/storage.ts';

const CREDENTIAL = /^trent-link-1\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const REGION = /^([a-z]+-){2,3}\d+$/;
/** How long the peers' ciphertext-header keys are kept in memory before they are read again. */
const HEADER_KEYS_TTL_MS = 5000;

export const linkSecretAad = (linkId: string) => barrierAad('replication/link-secret', linkId);
export const peerHeaderKeyAad = (linkId: string) => barrierAad('replication/peer-header-key', linkId);

/** The link id and secret of a credential printed by the other side (the caller zeroizes the secret). */
export function parseCredential(credential: SecretBytes): { linkId: string; secret: SecretBytes } {
  const m = CREDENTIAL.exec(credential.expose().toString('utf8'));
  if (!m) throw new ValidationException('The link credential is malformed: paste the whole line `trent replication link` printed on the other side.');
  return { linkId: m[1]!, secret: SecretBytes.adopt(Buffer.from(m[2]!, 'base64url')) };
}

/** The credential the other side pastes: link id and secret. Shown once; never stored or logged. */
export const formatCredential = (linkId: string, secret: SecretBytes): string => `trent-link-1.${linkId}.${secret.expose().toString('base64url')}`;

export interface LinkInput {
  name: string;
  endpoint: string;
  caPem: string;
  regions: string[];
  /** The credential printed by the other side; absent: generate one (returned once). */
  credential?: SecretBytes;
}

export interface LinkView {
  linkId: string;
  name: string;
  endpoint: string;
  regions: string[];
  createdAt: number;
  pending: number;
  delivered: number;
  lastAppliedSeq: number;
}

export type LinkService = ReturnType<typeof createLinkService>;

export function createLinkService(deps: {
  storage: Storage; barrier: Barrier; clock: Clock; authorizer: Authorizer;
  /** TRENT_REGIONS: a peer's regions must not overlap them; linking needs them set. */
  localRegions?: ReadonlySet<string>;
}) {
  const { storage, barrier, clock, authorizer, localRegions } = deps;
  let headerKeys: { at: number; keys: SecretBytes[] } | undefined;

  function validate(input: LinkInput): void {
    if (!NAME.test(input.name)) throw new ValidationException('The link name must be 1 to 64 letters, digits, hyphens or underscores.');
    let url: URL;
    try {
      url = new URL(input.endpoint);
    } catch {
      throw new ValidationException('The peer endpoint must be an https:// URL.');
    }
    if (url.protocol !== 'https:' || url.pathname !== '/' || url.search !== '' || url.username !== '') {
      throw new ValidationException('The peer endpoint must be an https:// URL with no path, query or user.');
    }
    if (!input.caPem.includes('-----BEGIN CERTIFICATE-----')) throw new ValidationException('The peer CA bundle must hold PEM certificates.');
    if (!localRegions) throw new ValidationException('Linking a peer needs TRENT_REGIONS: the regions this deployment serves, which the peer must not serve.');
    if (input.regions.length === 0 || input.regions.length > 32 || !input.regions.every((r) => REGION.test(r))) {
      throw new ValidationException('The peer regions must be 1 to 32 region names.');
    }
    const overlap = input.regions.filter((r) => localRegions.has(r));
    if (overlap.length > 0) throw new ValidationException(`The peer's regions must not overlap this deployment's: ${overlap.join(', ')}.`);
  }

  /** Registers a peer (`trent:LinkReplicationPeer`). Returns the credential when this side generated it. */
  async function link(caller: Caller, input: LinkInput): Promise<{ view: LinkView; credential?: string }> {
    await authorizer.authorize(caller, 'trent:LinkReplicationPeer');
    validate(input);
    const given = input.credential ? parseCredential(input.credential) : undefined;
    const linkId = given?.linkId ?? randomBytesBuffer(16).toString('hex');
    const secret = given?.secret ?? SecretBytes.adopt(randomBytesBuffer(32));
    try {
      const record: ReplicationLinkRecord = {
        linkId, name: input.name, endpoint: input.endpoint.replace(/\/$/, ''), caPem: input.caPem, regions: [...input.regions],
        sealedSecret: barrier.seal(secret.expose(), linkSecretAad(linkId)), sealedPeerHeaderKey: null,
        createdAt: clock.now(), lastSeq: 0, lastAppliedSeq: 0,
      };
      await storage.transaction(async (tx) => {
        for (const other of await tx.replication.listLinks()) {
          const shared = other.regions.filter((r) => input.regions.includes(r));
          if (shared.length > 0) throw new ValidationException(`Link ${other.name} already serves ${shared.join(', ')}.`);
        }
        try {
          await tx.replication.insertLink(record);
        } catch (err) {
          if (err instanceof DuplicateError) throw new AlreadyExistsException(`A link named ${input.name} or with this credential already exists.`);
          throw err;
        }
      });
      const view = viewOf(record, { pending: 0, delivered: 0 });
      // Shown once: the other side pastes it; only the sealed secret is stored.
      return given ? { view } : { view, credential: formatCredential(linkId, secret) };
    } finally {
      secret.zeroize();
      input.credential?.zeroize();
    }
  }

  function viewOf(l: ReplicationLinkRecord, counts: { pending: number; delivered: number }): LinkView {
    return { linkId: l.linkId, name: l.name, endpoint: l.endpoint, regions: l.regions, createdAt: l.createdAt, lastAppliedSeq: l.lastAppliedSeq, ...counts };
  }

  /** Every link with its outbox counts (`trent:ListReplicationPeers`). */
  async function list(caller: Caller): Promise<LinkView[]> {
    await authorizer.authorize(caller, 'trent:ListReplicationPeers');
    return storage.read(async (r) => {
      const out: LinkView[] = [];
      for (const l of await r.replication.listLinks()) out.push(viewOf(l, await r.replication.counts(l.linkId)));
      return out;
    });
  }

  /** The link secret, unsealed for the caller (who zeroizes it). */
  function secretOf(l: ReplicationLinkRecord): Promise<SecretBytes> {
    return unsealFresh(barrier, l.sealedSecret, linkSecretAad(l.linkId));
  }

  /**
   * The ciphertext-header keys of the linked peers (sent over the link, sealed here), so a ciphertext made
   * by a peer's copy of a multi-Region key decrypts here. Read again at most every few seconds.
   */
  async function peerHeaderKeys(): Promise<readonly SecretBytes[]> {
    if (headerKeys && clock.now() - headerKeys.at < HEADER_KEYS_TTL_MS) return headerKeys.keys;
    const links = await storage.read((r) => r.replication.listLinks());
    const keys: SecretBytes[] = [];
    for (const l of links) if (l.sealedPeerHeaderKey) keys.push(await unsealFresh(barrier, l.sealedPeerHeaderKey, peerHeaderKeyAad(l.linkId)));
    const old = headerKeys;
    headerKeys = { at: clock.now(), keys };
    // Not zeroed at once: a decryption may still be comparing with them; dropped with the generation.
    if (old) setTimeout(() => old.keys.forEach((k) => k.zeroize()), 1000).unref();
    return keys;
  }

  /** Drops the cached header keys (a link was removed): read again at the next Decrypt. */
  function invalidate(): void {
    const old = headerKeys;
    headerKeys = undefined;
    if (old) setTimeout(() => old.keys.forEach((k) => k.zeroize()), 1000).unref();
  }

  function forget(): void {
    headerKeys?.keys.forEach((k) => k.zeroize());
    headerKeys = undefined;
  }

  return { link, list, secretOf, peerHeaderKeys, invalidate, forget };
}
