/**
 * HSM session health for GET /metrics (trent_hsm_healthy): a decorator that reports, after every call to
 * the token, whether the token answered. A call that fails with a session-level HsmError (the module,
 * token, login or device is gone, even after the adapter reopened its sessions) reports unhealthy; any
 * other outcome — success, an unknown key, a refused decryption — means the token answered, so healthy.
 * The report goes to a sink the composition root wires (this module knows nothing of Prometheus).
 */
import { HsmError, type HsmFailure } from '../errors/errors.ts';
import type { Hsm } from './hsm.ts';

/** Told the health seen by each call (true: the token answered). Must not throw. */
export type HsmHealthReport = (healthy: boolean) => void;

/** The failures that say the token (not the request) is in trouble. */
const SESSION_FAILURES: ReadonlySet<HsmFailure> = new Set(['MODULE_UNAVAILABLE', 'TOKEN_NOT_FOUND', 'INVALID_CREDENTIALS', 'PIN_LOCKED', 'DEVICE_ERROR']);

/** True when `err` (from opening or using a token) says the token cannot be used. */
export function isSessionFailure(err: unknown): boolean {
  return err instanceof HsmError && SESSION_FAILURES.has(err.failure);
}

/** `hsm`, reporting its health on every call (close() excepted). The token has just been opened: healthy. */
export function reportingHealth(hsm: Hsm, report: HsmHealthReport): Hsm {
  report(true);
  const watch = <A extends unknown[], R>(call: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    try {
      const result = await call(...args);
      report(true);
      return result;
    } catch (err) {
      report(!isSessionFailure(err));
      throw err;
    }
  };
  return {
    get modulePath() {
      return hsm.modulePath;
    },
    get tokenLabel() {
      return hsm.tokenLabel;
    },
    findOrCreateAesKey: watch((name) => hsm.findOrCreateAesKey(name)),
    createAesKey: watch((name) => hsm.createAesKey(name)),
    hasKey: watch((name) => hsm.hasKey(name)),
    destroyKey: watch((name) => hsm.destroyKey(name)),
    encrypt: watch((keyName, plaintext, aad) => hsm.encrypt(keyName, plaintext, aad)),
    decrypt: watch((keyName, blob, aad) => hsm.decrypt(keyName, blob, aad)),
    findOrCreateEcSigningKey: watch((name) => hsm.findOrCreateEcSigningKey(name)),
    signEcdsaP256Sha256: watch((keyName, message) => hsm.signEcdsaP256Sha256(keyName, message)),
    randomBytes: watch((n) => hsm.randomBytes(n)),
    keyAttributes: watch((keyName, kind) => hsm.keyAttributes(keyName, kind)),
    close: () => hsm.close(),
  };
}
