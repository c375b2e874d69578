/**
 * Where a symmetric key's material lives and is used. The key service picks the custody by origin in
 * one table (custodyOf) instead of asking about the origin in every operation:
 * - AWS_KMS: the material is sealed in storage and used in memory (key-specs/symmetric.ts);
 * - AWS_CLOUDHSM: the material is a non-extractable AES-256 key in the custom key store's HSM, named by
 *   the KMS key id, and every encryption runs in the HSM (AES-GCM, IV inside the box).
 *
 * Both bind the same AAD (ciphertext header ‖ canonical encryption context), so the ciphertext format,
 * Decrypt without KeyId and the encryption-context checks are the same for both.
 */
import { HsmError, KMSInvalidStateException, TrentError } from '../errors/errors.ts';
import type { Hsm } from '../hsm/hsm.ts';
import type { CustomKeyStoreService } from './custom-key-stores.ts';
import type { Key } from './key-model.ts';

export interface KeyCustody {
  /** Encrypts under material `version` of `key`; `salt` is the header's (used by software custody). */
  encrypt(key: Key, version: number, salt: Buffer, aad: Buffer, plaintext: Uint8Array): Promise<Buffer>;
  /** The plaintext (zero it when done); InvalidCiphertextException when the box does not open. */
  decrypt(key: Key, version: number, salt: Buffer, aad: Buffer, box: Buffer): Promise<Buffer>;
  /** After the key's rows are deleted (the deletion job): destroys what the custody holds outside storage. */
  destroy(key: Key): Promise<void>;
}

/**
 * AWS: a key in a custom key store that is not connected is unusable (key state Unavailable);
 * KMSInvalidStateException "<arn> is unavailable." — the key-state table's wording (not recorded).
 */
function unavailable(key: Key): TrentError {
  return new KMSInvalidStateException(`${key.arn} is unavailable.`);
}

export function hsmKeyCustody(stores: CustomKeyStoreService): KeyCustody & {
  /** Generates the key's AES-256 key inside the store's HSM; the store must be CONNECTED. */
  generate(key: Key, storeId: string): Promise<{ clusterId: string; hsm: Hsm }>;
} {
  async function hsmFor(key: Key): Promise<Hsm> {
    const storeId = key.doc.customKeyStoreId;
    if (storeId === undefined) throw unavailable(key);
    const { hsm } = await stores.hsmOf(key.scope, storeId);
    if (!hsm) throw unavailable(key);
    return hsm;
  }

  return {
    async generate(key, storeId) {
      const { store, hsm } = await stores.requireConnected(key.scope, storeId);
      await hsm.createAesKey(key.keyId);
      return { clusterId: store.clusterId, hsm };
    },
    async encrypt(key, _version, _salt, aad, plaintext) {
      return (await hsmFor(key)).encrypt(key.keyId, plaintext, aad);
    },
    async decrypt(key, _version, _salt, aad, box) {
      return (await hsmFor(key)).decrypt(key.keyId, box, aad);
    },
    /**
     * AWS: when a key in a disconnected CloudHSM key store is deleted, its material stays in the cluster.
     * Here too: the HSM object is destroyed when the store is reachable, otherwise it is left (and
     * reported to the caller, which logs it) for the operator to remove.
     */
    async destroy(key) {
      const storeId = key.doc.customKeyStoreId;
      if (storeId === undefined) return;
      let hsm: Hsm | undefined;
      try {
        hsm = (await stores.hsmOf(key.scope, storeId)).hsm;
      } catch (err) {
        // The store itself is gone (it cannot be deleted while it holds keys, but a row may be missing).
        throw new HsmError('KEY_NOT_FOUND', `The HSM key ${key.keyId} was not destroyed: ${(err as Error).message || 'custom key store not found'}`);
      }
      if (!hsm) throw new HsmError('DEVICE_ERROR', `The HSM key ${key.keyId} was not destroyed: custom key store ${storeId} is not connected.`);
      await hsm.destroyKey(key.keyId);
    },
  };
}
