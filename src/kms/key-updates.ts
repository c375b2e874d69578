/**
 * Changes to a key's metadata that leave its state alone: tags and description, and the bookkeeping
 * writes of alias operations that must see the key in a given state. State changes go through the
 * lifecycle and its transition table instead (key-lifecycle.ts, key-states.ts).
 *
 * Concurrency: every change reads the key inside one transaction and writes it back with
 * compare-and-set on its revision (storage.ts). A writer that loses the race rolls back everything it
 * wrote in that transaction and starts again from a fresh read, a bounded number of times, so two
 * concurrent TagResource calls on one key never lose each other's tags, on one node or several.
 */
import { type ContextValue, requestTagKeys } from '../policy/index.ts';
import type { Caller } from '../auth/caller.ts';
import { ConflictException, InvalidMarkerException, KMSInvalidStateException, NotFoundException } from '../errors/errors.ts';
import type { KeyRecord, Repos, Scope, Storage } from '../storage/storage.ts';
import { keyArn } from './arn.ts';
import { keyFromRecord, recordFromKey, type Key, type KeyDoc, type Tag } from './key-model.ts';
import type { KeyService } from './key-service.ts';
import type { PaginationMarkers } from './markers.ts';
import { mergeTags } from './tags.ts';

/** How many times a change is tried when other writers keep committing first. */
export const KEY_UPDATE_ATTEMPTS = 8;

/** Thrown inside the transaction to roll it back when the compare-and-set finds a newer revision. */
class LostRace extends Error {}

/**
 * Reads key `keyId` of `scope` inside a transaction, lets `mutate` compute its new document (and make
 * other writes through `tx`, which commit with the key or not at all), and stores the document with
 * compare-and-set. On a lost race the whole transaction is rolled back and `mutate` runs again on the
 * fresh key, so it must not have effects outside `tx`. `mutate` gets a private copy of the document.
 *
 * Returning the document unchanged still bumps the revision: that serialises this transaction with
 * every other writer of the key (CreateAlias against the key's deletion, which removes its aliases).
 *
 * The key's state must not change here unless `allowStateChange` is set (the lifecycle sets it, having
 * checked the change against the transition table). Throws NotFoundException if the key does
 * not exist (any more), ConflictException after KEY_UPDATE_ATTEMPTS lost races, and whatever `mutate`
 * throws (after rolling back).
 */
export async function updateKeyDoc(
  storage: Storage,
  scope: Scope,
  keyId: string,
  mutate: (key: Key, tx: Repos) => KeyDoc | Promise<KeyDoc>,
  options: { allowStateChange?: boolean } = {},
): Promise<Key> {
  for (let attempt = 1; attempt <= KEY_UPDATE_ATTEMPTS; attempt++) {
    try {
      return await storage.transaction(async (tx) => {
        // Held until the transaction ends, so concurrent updates of one key queue instead of colliding.
        const record = await tx.keys.getForUpdate(scope, keyId);
        if (!record) throw new NotFoundException(`Key '${keyArn(scope, keyId)}' does not exist`);
        const key = keyFromRecord({ ...record, doc: structuredClone(record.doc) });
        const doc = await mutate(key, tx);
        if (doc.state !== record.state && !options.allowStateChange) throw new Error('updateKeyDoc must not change the key state');
        // recordFromKey recomputes the denormalised state and due date from the document.
        const next: KeyRecord = recordFromKey({ ...key, doc });
        if (!(await tx.keys.update(next, record.revision))) throw new LostRace();
        return { ...key, revision: record.revision + 1, doc };
      });
    } catch (err) {
      if (!(err instanceof LostRace)) throw err;
    }
    // Where transactions really run in parallel (PostgreSQL, several nodes) writers that retry at once
    // keep colliding; a short random pause (full jitter, 1, 2, 4 … 64 ms) spreads them out.
    if (attempt < KEY_UPDATE_ATTEMPTS) await new Promise((r) => setTimeout(r, Math.random() * 2 ** Math.min(attempt - 1, 6)));
  }
  throw new ConflictException(`${keyArn(scope, keyId)} is being changed by another request. Retry.`);
}

