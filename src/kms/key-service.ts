/**
 * The KMS key service: key lifecycle and the cryptographic operations, knowing nothing of HTTP.
 * Inputs are validated for shape at the edge; this service checks meaning (state, usage, spec) and
 * raises TrentErrors whose codes and messages mirror AWS KMS.
 */
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import { AeadOpenError } from '../crypto/aead.ts';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import {
  AccessDeniedException,
  DryRunOperationException,
  IncorrectKeyException,
  InvalidCiphertextException,
  InvalidKeyUsageException,
  NotFoundException,
  TagException,
  TrentError,
  UnsupportedOperationException,
  ValidationException,
} from '../errors/errors.ts';
import { barrierAad, type Barrier } from '../seal/barrier.ts';
import type { Scope, Storage } from '../storage/storage.ts';
import { aliasArn, keyArn, parseKeyReference } from './arn.ts';
import { CiphertextFormatError, decodeCiphertext, encodeHeader, SALT_BYTES } from './ciphertext.ts';
import { encodeEncryptionContext, type EncryptionContext } from './encryption-context.ts';
import { keyFromRecord, recordFromKey, type Key, type KeyDoc, type KeySpec, type KeyUsage, type Origin, type Tag } from './key-model.ts';
import { generateSymmetricMaterial, symmetricDecrypt, symmetricEncrypt } from './key-specs/symmetric.ts';
import { requireEnabled } from './key-states.ts';
import { updateKeyDoc } from './key-updates.ts';
import { decodeMarker, encodeMarker } from './markers.ts';
import { MaterialCache } from './material-cache.ts';
import { checkNewTags, MAX_TAGS } from './tags.ts';

export interface KeyServiceDeps {
  storage: Storage;
  barrier: Barrier;
  clock: Clock;
  materialCache: MaterialCache;
  /** Deployment-wide key authenticating ciphertext headers (see ciphertext.ts). */
  ciphertextHeaderKey: SecretBytes;
}

export interface CreateKeyInput {
  description?: string;
  keyUsage?: KeyUsage;
  keySpec?: KeySpec;
  origin?: Origin;
  tags?: Tag[];
  multiRegion?: boolean;
  /** AWS for the keys Trent's own services create on first use (alias/aws/<service>); CUSTOMER otherwise. */
  keyManager?: 'AWS' | 'CUSTOMER';
}

export const MAX_SYMMETRIC_PLAINTEXT = 4096;

/** AWS: DryRun — every check passed; nothing was done. */
export function dryRunSucceeded(): TrentError {
  return new DryRunOperationException('The request would have succeeded, but the DryRun option is set.');
}

export function materialAad(scope: Scope, keyId: string, version: number): Buffer {
  return barrierAad('kms/key-material', scope.accountId, scope.region, keyId, version);
}

function newKeyMaterialId(): string {
  return randomBytesBuffer(32).toString('hex');
}

export type KeyService = ReturnType<typeof createKeyService>;

