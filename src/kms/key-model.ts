/** The stored shape of a KMS key (the `doc` of a KeyRecord) and its AWS KeyMetadata view. */
import type { KeyRecord, Scope } from '../storage/storage.ts';
import { keyArn } from './arn.ts';
import { algorithmListsOf } from './key-specs/index.ts';

export type KeyState =
  | 'Creating' | 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport' | 'PendingReplicaDeletion' | 'Unavailable' | 'Updating';
export type KeyUsage = 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC' | 'KEY_AGREEMENT';
export type KeySpec =
  | 'SYMMETRIC_DEFAULT' | 'RSA_2048' | 'RSA_3072' | 'RSA_4096' | 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521'
  | 'ECC_SECG_P256K1' | 'HMAC_224' | 'HMAC_256' | 'HMAC_384' | 'HMAC_512' | 'SM2' | 'ML_DSA_44' | 'ML_DSA_65' | 'ML_DSA_87'
  | 'ECC_NIST_EDWARDS25519';
export type Origin = 'AWS_KMS' | 'EXTERNAL' | 'AWS_CLOUDHSM' | 'EXTERNAL_KEY_STORE';
export type ExpirationModel = 'KEY_MATERIAL_EXPIRES' | 'KEY_MATERIAL_DOES_NOT_EXPIRE';

export const KEY_SPECS: readonly KeySpec[] = [
  'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1',
  'SYMMETRIC_DEFAULT', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'SM2', 'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87',
  'ECC_NIST_EDWARDS25519',
];
export const KEY_USAGES: readonly KeyUsage[] = ['SIGN_VERIFY', 'ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT'];
export const ORIGINS: readonly Origin[] = ['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'];

export interface Tag {
  TagKey: string;
  TagValue: string;
}

/** What Trent stores about a key besides its material. Field names are ours; AWS names appear in toKeyMetadata. */
export interface KeyDoc {
  description: string;
  keyUsage: KeyUsage;
  keySpec: KeySpec;
  origin: Origin;
  keyManager: 'AWS' | 'CUSTOMER';
  state: KeyState;
  /** Material version that encrypts now. */
  currentVersion: number;
  currentKeyMaterialId: string;
  multiRegion: boolean;
  tags: Tag[];
  /** Epoch ms, while PendingDeletion. */
  deletionDate?: number;
  pendingWindowInDays?: number;
  /** Automatic rotation (symmetric AWS_KMS keys only). */
  rotation?: { enabled: boolean; periodDays: number; nextRotationAt?: number };
  /** On-demand rotations performed so far (AWS caps them per key). */
  onDemandRotations?: number;
  /** Origin AWS_CLOUDHSM: the custom key store holding the key (its material never leaves that HSM). */
  customKeyStoreId?: string;
  /** Origin AWS_CLOUDHSM: the store's cluster id when the key was created. */
  cloudHsmClusterId?: string;
  /**
   * Imported material (Origin EXTERNAL) while it is present: how it expires. Absent before the first import,
   * after DeleteImportedKeyMaterial and after expiry (AWS then omits ExpirationModel and ValidTo).
   */
  importedMaterial?: { expirationModel: ExpirationModel; validTo?: number; description?: string };
  /** Origin EXTERNAL, symmetric: when the current material became current by RotateKeyOnDemand (epoch ms). */
  currentRotatedAt?: number;
  /** Origin EXTERNAL, symmetric: material imported with ImportType NEW_KEY_MATERIAL, awaiting RotateKeyOnDemand (at most one). */
  pendingMaterial?: ImportedVersion;
  /** Origin EXTERNAL, symmetric: material rotated out by RotateKeyOnDemand; it decrypts while imported. */
  previousMaterials?: ImportedVersion[];
  /** The key policy named `default` (JSON text, validated when set). Absent on keys created before policies: AWS's default key policy. */
  policy?: string;
  /**
   * Multi-Region keys that were ever replicated: the related keys (same key id, same material versions), the
   * same in every copy and rewritten in every copy by one transaction (multi-region.ts). Absent on a
   * multi-Region key that never had a replica: it is the primary, in its own region. A region is named,
   * not a deployment: a remote region would add where it lives (docs/kms.md, "Multi-Region keys").
   */
  multiRegionConfig?: MultiRegionConfig;
}

export interface MultiRegionConfig {
  primaryRegion: string;
  /** In the order they were added (AWS lists ReplicaKeys so). */
  replicaRegions: string[];
}

export type MultiRegionKeyType = 'PRIMARY' | 'REPLICA';

/** PRIMARY or REPLICA for a multi-Region key (kms:MultiRegionKeyType), undefined for a single-Region key. */
export function multiRegionKeyTypeOf(k: { scope: Scope; doc: Pick<KeyDoc, 'multiRegion' | 'multiRegionConfig'> }): MultiRegionKeyType | undefined {
  if (!k.doc.multiRegion) return undefined;
  return (k.doc.multiRegionConfig?.primaryRegion ?? k.scope.region) === k.scope.region ? 'PRIMARY' : 'REPLICA';
}

/** The regions of a multi-Region key's related keys: primary first, then its replicas (this key's own included). */
export function multiRegionConfigOf(k: Key): MultiRegionConfig {
  return k.doc.multiRegionConfig ?? { primaryRegion: k.scope.region, replicaRegions: [] };
}

/** The regions of the other copies of a multi-Region key (none for a single-Region key). */
export function relatedRegionsOf(k: Key): string[] {
  if (!k.doc.multiRegion) return [];
  const c = multiRegionConfigOf(k);
  return [c.primaryRegion, ...c.replicaRegions].filter((r) => r !== k.scope.region);
}

