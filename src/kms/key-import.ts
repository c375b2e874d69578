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
 * - A symmetric key may hold several imported materials (AWS, 2025): ImportType NEW_KEY_MATERIAL into a key
 *   that has material stores it sealed as the next version, PENDING_ROTATION (key doc `pendingMaterial`, at
 *   most one); RotateKeyOnDemand makes it current (key-lifecycle.ts) and the material it replaces stays,
 *   decrypt only (`previousMaterials`). A ciphertext names its version, so older ciphertexts keep decrypting.
 *   EXISTING_KEY_MATERIAL re-imports any of them, found by its KeyMaterialId (the current one by default).
 * - DeleteImportedKeyMaterial (the current material, or the one KeyMaterialId names) and expiry (each
 *   material's own ValidTo) delete that sealed material row and zero the cached copies; only the loss of
 *   the current material makes the key PendingImport.
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
  KMSInvalidStateException,
  NotFoundException,
  UnsupportedOperationException,
  ValidationException,
} from '../errors/errors.ts';
import { barrierAad, BarrierOpenError, type Barrier } from '../seal/barrier.ts';
import type { MaterialRecord, Repos, Scope, Storage } from '../storage/storage.ts';
import { newImportToken, readImportToken } from './import-token.ts';
import { recordFromKey, type ExpirationModel, type ImportedVersion, type Key, type KeyDoc } from './key-model.ts';
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

/** The key document without its current imported material: the state the transition table gives, no expiry. */
function withoutMaterial(key: Key): KeyDoc {
  const { importedMaterial: _gone, ...rest } = key.doc;
  return { ...rest, state: transition(key, 'DeleteImportedKeyMaterial') };
}

/**
 * Deletes the sealed material rows of `drop` and stores `add`, leaving every other version as it was.
 * The repository deletes a key's rows only all at once, so the others are written back: sealed bytes
 * only, nothing is unsealed here.
 */
async function replaceVersions(tx: Repos, key: Key, drop: ReadonlySet<number>, add?: MaterialRecord): Promise<void> {
  const rows = await tx.materials.list(key.scope, key.keyId);
  await tx.materials.deleteAll(key.scope, key.keyId);
  for (const row of rows) {
    if (!drop.has(row.version) && row.version !== add?.version) await tx.materials.insert(row);
  }
  if (add) await tx.materials.insert(add);
}

/** Whether any imported material of the key is past its ValidTo. */
export function importedMaterialExpired(doc: KeyDoc, now: number): boolean {
  const expired = (validTo: number | undefined) => validTo !== undefined && validTo <= now;
  return expired(doc.importedMaterial?.validTo)
    || (doc.pendingMaterial?.imported === true && expired(doc.pendingMaterial.validTo))
    || (doc.previousMaterials ?? []).some((m) => m.imported && expired(m.validTo));
}

/**
 * Deletes the imported material past its ValidTo (the background job): the current material (the key
 * becomes PendingImport), material pending rotation, and rotated-out material (its id is kept for a
 * re-import). Gated by compare-and-set on the key's revision: a racing re-import or another node's job
 * wins or loses cleanly.
 */
export async function expireImportedMaterial(storage: Storage, materialCache: MaterialCache, key: Key, now: number): Promise<boolean> {
  const expired = (validTo: number | undefined) => validTo !== undefined && validTo <= now;
  const drop = new Set<number>();
  let doc = key.doc;
  if (expired(doc.importedMaterial?.validTo)) {
    doc = withoutMaterial(key);
    drop.add(key.doc.currentVersion);
  }
  if (doc.pendingMaterial?.imported && expired(doc.pendingMaterial.validTo)) {
    drop.add(doc.pendingMaterial.version);
    const { pendingMaterial: _gone, ...rest } = doc;
    doc = rest;
  }
  if (doc.previousMaterials?.some((m) => m.imported && expired(m.validTo))) {
    doc = {
      ...doc,
      previousMaterials: doc.previousMaterials.map((m) => {
        if (!m.imported || !expired(m.validTo)) return m;
        drop.add(m.version);
        return { ...m, imported: false };
      }),
    };
  }
  const next = recordFromKey({ ...key, doc });
  const done = await storage.transaction(async (tx) => {
    if (!(await tx.keys.update(next, key.revision))) return false;
    await replaceVersions(tx, key, drop);
    return true;
  });
  if (done) materialCache.evictKey(key.scope.accountId, key.scope.region, key.keyId);
  return done;
}

