/**
 * Changes to an existing link (docs/replication.md "Unlinking and rotating the link secret"):
 *
 * - UnlinkPeer (`trent:UnlinkReplicationPeer`): removes this side's link row and its outbox. Refused
 *   (ConflictException) while records are pending or a multi-Region key here has a copy in the peer's
 *   regions, unless forced: a forced unlink drops the pending records (the peer never receives them) and
 *   leaves the copies as they are, no longer kept in step.
 * - RotatePeerCredential (`trent:RotateReplicationPeerCredential`): replaces the sealed link secret; the
 *   link id, outbox and sequence numbers stay, so no record is lost. As with linking, one side generates the
 *   new credential (printed once) and the other is given it; until both have it, deliveries either way are
 *   refused and wait in the outboxes, then go through.
 */
import type { Authorizer } from '../auth/authorizer.ts';
import type { Caller } from '../auth/caller.ts';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { SecretBytes } from '../crypto/secret-bytes.ts';
import { ConflictException, NotFoundException, ValidationException } from '../errors/errors.ts';
import { keyFromRecord, relatedRegionsOf } from '../kms/key-model.ts';
import type { Barrier } from '../seal/barrier.ts';
import type { ReplicationLinkRecord } from '../storage/replication-repo.ts';
import type { Storage } from '../storage/storage.ts';
import { formatCredential, linkSecretAad, parseCredential } from './links.ts';

/** Keys read per page while looking for copies in a peer's regions. */
const PAGE = 500;

export type LinkChanges = ReturnType<typeof createLinkChanges>;

export function createLinkChanges(deps: {
  storage: Storage; barrier: Barrier; authorizer: Authorizer;
  /** The account whose keys are looked at for copies in the peer's regions (TRENT_ACCOUNT_ID). */
  accountId: string;
  /** TRENT_REGIONS: where this deployment's copies live. */
  localRegions?: ReadonlySet<string>;
  /** Told after a link's secret changed or the link went (the sender drops its backoff, the header keys are read again). */
  onChange?: (linkId: string) => void;
}) {
  const { storage, barrier, authorizer, accountId, localRegions, onChange } = deps;

  async function byName(name: string): Promise<ReplicationLinkRecord> {
    const link = (await storage.read((r) => r.replication.listLinks())).find((l) => l.name === name);
    if (!link) throw new NotFoundException(`No link named ${name}.`);
    return link;
  }

  /** How many keys here have a copy in one of `regions` (a replica there, or their primary there). */
  async function copiesIn(regions: readonly string[]): Promise<number> {
    let n = 0;
    for (const region of localRegions ?? []) {
      let after: string | undefined;
      do {
        const page = await storage.read((r) => r.keys.list({ accountId, region }, after, PAGE));
        for (const record of page.items) {
          const key = keyFromRecord(record);
          if (relatedRegionsOf(key).some((r) => regions.includes(r))) n++;
        }
        after = page.next;
      } while (after !== undefined);
    }
    return n;
  }

  async function unlink(caller: Caller, input: { name: string; force: boolean }): Promise<{ linkId: string; droppedRecords: number; copies: number }> {
    await authorizer.authorize(caller, 'trent:UnlinkReplicationPeer');
    const link = await byName(input.name);
    const copies = await copiesIn(link.regions);
    const droppedRecords = await storage.transaction(async (tx) => {
      // Deleted first, then judged: the refusal rolls the deletion back, and no append can slip in between.
      const pending = await tx.replication.deleteLink(link.linkId);
      if (pending === undefined) throw new NotFoundException(`No link named ${input.name}.`);
      if (!input.force && (pending > 0 || copies > 0)) {
        throw new ConflictException(
          `Link ${link.name} has ${pending} pending record(s) and ${copies} multi-Region key(s) with a copy in its regions; `
          + 'wait for the records, delete the copies, or unlink with Force (the records are dropped, the copies stay as they are).',
        );
      }
      return pending;
    });
    onChange?.(link.linkId);
    return { linkId: link.linkId, droppedRecords, copies };
  }

  /** Returns the new credential when this side generated it (shown once). */
  async function rotateCredential(caller: Caller, input: { name: string; credential?: SecretBytes }): Promise<{ linkId: string; credential?: string }> {
    await authorizer.authorize(caller, 'trent:RotateReplicationPeerCredential');
    try {
      const link = await byName(input.name);
      const given = input.credential ? parseCredential(input.credential) : undefined;
      const secret = given?.secret ?? SecretBytes.adopt(randomBytesBuffer(32));
      try {
        if (given && given.linkId !== link.linkId) throw new ValidationException(`The credential is for another link than ${link.name}.`);
        const sealed = barrier.seal(secret.expose(), linkSecretAad(link.linkId));
        const done = await storage.transaction((tx) => tx.replication.setLinkSecret(link.linkId, sealed));
        if (!done) throw new NotFoundException(`No link named ${input.name}.`);
        onChange?.(link.linkId);
        return given ? { linkId: link.linkId } : { linkId: link.linkId, credential: formatCredential(link.linkId, secret) };
      } finally {
        secret.zeroize();
      }
    } finally {
      input.credential?.zeroize();
    }
  }

  return { unlink, rotateCredential };
}