export function createKeyService({ storage, barrier, clock, materialCache, ciphertextHeaderKey }: KeyServiceDeps) {
  /** Resolves a KeyId member (id, key ARN, alias name or alias ARN) to a key the caller may address. */
  async function resolveKey(caller: Caller, ref: string, opts: { allowAlias: boolean; action: string }): Promise<Key> {
    const scope = callerScope(caller);
    const parsed = parseKeyReference(ref, scope);
    if (parsed.kind === 'invalid' || (parsed.kind === 'alias' && !opts.allowAlias)) {
      throw new NotFoundException(`Invalid keyId '${ref}'`);
    }
    if (parsed.scope.region !== scope.region) throw new NotFoundException(`Invalid arn ${parsed.scope.region}`);
    if (parsed.scope.accountId !== scope.accountId) {
      // Cross-account use needs the other account's key policy; until policies are evaluated, it is denied
      // without saying whether the key exists.
      const arn = parsed.kind === 'keyId' ? keyArn(parsed.scope, parsed.keyId) : aliasArn(parsed.scope, parsed.aliasName);
      throw new AccessDeniedException(
        `User: ${caller.principalArn} is not authorized to perform: kms:${opts.action} on resource: ${arn} because no resource-based policy allows the kms:${opts.action} action`,
      );
    }
    let keyId: string;
    if (parsed.kind === 'alias') {
      const alias = await storage.read((r) => r.aliases.get(parsed.scope, parsed.aliasName));
      if (!alias) throw new NotFoundException(`Alias ${aliasArn(parsed.scope, parsed.aliasName)} is not found.`);
      keyId = alias.targetKeyId;
    } else {
      keyId = parsed.keyId;
    }
    const record = await storage.read((r) => r.keys.get(parsed.scope, keyId));
    if (!record) throw new NotFoundException(`Key '${keyArn(parsed.scope, keyId)}' does not exist`);
    return keyFromRecord(record);
  }

  /** AWS: key state and usage are checked before any cryptographic work, in this order. */
  function requireUsable(key: Key, operation: string, usage: KeyUsage): void {
    requireEnabled(key);
    if (key.doc.keyUsage !== usage) {
      throw new InvalidKeyUsageException(`${key.arn} key usage is ${key.doc.keyUsage} which is not valid for ${operation}.`);
    }
  }

  async function withMaterial<T>(key: Key, version: number, use: (m: SecretBytes) => T): Promise<T> {
    const id = MaterialCache.id(key.scope.accountId, key.scope.region, key.keyId, version);
    return materialCache.withMaterial(
      id,
      async () => {
        const m = await storage.read((r) => r.materials.get(key.scope, key.keyId, version));
        if (!m) throw new InvalidCiphertextException('');
        return barrier.unseal(m.sealed, materialAad(key.scope, key.keyId, version));
      },
      use,
    );
  }

  async function createKey(caller: Caller, input: CreateKeyInput): Promise<Key> {
    const keySpec = input.keySpec ?? 'SYMMETRIC_DEFAULT';
    if (keySpec !== 'SYMMETRIC_DEFAULT' && input.keyUsage === undefined) {
      throw new ValidationException('You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.');
    }
    const keyUsage = input.keyUsage ?? 'ENCRYPT_DECRYPT';
    if (keySpec === 'SYMMETRIC_DEFAULT' && keyUsage !== 'ENCRYPT_DECRYPT') {
      throw new ValidationException(`KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}`);
    }
    if (keySpec !== 'SYMMETRIC_DEFAULT') throw new UnsupportedOperationException(`KeySpec ${keySpec} is not supported.`);
    const origin = input.origin ?? 'AWS_KMS';
    if (origin !== 'AWS_KMS') throw new UnsupportedOperationException(`Origin ${origin} is not supported.`);
    const tags = input.tags ?? [];
    if (tags.length > MAX_TAGS) throw new TagException('Too many tags');
    checkNewTags(tags);

    const scope = callerScope(caller);
    const multiRegion = input.multiRegion ?? false;
    const keyId = multiRegion ? `mrk-${randomBytesBuffer(16).toString('hex')}` : crypto.randomUUID();
    const now = clock.now();
    const materialId = newKeyMaterialId();
    const doc: KeyDoc = {
      description: input.description ?? '',
      keyUsage,
      keySpec,
      origin,
      keyManager: input.keyManager ?? 'CUSTOMER',
      state: 'Enabled',
      currentVersion: 1,
      currentKeyMaterialId: materialId,
      multiRegion,
      tags,
    };
    const key: Key = { scope, keyId, arn: keyArn(scope, keyId), createdAt: now, revision: 1, doc };
    const material = generateSymmetricMaterial();
    try {
      const sealed = barrier.seal(material.expose(), materialAad(scope, keyId, 1));
      await storage.transaction(async (tx) => {
        await tx.keys.insert(recordFromKey(key));
        await tx.materials.insert({ ...scope, keyId, version: 1, createdAt: now, sealed, doc: { keyMaterialId: materialId } });
      });
    } finally {
      material.zeroize();
    }
    return key;
  }

  async function describeKey(caller: Caller, keyIdInput: string): Promise<Key> {
    return resolveKey(caller, keyIdInput, { allowAlias: true, action: 'DescribeKey' });
  }

  async function listKeys(caller: Caller, limit: number, marker: string | undefined): Promise<{ keys: Key[]; nextMarker?: string }> {
    const after = decodeMarker('ListKeys', marker);
    const page = await storage.read((r) => r.keys.list(callerScope(caller), after, limit));
    return {
      keys: page.items.map(keyFromRecord),
      ...(page.next !== undefined ? { nextMarker: encodeMarker('ListKeys', page.next) } : {}),
    };
  }

  /** Encrypts under the key's current material; the blob names key and version so Decrypt needs no KeyId. */
  async function encryptWithKey(key: Key, plaintext: Uint8Array, context: EncryptionContext | undefined): Promise<Buffer> {
    const version = key.doc.currentVersion;
    const salt = randomBytesBuffer(SALT_BYTES);
    const headerBytes = encodeHeader({
      accountId: key.scope.accountId,
      keyId: key.keyId,
      materialVersion: version,
      salt,
    }, ciphertextHeaderKey);
    const aad = Buffer.concat([headerBytes, encodeEncryptionContext(context)]);
    const box = await withMaterial(key, version, (m) => symmetricEncrypt(m, salt, aad, plaintext));
    return Buffer.concat([headerBytes, box]);
  }

  async function encrypt(
    caller: Caller,
    input: { keyId: string; plaintext: Buffer; encryptionContext?: EncryptionContext; dryRun?: boolean },
  ): Promise<{ key: Key; ciphertext: Buffer }> {
    const key = await resolveKey(caller, input.keyId, { allowAlias: true, action: 'Encrypt' });
    requireUsable(key, 'Encrypt', 'ENCRYPT_DECRYPT');
    if (input.plaintext.length > MAX_SYMMETRIC_PLAINTEXT) {
      throw new ValidationException(
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
      );
    }
    if (input.dryRun) throw dryRunSucceeded();
    return { key, ciphertext: await encryptWithKey(key, input.plaintext, input.encryptionContext) };
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
  ): Promise<{ key: Key; plaintext: Buffer }> {
    let parsed: ReturnType<typeof decodeCiphertext>;
    try {
      parsed = decodeCiphertext(ciphertext, ciphertextHeaderKey);
    } catch (err) {
      if (err instanceof CiphertextFormatError) throw new InvalidCiphertextException('');
      throw err;
    }
    const { header, headerBytes, box } = parsed;
    const blobKeyArn = keyArn({ accountId: header.accountId, region: caller.region }, header.keyId);
    if (keyIdHint !== undefined) {
      const named = await resolveKey(caller, keyIdHint, { allowAlias: true, action: operation });
      if (named.arn !== blobKeyArn) {
        throw new IncorrectKeyException('The key ID in the request does not identify a CMK that can perform this operation.');
      }
    }
    const key = await resolveKey(caller, blobKeyArn, { allowAlias: false, action: operation });
    requireUsable(key, operation, 'ENCRYPT_DECRYPT');
    if (header.materialVersion < 1 || header.materialVersion > key.doc.currentVersion) throw new InvalidCiphertextException('');
    const aad = Buffer.concat([headerBytes, encodeEncryptionContext(context)]);
    let plaintext: Buffer;
    try {
      plaintext = await withMaterial(key, header.materialVersion, (m) => symmetricDecrypt(m, header.salt, aad, box));
    } catch (err) {
      if (err instanceof AeadOpenError) throw new InvalidCiphertextException('');
      throw err;
    }
    if (dryRun) {
      plaintext.fill(0);
      throw dryRunSucceeded();
    }
    return { key, plaintext };
  }

  async function decrypt(
    caller: Caller,
    input: { ciphertext: Buffer; keyId?: string; encryptionContext?: EncryptionContext; dryRun?: boolean },
  ): Promise<{ key: Key; plaintext: Buffer }> {
    return decryptBlob(caller, input.ciphertext, input.keyId, input.encryptionContext, 'Decrypt', input.dryRun);
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
      dryRun?: boolean;
    },
  ): Promise<{ sourceKey: Key; destinationKey: Key; ciphertext: Buffer }> {
    const destinationKey = await resolveKey(caller, input.destinationKeyId, { allowAlias: true, action: 'ReEncryptTo' });
    requireUsable(destinationKey, 'ReEncrypt', 'ENCRYPT_DECRYPT');
    const { key: sourceKey, plaintext } = await decryptBlob(
      caller, input.ciphertext, input.sourceKeyId, input.sourceEncryptionContext, 'ReEncryptFrom',
    );
    try {
      if (input.dryRun) throw dryRunSucceeded();
      const ciphertext = await encryptWithKey(destinationKey, plaintext, input.destinationEncryptionContext);
      return { sourceKey, destinationKey, ciphertext };
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
    const key = await resolveKey(caller, input.keyId, { allowAlias: true, action: operation });
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

  /** AWS: GenerateRandom — 1 to 1024 bytes from the CSPRNG (a custom key store's HSM when named). */
  function generateRandom(numberOfBytes: number | undefined): Buffer {
    if (numberOfBytes === undefined) throw new ValidationException('NumberOfBytes is required.');
    return randomBytesBuffer(numberOfBytes);
  }

  /**
   * Applies `mutate` to a key (state changes included, already checked against the transition table)
   * and stores it with compare-and-set, retrying on a lost race; `mutate` may run more than once.
   */
  function mutateKey(key: Key, mutate: (key: Key) => Key): Promise<Key> {
    return updateKeyDoc(storage, key.scope, key.keyId, (current) => mutate(current).doc, { allowStateChange: true });
  }

  return {
    resolveKey,
    requireUsable,
    withMaterial,
    mutateKey,
    createKey,
    describeKey,
    listKeys,
    encrypt,
    decrypt,
    reEncrypt,
    generateDataKey,
    generateRandom,
    encryptWithKey,
  };
}
