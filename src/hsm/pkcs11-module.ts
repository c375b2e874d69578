/**
 * One loaded PKCS#11 library per module path per process. A Cryptoki library has process-wide state
 * (C_Initialize/C_Finalize, login state per token), so every Hsm on the same path shares one instance,
 * and the library is never finalised while another Hsm uses it.
 *
 * This directory is the only importer of the binding (pkcs11js); nothing outside src/hsm/ sees a
 * handle or a CKR_ code.
 */
import { createRequire } from 'node:module';
import type * as Pkcs11Types from 'pkcs11js';
import { constantTimeEqual, sha256 } from '../crypto/primitives.ts';
import { HsmError } from '../errors/errors.ts';

// pkcs11js is CommonJS with a native addon; createRequire keeps the ESM build simple.
const require = createRequire(import.meta.url);
export const pkcs11: typeof Pkcs11Types = require('pkcs11js');

export type Pkcs11 = Pkcs11Types.PKCS11;
export type Handle = Pkcs11Types.Handle;

interface LoadedModule {
  lib: Pkcs11;
  users: number;
  /**
   * Token label → SHA-256 of the PIN that logged this process in. PKCS#11 login state is per token
   * and process, so a second login answers CKR_USER_ALREADY_LOGGED_IN whatever PIN it carries; this
   * lets a second user of the same token be refused when its PIN is not the one that logged in.
   */
  logins: Map<string, Buffer>;
}

const loaded = new Map<string, LoadedModule>();

/** The PKCS#11 return value of a binding error, or undefined for any other error. */
export function ckr(err: unknown): number | undefined {
  if (err instanceof pkcs11.Pkcs11Error) return err.code;
  return undefined;
}

/**
 * C_Initialize, tolerating a library that is already initialised (by another user of the same path in
 * this process, or after a finalize/re-initialize behind our back).
 */
export function initialize(lib: Pkcs11): void {
  try {
    // CKF_OS_LOCKING_OK: the library may be entered from several threads (another user of the module
    // may call the binding's threaded forms); without it SoftHSM2 runs without locks.
    lib.C_Initialize({ flags: pkcs11.CKF_OS_LOCKING_OK });
  } catch (err) {
    if (ckr(err) !== pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw err;
  }
}

/** Loads and initialises the library at `modulePath` once; every acquire needs one release. */
export function acquireModule(modulePath: string): Pkcs11 {
  const existing = loaded.get(modulePath);
  if (existing) {
    existing.users++;
    return existing.lib;
  }
  const lib = new pkcs11.PKCS11();
  try {
    lib.load(modulePath);
    initialize(lib);
  } catch (err) {
    throw new HsmError('MODULE_UNAVAILABLE', `The PKCS#11 module ${modulePath} could not be loaded: ${describe(err)}`);
  }
  loaded.set(modulePath, { lib, users: 1, logins: new Map() });
  return lib;
}

/** Records that `pin` logged the process in to the token `tokenLabel` of `modulePath`. */
export function rememberLogin(modulePath: string, tokenLabel: string, pin: Uint8Array): void {
  loaded.get(modulePath)?.logins.set(tokenLabel, sha256(pin));
}

/**
 * For a login answered CKR_USER_ALREADY_LOGGED_IN: false when this process logged in with a different
 * PIN (compared in constant time); true when it matches or the login was not ours to know.
 */
export function sameLoginPin(modulePath: string, tokenLabel: string, pin: Uint8Array): boolean {
  const known = loaded.get(modulePath)?.logins.get(tokenLabel);
  return known === undefined || constantTimeEqual(known, sha256(pin));
}

/** Drops one user; the last one finalises the library so a later acquire starts clean. */
export function releaseModule(modulePath: string): void {
  const entry = loaded.get(modulePath);
  if (!entry) return;
  entry.users--;
  if (entry.users > 0) return;
  loaded.delete(modulePath);
  try {
    entry.lib.C_Finalize();
  } catch {
    // Already finalised (e.g. by a token restart): nothing left to release.
  }
}

/** A short description of a binding error for logs and messages (a CKR_ name, never data). */
export function describe(err: unknown): string {
  if (err instanceof pkcs11.Pkcs11Error) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
