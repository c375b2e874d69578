/**
 * Imported key material (AWS KMS "BYOK"): GetParametersForImport, ImportKeyMaterial,
 * DeleteImportedKeyMaterial, and the expiry the background job carries out.
 *
 * - A key created with Origin EXTERNAL is PendingImport and has no material (key-service.ts).
 * - GetParametersForImport makes a fresh RSA wrapping key pair per call. The private key is sealed by the
 *   barrier (AAD: account, region, key id, token id) and stored (storage/import-repo.ts); the ImportToken
 *   names it and is authenticated for that one key (import-token.ts). Both are valid for 24 h.
 * - ImportKeyMaterial unwraps the material with the stored wrapping key, checks it against the key spec,
 *   and stores it sealed as material version 1, exactly where generated material would be, so ciphertexts
 *   keep naming version 1 across delete and re-import. The KeyMaterialId is an HMAC-SHA256, under a
 *   deployment-wide key, of the key's identity and the material (the public key for asymmetric keys): the
 *   same material always gets the same id, so a re-import is checked against the first one in constant
 *   time, and the id reveals nothing that would let anyone test a guess of the material.
 * - DeleteImportedKeyMaterial and expiry delete the sealed material row and zero the cached copies.
 *
 * Trent keeps one imported material per key: importing NEW key material for on-demand rotation
 * (ImportType NEW_KEY_MATERIAL into a key that has material) is not supported.
 */
import type { ContextValue } from '../policy/index.ts';
import type { Caller } from '../auth/caller.ts';
import { DAY_MS, type Clock } from '../clock.ts';
import { generateWrappingKeyPair, UnwrapError, unwrapKeyMaterial, type WrappingAlgorithm, type WrappingKeySpec } from '../crypto/key-import.ts';
import { constantTimeEqual, hmacSha256 } from '../crypto/primitives.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import {
  ExpiredImportTokenException,
  IncorrectKeyMaterialException,
  InvalidCiphertextException,
  InvalidImportTokenException,
  NotFoundException,
  UnsupportedOperationException,
  ValidationException,
} from '../errors/errors.ts';
import { barrierAad, BarrierOpenError, type Barrier } from '../seal/barrier.ts';
import type { Scope, Storage } from '../storage/storage.ts';
import { newImportToken, readImportToken } from './import-token.ts';
import { recordFromKey, type ExpirationModel, type Key, type KeyDoc } from './key-model.ts';
import { materialAad, type KeyService } from './key-service.ts';
import { familyOf } from './key-specs/index.ts';
import { transition } from './key-states.ts';
import { updateKeyDoc } from './key-updates.ts';
import type { MaterialCache } from './material-cache.ts';

/** AWS: each public key and import token set is valid for 24 hours. */
export const IMPORT_PARAMETERS_VALID_MS = DAY_MS;
/** AWS: ValidTo is at most 365 days after the request. */
export const MAX_VALID_TO_MS = 365 * DAY_MS;

export interface KeyImportDeps {
  storage: Storage;
  barrier: Barrier;
  clock: Clock;
  materialCache: MaterialCache;
  keys: KeyService;
  /** Deployment-wide key authenticating import tokens. */
  importTokenKey: SecretBytes;
  /** Deployment-wide key of the KeyMaterialId HMAC. */
  materialIdKey: SecretBytes;
}

export interface ImportKeyMaterialInput {
  keyId: string;
  importToken: Buffer;
  encryptedKeyMaterial: Buffer;
  expirationModel?: ExpirationModel;
  /** Epoch ms. */
  validTo?: number;
  importType?: 'NEW_KEY_MATERIAL' | 'EXISTING_KEY_MATERIAL';
  keyMaterialId?: string;
  keyMaterialDescription?: string;
}

export type KeyImportService = ReturnType<typeof createKeyImportService>;

function wrappingKeyAad(scope: Scope, keyId: string, tokenId: string): Buffer {
  return barrierAad('kms/import-wrapping-key', scope.accountId, scope.region, keyId, tokenId);
}

