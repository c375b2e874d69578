/**
 * The KMS key service: key resolution and authorisation, CreateKey, DescribeKey, ListKeys, GenerateRandom,
 * and the custody of key material the cryptographic operations run on (Encrypt, Decrypt, ReEncrypt and
 * GenerateDataKey are in encryption-operations.ts and exposed here), knowing nothing of HTTP.
 * Inputs are validated for shape at the edge; this service checks meaning (state, usage, spec) and
 * raises TrentErrors whose codes and messages mirror AWS KMS.
 */
import { LRUCache } from 'lru-cache';
import type { Authorizer, KeyResource } from '../auth/authorizer.ts';
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import { AeadOpenError } from '../crypto/aead.ts';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import {
  CustomKeyStoreNotFoundException,
  ActionDeniedException,
  InternalError,
  InvalidCiphertextException,
  InvalidKeyUsageException,
  NotFoundException,
  TagException,
  TrentError,
  UnsupportedOperationException,
  ValidationException,
} from '../errors/errors.ts';
import { barrierAad, unsealFresh, type Barrier } from '../seal/barrier.ts';
import type { Scope, Storage } from '../storage/storage.ts';
import { aliasArn, keyArn, parseKeyReference } from './arn.ts';
import { createEncryptionOperations } from './encryption-operations.ts';
import { keyFromRecord, recordFromKey, type Key, type KeyDoc, type KeySpec, type KeyUsage, type Origin, type Tag } from './key-model.ts';
import { checkCreateKeyUsage, familyOf } from './key-specs/index.ts';
import { symmetricDecrypt, symmetricEncrypt } from './key-specs/symmetric.ts';
import { requireEnabled } from './key-states.ts';
import { defaultKeyPolicyText, requestTagKeys } from '../policy/index.ts';
import { updateKeyDoc } from './key-updates.ts';
import type { PaginationMarkers } from './markers.ts';
import { MaterialCache } from './material-cache.ts';
import { checkNewTags, MAX_TAGS } from './tags.ts';
import type { CustomKeyStoreService } from './custom-key-stores.ts';
import { hsmKeyCustody, type KeyCustody } from './key-custody.ts';
import type { ResolveKeyOptions } from './operation-common.ts';

export interface KeyServiceDeps {
  storage: Storage;
  barrier: Barrier;
  clock: Clock;
  materialCache: MaterialCache;
  /** Deployment-wide key authenticating ciphertext headers (see ciphertext.ts). */
  ciphertextHeaderKey: SecretBytes;
  /**
   * The header keys of linked peer deployments (src/replication/links.ts): a ciphertext a peer's copy of a
   * multi-Region key made carries the peer's header MAC. Absent: only this deployment's.
   */
  peerHeaderKeys?: () => Promise<readonly SecretBytes[]>;
  /** The authorisation choke point: resolveKey calls it for every key-scoped action. */
  authorizer: Authorizer;
  /** Custom key stores (keys with Origin AWS_CLOUDHSM, GenerateRandom from an HSM); absent: none configured. */
  customKeyStores?: CustomKeyStoreService;
  /** Authenticates pagination markers (markers.ts). */
  markers: PaginationMarkers;
}

export interface CreateKeyInput {
  description?: string;
  keyUsage?: KeyUsage;
  keySpec?: KeySpec;
  origin?: Origin;
  tags?: Tag[];
  multiRegion?: boolean;
  /** Key policy JSON; AWS's default key policy when absent. */
  policy?: string;
  bypassPolicyLockoutSafetyCheck?: boolean;
  /** AWS for the keys Trent's own services create on first use (alias/aws/<service>); CUSTOMER otherwise. */
  keyManager?: 'AWS' | 'CUSTOMER';
  /** With origin AWS_CLOUDHSM: the custom key store whose HSM generates and holds the key. */
  customKeyStoreId?: string;
}

/** Public keys kept in memory (about 100-600 bytes each). */
const PUBLIC_KEY_CACHE_ENTRIES = 10_000;

export { MAX_SYMMETRIC_PLAINTEXT, type EncryptionAlgorithm } from './encryption-operations.ts';
export { algorithmKey, dryRunSucceeded, type RequestKeys } from './operation-common.ts';

export function materialAad(scope: Scope, keyId: string, version: number): Buffer {
  return barrierAad('kms/key-material', scope.accountId, scope.region, keyId, version);
}

