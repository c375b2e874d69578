/**
 * The key that signs audit digests: ECDSA P-256 / SHA-256 (DER signatures). Created once per deployment;
 * the private key is stored sealed under the root key, the public key in the clear beside it, so that
 * `trent audit verify` needs no secret. Both are in one meta value written with putIfAbsent, so racing
 * nodes agree on one key pair.
 */
import { ecdsaSign, ecdsaVerify, ecGenerateKeyPair, ecPrivateKey, ecPublicKey } from '../crypto/ecc.ts';
import { sha256 } from '../crypto/primitives.ts';
import { barrierAad, type Barrier } from '../seal/barrier.ts';
import type { Repos, Storage } from '../storage/storage.ts';

export const DIGEST_KEY_META = 'audit:digest-signing-key';
const AAD = barrierAad('audit/digest-signing-key', 1);

interface StoredKey {
  sealedPrivateKeyPkcs8: string;
  publicKeySpki: string;
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

/** Loads the deployment's digest key, creating it on first use (`created`: print it then, once). */
export async function loadDigestSigner(storage: Storage, barrier: Barrier): Promise<DigestSigner & { created: boolean }> {
  const fresh = ecGenerateKeyPair('P-256');
  const candidate: StoredKey = {
    sealedPrivateKeyPkcs8: barrier.seal(fresh.privateKeyPkcs8, AAD).toString('base64'),
    publicKeySpki: fresh.publicKeySpki.toString('base64'),
  };
  fresh.privateKeyPkcs8.fill(0);
  const written = JSON.stringify(candidate);
  const current = await storage.transaction((tx) => tx.meta.putIfAbsent(DIGEST_KEY_META, written));
  const stored = JSON.parse(current) as StoredKey;
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
