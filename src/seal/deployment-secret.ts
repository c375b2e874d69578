/**
 * Deployment-wide secrets (e.g. the key that authenticates ciphertext headers): 32 random bytes
 * created by the first node, stored sealed under the root key, shared by every node of the deployment.
 * Stored sealed, they survive a root-key rotation by re-wrapping like any other sealed value.
 */
import { randomBytesBuffer } from '../crypto/primitives.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import type { Storage } from '../storage/storage.ts';
import { barrierAad, type Barrier } from './barrier.ts';

export async function loadDeploymentSecret(storage: Storage, barrier: Barrier, name: string): Promise<SecretBytes> {
  const aad = barrierAad('seal/deployment-secret', name);
  const fresh = randomBytesBuffer(32);
  const candidate = barrier.seal(fresh, aad).toString('base64');
  fresh.fill(0);
  const stored = await storage.transaction((tx) => tx.meta.putIfAbsent(`secret:${name}`, candidate));
  return barrier.unseal(Buffer.from(stored, 'base64'), aad);
}
