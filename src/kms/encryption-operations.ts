/**
 * The KMS operations that encrypt under a key or decrypt with one: Encrypt, Decrypt, ReEncrypt and
 * GenerateDataKey(WithoutPlaintext). Built on the key service's resolution, state and usage checks, and
 * custody of material; what differs per key spec (key-pair encryption such as RSAES-OAEP) is asked of the
 * key-spec family (key-specs/). Knows nothing of HTTP.
 *
 * Request quotas: a KMS Encrypt, Decrypt or ReEncrypt passes its `quota`, taken once the key is resolved
 * and usable and before it is used, since the quota is the key type's (AWS: symmetric, RSA, ECC and SM2).
 * Secrets Manager and Parameter Store call these without one: their own APIs' quotas govern their calls.
 */
import type { Caller } from '../auth/caller.ts';
import { randomBytesBuffer, randomNonce } from '../crypto/primitives.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import {
  IncorrectKeyException, InternalError, InvalidCiphertextException, InvalidKeyUsageException, ValidationException,
} from '../errors/errors.ts';
import { keyArn } from './arn.ts';
import { CiphertextFormatError, decodeCiphertext, encodeHeader, SALT_BYTES } from './ciphertext.ts';
import { withEncodedContext, type EncryptionContext } from './encryption-context.ts';
import type { KeyCustody } from './key-custody.ts';
import type { Key, KeyUsage } from './key-model.ts';
import type { EncryptionAlgorithm, KeyPairEncryption } from './key-specs/asymmetric-common.ts';
import { familyOf } from './key-specs/index.ts';
import { algorithmKey, dryRunSucceeded, ecOpt, type KeyUseQuota, type RequestKeys, type ResolveKeyOptions } from './operation-common.ts';

export type { EncryptionAlgorithm } from './key-specs/asymmetric-common.ts';

export const MAX_SYMMETRIC_PLAINTEXT = 4096;

type Decoded = ReturnType<typeof decodeCiphertext>;

/** What the encryption operations need of the key service. */
export interface EncryptionDeps {
  resolveKey(caller: Caller, ref: string, opts: ResolveKeyOptions): Promise<Key>;
  requireUsable(key: Key, operation: string, usage: KeyUsage): void;
  withMaterial<T>(key: Key, version: number, use: (m: SecretBytes) => T): Promise<T>;
  publicKeyOf(key: Key): Promise<Buffer>;
  custodyOf(key: Key): KeyCustody;
  /** Deployment-wide key authenticating ciphertext headers (see ciphertext.ts). */
  ciphertextHeaderKey: SecretBytes;
  /** Header keys of linked peer deployments, tried when ours does not verify (key-service.ts). */
  peerHeaderKeys?: () => Promise<readonly SecretBytes[]>;
}

