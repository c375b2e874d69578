/**
 * KMS operations on asymmetric, HMAC and key-agreement keys, and data key pairs: Sign, Verify,
 * GetPublicKey, GenerateMac, VerifyMac, DeriveSharedSecret, GenerateDataKeyPair(WithoutPlaintext).
 * Built on the key service (resolution, state and usage checks, sealed material); the per-family work
 * lives in key-specs/ and the crypto layer. Knows nothing of HTTP.
 *
 * AWS order of checks (aws-api.md §1.6): parameters (at the edge), key resolution, key state, key usage,
 * the algorithm / signature / MAC check, then DryRun.
 */
import type { Caller } from '../auth/caller.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import type { ContextValue } from '../policy/index.ts';
import { InvalidKeyUsageException, KMSInvalidSignatureException, UnsupportedOperationException } from '../errors/errors.ts';
import type { EncryptionContext } from './encryption-context.ts';
import type { Key, KeySpec, KeyUsage } from './key-model.ts';
import type { KeyService } from './key-service.ts';
import { dryRunSucceeded, type KeyUseQuota } from './operation-common.ts';
import { mapCryptoErrors, mapCryptoErrorsAsync } from './key-specs/asymmetric-common.ts';
import { generateKeyPair, signingAlgorithmsFor, signOffLoop, verify, type AsymmetricKeySpec } from './key-specs/asymmetric.ts';
import { checkMacAlgorithm, generateMac as macOf, verifyMac as checkMac, type MacAlgorithm } from './key-specs/hmac.ts';
import { algorithmListsOf, familyOf, SM2_UNSUPPORTED } from './key-specs/index.ts';
import { isSigningAlgorithm, type MessageType } from './key-specs/signing-algorithms.ts';
import { requireEnabled } from './key-states.ts';

export type DataKeyPairSpec =
  | 'RSA_2048' | 'RSA_3072' | 'RSA_4096' | 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521' | 'ECC_SECG_P256K1'
  | 'SM2' | 'ECC_NIST_EDWARDS25519';

export type { KeyUseQuota } from './operation-common.ts';

export interface AsymmetricDeps {
  keys: KeyService;
  /** Absent: no key-dependent quotas. */
  quota?: KeyUseQuota;
}

export type AsymmetricOperations = ReturnType<typeof createAsymmetricOperations>;