/** One imported material of a symmetric EXTERNAL key other than the current one (key-import.ts). */
export interface ImportedVersion {
  /** Its material version (the version ciphertexts name). */
  version: number;
  keyMaterialId: string;
  expirationModel: ExpirationModel;
  /** Epoch ms. */
  validTo?: number;
  description?: string;
  /** Epoch ms: when it became current (rotated-out material that was once current by rotation). */
  rotatedAt?: number;
  /** False after it was deleted or expired (AWS: ImportState PENDING_IMPORT); the id is kept for a re-import. */
  imported: boolean;
}

export interface Key {
  scope: Scope;
  keyId: string;
  arn: string;
  createdAt: number;
  revision: number;
  doc: KeyDoc;
}

export function keyFromRecord(r: KeyRecord): Key {
  const scope = { accountId: r.accountId, region: r.region };
  return { scope, keyId: r.keyId, arn: keyArn(scope, r.keyId), createdAt: r.createdAt, revision: r.revision, doc: r.doc as unknown as KeyDoc };
}

/**
 * When the background job must next look at a key: its deletion date while pending deletion, its next
 * rotation while enabled with rotation on, and the ValidTo of any imported material that expires (whatever
 * the state: AWS deletes expired material of a disabled or pending-deletion key too); the earliest of
 * these, or never. (AWS does not rotate a disabled key; when it is enabled again and overdue, it rotates at once.)
 */
export function dueAtOf(doc: KeyDoc): number | null {
  const dates: number[] = [];
  if (doc.state === 'PendingDeletion' && doc.deletionDate !== undefined) dates.push(doc.deletionDate);
  // A replica stores no rotation (multi-region.ts): its primary's rotation writes the new version into every copy.
  if (doc.state === 'Enabled' && doc.rotation?.enabled && doc.rotation.nextRotationAt !== undefined) dates.push(doc.rotation.nextRotationAt);
  if (doc.importedMaterial?.validTo !== undefined) dates.push(doc.importedMaterial.validTo);
  for (const m of [...(doc.pendingMaterial ? [doc.pendingMaterial] : []), ...(doc.previousMaterials ?? [])]) {
    if (m.imported && m.validTo !== undefined) dates.push(m.validTo);
  }
  return dates.length === 0 ? null : Math.min(...dates);
}

export function recordFromKey(k: Key): KeyRecord {
  const dueAt = dueAtOf(k.doc);
  return {
    accountId: k.scope.accountId,
    region: k.scope.region,
    keyId: k.keyId,
    createdAt: k.createdAt,
    state: k.doc.state,
    dueAt,
    revision: k.revision,
    doc: k.doc as unknown as Record<string, unknown>,
  };
}

/** Epoch ms → the epoch-seconds number AWS JSON protocols use for timestamps. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** AWS KeyMetadata, as DescribeKey/CreateKey return it. */
export function toKeyMetadata(k: Key): Record<string, unknown> {
  const d = k.doc;
  const meta: Record<string, unknown> = {
    AWSAccountId: k.scope.accountId,
    KeyId: k.keyId,
    Arn: k.arn,
    CreationDate: epochSeconds(k.createdAt),
    Enabled: d.state === 'Enabled',
    Description: d.description,
    KeyUsage: d.keyUsage,
    KeyState: d.state,
    Origin: d.origin,
    KeyManager: d.keyManager,
    CustomerMasterKeySpec: d.keySpec,
    KeySpec: d.keySpec,
    MultiRegion: d.multiRegion,
  };
  // AWS (recorded CreateKey, ReplicateKey, DescribeKey): a multi-Region key describes its primary and every
  // replica; a replica lists itself among ReplicaKeys.
  if (d.multiRegion) {
    const c = multiRegionConfigOf(k);
    const arnIn = (region: string) => keyArn({ accountId: k.scope.accountId, region }, k.keyId);
    meta.MultiRegionConfiguration = {
      MultiRegionKeyType: multiRegionKeyTypeOf(k),
      PrimaryKey: { Arn: arnIn(c.primaryRegion), Region: c.primaryRegion },
      ReplicaKeys: c.replicaRegions.map((region) => ({ Arn: arnIn(region), Region: region })),
    };
  }
  // AWS: EncryptionAlgorithms / SigningAlgorithms / MacAlgorithms / KeyAgreementAlgorithms by spec and usage (recorded DescribeKey).
  Object.assign(meta, algorithmListsOf(d.keySpec, d.keyUsage));
  // AWS reports CurrentKeyMaterialId only for symmetric keys (recorded DescribeKey of HMAC keys has none).
  if (d.keySpec === 'SYMMETRIC_DEFAULT' && d.currentKeyMaterialId) meta.CurrentKeyMaterialId = d.currentKeyMaterialId;
  if (d.customKeyStoreId !== undefined) meta.CustomKeyStoreId = d.customKeyStoreId;
  if (d.cloudHsmClusterId !== undefined) meta.CloudHsmClusterId = d.cloudHsmClusterId;
  // AWS (recorded DescribeKey of EXTERNAL keys): ExpirationModel only while material is imported; ValidTo only when it expires.
  if (d.importedMaterial) {
    meta.ExpirationModel = d.importedMaterial.expirationModel;
    if (d.importedMaterial.validTo !== undefined) meta.ValidTo = epochSeconds(d.importedMaterial.validTo);
  }
  if (d.deletionDate !== undefined) meta.DeletionDate = epochSeconds(d.deletionDate);
  if (d.pendingWindowInDays !== undefined) meta.PendingDeletionWindowInDays = d.pendingWindowInDays;
  return meta;
}