function newKeyMaterialId(): string {
  return randomBytesBuffer(32).toString('hex');
}

export type KeyService = ReturnType<typeof createKeyService>;

/**
 * AWS: the KMS operations whose documentation says "Cross-account use: Yes" (the KMS API reference, as
 * carried by @aws-sdk/client-kms's command docs), by the action resolveKey is given. Every other action on
 * another account's key is refused whatever that key's policy allows (CreateAlias: "The KMS key must be
 * in the same AWS account and Region as the alias"), in the words used for a key that does not exist.
 */
const CROSS_ACCOUNT_ACTIONS: ReadonlySet<string> = new Set([
  'CreateGrant', 'Decrypt', 'DeriveSharedSecret', 'DescribeKey', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext', 'GenerateDataKeyWithoutPlaintext', 'GenerateMac', 'GetKeyRotationStatus', 'GetPublicKey',
  'ListGrants', 'ReEncryptFrom', 'ReEncryptTo', 'RetireGrant', 'RevokeGrant', 'Sign', 'Verify', 'VerifyMac',
]);

export function createKeyService({ storage, barrier, clock, materialCache, ciphertextHeaderKey, peerHeaderKeys, authorizer, customKeyStores, markers }: KeyServiceDeps) {
  /**
   * Resolves a KeyId member (id, key ARN, alias name or alias ARN) to a key, and authorises `kms:<action>`
   * on it (key policy, identity policies, grants; see auth/authorizer.ts) unless `authorize` is false
   * (RetireGrant, which the grant itself authorises). AWS: a key of the caller's account that does not
   * exist is NotFoundException; one of another account is AccessDeniedException whether or not it exists.
   */
  async function resolveKey(
    caller: Caller,
    ref: string,
    opts: ResolveKeyOptions,
  ): Promise<Key> {
    const scope = callerScope(caller);
    const parsed = parseKeyReference(ref, scope);
    if (parsed.kind === 'invalid' || (parsed.kind === 'alias' && !opts.allowAlias)) {
      throw new NotFoundException(`Invalid keyId '${ref}'`);
    }
    if (parsed.scope.region !== scope.region) throw new NotFoundException(`Invalid arn ${parsed.scope.region}`);
    if (parsed.scope.accountId !== scope.accountId) {
      // Cross-account use: only for CROSS_ACCOUNT_ACTIONS, by key ARN or alias ARN (AWS: "To specify a KMS
      // key in a different AWS account, you must use the key ARN or alias ARN"), and only when the other
      // account's key policy names this caller or its account and the caller's identity policy allows
      // (evaluateKeyAccess; RetireGrant, authorize false, is decided by the grant). Otherwise — and for a
      // key that does not exist — the same AccessDeniedException, so existence is not revealed.
      if (CROSS_ACCOUNT_ACTIONS.has(opts.action)) {
        const alias = parsed.kind === 'alias' ? await storage.read((r) => r.aliases.get(parsed.scope, parsed.aliasName)) : undefined;
        const otherId = parsed.kind === 'keyId' ? parsed.keyId : alias?.targetKeyId;
        const other = otherId === undefined ? undefined : await storage.read((r) => r.keys.get(parsed.scope, otherId));
        if (other && parsed.kind === 'keyId') return await authorized(caller, opts, keyFromRecord(other));
        if (other && parsed.kind === 'alias') {
          try {
            return await authorized(caller, opts, keyFromRecord(other), parsed.aliasName);
          } catch (err) {
            // Refused through an alias ARN: answered below as for an alias that does not exist, naming
            // the alias, never the key behind it.
            if (!(err instanceof TrentError && err.code === 'AccessDeniedException')) throw err;
          }
        }
      }
      const arn = parsed.kind === 'keyId' ? keyArn(parsed.scope, parsed.keyId) : aliasArn(parsed.scope, parsed.aliasName);
      // Evaluated as another account's resource with no policy that allows, so the caller's own explicit
      // Deny is reported as it is for a key that exists (the words must not tell the two apart).
      if (opts.authorize !== false) await authorizer.authorizeResource(caller, `kms:${opts.action}`, { arn, accountId: parsed.scope.accountId });
      throw new ActionDeniedException(
        `User: ${caller.principalArn} is not authorized to perform: kms:${opts.action} on resource: ${arn} because no resource-based policy allows the kms:${opts.action} action`,
        `kms:${opts.action}`,
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
    return await authorized(caller, opts, keyFromRecord(record), parsed.kind === 'alias' ? parsed.aliasName : undefined);
  }

  /** The key as the request sees it (withEffectiveState), once `kms:<action>` on it is authorised (unless opts.authorize is false). */
  async function authorized(caller: Caller, opts: ResolveKeyOptions, stored: Key, requestAlias?: string): Promise<Key> {
    // Only a key of a custom key store has a state of its own to look up (an await); the others are as stored.
    const key = stored.doc.customKeyStoreId === undefined ? stored : await withEffectiveState(stored);
    if (opts.authorize === false) return key;
    const contextKeys = typeof opts.contextKeys === 'function' ? opts.contextKeys(key) : opts.contextKeys;
    const resource: KeyResource = { key };
    if (opts.encryptionContext) resource.encryptionContext = opts.encryptionContext;
    if (requestAlias !== undefined) resource.requestAlias = requestAlias;
    if (contextKeys) resource.contextKeys = contextKeys;
    await authorizer.authorize(caller, `kms:${opts.action}`, resource);
    return key;
  }

  /**
   * AWS: a key in a custom key store that is not connected is in state Unavailable (a key pending
   * deletion stays PendingDeletion). The stored state is kept, so reconnecting restores it; only the
   * key a request sees carries Unavailable (state changes re-read the stored key).
   */
  async function withEffectiveState(key: Key): Promise<Key> {
    const storeId = key.doc.customKeyStoreId;
    if (storeId === undefined || !customKeyStores) return key;
    if (key.doc.state !== 'Enabled' && key.doc.state !== 'Disabled') return key;
    if (await customKeyStores.isConnected(key.scope, storeId)) return key;
    return { ...key, doc: { ...key.doc, state: 'Unavailable' } };
  }

  /** AWS: key state and usage are checked before any cryptographic work, in this order. */
  function requireUsable(key: Key, operation: string, usage: KeyUsage): void {
    requireEnabled(key);
    if (key.doc.keyUsage !== usage) {
      throw new InvalidKeyUsageException(`${key.arn} key usage is ${key.doc.keyUsage} which is not valid for ${operation}.`);
    }
  }

  function withMaterial<T>(key: Key, version: number, use: (m: SecretBytes) => T): Promise<T> {
    // Material imported for on-demand rotation is not the key's until RotateKeyOnDemand: no ciphertext may name it.
    if (version === key.doc.pendingMaterial?.version) return Promise.reject(new InvalidCiphertextException(''));
    const id = MaterialCache.id(key.scope.accountId, key.scope.region, key.keyId, version);
    // Not an async function: it only hands the cache's promise on (an async wrapper added two promises a call).
    return materialCache.withMaterial(
      id,
      async () => {
        const m = await storage.read((r) => r.materials.get(key.scope, key.keyId, version));
        if (!m) throw new InvalidCiphertextException('');
        return unsealFresh(barrier, m.sealed, materialAad(key.scope, key.keyId, version));
      },
      use,
    );
  }

  /** Symmetric material sealed in storage, used in memory (HKDF per message, then AES-GCM). */
  const softwareCustody: KeyCustody = {
    encrypt: (key, version, salt, aad, plaintext) => withMaterial(key, version, (m) => symmetricEncrypt(m, salt, aad, plaintext)),
    async decrypt(key, version, salt, aad, box) {
      try {
        return await withMaterial(key, version, (m) => symmetricDecrypt(m, salt, aad, box));
      } catch (err) {
        if (err instanceof AeadOpenError) throw new InvalidCiphertextException('');
        throw err;
      }
    },
    destroy: async () => undefined, // the sealed rows go with the key's transaction
  };
  const hsmCustody = customKeyStores ? hsmKeyCustody(customKeyStores) : undefined;

  /** The one place that maps a key's origin to where its symmetric material lives. */
  function custodyOf(key: Key): KeyCustody {
    if (key.doc.origin === 'AWS_CLOUDHSM') {
      if (!hsmCustody) throw new InternalError();
      return hsmCustody;
    }
    return softwareCustody;
  }

  // Public keys of material versions already read. A version never changes once written and key ids are
  // never reused, so an entry cannot go stale; it saves a storage read per Verify / RSA Encrypt.
  const publicKeys = new LRUCache<string, Buffer>({ max: PUBLIC_KEY_CACHE_ENTRIES });

  /** The SubjectPublicKeyInfo DER of an asymmetric key (stored in clear beside its sealed private key). */
  async function publicKeyOf(key: Key): Promise<Buffer> {
    const id = MaterialCache.id(key.scope.accountId, key.scope.region, key.keyId, key.doc.currentVersion);
    const known = publicKeys.get(id);
    if (known) return known;
    const m = await storage.read((r) => r.materials.get(key.scope, key.keyId, key.doc.currentVersion));
    const spki = m?.doc.publicKey;
    if (typeof spki !== 'string') throw new InternalError();
    const der = Buffer.from(spki, 'base64');
    publicKeys.set(id, der);
    return der;
  }

  async function createKey(caller: Caller, input: CreateKeyInput): Promise<Key> {
    const keySpec = input.keySpec ?? 'SYMMETRIC_DEFAULT';
    const keyUsage = checkCreateKeyUsage(keySpec, input.keyUsage);
    const family = familyOf(keySpec);
    const origin = input.origin ?? 'AWS_KMS';
    if (origin !== 'AWS_KMS' && origin !== 'AWS_CLOUDHSM' && origin !== 'EXTERNAL') throw new UnsupportedOperationException(`Origin ${origin} is not supported.`);
    // AWS: CustomKeyStoreId goes with Origin AWS_CLOUDHSM; such keys are single-Region symmetric encryption keys.
    if ((origin === 'AWS_CLOUDHSM') !== (input.customKeyStoreId !== undefined)) {
      throw new ValidationException('To create a KMS key in an AWS CloudHSM key store, specify both Origin AWS_CLOUDHSM and CustomKeyStoreId.');
    }
    if (origin === 'AWS_CLOUDHSM' && (keySpec !== 'SYMMETRIC_DEFAULT' || input.multiRegion)) {
      throw new UnsupportedOperationException('KMS keys in an AWS CloudHSM key store must be single-Region symmetric encryption keys (SYMMETRIC_DEFAULT).');
    }
    // AWS: an EXTERNAL key is created PendingImport with no material (and no CurrentKeyMaterialId) until ImportKeyMaterial.
    const external = origin === 'EXTERNAL';
    const tags = input.tags ?? [];
    if (tags.length > MAX_TAGS) throw new TagException('Too many tags');
    checkNewTags(tags);
    // AWS (CreateKey, "Required permissions"): Tags need kms:TagResource too, in an IAM policy (the key has
    // no policy yet), as ReplicateKey does in multi-region.ts.
    if (tags.length > 0) await authorizer.authorize(caller, 'kms:TagResource', undefined, requestTagKeys(tags.map((t) => [t.TagKey, t.TagValue])));

    const scope = callerScope(caller);
    const multiRegion = input.multiRegion ?? false;
    const keyId = multiRegion ? `mrk-${randomBytesBuffer(16).toString('hex')}` : crypto.randomUUID();
    const now = clock.now();
    const materialId = external ? '' : newKeyMaterialId();
    const doc: KeyDoc = {
      description: input.description ?? '',
      keyUsage,
      keySpec,
      origin,
      keyManager: input.keyManager ?? 'CUSTOMER',
      state: external ? 'PendingImport' : 'Enabled',
      currentVersion: 1,
      currentKeyMaterialId: materialId,
      multiRegion,
      tags,
    };
    doc.policy = input.policy !== undefined
      ? await authorizer.checkNewKeyPolicy(caller, input.policy, {
        keyArn: keyArn(scope, keyId),
        ...(input.bypassPolicyLockoutSafetyCheck ? { bypassLockoutCheck: true } : {}),
      })
      : defaultKeyPolicyText(scope.accountId);
    const key: Key = { scope, keyId, arn: keyArn(scope, keyId), createdAt: now, revision: 1, doc };
    if (origin === 'AWS_CLOUDHSM') return createHsmKey(key, input.customKeyStoreId!);
    if (external) {
      await storage.transaction((tx) => tx.keys.insert(recordFromKey(key)));
      return key;
    }
    // Symmetric: the AES key; HMAC: the HMAC key; asymmetric: the PKCS#8 private key — all sealed alike.
    // The public key (SPKI DER, not secret) rides in the material record's doc.
    const { secret: material, publicKeySpki } = await family.generate(keySpec);
    try {
      const sealed = barrier.seal(material.expose(), materialAad(scope, keyId, 1));
      const materialDoc = { keyMaterialId: materialId, ...(publicKeySpki ? { publicKey: publicKeySpki.toString('base64') } : {}) };
      await storage.transaction(async (tx) => {
        await tx.keys.insert(recordFromKey(key));
        await tx.materials.insert({ ...scope, keyId, version: 1, createdAt: now, sealed, doc: materialDoc });
      });
    } finally {
      material.zeroize();
    }
    return key;
  }

  /**
   * A key whose AES-256 key is generated inside the custom key store's HSM (never in Trent's memory);
   * storage holds only its metadata. If the row cannot be written, the new HSM object is destroyed so
   * nothing is left half-made.
   */
  async function createHsmKey(key: Key, storeId: string): Promise<Key> {
    if (!customKeyStores || !hsmCustody) throw new CustomKeyStoreNotFoundException('');
    const { clusterId, hsm } = await hsmCustody.generate(key, storeId);
    const made: Key = { ...key, doc: { ...key.doc, customKeyStoreId: storeId, cloudHsmClusterId: clusterId } };
    try {
      await storage.transaction((tx) => tx.keys.insert(recordFromKey(made)));
    } catch (err) {
      await hsm.destroyKey(key.keyId).catch(() => undefined);
      throw err;
    }
    return made;
  }

  async function describeKey(caller: Caller, keyIdInput: string): Promise<Key> {
    return resolveKey(caller, keyIdInput, { allowAlias: true, action: 'DescribeKey' });
  }

  async function listKeys(caller: Caller, limit: number, marker: string | undefined): Promise<{ keys: Key[]; nextMarker?: string }> {
    const after = markers.decode('ListKeys', marker);
    const page = await storage.read((r) => r.keys.list(callerScope(caller), after, limit));
    return {
      keys: page.items.map(keyFromRecord),
      ...(page.next !== undefined ? { nextMarker: markers.encode('ListKeys', page.next) } : {}),
    };
  }


  /**
   * AWS: GenerateRandom — 1 to 1024 bytes from the CSPRNG, or from the HSM of a custom key store when
   * one is named (CustomKeyStoreNotFoundException / CustomKeyStoreInvalidStateException as AWS).
   */
  async function generateRandom(caller: Caller, numberOfBytes: number | undefined, customKeyStoreId?: string): Promise<Buffer> {
    if (numberOfBytes === undefined) throw new ValidationException('NumberOfBytes is required.');
    if (customKeyStoreId === undefined) return randomBytesBuffer(numberOfBytes);
    if (!customKeyStores) throw new CustomKeyStoreNotFoundException('');
    const { hsm } = await customKeyStores.requireConnected(callerScope(caller), customKeyStoreId);
    return hsm.randomBytes(numberOfBytes);
  }

  /**
   * Applies `mutate` to a key (state changes included, already checked against the transition table)
   * and stores it with compare-and-set, retrying on a lost race; `mutate` may run more than once.
   */
  function mutateKey(key: Key, mutate: (key: Key) => Key): Promise<Key> {
    return updateKeyDoc(storage, key.scope, key.keyId, (current) => mutate(current).doc, { allowStateChange: true });
  }

  /**
   * AWS: Decrypt names the key material it used; an older version's id is in its material record. Asked by
   * the Decrypt operation only, so the decrypts Secrets Manager and Parameter Store make read nothing more.
   */
  function keyMaterialIdOf(key: Key, version: number): string | Promise<string> {
    // The current version's id is in the key: answered at once, nothing to wait for.
    if (version === key.doc.currentVersion) return key.doc.currentKeyMaterialId;
    return storage.read((r) => r.materials.get(key.scope, key.keyId, version)).then((material) => String(material?.doc.keyMaterialId ?? ''));
  }

  // Encrypt, Decrypt, ReEncrypt and GenerateDataKey, on the resolution and custody above.
  const encryption = createEncryptionOperations({ resolveKey, requireUsable, withMaterial, publicKeyOf, custodyOf, ciphertextHeaderKey, ...(peerHeaderKeys ? { peerHeaderKeys } : {}) });

  return {
    resolveKey,
    requireUsable,
    withMaterial,
    publicKeyOf,
    mutateKey,
    createKey,
    describeKey,
    listKeys,
    encrypt: encryption.encrypt,
    decrypt: encryption.decrypt,
    keyMaterialIdOf,
    reEncrypt: encryption.reEncrypt,
    generateDataKey: encryption.generateDataKey,
    generateRandom,
    encryptWithKey: encryption.encryptWithKey,
    custodyOf,
  };
}