/** AWS: these operations need an EXTERNAL key (recorded: "<arn> origin is AWS_KMS which is not valid for this operation."). */
function requireExternal(key: Key): void {
  if (key.doc.origin !== 'EXTERNAL') {
    throw new UnsupportedOperationException(`${key.arn} origin is ${key.doc.origin} which is not valid for this operation.`);
  }
}

/** The key document without imported material: the state the transition table gives, no expiry. */
function withoutMaterial(key: Key): KeyDoc {
  const { importedMaterial: _gone, ...rest } = key.doc;
  return { ...rest, state: transition(key, 'DeleteImportedKeyMaterial') };
}

/**
 * Deletes the imported material of a key whose ValidTo has passed (the background job), gated by
 * compare-and-set on the key's revision: a racing re-import or another node's job wins or loses cleanly.
 */
export async function expireImportedMaterial(storage: Storage, materialCache: MaterialCache, key: Key): Promise<boolean> {
  const next = recordFromKey({ ...key, doc: withoutMaterial(key) });
  const done = await storage.transaction(async (tx) => {
    if (!(await tx.keys.update(next, key.revision))) return false;
    await tx.materials.deleteAll(key.scope, key.keyId);
    return true;
  });
  if (done) materialCache.evictKey(key.scope.accountId, key.scope.region, key.keyId);
  return done;
}