export function createAsymmetricOperations({ keys, quota }: AsymmetricDeps) {
  async function usableKey(
    caller: Caller, keyId: string, operation: string, usage: KeyUsage, contextKeys: Record<string, ContextValue>, encryptionContext?: EncryptionContext,
  ): Promise<Key> {
    // The encryption context feeds grant constraints and kms:EncryptionContext:* conditions; contextKeys
    // are the request's own condition keys (src/kms/access-rules.ts).
    const key = await keys.resolveKey(caller, keyId, { allowAlias: true, action: operation, contextKeys, ...(encryptionContext ? { encryptionContext } : {}) });
    keys.requireUsable(key, operation, usage);
    return key;
  }

  /**
   * AWS: a SigningAlgorithm the key spec does not list is InvalidKeyUsageException, in AWS's
   * "Algorithm X is incompatible with key spec Y." form (the crypto layer's IncompatibleAlgorithmError).
   */
  function checkSigningAlgorithm(spec: KeySpec, alg: string): void {
    if (!isSigningAlgorithm(alg) || !signingAlgorithmsFor(spec as AsymmetricKeySpec).includes(alg)) {
      throw new InvalidKeyUsageException(`Algorithm ${alg} is incompatible with key spec ${spec}.`);
    }
  }

  async function signMessage(
    caller: Caller,
    input: { keyId: string; message: Buffer; messageType?: MessageType; signingAlgorithm: string; dryRun?: boolean },
  ): Promise<{ key: Key; signature: Buffer }> {
    const key = await usableKey(caller, input.keyId, 'Sign', 'SIGN_VERIFY', { 'kms:SigningAlgorithm': input.signingAlgorithm, 'kms:MessageType': input.messageType ?? 'RAW' });
    quota?.take(caller, 'Sign', key.doc.keySpec);
    checkSigningAlgorithm(key.doc.keySpec, input.signingAlgorithm);
    const spec = key.doc.keySpec as AsymmetricKeySpec;
    const alg = input.signingAlgorithm as Parameters<typeof signOffLoop>[2];
    // The material is used only while the job starts (signOffLoop parses the key first), as withMaterial requires.
    const signature = await mapCryptoErrorsAsync(() => keys.withMaterial(key, key.doc.currentVersion, (m) =>
      signOffLoop(spec, m, alg, input.messageType ?? 'RAW', input.message)));
    if (input.dryRun) throw dryRunSucceeded();
    return { key, signature };
  }

  /** AWS: Verify — a signature that does not verify is KMSInvalidSignatureException with an empty message. */
  async function verifySignature(
    caller: Caller,
    input: { keyId: string; message: Buffer; messageType?: MessageType; signingAlgorithm: string; signature: Buffer; dryRun?: boolean },
  ): Promise<{ key: Key }> {
    const key = await usableKey(caller, input.keyId, 'Verify', 'SIGN_VERIFY', { 'kms:SigningAlgorithm': input.signingAlgorithm, 'kms:MessageType': input.messageType ?? 'RAW' });
    quota?.take(caller, 'Verify', key.doc.keySpec);
    checkSigningAlgorithm(key.doc.keySpec, input.signingAlgorithm);
    const spec = key.doc.keySpec as AsymmetricKeySpec;
    const alg = input.signingAlgorithm as Parameters<typeof verify>[2];
    const publicKey = await keys.publicKeyOf(key);
    const valid = mapCryptoErrors(() => verify(spec, publicKey, alg, input.messageType ?? 'RAW', input.message, input.signature));
    if (!valid) throw new KMSInvalidSignatureException('');
    if (input.dryRun) throw dryRunSucceeded();
    return { key };
  }

  /**
   * AWS: GetPublicKey — only asymmetric keys have one. Not recorded: symmetric keys are refused with
   * UnsupportedOperationException, HMAC keys with InvalidKeyUsageException.
   */
  async function getPublicKey(caller: Caller, keyId: string): Promise<{ key: Key; publicKey: Buffer; algorithms: Record<string, string[]> }> {
    const key = await keys.resolveKey(caller, keyId, { allowAlias: true, action: 'GetPublicKey' });
    requireEnabled(key);
    if (key.doc.keySpec === 'SYMMETRIC_DEFAULT') {
      throw new UnsupportedOperationException(`${key.arn} key spec is SYMMETRIC_DEFAULT which is not valid for GetPublicKey.`);
    }
    if (key.doc.keyUsage === 'GENERATE_VERIFY_MAC') {
      throw new InvalidKeyUsageException(`${key.arn} key usage is GENERATE_VERIFY_MAC which is not valid for GetPublicKey.`);
    }
    // AWS GetPublicKey lists the algorithms of the key's usage only (as DescribeKey does).
    const algorithms = algorithmListsOf(key.doc.keySpec, key.doc.keyUsage);
    return { key, publicKey: await keys.publicKeyOf(key), algorithms };
  }

  async function generateMac(
    caller: Caller, input: { keyId: string; message: Buffer; macAlgorithm: MacAlgorithm; dryRun?: boolean },
  ): Promise<{ key: Key; mac: Buffer }> {
    const key = await usableKey(caller, input.keyId, 'GenerateMac', 'GENERATE_VERIFY_MAC', { 'kms:MacAlgorithm': input.macAlgorithm });
    checkMacAlgorithm(key.doc.keySpec, input.macAlgorithm);
    if (input.dryRun) throw dryRunSucceeded();
    const mac = await keys.withMaterial(key, key.doc.currentVersion, (m) => macOf(m, input.macAlgorithm, input.message));
    return { key, mac };
  }

  async function verifyMac(
    caller: Caller, input: { keyId: string; message: Buffer; macAlgorithm: MacAlgorithm; mac: Buffer; dryRun?: boolean },
  ): Promise<{ key: Key }> {
    const key = await usableKey(caller, input.keyId, 'VerifyMac', 'GENERATE_VERIFY_MAC', { 'kms:MacAlgorithm': input.macAlgorithm });
    checkMacAlgorithm(key.doc.keySpec, input.macAlgorithm);
    await keys.withMaterial(key, key.doc.currentVersion, (m) => checkMac(m, input.macAlgorithm, input.message, input.mac));
    if (input.dryRun) throw dryRunSucceeded();
    return { key };
  }

  /** AWS: DeriveSharedSecret — raw ECDH with the peer's SPKI; a bad peer key is ValidationException with no message (recorded). */
  async function deriveSharedSecret(
    caller: Caller, input: { keyId: string; keyAgreementAlgorithm: 'ECDH'; publicKey: Buffer; dryRun?: boolean },
  ): Promise<{ key: Key; sharedSecret: Buffer }> {
    const key = await usableKey(caller, input.keyId, 'DeriveSharedSecret', 'KEY_AGREEMENT', { 'kms:KeyAgreementAlgorithm': input.keyAgreementAlgorithm });
    quota?.take(caller, 'DeriveSharedSecret', key.doc.keySpec);
    const spec = key.doc.keySpec;
    // Only a family with key agreement has KEY_AGREEMENT keys (CreateKey), so requireUsable has answered for the others.
    const agreement = familyOf(spec).keyAgreement;
    if (!agreement) throw new InvalidKeyUsageException(`Algorithm ECDH is incompatible with key spec ${spec}.`);
    const secret: SecretBytes = await keys.withMaterial(key, key.doc.currentVersion, (m) => agreement.deriveSharedSecret(spec, m, input.publicKey));
    if (input.dryRun) {
      secret.zeroize();
      throw dryRunSucceeded();
    }
    // The caller asked for the secret: hand over a copy and zero ours.
    const out = Buffer.from(secret.expose());
    secret.zeroize();
    return { key, sharedSecret: out };
  }

  /**
   * AWS: GenerateDataKeyPair(WithoutPlaintext) — a fresh key pair whose PKCS#8 private key is encrypted
   * under a symmetric KMS key with the encryption context (decryptable with Decrypt).
   */
  async function generateDataKeyPair(
    caller: Caller,
    input: { keyId: string; keyPairSpec: DataKeyPairSpec; encryptionContext?: EncryptionContext; dryRun?: boolean },
    operation: 'GenerateDataKeyPair' | 'GenerateDataKeyPairWithoutPlaintext',
  ): Promise<{ key: Key; privateKeyCiphertext: Buffer; privateKeyPlaintext: SecretBytes; publicKey: Buffer }> {
    const key = await usableKey(
      caller, input.keyId, operation, 'ENCRYPT_DECRYPT',
      // AWS: the private key is encrypted with SYMMETRIC_DEFAULT under the KMS key.
      { 'kms:DataKeyPairSpec': input.keyPairSpec, 'kms:EncryptionAlgorithm': 'SYMMETRIC_DEFAULT' }, input.encryptionContext,
    );
    if (key.doc.keySpec !== 'SYMMETRIC_DEFAULT') {
      throw new InvalidKeyUsageException(`${key.arn} key usage is ${key.doc.keyUsage} which is not valid for ${operation}.`);
    }
    if (input.keyPairSpec === 'SM2') throw new UnsupportedOperationException(SM2_UNSUPPORTED.replace('KeySpec', 'KeyPairSpec'));
    quota?.take(caller, operation, input.keyPairSpec);
    if (input.dryRun) throw dryRunSucceeded();
    const pair = await mapCryptoErrorsAsync(() => generateKeyPair(input.keyPairSpec as AsymmetricKeySpec));
    try {
      const privateKeyCiphertext = await keys.encryptWithKey(key, pair.privateKeyPkcs8.expose(), input.encryptionContext);
      return { key, privateKeyCiphertext, privateKeyPlaintext: pair.privateKeyPkcs8, publicKey: pair.publicKeySpki };
    } catch (err) {
      pair.privateKeyPkcs8.zeroize();
      throw err;
    }
  }

  return { sign: signMessage, verify: verifySignature, getPublicKey, generateMac, verifyMac, deriveSharedSecret, generateDataKeyPair };
}
