/**
 * SecureString sealing: values are encrypted through the KMS key service (never raw crypto) under the
 * parameter's KeyId (default the AWS-managed alias/aws/ssm, created on first use) with encryption context
 * PARAMETER_ARN=<arn>; storage sees only the ciphertext. Without WithDecryption the base64 ciphertext is
 * returned, as AWS does.
 */
import type { Caller } from '../auth/caller.ts';
import { NotFoundException } from '../errors/errors.ts';
import type { Key } from '../kms/key-model.ts';
import type { ParameterVersionRecord } from '../storage/parameter-repo.ts';
import type { Scope } from '../storage/storage.ts';
import { InvalidKeyId } from './errors.ts';
import { parameterArn } from './names.ts';
import { DEFAULT_KEY_ID, type ParameterTier, type ParameterVersionValue, vdoc, versionInfo } from './parameter-model.ts';
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

/** The stored form of a SecureString value: base64 of the KMS ciphertext. */
export async function encryptValue(ctx: ParameterContext, caller: Caller, keyId: string, arn: string, value: string, tier: ParameterTier): Promise<string> {
  const key = await encryptionKey(ctx, caller, keyId, arn, tier === 'Advanced' ? 'GenerateDataKey' : 'Encrypt');
  const plaintext = Buffer.from(value, 'utf8');
  try {
    return (await ctx.keys.encryptWithKey(key, plaintext, { PARAMETER_ARN: arn })).toString('base64');
  } finally {
    plaintext.fill(0);
  }
}

async function decryptValue({ keys }: ParameterContext, caller: Caller, arn: string, stored: string): Promise<string> {
  const { plaintext } = await keys.decrypt(caller, { ciphertext: Buffer.from(stored, 'base64'), encryptionContext: { PARAMETER_ARN: arn } });
  try {
    return plaintext.toString('utf8');
  } finally {
    plaintext.fill(0);
  }
}

/** A version's value for the caller: decrypted only for a SecureString read WithDecryption. */
export async function valueOf(ctx: ParameterContext, caller: Caller, scope: Scope, v: ParameterVersionRecord, withDecryption: boolean): Promise<string> {
  if (vdoc(v).type !== 'SecureString' || !withDecryption) return v.value;
  return decryptValue(ctx, caller, parameterArn(scope, v.name), v.value);
}

/** A version with its value, as the read operations return it. */
export async function versionWithValue(
  ctx: ParameterContext, caller: Caller, scope: Scope, v: ParameterVersionRecord, withDecryption: boolean, notified?: NotifiedState,
): Promise<ParameterVersionValue> {
  return { ...versionInfo(scope, v, notified), value: await valueOf(ctx, caller, scope, v, withDecryption) };
}