export function createKeyImportService({ storage, barrier, clock, materialCache, keys, importTokenKey, materialIdKey }: KeyImportDeps) {
  const resolve = (caller: Caller, keyId: string, action: string, contextKeys?: Record<string, ContextValue>) =>
    keys.resolveKey(caller, keyId, { allowAlias: false, action, ...(contextKeys ? { contextKeys } : {}) });

  function materialIdOf(key: Key, identity: Buffer): string {
    const prefix = barrierAad('kms/imported-material-id', key.scope.accountId, key.scope.region, key.keyId);
    return hmacSha256(materialIdKey.expose(), Buffer.concat([prefix, identity])).toString('hex');
  }

  /** AWS GetParametersForImport: a new wrapping key pair and token, valid 24 h. */
  async function getParametersForImport(
    caller: Caller,
    input: { keyId: string; wrappingAlgorithm: WrappingAlgorithm; wrappingKeySpec: WrappingKeySpec },
  ): Promise<{ key: Key; importToken: Buffer; publicKey: Buffer; parametersValidTo: number }> {
    const key = await resolve(caller, input.keyId, 'GetParametersForImport', {
      'kms:WrappingAlgorithm': input.wrappingAlgorithm, 'kms:WrappingKeySpec': input.wrappingKeySpec,
    });
    requireExternal(key);
    transition(key, 'ImportKeyMaterial'); // AWS: refused in the states where an import would be (pending deletion)
    const now = clock.now();
    const expiresAt = now + IMPORT_PARAMETERS_VALID_MS;
    const { token, tokenId } = newImportToken(importTokenKey, key.scope, key.keyId, expiresAt);
    const pair = await generateWrappingKeyPair(input.wrappingKeySpec);
    try {
      const sealed = barrier.seal(pair.privateKeyPkcs8.expose(), wrappingKeyAad(key.scope, key.keyId, tokenId));
      await storage.transaction((tx) => tx.importParameters.insert({
        ...key.scope, keyId: key.keyId, tokenId, createdAt: now, expiresAt, sealed,
        doc: { wrappingAlgorithm: input.wrappingAlgorithm, wrappingKeySpec: input.wrappingKeySpec },
      }));
    } finally {
      pair.privateKeyPkcs8.zeroize();
    }
    return { key, importToken: token, publicKey: pair.publicKeySpki, parametersValidTo: expiresAt };
  }

  /** AWS ImportKeyMaterial: ExpirationModel defaults to KEY_MATERIAL_EXPIRES, which needs a future ValidTo ≤ 365 days. */
  function checkExpiration(input: ImportKeyMaterialInput, now: number): { expirationModel: ExpirationModel; validTo?: number } {
    const expirationModel = input.expirationModel ?? 'KEY_MATERIAL_EXPIRES';
    if (expirationModel === 'KEY_MATERIAL_DOES_NOT_EXPIRE') {
      if (input.validTo !== undefined) {
        throw new ValidationException('A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE');
      }
      return { expirationModel };
    }
    // AWS (recorded): KEY_MATERIAL_EXPIRES without ValidTo.
    if (input.validTo === undefined) throw new ValidationException('A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES');
    if (input.validTo <= now) throw new ValidationException('The validTo date must be in the future.');
    if (input.validTo > now + MAX_VALID_TO_MS) throw new ValidationException('The validTo date must be no more than 365 days from now.');
    return { expirationModel, validTo: input.validTo };
  }

  /** AWS: ImportType, KeyMaterialId and KeyMaterialDescription are only usable with symmetric encryption keys. */
  function checkSymmetricOnlyMembers(key: Key, input: ImportKeyMaterialInput): void {
    if (key.doc.keySpec === 'SYMMETRIC_DEFAULT') {
      if (input.importType === 'NEW_KEY_MATERIAL' && input.keyMaterialId !== undefined) {
        throw new ValidationException('You cannot specify a key material ID with ImportType set to NEW_KEY_MATERIAL.');
      }
      return;
    }
    for (const [member, value] of [['ImportType', input.importType], ['KeyMaterialId', input.keyMaterialId], ['KeyMaterialDescription', input.keyMaterialDescription]] as const) {
      if (value !== undefined) throw new ValidationException(`${member} is only valid for symmetric encryption KMS keys.`);
    }
  }

  /** The stored wrapping key a token names; Invalid/ExpiredImportTokenException as AWS. */
  async function wrappingKeyFor(key: Key, token: Buffer): Promise<{ wrappingKey: SecretBytes; algorithm: WrappingAlgorithm }> {
    const fields = readImportToken(importTokenKey, key.scope, key.keyId, token);
    if (!fields) throw new InvalidImportTokenException('Import token is invalid or is associated with a different KMS key.');
    if (fields.expiresAt <= clock.now()) {
      throw new ExpiredImportTokenException('Import token is expired. Use GetParametersForImport to get a new import token and public key.');
    }
    const row = await storage.read((r) => r.importParameters.get(key.scope, key.keyId, fields.tokenId));
    if (!row) throw new InvalidImportTokenException('Import token is invalid or is associated with a different KMS key.');
    try {
      return { wrappingKey: barrier.unseal(row.sealed, wrappingKeyAad(key.scope, key.keyId, fields.tokenId)), algorithm: row.doc.wrappingAlgorithm as WrappingAlgorithm };
    } catch (err) {
      if (err instanceof BarrierOpenError) throw new InvalidImportTokenException('Import token is invalid or is associated with a different KMS key.');
      throw err;
    }
  }

  /** The plaintext material of an import; InvalidCiphertextException (no message) when it does not unwrap. */
  async function unwrap(key: Key, input: ImportKeyMaterialInput): Promise<SecretBytes> {
    const { wrappingKey, algorithm } = await wrappingKeyFor(key, input.importToken);
    try {
      return unwrapKeyMaterial(wrappingKey, algorithm, input.encryptedKeyMaterial);
    } catch (err) {
      if (err instanceof UnwrapError) throw new InvalidCiphertextException('');
      throw err;
    } finally {
      wrappingKey.zeroize();
    }
  }

  /**
   * AWS: the first import sets the key's material for good; later imports must bring the same material
   * (IncorrectKeyMaterialException otherwise), which restores decryption after a delete or expiry.
   */
  function checkIdentity(key: Key, input: ImportKeyMaterialInput, materialId: string): void {
    const current = key.doc.currentKeyMaterialId;
    if (input.keyMaterialId !== undefined && !constantTimeEqual(Buffer.from(input.keyMaterialId), Buffer.from(materialId))) {
      throw new IncorrectKeyMaterialException(`The key material does not match the key material ID ${input.keyMaterialId}.`);
    }
    if (!current) {
      if (input.importType === 'EXISTING_KEY_MATERIAL') {
        throw new IncorrectKeyMaterialException(`No key material was imported into ${key.arn} before; import it with ImportType NEW_KEY_MATERIAL.`);
      }
      return;
    }
    const same = constantTimeEqual(Buffer.from(current), Buffer.from(materialId));
    if (input.importType === 'NEW_KEY_MATERIAL') {
      if (same) throw new IncorrectKeyMaterialException(`The key material is already associated with ${key.arn}.`);
      throw new UnsupportedOperationException(`Importing new key material for on-demand rotation is not supported; ${key.arn} keeps the key material first imported.`);
    }
    if (!same) throw new IncorrectKeyMaterialException('The key material is not the same key material that was previously imported into this KMS key.');
  }

  async function importKeyMaterial(caller: Caller, input: ImportKeyMaterialInput): Promise<{ key: Key; keyMaterialId: string }> {
    // AWS: kms:ExpirationModel is the model the import gets; kms:ValidTo its expiry in epoch seconds.
    const key = await resolve(caller, input.keyId, 'ImportKeyMaterial', {
      'kms:ExpirationModel': input.expirationModel ?? 'KEY_MATERIAL_EXPIRES',
      ...(input.validTo !== undefined ? { 'kms:ValidTo': Math.floor(input.validTo / 1000) } : {}),
    });
    requireExternal(key);
    transition(key, 'ImportKeyMaterial'); // the state's AWS error before any cryptographic work
    checkSymmetricOnlyMembers(key, input);
    const expiry = checkExpiration(input, clock.now());
    const material = await unwrap(key, input);
    try {
      const accepted = familyOf(key.doc.keySpec).acceptImported(key.doc.keySpec, material);
      if (!accepted) throw new IncorrectKeyMaterialException(`The key material is not valid for a KMS key with key spec ${key.doc.keySpec}.`);
      // Asymmetric material is identified by its public key, so two encodings of one private key are the same material.
      const materialId = materialIdOf(key, accepted.publicKeySpki ?? material.expose());
      checkIdentity(key, input, materialId);
      const sealed = barrier.seal(material.expose(), materialAad(key.scope, key.keyId, 1));
      const now = clock.now();
      const importedMaterial = {
        ...expiry,
        ...(input.keyMaterialDescription !== undefined ? { description: input.keyMaterialDescription }
          : key.doc.importedMaterial?.description !== undefined ? { description: key.doc.importedMaterial.description } : {}),
      };
      const stored = await updateKeyDoc(storage, key.scope, key.keyId, async (k, tx) => {
        requireExternal(k);
        const state = transition(k, 'ImportKeyMaterial');
        checkIdentity(k, input, materialId); // a racing first import of other material loses here
        await tx.materials.deleteAll(k.scope, k.keyId);
        await tx.materials.insert({
          ...k.scope, keyId: k.keyId, version: 1, createdAt: now, sealed,
          doc: { keyMaterialId: materialId, origin: 'EXTERNAL', ...(accepted.publicKeySpki ? { publicKey: accepted.publicKeySpki.toString('base64') } : {}) },
        });
        return { ...k.doc, state, currentVersion: 1, currentKeyMaterialId: materialId, importedMaterial };
      }, { allowStateChange: true });
      return { key: stored, keyMaterialId: materialId };
    } finally {
      material.zeroize();
    }
  }

  /**
   * AWS DeleteImportedKeyMaterial: the key becomes PendingImport (a key pending deletion stays so); its
   * sealed material row is deleted in the same transaction and cached copies on this node are zeroed.
   */
  async function deleteImportedKeyMaterial(caller: Caller, input: { keyId: string; keyMaterialId?: string }): Promise<{ key: Key; keyMaterialId: string }> {
    const key = await resolve(caller, input.keyId, 'DeleteImportedKeyMaterial');
    requireExternal(key);
    const stored = await updateKeyDoc(storage, key.scope, key.keyId, async (k, tx) => {
      requireExternal(k);
      const doc = withoutMaterial(k);
      if (input.keyMaterialId !== undefined && input.keyMaterialId !== k.doc.currentKeyMaterialId) {
        throw new NotFoundException(`Key material ${input.keyMaterialId} is not associated with ${k.arn}.`);
      }
      await tx.materials.deleteAll(k.scope, k.keyId);
      return doc;
    }, { allowStateChange: true });
    materialCache.evictKey(key.scope.accountId, key.scope.region, key.keyId);
    return { key: stored, keyMaterialId: stored.doc.currentKeyMaterialId };
  }

  return { getParametersForImport, importKeyMaterial, deleteImportedKeyMaterial };
}
