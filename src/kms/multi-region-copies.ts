/**
 * The copies of one multi-Region key, as every writer of several of them handles them (multi-region.ts
 * within one deployment, multi-region-remote.ts across linked ones): located, locked in config order, written
 * with compare-and-set.
 */
import { ConflictException, NotFoundException, UnsupportedOperationException } from '../errors/errors.ts';
import type { Repos, Scope } from '../storage/storage.ts';
import { keyFromRecord, multiRegionConfigOf, multiRegionKeyTypeOf, recordFromKey, type Key, type KeyDoc } from './key-model.ts';

export const scopeIn = (key: Key, region: string): Scope => ({ accountId: key.scope.accountId, region });

/** AWS (recorded: test_replicate_replica_key_should_fail): only a multi-Region primary key is replicated or re-homed. */
export function requirePrimary(key: Key): void {
  if (multiRegionKeyTypeOf(key) !== 'PRIMARY') throw new UnsupportedOperationException(`${key.arn} is not a multi-region primary key.`);
}

/**
 * Every copy of `key`'s multi-Region key, held for update until the transaction ends, in config order
 * (primary first). The copy in `key`'s own region is read again: the caller's `key` may be stale.
 */
export async function lockCopies(tx: Repos, key: Key): Promise<Key[]> {
  const self = await tx.keys.getForUpdate(key.scope, key.keyId);
  if (!self) throw new NotFoundException(`Key '${key.arn}' does not exist`);
  const fresh = keyFromRecord(self);
  const c = multiRegionConfigOf(fresh);
  const copies: Key[] = [];
  for (const region of [c.primaryRegion, ...c.replicaRegions]) {
    if (region === key.scope.region) {
      copies.push(fresh);
      continue;
    }
    const r = await tx.keys.getForUpdate(scopeIn(key, region), key.keyId);
    if (r) copies.push(keyFromRecord(r));
  }
  return copies;
}

/**
 * lockCopies for a change only a primary may make (ReplicateKey, UpdatePrimaryRegion): every copy, and the
 * caller's copy as it is now, refused unless it is still the primary (another request may have moved it).
 */
export async function lockCopiesOfPrimary(tx: Repos, primary: Key): Promise<{ copies: Key[]; current: Key }> {
  const copies = await lockCopies(tx, primary);
  const current = copies.find((c) => c.scope.region === primary.scope.region)!;
  requirePrimary(current);
  return { copies, current };
}

/** Writes `doc(copy)` into each copy with compare-and-set (the rows are locked, so a lost race is a bug or another node). */
export async function writeCopies(tx: Repos, copies: readonly Key[], doc: (copy: Key) => KeyDoc): Promise<void> {
  for (const copy of copies) {
    if (!(await tx.keys.update(recordFromKey({ ...copy, doc: doc(copy) }), copy.revision))) {
      throw new ConflictException(`${copy.arn} is being changed by another request. Retry.`);
    }
  }
}
