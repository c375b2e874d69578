/**
 * The writes of Parameter Store: PutParameter (tier, allowed pattern, policies, SecureString sealing,
 * the 100-version limit) and DeleteParameter(s).
 */
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import { ValidationException } from '../errors/errors.ts';
import { DuplicateError, type Repos, type Scope } from '../storage/storage.ts';
import {
  HierarchyTypeMismatchException,
  InvalidAllowedPatternException,
  ParameterAlreadyExists,
  ParameterMaxVersionLimitExceeded,
  ParameterNotFound,
  ParameterPatternMismatchException,
  TooManyTagsError,
} from './errors.ts';
import { checkParameterName, parameterArn, parseParameterReference } from './names.ts';
import {
  ADVANCED_MAX_VALUE_BYTES,
  DEFAULT_KEY_ID,
  MAX_TAGS,
  MAX_VERSIONS,
  type ParamDoc,
  type ParameterTier,
  type PutParameterInput,
  type RequestedTier,
  STANDARD_MAX_VALUE_BYTES,
  type VersionDoc,
  pdoc,
  vdoc,
} from './parameter-model.ts';
import { nextDue, parsePolicies, policyTimes } from './policies.ts';
import { findParameter, LostRace, notFound, type ParameterContext, withRetries } from './store.ts';
import { encryptValue } from './values.ts';

function resolveTier(requested: RequestedTier | undefined, existing: ParameterTier | undefined, bytes: number, hasPolicies: boolean): ParameterTier {
  let tier: ParameterTier;
  if (requested === 'Advanced' || existing === 'Advanced') {
    if (requested === 'Standard') {
      // AWS: an advanced parameter can't be reverted to a standard one.
      throw new ValidationException(
        "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
      );
    }
    tier = 'Advanced';
  } else if (requested === 'Intelligent-Tiering') {
    // AWS: Intelligent-Tiering is a request-time choice: Advanced only when the request needs it.
    tier = bytes > STANDARD_MAX_VALUE_BYTES || hasPolicies ? 'Advanced' : 'Standard';
  } else {
    tier = 'Standard';
  }
  if (tier === 'Standard' && bytes > STANDARD_MAX_VALUE_BYTES) {
    throw new ValidationException(
      'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html',
    );
  }
  if (tier === 'Advanced' && bytes > ADVANCED_MAX_VALUE_BYTES) {
    throw new ValidationException('Advanced tier parameters support a maximum parameter value of 8192 characters.');
  }
  if (tier === 'Standard' && hasPolicies) {
    throw new ValidationException('Parameter policies are supported only for the advanced-parameter tier. Use Tier Advanced or Intelligent-Tiering.');
  }
  return tier;
}

function checkAllowedPattern(pattern: string | undefined, value: string): void {
  if (pattern === undefined) return;
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    throw new InvalidAllowedPatternException('The request does not meet the regular expression requirement.');
  }
  if (!re.test(value)) throw new ParameterPatternMismatchException(`Parameter value, cannot be validated against allowedPattern: ${pattern}`);
}

/** AWS: an AMI id, `ami-` and 8 or 17 hexadecimal digits. */
const AMI_ID = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;

/**
 * DataType (PutParameter member docs): `text` or `aws:ec2:image`; any other value is refused with AWS's
 * text (`aws:ssm:integration`, for integration webhooks Trent does not run, is refused too).
 * AWS validates an `aws:ec2:image` value asynchronously — the format and that the AMI exists in the
 * account — and drops the write when it fails. Trent has no EC2, so it checks the format only, at once:
 * a String parameter whose value is an AMI id; an AMI that does not exist is accepted.
 * The value is checked (and named in the message, as AWS does) only once the type is known to be String:
 * an overwrite without Type takes the stored type, and a SecureString's value must never reach a message,
 * the audit trail or the disk.
 */
function checkDataType(dataType: string, type: string | undefined, value: string): void {
  if (dataType === 'text') return;
  if (dataType !== 'aws:ec2:image') throw new ValidationException(`The following data type is not supported: ${dataType} (Data type names are all lowercase.)`);
  if (type === undefined) return;
  if (type !== 'String') throw new ValidationException(`The aws:ec2:image data type is not supported for the following input type: ${type}`);
  if (!AMI_ID.test(value)) throw new ValidationException(`Parameter value, ${value}, is not a valid image ID for data type aws:ec2:image.`);
}

/**
 * Writes a new parameter or (with Overwrite) its next version. Every version is its own row; its number
 * comes from compare-and-set on the parameter row in the same transaction as the version insert
 * (storage/parameter-repo.ts), so concurrent overwrites never reuse a number or lose a version.
 */