export function createEncryptionOperations({
  resolveKey, requireUsable, withMaterial, publicKeyOf, custodyOf, ciphertextHeaderKey, peerHeaderKeys,
}: EncryptionDeps) {
  /**
   * The blob's parts, its header MAC checked under this deployment's key, else under a linked peer's (a
   * ciphertext made by the peer's copy of a multi-Region key). CiphertextFormatError when none verifies.
   */
  function decode(ciphertext: Buffer): Decoded | Promise<Decoded> {
    try {
      // Synchronous when ours verifies (every blob of this deployment): no promise to wait for.
      return decodeCiphertext(ciphertext, ciphertextHeaderKey);
    } catch (err) {
      if (!(err instanceof CiphertextFormatError) || !peerHeaderKeys) throw err;
      return decodeByPeer(ciphertext, peerHeaderKeys, err);
    }
  }
  async function decodeByPeer(ciphertext: Buffer, peerKeys: () => Promise<readonly SecretBytes[]>, ours: CiphertextFormatError): Promise<Decoded> {
    for (const key of await peerKeys()) {
      try {
        return decodeCiphertext(ciphertext, key);
      } catch {
        // the next peer's
      }
    }
    throw ours;
  }

  /** Encrypts under the key's current material; the blob names key and version so Decrypt needs no KeyId. */
  async function encryptWithKey(key: Key, plaintext: Uint8Array, context: EncryptionContext | undefined): Promise<Buffer> {
    const version = key.doc.currentVersion;
    const salt = randomNonce(SALT_BYTES);
    const headerBytes = encodeHeader({
      accountId: key.scope.accountId,
      keyId: key.keyId,
      materialVersion: version,
      salt,
    }, ciphertextHeaderKey);
    const aad = withEncodedContext(headerBytes, context);
    const box = await custodyOf(key).encrypt(key, version, salt, aad, plaintext);
    return Buffer.concat([headerBytes, box]);
  }

  /**
   * The encryption algorithm a request may use with a key: SYMMETRIC_DEFAULT, unless the key's family
   * encrypts with the key pair (RSA: an RSAES algorithm). AWS: EncryptionContext is valid only with
   * symmetric keys.
   */
  function encryptionAlgorithmFor(key: Key, algorithm: string | undefined, context: EncryptionContext | undefined): EncryptionAlgorithm {
    const keyPair = familyOf(key.doc.keySpec).keyPairEncryption;
    if (keyPair) {
      const alg = keyPair.algorithm(key.doc.keySpec, algorithm);
      if (context !== undefined && Object.keys(context).length > 0) {
        throw new ValidationException('EncryptionContext is not supported with asymmetric KMS keys.');
      }
      return alg;
    }
    if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') {
      throw new InvalidKeyUsageException(`Algorithm ${algorithm} is incompatible with key spec ${key.doc.keySpec}.`);
    }
    return 'SYMMETRIC_DEFAULT';
  }

  /** The key-pair encryption of a key whose algorithm encryptionAlgorithmFor gave as other than SYMMETRIC_DEFAULT. */
  function keyPairEncryptionOf(key: Key): KeyPairEncryption {
    const keyPair = familyOf(key.doc.keySpec).keyPairEncryption;
    if (!keyPair) throw new InternalError();
    return keyPair;
  }

  /**
   * Encrypts under a key already checked for usage, with an algorithm from encryptionAlgorithmFor. Hands
   * on the promise of the path taken, with no async wrapper of its own (two promises fewer per Encrypt).
   */
  function encryptWithAlgorithm(key: Key, alg: EncryptionAlgorithm, plaintext: Uint8Array, context: EncryptionContext | undefined): Promise<Buffer> {
    if (alg === 'SYMMETRIC_DEFAULT') return encryptWithKey(key, plaintext, context);
    return publicKeyOf(key).then((publicKey) => keyPairEncryptionOf(key).encrypt(publicKey, alg, plaintext));
  }

  async function encrypt(
    caller: Caller,
    input: { keyId: string; plaintext: Buffer; encryptionContext?: EncryptionContext; encryptionAlgorithm?: string; dryRun?: boolean; quota?: KeyUseQuota },
  ): Promise<{ key: Key; ciphertext: Buffer; algorithm: EncryptionAlgorithm }> {
    const key = await resolveKey(caller, input.keyId, {
      allowAlias: true, action: 'Encrypt', ...ecOpt(input.encryptionContext), contextKeys: algorithmKey(input.encryptionAlgorithm),
    });
    requireUsable(key, 'Encrypt', 'ENCRYPT_DECRYPT');
    input.quota?.take(caller, 'Encrypt', key.doc.keySpec);
    const algorithm = encryptionAlgorithmFor(key, input.encryptionAlgorithm, input.encryptionContext);
    if (input.plaintext.length > MAX_SYMMETRIC_PLAINTEXT) {
      throw new ValidationException(
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
      );
    }
    if (input.dryRun) throw dryRunSucceeded();
    return { key, algorithm, ciphertext: await encryptWithAlgorithm(key, algorithm, input.plaintext, input.encryptionContext) };
  }

  /**
   * AWS: Decrypt — the key comes from the blob; a KeyId naming another key is IncorrectKeyException;
   * any tampering, a wrong or missing encryption context, or an unknown material version is
   * InvalidCiphertextException with an empty message (never which check failed).
   */
  async function decryptBlob(
    caller: Caller,
    ciphertext: Buffer,
    keyIdHint: string | undefined,
    context: EncryptionContext | undefined,
    operation: string,
    dryRun = false,
    contextKeys?: RequestKeys,
    beforeUse?: (key: Key) => void,
  ): Promise<{ key: Key; plaintext: Buffer; materialVersion: number }> {
    let parsed: Decoded;
    try {
      const decoded = decode(ciphertext);
      parsed = decoded instanceof Promise ? await decoded : decoded;
    } catch (err) {
      if (err instanceof CiphertextFormatError) throw new InvalidCiphertextException('');
      throw err;
    }
    const { header, headerBytes, box } = parsed;
    const blobKeyArn = keyArn({ accountId: header.accountId, region: caller.region }, header.keyId);
    let key: Key;
    if (keyIdHint !== undefined) {
      // Authorized once, as named (an alias name is then kms:RequestAlias); it must be the blob's key.
      key = await resolveKey(caller, keyIdHint, { allowAlias: true, action: operation, ...ecOpt(context), ...(contextKeys ? { contextKeys } : {}) });
      if (key.arn !== blobKeyArn) {
        throw new IncorrectKeyException('The key ID in the request does not identify a CMK that can perform this operation.');
      }
    } else {
      key = await resolveKey(caller, blobKeyArn, { allowAlias: false, action: operation, ...ecOpt(context), ...(contextKeys ? { contextKeys } : {}) });
    }
    requireUsable(key, operation, 'ENCRYPT_DECRYPT');
    beforeUse?.(key);
    if (header.materialVersion < 1 || header.materialVersion > key.doc.currentVersion) throw new InvalidCiphertextException('');
    const aad = withEncodedContext(headerBytes, context);
    const plaintext = await custodyOf(key).decrypt(key, header.materialVersion, header.salt, aad, box);
    if (dryRun) {
      plaintext.fill(0);
      throw dryRunSucceeded();
    }
    return { key, plaintext, materialVersion: header.materialVersion };
  }

  /**
   * AWS: Decrypt of key-pair (RSA) ciphertext — the raw RSAES-OAEP block carries no key id, so the request must
   * name the key and the algorithm; any failure of the ciphertext is InvalidCiphertextException with no message.
   */
  async function decryptWithKeyPair(
    caller: Caller, ciphertext: Buffer, keyId: string | undefined, algorithm: string, context: EncryptionContext | undefined,
    operation: string, dryRun = false, contextKeys?: RequestKeys, beforeUse?: (key: Key) => void,
  ): Promise<{ key: Key; plaintext: Buffer; algorithm: EncryptionAlgorithm }> {
    if (keyId === undefined) {
      throw new ValidationException(`KeyId is required to decrypt with EncryptionAlgorithm ${algorithm}.`);
    }
    const key = await resolveKey(caller, keyId, { allowAlias: true, action: operation, ...ecOpt(context), ...(contextKeys ? { contextKeys } : {}) });
    requireUsable(key, operation, 'ENCRYPT_DECRYPT');
    beforeUse?.(key);
    const alg = encryptionAlgorithmFor(key, algorithm, context);
    if (alg === 'SYMMETRIC_DEFAULT') throw new InvalidKeyUsageException(`Algorithm ${algorithm} is incompatible with key spec ${key.doc.keySpec}.`);
    const keyPair = keyPairEncryptionOf(key);
    const plaintext = await withMaterial(key, key.doc.currentVersion, (m) => keyPair.decrypt(m, alg, ciphertext));
    if (dryRun) {
      plaintext.fill(0);
      throw dryRunSucceeded();
    }
    return { key, plaintext, algorithm: alg };
  }

  async function decryptAny(
    caller: Caller, ciphertext: Buffer, keyId: string | undefined, context: EncryptionContext | undefined, algorithm: string | undefined,
    operation: string, dryRun = false, contextKeys: RequestKeys = algorithmKey(algorithm), beforeUse?: (key: Key) => void,
  ): Promise<{ key: Key; plaintext: Buffer; algorithm: EncryptionAlgorithm; materialVersion?: number }> {
    if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') {
      return decryptWithKeyPair(caller, ciphertext, keyId, algorithm, context, operation, dryRun, contextKeys, beforeUse);
    }
    const out = await decryptBlob(caller, ciphertext, keyId, context, operation, dryRun, contextKeys, beforeUse);
    return { ...out, algorithm: 'SYMMETRIC_DEFAULT' };
  }

  function decrypt(
    caller: Caller,
    input: { ciphertext: Buffer; keyId?: string; encryptionContext?: EncryptionContext; encryptionAlgorithm?: string; dryRun?: boolean; quota?: KeyUseQuota },
  ): Promise<{ key: Key; plaintext: Buffer; algorithm: EncryptionAlgorithm; materialVersion?: number }> {
    const { quota } = input;
    return decryptAny(
      caller, input.ciphertext, input.keyId, input.encryptionContext, input.encryptionAlgorithm, 'Decrypt', input.dryRun, undefined,
      quota && ((key) => quota.take(caller, 'Decrypt', key.doc.keySpec)),
    );
  }

  /**
   * The ARN of the key a ReEncrypt source names (the blob's header, or SourceKeyId for key-pair ciphertext), looked up
   * without authorizing — only to tell whether it is the destination key; undefined when unknown.
   */
  async function sourceKeyArnOf(caller: Caller, ciphertext: Buffer, sourceKeyId: string | undefined, algorithm: string | undefined): Promise<string | undefined> {
    try {
      if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') {
        return sourceKeyId === undefined ? undefined : (await resolveKey(caller, sourceKeyId, { allowAlias: true, action: 'ReEncryptFrom', authorize: false })).arn;
      }
      const { header } = await decode(ciphertext);
      return keyArn({ accountId: header.accountId, region: caller.region }, header.keyId);
    } catch {
      return undefined; // the source resolution below answers with the right error
    }
  }

  /** AWS: ReEncrypt — decrypts under the source key and encrypts under the destination, server-side only. */
  async function reEncrypt(
    caller: Caller,
    input: {
      ciphertext: Buffer;
      sourceKeyId?: string;
      sourceEncryptionContext?: EncryptionContext;
      destinationKeyId: string;
      destinationEncryptionContext?: EncryptionContext;
      sourceEncryptionAlgorithm?: string;
      destinationEncryptionAlgorithm?: string;
      dryRun?: boolean;
      quota?: KeyUseQuota;
    },
  ): Promise<{ sourceKey: Key; destinationKey: Key; ciphertext: Buffer; sourceAlgorithm: EncryptionAlgorithm; destinationAlgorithm: EncryptionAlgorithm }> {
    // AWS: kms:ReEncryptOnSameKey — whether source and destination are the same key; each side's
    // kms:EncryptionAlgorithm is its own algorithm member.
    const sourceArn = await sourceKeyArnOf(caller, input.ciphertext, input.sourceKeyId, input.sourceEncryptionAlgorithm);
    const destinationKey = await resolveKey(caller, input.destinationKeyId, {
      allowAlias: true, action: 'ReEncryptTo', ...ecOpt(input.destinationEncryptionContext),
      contextKeys: (key) => ({ ...algorithmKey(input.destinationEncryptionAlgorithm), 'kms:ReEncryptOnSameKey': key.arn === sourceArn }),
    });
    // AWS (recorded) judges the source first: a SourceKeyId that is not the ciphertext's key is
    // IncorrectKeyException even when the destination key could not encrypt either. AWS lists ReEncrypt
    // under each key type's quota without saying which of two keys it counts against: it counts once,
    // against the source key's, the key it uses first.
    const { quota } = input;
    const { key: sourceKey, plaintext, algorithm: sourceAlgorithm } = await decryptAny(
      caller, input.ciphertext, input.sourceKeyId, input.sourceEncryptionContext, input.sourceEncryptionAlgorithm, 'ReEncryptFrom', false,
      (key) => ({ ...algorithmKey(input.sourceEncryptionAlgorithm), 'kms:ReEncryptOnSameKey': key.arn === destinationKey.arn }),
      quota && ((key) => quota.take(caller, 'ReEncrypt', key.doc.keySpec)),
    );
    try {
      requireUsable(destinationKey, 'ReEncrypt', 'ENCRYPT_DECRYPT');
      const destinationAlgorithm = encryptionAlgorithmFor(destinationKey, input.destinationEncryptionAlgorithm, input.destinationEncryptionContext);
      if (input.dryRun) throw dryRunSucceeded();
      const ciphertext = await encryptWithAlgorithm(destinationKey, destinationAlgorithm, plaintext, input.destinationEncryptionContext);
      return { sourceKey, destinationKey, ciphertext, sourceAlgorithm, destinationAlgorithm };
    } finally {
      plaintext.fill(0);
    }
  }

  /**
   * AWS: GenerateDataKey(WithoutPlaintext) — exactly one of KeySpec (AES_128/AES_256) and NumberOfBytes;
   * the data key is returned encrypted under the KMS key with the encryption context, and in plaintext
   * unless the caller asked for none.
   */
  async function generateDataKey(
    caller: Caller,
    input: { keyId: string; keySpec?: 'AES_128' | 'AES_256'; numberOfBytes?: number; encryptionContext?: EncryptionContext; dryRun?: boolean },
    operation: 'GenerateDataKey' | 'GenerateDataKeyWithoutPlaintext',
  ): Promise<{ key: Key; ciphertext: Buffer; plaintext: Buffer }> {
    if ((input.keySpec === undefined) === (input.numberOfBytes === undefined)) {
      throw new ValidationException('Please specify either number of bytes or key spec.');
    }
    // AWS: the data key is encrypted with SYMMETRIC_DEFAULT, which kms:EncryptionAlgorithm then is.
    const key = await resolveKey(caller, input.keyId, {
      allowAlias: true, action: operation, ...ecOpt(input.encryptionContext), contextKeys: algorithmKey(undefined),
    });
    requireUsable(key, operation, 'ENCRYPT_DECRYPT');
    if (key.doc.keySpec !== 'SYMMETRIC_DEFAULT') {
      throw new InvalidKeyUsageException(`${key.arn} key usage is ${key.doc.keyUsage} which is not valid for ${operation}.`);
    }
    if (input.dryRun) throw dryRunSucceeded();
    const length = input.numberOfBytes ?? (input.keySpec === 'AES_128' ? 16 : 32);
    const plaintext = randomBytesBuffer(length);
    try {
      return { key, ciphertext: await encryptWithKey(key, plaintext, input.encryptionContext), plaintext };
    } catch (err) {
      plaintext.fill(0);
      throw err;
    }
  }

  return { encryptWithKey, encrypt, decrypt, reEncrypt, generateDataKey };
}
