/**
 * `/aws/reference/secretsmanager/<secret-id>[:<version-id or staging label>]` in GetParameter and
 * GetParameters: Parameter Store as a stateless pass-through to Secrets Manager (AWS: "Referencing AWS
 * Secrets Manager secrets from Parameter Store parameters",
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/integration-ps-secretsmanager.html).
 *
 * - The reference needs WithDecryption=true: otherwise ValidationException "WithDecryption flag must be
 *   True for retrieving a Secret Manager secret." (checked after the syntax, before any lookup).
 * - At most one `:` selector, not empty; a secret ARN (which has colons) cannot be used as the id.
 * - The selector is a VersionId when the secret has a version with that id, else a staging label
 *   (Secrets Manager's VersionStage); it is echoed as `Selector` with its leading colon.
 * - The answer is a SecureString named as asked (without the selector), with Version 0, the secret's ARN,
 *   LastModifiedDate = the version's CreatedDate, Value = SecretString (none for a binary secret) and
 *   SourceResult = the GetSecretValue answer as JSON (ARN, Name, VersionId, SecretString/SecretBinary,
 *   VersionStages, CreatedDate), as the AWS guide shows it. This module returns the secret's version
 *   (SecretReferenceValue); the edge shapes that answer (src/http/ssm/views.ts).
 * - A missing secret, version or label is ParameterNotFound; a secret scheduled for deletion is
 *   ValidationException "Invalid Request to Secrets Manager".
 * The port below is implemented over the secret service in app.ts, so this module never imports secrets/.
 */
import type { Caller } from '../auth/caller.ts';
import { ValidationException } from '../errors/errors.ts';
import { ParameterNotFound } from './errors.ts';
import type { SecretReferenceValue } from './parameter-model.ts';

export const SECRET_REFERENCE_PREFIX = '/aws/reference/secretsmanager/';

/** What the pass-through needs from Secrets Manager (GetSecretValue, as the caller). */
export interface SecretReferenceReader {
  read(
    caller: Caller,
    secretId: string,
    selector: string | undefined,
  ): Promise<
    | { found: true; arn: string; name: string; versionId: string; stages: string[]; createdAt: number; value: { kind: 'string'; text: string } | { kind: 'binary'; bytes: Buffer } }
    | { found: false; reason: 'not-found' | 'marked-for-deletion' }
  >;
}

export function isSecretReference(ref: string): boolean {
  return ref.startsWith(SECRET_REFERENCE_PREFIX);
}

const BAD_SYNTAX = 'Invalid parameter name. Please use correct syntax for referencing a version/label  <name>:<version/label>';

export function parseSecretReference(ref: string): { secretId: string; selector?: string } {
  const rest = ref.slice(SECRET_REFERENCE_PREFIX.length);
  const parts = rest.split(':');
  if (parts.length > 2 || parts[0] === '' || parts[1] === '') throw new ValidationException(BAD_SYNTAX);
  return { secretId: parts[0]!, ...(parts.length === 2 ? { selector: parts[1]! } : {}) };
}

/** The secret a reference names, read as the caller (its wire shape, with SourceResult, is the edge's: src/http/ssm/views.ts). */
export async function getSecretReference(reader: SecretReferenceReader | undefined, caller: Caller, ref: string, withDecryption: boolean): Promise<SecretReferenceValue> {
  const { secretId, selector } = parseSecretReference(ref);
  if (!withDecryption) throw new ValidationException('WithDecryption flag must be True for retrieving a Secret Manager secret.');
  const out = reader ? await reader.read(caller, secretId, selector) : ({ found: false, reason: 'not-found' } as const);
  if (!out.found) {
    if (out.reason === 'marked-for-deletion') throw new ValidationException('Invalid Request to Secrets Manager');
    // AWS's text, including its "null" for an absent selector.
    throw new ParameterNotFound(`An error occurred (ParameterNotFound) when referencing Secrets Manager: Secret ${ref.slice(1, ref.length - (selector === undefined ? 0 : selector.length + 1))}${selector === undefined ? 'null' : `:${selector}`} not found.`);
  }
  return {
    source: 'secret-reference',
    name: SECRET_REFERENCE_PREFIX + secretId,
    ...(selector !== undefined ? { selector } : {}),
    arn: out.arn,
    secretName: out.name,
    versionId: out.versionId,
    stages: out.stages,
    createdAt: out.createdAt,
    value: out.value,
  };
}