/** Where an import puts its material: the current version, the one pending rotation, or a rotated-out one. */
type ImportTarget = { kind: 'current' | 'pending' | 'previous'; version: number };

export function createKeyImportService({ storage, barrier, clock, materialCache, keys, importTokenKey, materialIdKey }: KeyImportDeps) {
  const resolve = (caller: Caller, keyId: string, action: string, contextKeys?: Record<string, ContextValue>) =>
    keys.resolveKey(caller, keyId, { allowAlias: false, action, ...(contextKeys ? { contextKeys } : {}) });

  function materialIdOf(key: Key, identity: Buffer): string {
    // The copies of a multi-Region key share their material and so its id (AWS: the same material must be
    // imported into every replica, and a replica refuses any other): no region in the derivation for them.
    const region = key.doc.multiRegion ? '(multi-Region)' : key.scope.region;
    const prefix = barrierAad('kms/imported-material-id', key.scope.accountId, region, key.keyId);
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

  const same = (a: string, b: string) => constantTimeEqual(Buffer.from(a), Buffer.from(b));

  /**
   * Where an import of material `materialId` goes, or the AWS error. The first import sets the key's first
   * material. EXISTING_KEY_MATERIAL (the default once the key has material) must bring material the key
   * already knows: the current one, the one pending rotation or a rotated-out one (IncorrectKeyMaterialException
   * otherwise), which restores it after a delete or expiry. NEW_KEY_MATERIAL adds material pending rotation.
   */
  function targetOf(key: Key, input: ImportKeyMaterialInput, materialId: string): ImportTarget {
    const current = key.doc.currentKeyMaterialId;
    if (input.keyMaterialId !== undefined && !same(input.keyMaterialId, materialId)) {
      throw new IncorrectKeyMaterialException(`The key material does not match the key material ID ${input.keyMaterialId}.`);
    }
    if (!current) {
      if (input.importType === 'EXISTING_KEY_MATERIAL') {
        throw new IncorrectKeyMaterialException(`No key material was imported into ${key.arn} before; import it with ImportType NEW_KEY_MATERIAL.`);
      }
      return { kind: 'current', version: key.doc.currentVersion };
    }
    const pending = key.doc.pendingMaterial;
    const previous = key.doc.previousMaterials ?? [];
    if (input.importType === 'NEW_KEY_MATERIAL') {
      // Rotating imported material would have to reach every copy of a multi-Region key at once; AWS offers
      // on-demand rotation of imported material for single-Region keys only.
      if (key.doc.multiRegion) throw new UnsupportedOperationException(`${key.arn} is a multi-Region key: new key material cannot be imported for rotation.`);
      // AWS (recorded: test_import_key_material_raises_if_there_is_already_key_material_pending).
      if (pending) {
        throw new KMSInvalidStateException(
          `New key material (id: ${materialId}) cannot be imported into KMS key ${key.arn}, because another key material (id: ${pending.keyMaterialId}) is pending rotation.`,
        );
      }
      if (same(current, materialId) || previous.some((m) => same(m.keyMaterialId, materialId))) {
        throw new IncorrectKeyMaterialException(`The key material is already associated with ${key.arn}.`);
      }
      // New material is rotated to from the current one, which must be there (transition() already refused the other states).
      if (!key.doc.importedMaterial) throw new KMSInvalidStateException(`${key.arn} is pending import.`);
      const version = Math.max(key.doc.currentVersion, ...previous.map((m) => m.version)) + 1;
      return { kind: 'pending', version };
    }
    if (same(current, materialId)) return { kind: 'current', version: key.doc.currentVersion };
    if (pending && same(pending.keyMaterialId, materialId)) return { kind: 'pending', version: pending.version };
    const old = previous.find((m) => same(m.keyMaterialId, materialId));
    if (old) return { kind: 'previous', version: old.version };
    throw new IncorrectKeyMaterialException('The key material is not the same key material that was previously imported into this KMS key.');
  }

  /** The key document after an import into `target`; `state` is what the transition table gave. */
  function importedDoc(k: Key, target: ImportTarget, materialId: string, expiry: { expirationModel: ExpirationModel; validTo?: number }, description: string | undefined, state: KeyDoc['state']): KeyDoc {
    const keep = (old: string | undefined) => (description !== undefined ? { description } : old !== undefined ? { description: old } : {});
    if (target.kind === 'current') {
      return { ...k.doc, state, currentKeyMaterialId: materialId, importedMaterial: { ...expiry, ...keep(k.doc.importedMaterial?.description) } };
    }
    // Material other than the current one leaves the key's state alone (a key without current material stays PendingImport).
    if (target.kind === 'pending') {
      const pendingMaterial: ImportedVersion = { version: target.version, keyMaterialId: materialId, ...expiry, ...keep(k.doc.pendingMaterial?.description), imported: true };
      return { ...k.doc, pendingMaterial };
    }
    const previousMaterials = (k.doc.previousMaterials ?? []).map((m) => {
      if (m.version !== target.version) return m;
      const { validTo: _old, description: oldDescription, ...rest } = m;
      return { ...rest, ...expiry, ...keep(oldDescription), imported: true };
    });
    return { ...k.doc, previousMaterials };
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
      targetOf(key, input, materialId);
      const now = clock.now();
      const stored = await updateKeyDoc(storage, key.scope, key.keyId, async (k, tx) => {
        requireExternal(k);
        const state = transition(k, 'ImportKeyMaterial');
        const target = targetOf(k, input, materialId); // a racing import of other material loses here
        const sealed = barrier.seal(material.expose(), materialAad(k.scope, k.keyId, target.version));
        await replaceVersions(tx, k, new Set(), {
          ...k.scope, keyId: k.keyId, version: target.version, createdAt: now, sealed,
          doc: { keyMaterialId: materialId, origin: 'EXTERNAL', ...(accepted.publicKeySpki ? { publicKey: accepted.publicKeySpki.toString('base64') } : {}) },
        });
        return importedDoc(k, target, materialId, expiry, input.keyMaterialDescription, target.kind === 'current' ? state : k.doc.state);
      }, { allowStateChange: true });
      return { key: stored, keyMaterialId: materialId };
    } finally {
      material.zeroize();
    }
  }

  /**
   * AWS DeleteImportedKeyMaterial: deletes the current material, or the one KeyMaterialId names. Without
   * its current material the key becomes PendingImport (a key pending deletion stays so); material pending
   * rotation or rotated out goes without changing the state. The sealed row is deleted in the same
   * transaction and cached copies on this node are zeroed.
   */
  async function deleteImportedKeyMaterial(caller: Caller, input: { keyId: string; keyMaterialId?: string }): Promise<{ key: Key; keyMaterialId: string }> {
    const key = await resolve(caller, input.keyId, 'DeleteImportedKeyMaterial');
    requireExternal(key);
    let deleted = '';
    const stored = await updateKeyDoc(storage, key.scope, key.keyId, async (k, tx) => {
      requireExternal(k);
      const wanted = input.keyMaterialId;
      if (wanted === undefined || wanted === k.doc.currentKeyMaterialId) {
        const doc = withoutMaterial(k);
        await replaceVersions(tx, k, new Set([k.doc.currentVersion]));
        deleted = k.doc.currentKeyMaterialId;
        return doc;
      }
      if (k.doc.pendingMaterial?.keyMaterialId === wanted) {
        await replaceVersions(tx, k, new Set([k.doc.pendingMaterial.version]));
        const { pendingMaterial: _gone, ...rest } = k.doc;
        deleted = wanted;
        return rest;
      }
      const old = k.doc.previousMaterials?.find((m) => m.keyMaterialId === wanted);
      if (!old) throw new NotFoundException(`Key material ${wanted} is not associated with ${k.arn}.`);
      await replaceVersions(tx, k, new Set([old.version]));
      deleted = wanted;
      return { ...k.doc, previousMaterials: k.doc.previousMaterials!.map((m) => (m === old ? { ...m, imported: false } : m)) };
    }, { allowStateChange: true });
    materialCache.evictKey(key.scope.accountId, key.scope.region, key.keyId);
    return { key: stored, keyMaterialId: deleted };
  }

  return { getParametersForImport, importKeyMaterial, deleteImportedKeyMaterial };
}
