/**
 * Sealing and opening a version's value. Values are envelope-encrypted through the KMS service: each
 * version gets its own data key from GenerateDataKey under the secret's KMS key, with the encryption
 * context {SecretARN, SecretVersionId} (as AWS does), and the value is sealed with AES-256-GCM
 * (crypto/aead.ts, AAD = ARN + version id). Storage sees only the encrypted data key and the sealed value.
 */
import type { Caller } from '../auth/caller.ts';
import { aeadOpen, aeadSeal, AeadOpenError } from '../crypto/aead.ts';
import { constantTimeEqual } from '../crypto/primitives.ts';
import { NotFoundException, TrentError } from '../errors/errors.ts';
import type { KeyService } from '../kms/key-service.ts';
import { DecryptionFailure, EncryptionFailure, InvalidParameterException, ResourceNotFoundException } from './errors.ts';
import type { Secret, SecretContext, SecretValue } from './secret-context.ts';

/** A version's value as storage keeps it: the data key encrypted under the KMS key, and the sealed value. */
export interface SealedValue {
  kmsKeyArn: string;
  encryptedDataKey: Buffer;
  sealedValue: Buffer;
}

function valueBytes(v: SecretValue): Buffer {
  return v.kind === 'string' ? Buffer.from(v.text, 'utf8') : v.bytes;
}

function versionAad(arn: string, versionId: string): Buffer {
  return Buffer.from(`trent/secretsmanager/v1\0${arn}\0${versionId}`, 'utf8');
}

export async function seal({ keys }: SecretContext, caller: Caller, kmsKey: string, arn: string, versionId: string, value: SecretValue): Promise<SealedValue> {
  let dk: Awaited<ReturnType<KeyService['generateDataKey']>>;
  try {
    dk = await keys.generateDataKey(
      caller,
      { keyId: kmsKey, keySpec: 'AES_256', encryptionContext: { SecretARN: arn, SecretVersionId: versionId } },
      'GenerateDataKey',
    );
  } catch (err) {
    if (err instanceof TrentError && err.code !== 'AccessDeniedException' && err.fault === 'client') {
      throw new EncryptionFailure(`Secrets Manager can't encrypt the secret value with the KMS key ${kmsKey}: ${err.message}`);
    }
    throw err;
  }
  try {
    return { kmsKeyArn: dk.key.arn, encryptedDataKey: dk.ciphertext, sealedValue: aeadSeal(dk.plaintext, valueBytes(value), versionAad(arn, versionId)) };
  } finally {
    dk.plaintext.fill(0);
  }
}

export async function open({ storage, keys }: SecretContext, caller: Caller, s: Secret, versionId: string): Promise<SecretValue> {
  const meta = s.doc.versions[versionId];
  if (meta?.empty) throw new ResourceNotFoundException(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
  const row = await storage.read((r) => r.secretVersions.get(s.arn, versionId));
  if (!meta || !row) throw new ResourceNotFoundException(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
  let dataKey: Buffer | undefined;
  try {
    dataKey = (await keys.decrypt(caller, { ciphertext: row.encryptedDataKey, encryptionContext: { SecretARN: s.arn, SecretVersionId: versionId } })).plaintext;
    const plain = aeadOpen(dataKey, row.sealedValue, versionAad(s.arn, versionId));
    if (meta.kind === 'binary') return { kind: 'binary', bytes: plain };
    const text = plain.toString('utf8');
    plain.fill(0);
    return { kind: 'string', text };
  } catch (err) {
    if (err instanceof AeadOpenError || (err instanceof TrentError && err.code !== 'AccessDeniedException' && err.fault === 'client')) {
      throw new DecryptionFailure("Secrets Manager can't decrypt the protected secret text using the provided KMS key.");
    }
    throw err;
  } finally {
    dataKey?.fill(0);
  }
}

/** Whether two values are the same (an idempotent retry), compared in constant time. */
export function sameValue(a: SecretValue, b: SecretValue): boolean {
  if (a.kind !== b.kind) return false;
  const x = valueBytes(a);
  const y = valueBytes(b);
  return x.length === y.length && constantTimeEqual(x, y);
}

/**
 * The ARN of the KMS key a secret's values are sealed under: the one named, or aws/secretsmanager (AWS:
 * UpdateSecret with KmsKeyId "" goes back to it).
 */
export async function kmsKeyFor({ keys, aliases }: SecretContext, caller: Caller, kmsKeyId: string | undefined): Promise<string> {
  if (!kmsKeyId) return (await aliases.awsManagedKey(caller, 'secretsmanager')).arn;
  // AWS: Secrets Manager uses a customer key only through GenerateDataKey and Decrypt (DescribeKey is the
  // console's), so naming a key needs the permission its first write will need.
  try {
    return (await keys.resolveKey(caller, kmsKeyId, { allowAlias: true, action: 'GenerateDataKey' })).arn;
  } catch (err) {
    // AWS: a KmsKeyId that names no key is Secrets Manager's InvalidParameterException, not KMS's
    // NotFoundException (Secrets Manager has no such error). No recording gives its text: KMS's is kept.
    if (err instanceof NotFoundException) throw new InvalidParameterException(err.message);
    throw err;
  }
}

