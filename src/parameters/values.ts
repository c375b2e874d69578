/**
 * SecureString sealing: values are encrypted through the KMS key service (never raw crypto) under the
 * parameter's KeyId (default the AWS-managed alias/aws/ssm, created on first use) with encryption context
 * PARAMETER_ARN=<arn>; storage sees only the ciphertext. Without WithDecryption the base64 ciphertext is
 * returned, as AWS does.
 */
import type { Caller } from '../auth/caller.ts';
import { AEAD_KEY_BYTES, AeadOpenError, aeadOpen, aeadSeal } from '../crypto/aead.ts';
import { randomBytesBuffer } from '../crypto/primitives.ts';
import { InternalError, NotFoundException } from '../errors/errors.ts';
import type { Key } from '../kms/key-model.ts';
import type { ParameterVersionRecord } from '../storage/parameter-repo.ts';
import type { Scope } from '../storage/storage.ts';
import { InvalidKeyId } from './errors.ts';
import { parameterArn } from './names.ts';
import { DEFAULT_KEY_ID, type ParameterTier, type ParameterVersionValue, STANDARD_MAX_VALUE_BYTES, vdoc, versionInfo } from './parameter-model.ts';
import type { NotifiedState } from './policies.ts';
import type { ParameterContext } from './store.ts';

/**
 * The key a SecureString is written under, authorized for the caller (through Parameter Store:
 * kms:ViaService). AWS: a standard parameter is encrypted with kms:Encrypt, an advanced one by envelope
 * encryption with kms:GenerateDataKey; the AWS-managed alias/aws/ssm key allows both through the service.
 */
async function encryptionKey({ keys, aliases }: ParameterContext, caller: Caller, keyId: string, arn: string, action: 'Encrypt' | 'GenerateDataKey'): Promise<Key> {
  const ref = keyId === DEFAULT_KEY_ID ? (await aliases.awsManagedKey(caller, 'ssm')).arn : keyId;
  try {
    const key = await keys.resolveKey(caller, ref, { allowAlias: true, action, encryptionContext: { PARAMETER_ARN: arn } });
    keys.requireUsable(key, 'Encrypt', 'ENCRYPT_DECRYPT');
    if (key.doc.keySpec !== 'SYMMETRIC_DEFAULT') throw new InvalidKeyId(`${keyId} is not a symmetric encryption key.`);
    return key;
  } catch (err) {
    if (err instanceof NotFoundException) throw new InvalidKeyId(`The key id ${keyId} is not valid.`);
    throw err;
  }
}

/** How a SecureString version is sealed (VersionDoc.encryption); absent: `direct`, as every version written before envelopes. */
export type ValueEncryption = 'direct' | 'envelope';

export interface SealedValue {
  /** The stored and returned (without WithDecryption) form: base64. */
  value: string;
  encryption: ValueEncryption;
}

/**
 * The stored form of a SecureString value. AWS: a standard parameter is encrypted by kms:Encrypt under
 * the parameter's key (at most 4 KB of plaintext); an advanced one by envelope encryption. Trent does
 * the same for an advanced value above 4 KB: a fresh 256-bit data key (what GenerateDataKey returns) is
 * encrypted under the parameter's key with PARAMETER_ARN, and the value is sealed with it locally by
 * AES-256-GCM (src/crypto/aead.ts) bound to the ARN. Stored as base64 of
 * `u16 length of the wrapped key ‖ wrapped key (KMS ciphertext) ‖ nonce ‖ ciphertext ‖ tag`.
 * Other values stay base64 of one KMS ciphertext.
 */
export async function encryptValue(ctx: ParameterContext, caller: Caller, keyId: string, arn: string, value: string, tier: ParameterTier): Promise<SealedValue> {
  const key = await encryptionKey(ctx, caller, keyId, arn, tier === 'Advanced' ? 'GenerateDataKey' : 'Encrypt');
  const plaintext = Buffer.from(value, 'utf8');
  const context = { PARAMETER_ARN: arn };
  try {
    if (tier !== 'Advanced' || plaintext.length <= STANDARD_MAX_VALUE_BYTES) {
      return { value: (await ctx.keys.encryptWithKey(key, plaintext, context)).toString('base64'), encryption: 'direct' };
    }
    const dataKey = randomBytesBuffer(AEAD_KEY_BYTES);
    try {
      const wrapped = await ctx.keys.encryptWithKey(key, dataKey, context);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(wrapped.length);
      const box = aeadSeal(dataKey, plaintext, Buffer.from(arn, 'utf8'));
      return { value: Buffer.concat([length, wrapped, box]).toString('base64'), encryption: 'envelope' };
    } finally {
      dataKey.fill(0);
    }
  } finally {
    plaintext.fill(0);
  }
}

/** KMS Decrypt of a stored blob; not async, so a decrypting read does not pay an extra promise for this layer. */
function kmsDecrypt({ keys }: ParameterContext, caller: Caller, arn: string, ciphertext: Buffer): Promise<{ plaintext: Buffer }> {
  return keys.decrypt(caller, { ciphertext, encryptionContext: { PARAMETER_ARN: arn } });
}

/** Opens a stored value; KMS decides (kms:Decrypt on the parameter's key, for the caller) in both forms. */
async function decryptValue(ctx: ParameterContext, caller: Caller, arn: string, stored: string, encryption: ValueEncryption): Promise<string> {
  const blob = Buffer.from(stored, 'base64');
  if (encryption === 'direct') {
    const { plaintext } = await kmsDecrypt(ctx, caller, arn, blob);
    try {
      return plaintext.toString('utf8');
    } finally {
      plaintext.fill(0);
    }
  }
  const length = blob.length >= 2 ? blob.readUInt16BE(0) : 0;
  if (length === 0 || blob.length < 2 + length) throw new InternalError('InternalServerError');
  const { plaintext: dataKey } = await kmsDecrypt(ctx, caller, arn, blob.subarray(2, 2 + length));
  try {
    const plaintext = aeadOpen(dataKey, blob.subarray(2 + length), Buffer.from(arn, 'utf8'));
    try {
      return plaintext.toString('utf8');
    } finally {
      plaintext.fill(0);
    }
  } catch (err) {
    if (err instanceof AeadOpenError) throw new InternalError('InternalServerError');
    throw err;
  } finally {
    dataKey.fill(0);
  }
}

/**
 * A version's value for the caller: decrypted only for a SecureString read WithDecryption. Not an async
 * function: it hands decryptValue's promise on, where an async one returning it added a promise and two
 * turns of the microtask queue (resolving a promise with a promise) to every decrypting read.
 */
function valueOf(ctx: ParameterContext, caller: Caller, scope: Scope, v: ParameterVersionRecord, withDecryption: boolean): string | Promise<string> {
  if (vdoc(v).type !== 'SecureString' || !withDecryption) return v.value;
  return decryptValue(ctx, caller, parameterArn(scope, v.name), v.value, vdoc(v).encryption ?? 'direct');
}

/** A version with its value, as the read operations return it. */
export async function versionWithValue(
  ctx: ParameterContext, caller: Caller, scope: Scope, v: ParameterVersionRecord, withDecryption: boolean, notified?: NotifiedState,
): Promise<ParameterVersionValue> {
  // Added to versionInfo's fresh object rather than spread into another (parameter-model.ts versionInfo says why).
  const out = versionInfo(scope, v, notified) as ParameterVersionValue;
  const value = valueOf(ctx, caller, scope, v, withDecryption);
  // A plain String needs no await (which would make a promise of the value only to unwrap it).
  out.value = typeof value === 'string' ? value : await value;
  return out;
}
