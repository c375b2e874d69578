/**
 * HSM auto-unseal (TRENT_SEAL=pkcs11): a non-extractable AES-256 key in the token (generated there on
 * first init, addressed by its label) wraps the unseal key with AES-GCM. Only the wrapped blob is stored
 * (in the keyring row); at start the token unwraps it and the node unseals itself. The token is opened
 * lazily, so a node whose HSM is unreachable still starts — sealed, and recoverable with the shares.
 */
import { SecretBytes } from '../crypto/secret-bytes.ts';
import type { Hsm } from '../hsm/index.ts';
import { barrierAad } from './barrier.ts';
import type { UnsealKeyWrapper } from './seal-manager.ts';

const AAD = barrierAad('seal/hsm-wrapped-unseal-key', 1);

export interface HsmUnsealKeyWrapper extends UnsealKeyWrapper {
  /** The token, opened on first use (the audit digest key lives there too: src/audit/digest-key.ts). */
  token(): Promise<Hsm>;
  /** Closes the token session if one was opened. */
  close(): Promise<void>;
}

export function createHsmUnsealKeyWrapper(deps: { open: () => Promise<Hsm>; keyLabel: string }): HsmUnsealKeyWrapper {
  let hsm: Promise<Hsm> | undefined;
  const token = () => {
    // A failed open is forgotten so the next attempt (e.g. the next start or init) tries again.
    hsm ??= deps.open().catch((err: unknown) => {
      hsm = undefined;
      throw err;
    });
    return hsm;
  };
  return {
    token,
    async wrap(unsealKey) {
      const h = await token();
      await h.findOrCreateAesKey(deps.keyLabel);
      return h.encrypt(deps.keyLabel, unsealKey.expose(), AAD);
    },
    async unwrap(wrapped) {
      const h = await token();
      return SecretBytes.adopt(await h.decrypt(deps.keyLabel, wrapped, AAD));
    },
    async close() {
      const h = hsm;
      hsm = undefined;
      if (h) await (await h.catch(() => undefined))?.close();
    },
  };
}