export async function putParameter(ctx: ParameterContext, caller: Caller, input: PutParameterInput): Promise<{ version: number; tier: ParameterTier }> {
  const { storage, clock } = ctx;
  const scope = callerScope(caller);
  const name = input.name.trim();
  checkParameterName(scope, name);
  const arn = parameterArn(scope, name);
  if (input.tags && input.tags.length > 0 && input.overwrite) {
    throw new ValidationException(
      "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
    );
  }
  if (input.tags && input.tags.length > MAX_TAGS) throw new TooManyTagsError('The number of tags exceeds the limit of 50.');
  if (/\{\{.*\}\}/s.test(input.value)) {
    throw new ValidationException('Parameter value can\'t nest another parameter. Do not use "{{}}" in the value.');
  }
  const dataType = input.dataType ?? 'text';
  checkDataType(dataType, input.type, input.value);

  return withRetries(async () => {
    // AWS: `x` and `/x` are one parameter; it keeps the name it was created with.
    const existing = await storage.read((r) => findParameter(r, scope, name));
    const storedName = existing?.name ?? name;
    const prev = existing && (await storage.read((r) => r.parameters.getVersion(scope, storedName, existing.version)));
    if (existing && !input.overwrite) {
      throw new ParameterAlreadyExists('The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
    }
    const prevDoc = prev ? vdoc(prev) : undefined;
    const type = input.type ?? prevDoc?.type;
    if (!type) throw new ValidationException('A parameter type is required when you create a parameter.');
    if (prevDoc && type !== prevDoc.type) {
      throw new HierarchyTypeMismatchException(`The parameter type can't be changed from ${prevDoc.type} to ${type}.`);
    }
    if (input.type === undefined) checkDataType(dataType, type, input.value);
    // AWS: a KeyId given for a String or StringList parameter is accepted and ignored (only a SecureString is encrypted).
    const allowedPattern = input.allowedPattern ?? prevDoc?.allowedPattern;
    checkAllowedPattern(allowedPattern, input.value);
    const parsedPolicies = input.policies !== undefined ? parsePolicies(input.policies) : undefined;
    const policies = parsedPolicies?.policies ?? prevDoc?.policies ?? [];
    const tier = resolveTier(input.tier, prevDoc?.tier, Buffer.byteLength(input.value, 'utf8'), policies.length > 0);
    const keyId = type === 'SecureString' ? (input.keyId ?? prevDoc?.keyId ?? DEFAULT_KEY_ID) : undefined;
    const description = input.description ?? prevDoc?.description;
    const sealed = type === 'SecureString' ? await encryptValue(ctx, caller, keyId!, arn, input.value, tier) : undefined;
    const stored = sealed ? sealed.value : input.value;
    const doc: VersionDoc = {
      type, tier, dataType, policies, lastModifiedUser: caller.principalArn,
      ...(sealed?.encryption === 'envelope' ? { encryption: 'envelope' as const } : {}),
      ...(keyId !== undefined ? { keyId } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(allowedPattern !== undefined ? { allowedPattern } : {}),
    };
    const now = clock.now();
    const times = policyTimes(policies, now);
    const version = await storage.transaction(async (tx) => {
      const current = await findParameter(tx, scope, storedName);
      if (current && current.name !== storedName) throw new LostRace();
      if (!current) {
        if (existing) throw new LostRace();
        const paramDoc: ParamDoc = { tags: input.tags ?? [] };
        try {
          await tx.parameters.insert({ ...scope, name: storedName, version: 1, revision: 1, dueAt: nextDue(times, {}, 1), createdAt: now, doc: paramDoc as unknown as Record<string, unknown> });
        } catch (err) {
          if (err instanceof DuplicateError) throw new LostRace();
          throw err;
        }
        await tx.parameters.insertVersion({ ...scope, name: storedName, version: 1, createdAt: now, value: stored, labels: [], doc: doc as unknown as Record<string, unknown> });
        return 1;
      }
      if (!existing) {
        if (!input.overwrite) throw new ParameterAlreadyExists('The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
        throw new LostRace();
      }
      const currentLatest = await tx.parameters.getVersion(scope, storedName, current.version);
      if (currentLatest && vdoc(currentLatest).type !== type) throw new LostRace();
      const next = current.version + 1;
      await dropOldest(tx, scope, storedName, next);
      const dueAt = nextDue(times, pdoc(current).notified ?? {}, next);
      if (!(await tx.parameters.update({ ...current, version: next, dueAt }, current.revision))) throw new LostRace();
      await tx.parameters.insertVersion({ ...scope, name: storedName, version: next, createdAt: now, value: stored, labels: [], doc: doc as unknown as Record<string, unknown> });
      return next;
    });
    return { version, tier };
  });
}

/** AWS: the write of version `next` keeps 100 versions: the oldest goes unless it is labelled. */
async function dropOldest(tx: Repos, scope: Scope, name: string, next: number): Promise<void> {
  const oldest = next - MAX_VERSIONS;
  if (oldest < 1) return;
  const v = await tx.parameters.getVersion(scope, name, oldest);
  if (!v) return;
  if (v.labels.length > 0) {
    throw new ParameterMaxVersionLimitExceeded(
      `You attempted to create a new version of ${name} by calling the PutParameter API with the overwrite flag. Version ${oldest}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
    );
  }
  await tx.parameters.deleteVersion(scope, name, oldest);
}

export async function deleteParameter({ storage }: ParameterContext, caller: Caller, ref: string): Promise<void> {
  const scope = callerScope(caller);
  const parsed = parseParameterReference(scope, ref);
  if (parsed.selector) throw notFound(ref);
  const deleted = await storage.transaction(async (tx) => {
    const p = await findParameter(tx, scope, parsed.name);
    return p ? tx.parameters.delete(scope, p.name) : false;
  });
  if (!deleted) throw notFound(ref);
}

/** The names deleted and those that named no parameter, each name once. */
export async function deleteParameters(ctx: ParameterContext, caller: Caller, refs: string[]): Promise<{ deleted: string[]; invalid: string[] }> {
  const deleted: string[] = [];
  const invalid: string[] = [];
  for (const ref of [...new Set(refs)]) {
    try {
      await deleteParameter(ctx, caller, ref);
      deleted.push(ref);
    } catch (err) {
      if (err instanceof ParameterNotFound) invalid.push(ref);
      else throw err;
    }
  }
  return { deleted, invalid };
}
