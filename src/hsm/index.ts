/**
 * The HSM adapter's public face: import from here (src/hsm/index.ts), not from the files behind it.
 * `openHsm` opens a PKCS#11 token by module path + token label and logs in with the user PIN.
 */
export type { Hsm, HsmKeyAttributes, HsmOptions } from './hsm.ts';
export { HSM_GCM_IV_BYTES, HSM_GCM_OVERHEAD, HSM_GCM_TAG_BYTES } from './hsm.ts';
export { openPkcs11Hsm as openHsm } from './pkcs11-hsm.ts';
export { isSessionFailure, reportingHealth, type HsmHealthReport } from './health.ts';
