/**
 * Proves at start-up that the node's root key is the one the database was sealed with: the first node
 * to start writes a sealed check value, every later start must open it. A node with another root key
 * refuses to start instead of failing on every request (or, worse, sealing new keys under a second root).
 */
import { randomBytesBuffer } from '../crypto/primitives.ts';
import type { Storage } from '../storage/storage.ts';
import { barrierAad, BarrierOpenError, type Barrier } from './barrier.ts';

const NAME = 'root-key-check';
const AAD = barrierAad('seal/root-key-check');

export class RootKeyMismatchError extends Error {}

export async function checkRootKey(storage: Storage, barrier: Barrier): Promise<'created' | 'matched'> {
  const candidate = barrier.seal(randomBytesBuffer(32), AAD).toString('base64');
  const stored = await storage.transaction((tx) => tx.meta.putIfAbsent(NAME, candidate));
  if (stored === candidate) return 'created';
  try {
    barrier.unseal(Buffer.from(stored, 'base64'), AAD).zeroize();
    return 'matched';
  } catch (err) {
    if (err instanceof BarrierOpenError) {
      throw new RootKeyMismatchError(
        'the root key does not match the one this database was sealed with; start this node with the same root key as the others (TRENT_ROOT_KEY or root.key in the data directory)',
      );
    }
    throw err;
  }
}