/** AWS key-state table: TagResource, UntagResource, UpdateKeyDescription, CreateAlias and UpdateAlias
 * (on the new key) fail on a key pending deletion — footnote 3, "KMSInvalidStateException: <ARN> is
 * pending deletion." Every other state is allowed. */
export function requireNotPendingDeletion(key: Key): void {
  if (key.doc.state === 'PendingDeletion') throw new KMSInvalidStateException(`${key.arn} is pending deletion.`);
}

/** AWS: TagResource, UntagResource, ListResourceTags and UpdateKeyDescription take a key id or key ARN, never an alias. */
const KEY_MANAGEMENT = { allowAlias: false } as const;

const TAGS_MARKER = 'ListResourceTags';

export interface KeyUpdateDeps {
  storage: Storage;
  keys: KeyService;
  /** Authenticates pagination markers (markers.ts). */
  markers: PaginationMarkers;
}

export type KeyUpdateService = ReturnType<typeof createKeyUpdateService>;

export function createKeyUpdateService({ storage, keys, markers }: KeyUpdateDeps) {
  const resolve = (caller: Caller, keyId: string, action: string, contextKeys?: Record<string, ContextValue>) =>
    keys.resolveKey(caller, keyId, { ...KEY_MANAGEMENT, action, ...(contextKeys ? { contextKeys } : {}) });

  /** AWS: TagResource — adds tags, replacing the value of a key already present; 50 tags at most in all. */
  async function tagResource(caller: Caller, keyId: string, tags: Tag[]): Promise<void> {
    const key = await resolve(caller, keyId, 'TagResource', requestTagKeys(tags.map((t) => [t.TagKey, t.TagValue])));
    await updateKeyDoc(storage, key.scope, key.keyId, (k) => {
      requireNotPendingDeletion(k);
      return { ...k.doc, tags: mergeTags(k.doc.tags, tags) };
    });
  }

  /** AWS: UntagResource — removes the named tags; a name the key does not carry is not an error. */
  async function untagResource(caller: Caller, keyId: string, tagKeys: string[]): Promise<void> {
    const key = await resolve(caller, keyId, 'UntagResource', tagKeys.length > 0 ? { 'aws:TagKeys': tagKeys } : {});
    const removed = new Set(tagKeys);
    await updateKeyDoc(storage, key.scope, key.keyId, (k) => {
      requireNotPendingDeletion(k);
      return { ...k.doc, tags: k.doc.tags.filter((t) => !removed.has(t.TagKey)) };
    });
  }

  /**
   * AWS: ListResourceTags — tags in the order they were first added (a replaced value keeps its place,
   * as recorded against AWS). The marker names the key and the position to resume at, so a marker for
   * another key is refused.
   */
  async function listResourceTags(
    caller: Caller,
    keyId: string,
    limit: number,
    marker: string | undefined,
  ): Promise<{ tags: Tag[]; nextMarker?: string }> {
    const key = await resolve(caller, keyId, 'ListResourceTags');
    let start = 0;
    const after = markers.decode(TAGS_MARKER, marker);
    if (after !== undefined) {
      const m = /^(\d{1,4}):(.+)$/.exec(after);
      if (!m || m[2] !== key.keyId) throw new InvalidMarkerException('Invalid marker');
      start = Number(m[1]);
    }
    const tags = key.doc.tags.slice(start, start + limit);
    const end = start + tags.length;
    return {
      tags,
      ...(end < key.doc.tags.length ? { nextMarker: markers.encode(TAGS_MARKER, `${end}:${key.keyId}`) } : {}),
    };
  }

  /** AWS: UpdateKeyDescription. */
  async function updateKeyDescription(caller: Caller, keyId: string, description: string): Promise<void> {
    const key = await resolve(caller, keyId, 'UpdateKeyDescription');
    await updateKeyDoc(storage, key.scope, key.keyId, (k) => {
      requireNotPendingDeletion(k);
      return { ...k.doc, description };
    });
  }

  return { tagResource, untagResource, listResourceTags, updateKeyDescription };
}
