/**
 * The key that signs audit digests: ECDSA P-256 / SHA-256 (DER signatures). Created once per deployment.
 *
 * Custody: under TRENT_SEAL=pkcs11 the key pair is generated in the HSM token and every digest is signed
 * there (the private key is sensitive and never extractable); otherwise the private key is stored sealed
 * under the root key. Either way the public key is stored in the clear (one meta value written with
 * putIfAbsent, so racing nodes agree on one key) for `trent audit public-key`; auditors pin the key
 * printed when it was created, never the stored one. A deployment whose key predates HSM custody keeps
 * it (changing it would break every auditor's pin).
 */
import { ecdsaSign, ecdsaVerify, ecGenerateKeyPair, ecPrivateKey, ecPublicKey } from '../crypto/ecc.ts';
import { sha256 } from '../crypto/primitives.ts';
import type { Hsm } from '../hsm/index.ts';
import { barrierAad, type Barrier } from '../seal/barrier.ts';
import type { Repos, Storage } from '../storage/storage.ts';

export const DIGEST_KEY_META = 'audit:digest-signing-key';
const AAD = barrierAad('audit/digest-signing-key', 1);

type StoredKey =
  | { sealedPrivateKeyPkcs8: string; publicKeySpki: string; custody?: undefined }
  | { custody: 'hsm'; keyLabel: string; publicKeySpki: string };

/** Where the key lives under HSM custody: the token (opened lazily by the seal) and the key's label in it. */
export interface DigestKeyCustody {
  token(): Promise<Hsm>;
  readonly keyLabel: string;
}

export interface DigestSigner {
  readonly publicKeySpki: Buffer;
  /** Hex SHA-256 of the SPKI: names the key in digests; the fingerprint an auditor pins. */
  readonly fingerprint: string;
  sign(statement: string): string | Promise<string>;
}

/** Hex SHA-256 of a DER SPKI. */
export function keyFingerprint(spki: Buffer): string {
  return sha256(spki).toString('hex');
}

/**
 * Loads the deployment's digest key, creating it on first use (`created`: print it then, once). With
 * `custody`, a new key is made in the HSM and signs there; `custody` on the result says where it is.
 */
export async function loadDigestSigner(storage: Storage, barrier: Barrier, custody?: DigestKeyCustody): Promise<DigestSigner & { created: boolean; custody: 'hsm' | 'barrier'; unavailable?: string }> {
  const existing = await storage.read((r) => r.meta.get(DIGEST_KEY_META));
  const stored0 = existing === undefined ? undefined : (JSON.parse(existing) as StoredKey);
  if (stored0?.custody === 'hsm' || (custody && stored0 === undefined)) {
    if (!custody) throw new Error('the audit digest signing key is held in an HSM: start Trent with TRENT_SEAL=pkcs11 and that token');
    return loadHsmSigner(storage, custody, stored0);
  }
  return { ...(await loadBarrierSigner(storage, barrier)), custody: 'barrier' };
}

async function loadHsmSigner(storage: Storage, custody: DigestKeyCustody, stored0: StoredKey | undefined): Promise<DigestSigner & { created: boolean; custody: 'hsm'; unavailable?: string }> {
  const keyLabel = stored0?.custody === 'hsm' ? stored0.keyLabel : custody.keyLabel;
  const sign = async (statement: string) => (await (await custody.token()).signEcdsaP256Sha256(keyLabel, Buffer.from(statement, 'utf8'))).toString('base64');
  let publicKeySpki: Buffer;
  try {
    publicKeySpki = (await (await custody.token()).findOrCreateEcSigningKey(keyLabel)).publicKeySpki;
  } catch (err) {
    // The token is unreachable (a node unsealed with the recovery shares): it serves, and its digests fail
    // (logged, retried, and seen by verify as an unsigned tail) until the token is back. A new key can only
    // be made in the token.
    if (stored0 === undefined) throw err;
    const stored = Buffer.from(stored0.publicKeySpki, 'base64');
    return { created: false, custody: 'hsm', publicKeySpki: stored, fingerprint: keyFingerprint(stored), sign, unavailable: err instanceof Error ? err.message : String(err) };
  }
  const written = JSON.stringify({ custody: 'hsm', keyLabel, publicKeySpki: publicKeySpki.toString('base64') } satisfies StoredKey);
  const current = await storage.transaction((tx) => tx.meta.putIfAbsent(DIGEST_KEY_META, written));
  const stored = JSON.parse(current) as StoredKey;
  if (!Buffer.from(stored.publicKeySpki, 'base64').equals(publicKeySpki)) {
    throw new Error(`the audit digest key "${keyLabel}" in the HSM is not this deployment's (${keyFingerprint(Buffer.from(stored.publicKeySpki, 'base64'))}); is this the deployment's token?`);
  }
  return {
    // The same key read back is not a creation: only a write of ours into an empty slot is.
    created: stored0 === undefined && current === written,
    custody: 'hsm',
    publicKeySpki,
    fingerprint: keyFingerprint(publicKeySpki),
    sign,
  };
}

async function loadBarrierSigner(storage: Storage, barrier: Barrier): Promise<DigestSigner & { created: boolean }> {
  const fresh = ecGenerateKeyPair('P-256');
  const candidate: StoredKey = {
    sealedPrivateKeyPkcs8: barrier.seal(fresh.privateKeyPkcs8, AAD).toString('base64'),
    publicKeySpki: fresh.publicKeySpki.toString('base64'),
  };
  fresh.privateKeyPkcs8.fill(0);
  const written = JSON.stringify(candidate);
  const current = await storage.transaction((tx) => tx.meta.putIfAbsent(DIGEST_KEY_META, written));
  const stored = JSON.parse(current) as StoredKey;
  if (stored.custody === 'hsm') throw new Error('the audit digest signing key is held in an HSM: start Trent with TRENT_SEAL=pkcs11 and that token');
  const pkcs8 = barrier.unseal(Buffer.from(stored.sealedPrivateKeyPkcs8, 'base64'), AAD);
  const key = ecPrivateKey(pkcs8.expose(), 'P-256');
  pkcs8.zeroize();
  if (!key) throw new Error('the audit digest signing key is not a P-256 key');
  const publicKeySpki = Buffer.from(stored.publicKeySpki, 'base64');
  return {
    created: current === written,
    publicKeySpki,
    fingerprint: keyFingerprint(publicKeySpki),
    sign: (statement) => ecdsaSign(key, 'P-256', 'sha256', false, Buffer.from(statement, 'utf8')).toString('base64'),
  };
}

/** The stored public key, readable without the root key (undefined before the first digest key exists). */
export async function readDigestPublicKey(repos: Repos): Promise<Buffer | undefined> {
  const v = await repos.meta.get(DIGEST_KEY_META);
  return v === undefined ? undefined : Buffer.from((JSON.parse(v) as StoredKey).publicKeySpki, 'base64');
}

export function verifyDigestSignature(publicKeySpki: Buffer, statement: string, signatureB64: string): boolean {
  const key = ecPublicKey(publicKeySpki, 'P-256');
  if (!key) return false;
  return ecdsaVerify(key, 'P-256', 'sha256', false, Buffer.from(statement, 'utf8'), Buffer.from(signatureB64, 'base64'));
}
