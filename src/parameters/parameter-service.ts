/**
 * SSM Parameter Store semantics, knowing nothing of HTTP. Inputs are shape-checked at the edge
 * (src/http/ssm/); this service checks meaning and raises the SSM error codes (./errors.ts).
 *
 * Invariants:
 * - Every version is its own row; version numbers come from compare-and-set on the parameter row in
 *   the same transaction as the version insert (storage/parameter-repo.ts), so concurrent overwrites
 *   never reuse a number or lose a version. At most 100 versions are kept: the write that makes the
 *   101st drops the oldest, or fails with ParameterMaxVersionLimitExceeded when the oldest is labelled.
 * - SecureString values are encrypted through the KMS key service (never raw crypto) under the
 *   parameter's KeyId (default the AWS-managed alias/aws/ssm, created on first use) with encryption
 *   context PARAMETER_ARN=<arn>; storage sees only the ciphertext. Without WithDecryption the base64
 *   ciphertext is returned, as AWS does.
 * - A label is on at most one version of a parameter; labelling another version moves it.
 * - Policies set the parameter row's dueAt to their earliest pending action (policies.ts nextDue); runDue
 *   deletes expired parameters and sends due notifications through the event sink (policy-events.ts),
 *   each change compare-and-set on the revision read, so a parameter re-written meanwhile is looked at
 *   again on the next pass. Sent notifications are remembered in the row's doc (`notified`).
 *
 * Returned objects use AWS member names so the edge passes them through unchanged.
 */
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import type { Clock } from '../clock.ts';
import { NotFoundException, ValidationException } from '../errors/errors.ts';
import type { AliasService } from '../kms/alias-service.ts';
import type { Key } from '../kms/key-model.ts';
import type { KeyService } from '../kms/key-service.ts';
import type { PaginationMarkers } from '../kms/markers.ts';
import type { ParameterRecord, ParameterVersionRecord } from '../storage/parameter-repo.ts';
import { DuplicateError, type Repos, type Scope, type Storage } from '../storage/storage.ts';
import {
  HierarchyTypeMismatchException,
  InvalidAllowedPatternException,
  InvalidFilterKey,
  InvalidFilterOption,
  InvalidKeyId,
  InvalidNextToken,
  InvalidResourceId,
  InvalidResourceType,
  ParameterAlreadyExists,
  ParameterMaxVersionLimitExceeded,
  ParameterNotFound,
  ParameterPatternMismatchException,
  ParameterVersionLabelLimitExceeded,
  ParameterVersionNotFound,
  TooManyTagsError,
  TooManyUpdates,
} from './errors.ts';
import { isValidLabel, MAX_LABELS_PER_VERSION } from './labels.ts';
import { checkParameterName, normalizePath, parameterArn, parseParameterReference, type ParameterReference } from './names.ts';
import { dueNotifications, nextDue, parsePolicies, policyTimes, type NotifiedState, type ParameterPolicy } from './policies.ts';
import type { ParameterPolicyEvent, PolicyEventSink, PolicyEventType } from './policy-events.ts';
import { getSecretReference, isSecretReference, type SecretReferenceReader } from './secret-reference.ts';

export type ParameterType = 'String' | 'StringList' | 'SecureString';
export type ParameterTier = 'Standard' | 'Advanced';
export type RequestedTier = ParameterTier | 'Intelligent-Tiering';

/** AWS: "100 versions of a parameter are kept". */
export const MAX_VERSIONS = 100;
export const STANDARD_MAX_VALUE_BYTES = 4096;
export const ADVANCED_MAX_VALUE_BYTES = 8192;
export const MAX_TAGS = 50;
export const DEFAULT_KEY_ID = 'alias/aws/ssm';
/** Attempts of a compare-and-set write before TooManyUpdates (AWS's answer to contention on one parameter). */
const MAX_CAS_ATTEMPTS = 30;
/** Rows a list call scans before answering with a (possibly short) page and a NextToken. */
const SCAN_BUDGET = 500;

export interface ParameterTag {
  Key: string;
  Value: string;
}

/** The stored doc of a version (ParameterVersionRecord.doc). */
interface VersionDoc {
  type: ParameterType;
  tier: ParameterTier;
  dataType: string;
  keyId?: string;
  description?: string;
  allowedPattern?: string;
  policies: ParameterPolicy[];
  lastModifiedUser: string;
}

interface ParamDoc {
  tags: ParameterTag[];
  /** Policy notifications already sent (policies.ts). */
  notified?: NotifiedState;
}

export interface PutParameterInput {
  name: string;
  value: string;
  type?: ParameterType;
  description?: string;
  keyId?: string;
  overwrite?: boolean;
  allowedPattern?: string;
  tags?: ParameterTag[];
  tier?: RequestedTier;
  policies?: string;
  dataType?: string;
}

export interface ParameterFilter {
  Key: string;
  Option?: string;
  Values?: string[];
}

export interface ParameterServiceDeps {
  storage: Storage;
  clock: Clock;
  keys: KeyService;
  aliases: Pick<AliasService, 'awsManagedKey'>;
  /** Where policy actions are announced (audit trail, webhook); absent: nowhere. */
  events?: PolicyEventSink;
  /** Secrets Manager behind /aws/reference/secretsmanager/ (secret-reference.ts); absent: none found. */
  secretReferences?: SecretReferenceReader;
  /** Authenticates pagination markers (markers.ts). */
  markers: PaginationMarkers;
}

/** A lost compare-and-set: the whole operation is retried from a fresh read. */
class LostRace extends Error {}

const vdoc = (v: ParameterVersionRecord) => v.doc as unknown as VersionDoc;
const pdoc = (p: ParameterRecord) => p.doc as unknown as ParamDoc;
const seconds = (ms: number) => ms / 1000;

export type ParameterService = ReturnType<typeof createParameterService>;

export function createParameterService({ storage, clock, keys, aliases, events, secretReferences, markers }: ParameterServiceDeps) {
  async function withRetries<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof LostRace)) throw err;
      }
      // Jittered backoff outside any transaction, so racing writers spread out.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * (attempt + 1))));
    }
    throw new TooManyUpdates('There are concurrent updates for a resource that supports one update at a time.');
  }

  // ---- encryption -------------------------------------------------------------------------------

  /**
   * The key a SecureString is written under, authorized for the caller (through Parameter Store:
   * kms:ViaService). AWS: a standard parameter is encrypted with kms:Encrypt, an advanced one by envelope
   * encryption with kms:GenerateDataKey; the AWS-managed alias/aws/ssm key allows both through the service.
   */
  async function encryptionKey(caller: Caller, keyId: string, arn: string, action: 'Encrypt' | 'GenerateDataKey'): Promise<Key> {
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

  async function encryptValue(caller: Caller, keyId: string, arn: string, value: string, tier: ParameterTier): Promise<string> {
    const key = await encryptionKey(caller, keyId, arn, tier === 'Advanced' ? 'GenerateDataKey' : 'Encrypt');
    const plaintext = Buffer.from(value, 'utf8');
    try {
      return (await keys.encryptWithKey(key, plaintext, { PARAMETER_ARN: arn })).toString('base64');
    } finally {
      plaintext.fill(0);
    }
  }

  async function decryptValue(caller: Caller, arn: string, stored: string): Promise<string> {
    const { plaintext } = await keys.decrypt(caller, { ciphertext: Buffer.from(stored, 'base64'), encryptionContext: { PARAMETER_ARN: arn } });
    try {
      return plaintext.toString('utf8');
    } finally {
      plaintext.fill(0);
    }
  }

  // ---- reads ------------------------------------------------------------------------------------

  function notFound(ref: string): Error {
    return new ParameterNotFound(`Parameter ${ref} not found.`);
  }

  async function getRecord(scope: Scope, name: string, ref: string): Promise<ParameterRecord> {
    const p = await storage.read((r) => r.parameters.get(scope, name));
    if (!p) throw notFound(ref);
    return p;
  }

  /** The version a reference selects (latest without a selector). */
  async function selectVersion(scope: Scope, ref: ParameterReference, text: string): Promise<{ p: ParameterRecord; v: ParameterVersionRecord }> {
    const p = await getRecord(scope, ref.name, text);
    const sel = ref.selector;
    if (sel && 'label' in sel) {
      const v = (await storage.read((r) => r.parameters.listVersions(scope, p.name))).find((x) => x.labels.includes(sel.label));
      if (!v) throw new ParameterVersionNotFound(`Systems Manager could not find label ${sel.label} of ${p.name}. Verify the label and try again.`);
      return { p, v };
    }
    const version = sel ? sel.version : p.version;
    const v = await storage.read((r) => r.parameters.getVersion(scope, p.name, version));
    if (!v) throw new ParameterVersionNotFound(`Systems Manager could not find version ${version} of ${p.name}. Verify the version and try again.`);
    return { p, v };
  }

  async function valueOf(caller: Caller, scope: Scope, v: ParameterVersionRecord, withDecryption: boolean): Promise<string> {
    if (vdoc(v).type !== 'SecureString' || !withDecryption) return v.value;
    return decryptValue(caller, parameterArn(scope, v.name), v.value);
  }

  async function parameterView(caller: Caller, scope: Scope, v: ParameterVersionRecord, withDecryption: boolean, selector?: string) {
    const d = vdoc(v);
    return {
      Name: v.name,
      Type: d.type,
      Value: await valueOf(caller, scope, v, withDecryption),
      Version: v.version,
      ...(selector !== undefined ? { Selector: selector } : {}),
      LastModifiedDate: seconds(v.createdAt),
      ARN: parameterArn(scope, v.name),
      DataType: d.dataType,
    };
  }

  function metadataView(scope: Scope, p: ParameterRecord, v: ParameterVersionRecord) {
    const d = vdoc(v);
    return {
      Name: p.name,
      ARN: parameterArn(scope, p.name),
      Type: d.type,
      ...(d.keyId !== undefined ? { KeyId: d.keyId } : {}),
      LastModifiedDate: seconds(v.createdAt),
      LastModifiedUser: d.lastModifiedUser,
      ...(d.description !== undefined ? { Description: d.description } : {}),
      ...(d.allowedPattern !== undefined ? { AllowedPattern: d.allowedPattern } : {}),
      Version: v.version,
      Tier: d.tier,
      Policies: d.policies,
      DataType: d.dataType,
    };
  }

  async function getParameter(caller: Caller, ref: string, withDecryption: boolean) {
    if (isSecretReference(ref)) return getSecretReference(secretReferences, caller, ref, withDecryption);
    const scope = callerScope(caller);
    const parsed = parseParameterReference(scope, ref);
    const { v } = await selectVersion(scope, parsed, ref);
    return parameterView(caller, scope, v, withDecryption, parsed.selectorText);
  }

  async function getParameters(caller: Caller, refs: string[], withDecryption: boolean) {
    const parameters: Awaited<ReturnType<typeof getParameter>>[] = [];
    const invalid: string[] = [];
    for (const ref of [...new Set(refs)]) {
      try {
        parameters.push(await getParameter(caller, ref, withDecryption));
      } catch (err) {
        // AWS: a reference that cannot be answered (syntax, no WithDecryption, not found) is just invalid here.
        if (err instanceof ParameterNotFound || err instanceof ParameterVersionNotFound) invalid.push(ref);
        else if (isSecretReference(ref) && err instanceof ValidationException) invalid.push(ref);
        else throw err;
      }
    }
    return { Parameters: parameters, InvalidParameters: invalid };
  }

  // ---- filters ----------------------------------------------------------------------------------

  type Matcher = (scope: Scope, p: ParameterRecord, v: ParameterVersionRecord) => boolean;

  function stringTest(option: string, values: string[]): (s: string | undefined) => boolean {
    return (s) => s !== undefined && values.some((x) => (option === 'BeginsWith' ? s.startsWith(x) : option === 'Contains' ? s.includes(x) : s === x));
  }

  function pathTest(option: string, values: string[]): (name: string) => boolean {
    const paths = values.map(normalizePath);
    return (name) => paths.some((path) => {
      const prefix = path === '/' ? '/' : `${path}/`;
      if (!name.startsWith(prefix)) return false;
      return option === 'Recursive' || !name.slice(prefix.length).includes('/');
    });
  }

  /**
   * AWS: DescribeParameters ParameterFilters — keys Name, Type, KeyId, Path, Tier, DataType, tag:<key>
   * (Label is refused); options Equals and BeginsWith, Name also Contains, Path only Recursive/OneLevel.
   * GetParametersByPath takes only Type, KeyId and Label (Equals only for Label).
   */
  function compileFilters(filters: ParameterFilter[], context: 'describe' | 'path'): { matchers: Matcher[]; label?: string[] } {
    const matchers: Matcher[] = [];
    let label: string[] | undefined;
    for (const f of filters) {
      const key = f.Key;
      const values = f.Values ?? [];
      const isTag = key.startsWith('tag:');
      const allowed = context === 'path'
        ? ['Type', 'KeyId', 'Label']
        : ['Name', 'Type', 'KeyId', 'Path', 'Tier', 'DataType'];
      if (!allowed.includes(key) && !(isTag && context === 'describe')) {
        throw new InvalidFilterKey(`The following filter key is not valid: ${key}. Valid filter keys include: [${allowed.join(', ')}${context === 'describe' ? ', tag:<key>' : ''}].`);
      }
      const options = key === 'Path' ? ['Recursive', 'OneLevel'] : key === 'Name' ? ['Equals', 'BeginsWith', 'Contains'] : key === 'Label' ? ['Equals'] : ['Equals', 'BeginsWith'];
      const option = f.Option ?? (key === 'Path' ? 'OneLevel' : 'Equals');
      if (!options.includes(option)) {
        throw new InvalidFilterOption(`The following filter option is not valid: ${option}. Valid options include: [${options.join(', ')}].`);
      }
      if (values.length === 0 && !isTag) throw new ValidationException(`The following filter values are missing : null for filter key ${key}.`);
      const test = stringTest(option, values);
      switch (key) {
        case 'Name':
          matchers.push((_s, p) => test(p.name) || test(p.name.replace(/^\//, '')) || test(`/${p.name}`));
          break;
        case 'Type':
          matchers.push((_s, _p, v) => test(vdoc(v).type));
          break;
        case 'KeyId':
          matchers.push((_s, _p, v) => test(vdoc(v).keyId));
          break;
        case 'Tier':
          matchers.push((_s, _p, v) => test(vdoc(v).tier));
          break;
        case 'DataType':
          matchers.push((_s, _p, v) => test(vdoc(v).dataType));
          break;
        case 'Path': {
          const inPath = pathTest(option, values);
          matchers.push((_s, p) => inPath(p.name));
          break;
        }
        case 'Label':
          label = values;
          break;
        default: {
          const tagKey = key.slice(4);
          matchers.push((_s, p) => pdoc(p).tags.some((t) => t.Key === tagKey && (values.length === 0 || test(t.Value))));
        }
      }
    }
    return { matchers, ...(label ? { label } : {}) };
  }

  function decodeToken(kind: string, token: string | undefined): string | undefined {
    try {
      return markers.decode(kind, token);
    } catch {
      throw new InvalidNextToken('The specified token is not valid.');
    }
  }

  /**
   * Scans a scope's parameters under `prefix` in name order, keeping those `keep` accepts, until `max`
   * are kept or the scan budget is spent: pages may be short, with a NextToken (AWS's best-effort pages).
   */
  async function scan<T>(
    scope: Scope, prefix: string, kind: string, token: string | undefined, max: number,
    keep: (p: ParameterRecord) => Promise<T | undefined>,
  ): Promise<{ items: T[]; next?: string }> {
    let after = decodeToken(kind, token);
    const items: T[] = [];
    let scanned = 0;
    for (;;) {
      const page = await storage.read((r) => r.parameters.list(scope, prefix, after, 50));
      for (const p of page.items) {
        scanned++;
        after = p.name;
        const t = await keep(p);
        if (t !== undefined) items.push(t);
        const more = page.next !== undefined || p !== page.items[page.items.length - 1];
        if ((items.length >= max || scanned >= SCAN_BUDGET) && more) return { items, next: markers.encode(kind, p.name) };
      }
      if (page.next === undefined) return { items };
    }
  }

  async function latest(scope: Scope, p: ParameterRecord): Promise<ParameterVersionRecord | undefined> {
    return storage.read((r) => r.parameters.getVersion(scope, p.name, p.version));
  }

  async function getParametersByPath(
    caller: Caller,
    input: { path: string; recursive?: boolean; withDecryption?: boolean; filters?: ParameterFilter[]; maxResults?: number; nextToken?: string },
  ) {
    const scope = callerScope(caller);
    const path = normalizePath(input.path);
    const { matchers, label } = compileFilters(input.filters ?? [], 'path');
    const prefix = path === '/' ? '/' : `${path}/`;
    const recursive = input.recursive ?? false;
    const page = await scan(scope, prefix, 'GetParametersByPath', input.nextToken, input.maxResults ?? 10, async (p) => {
      if (!recursive && p.name.slice(prefix.length).includes('/')) return undefined;
      let v: ParameterVersionRecord | undefined;
      if (label) {
        v = (await storage.read((r) => r.parameters.listVersions(scope, p.name))).find((x) => x.labels.some((l) => label.includes(l)));
      } else {
        v = await latest(scope, p);
      }
      if (!v || !matchers.every((m) => m(scope, p, v))) return undefined;
      return parameterView(caller, scope, v, input.withDecryption ?? false);
    });
    return { Parameters: page.items, ...(page.next ? { NextToken: page.next } : {}) };
  }

  async function describeParameters(
    caller: Caller,
    input: { filters?: ParameterFilter[]; parameterFilters?: ParameterFilter[]; maxResults?: number; nextToken?: string },
  ) {
    const scope = callerScope(caller);
    if (input.filters && input.parameterFilters) {
      throw new ValidationException('You can use either Filters or ParameterFilters in a single request.');
    }
    // Legacy Filters: Name matches names beginning with a value; Type and KeyId match exactly.
    const filters = input.parameterFilters ?? (input.filters ?? []).map((f) => ({ ...f, Option: f.Key === 'Name' ? 'BeginsWith' : 'Equals' }));
    const { matchers } = compileFilters(filters, 'describe');
    const page = await scan(scope, '', 'DescribeParameters', input.nextToken, input.maxResults ?? 10, async (p) => {
      const v = await latest(scope, p);
      if (!v || !matchers.every((m) => m(scope, p, v))) return undefined;
      return metadataView(scope, p, v);
    });
    return { Parameters: page.items, ...(page.next ? { NextToken: page.next } : {}) };
  }

  async function getParameterHistory(caller: Caller, input: { name: string; withDecryption?: boolean; maxResults?: number; nextToken?: string }) {
    const scope = callerScope(caller);
    const ref = parseParameterReference(scope, input.name);
    if (ref.selector) throw new ValidationException('GetParameterHistory takes a parameter name without a version or label selector.');
    const p = await getRecord(scope, ref.name, input.name);
    const after = Number(decodeToken('GetParameterHistory', input.nextToken) ?? '0');
    const max = input.maxResults ?? 50;
    const all = (await storage.read((r) => r.parameters.listVersions(scope, p.name))).filter((v) => v.version > after);
    const slice = all.slice(0, max);
    const items = [];
    for (const v of slice) {
      const d = vdoc(v);
      items.push({
        Name: p.name,
        Type: d.type,
        ...(d.keyId !== undefined ? { KeyId: d.keyId } : {}),
        LastModifiedDate: seconds(v.createdAt),
        LastModifiedUser: d.lastModifiedUser,
        ...(d.description !== undefined ? { Description: d.description } : {}),
        Value: await valueOf(caller, scope, v, input.withDecryption ?? false),
        ...(d.allowedPattern !== undefined ? { AllowedPattern: d.allowedPattern } : {}),
        Version: v.version,
        Labels: v.labels,
        Tier: d.tier,
        Policies: d.policies,
        DataType: d.dataType,
      });
    }
    const next = all.length > max ? markers.encode('GetParameterHistory', String(slice[slice.length - 1]!.version)) : undefined;
    return { Parameters: items, ...(next ? { NextToken: next } : {}) };
  }

  // ---- writes -----------------------------------------------------------------------------------

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

  async function putParameter(caller: Caller, input: PutParameterInput): Promise<{ Version: number; Tier: ParameterTier }> {
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
    if (dataType !== 'text') throw new ValidationException(`The data type ${dataType} is not supported by Trent; use text.`);

    return withRetries(async () => {
      const existing = await storage.read((r) => r.parameters.get(scope, name));
      const prev = existing && (await storage.read((r) => r.parameters.getVersion(scope, name, existing.version)));
      if (existing && !input.overwrite) {
        throw new ParameterAlreadyExists('The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
      }
      const prevDoc = prev ? vdoc(prev) : undefined;
      const type = input.type ?? prevDoc?.type;
      if (!type) throw new ValidationException('A parameter type is required when you create a parameter.');
      if (prevDoc && type !== prevDoc.type) {
        throw new HierarchyTypeMismatchException(`The parameter type can't be changed from ${prevDoc.type} to ${type}.`);
      }
      if (input.keyId !== undefined && type !== 'SecureString') {
        throw new ValidationException('KeyId is allowed only for parameters of type SecureString.');
      }
      const allowedPattern = input.allowedPattern ?? prevDoc?.allowedPattern;
      checkAllowedPattern(allowedPattern, input.value);
      const parsedPolicies = input.policies !== undefined ? parsePolicies(input.policies) : undefined;
      const policies = parsedPolicies?.policies ?? prevDoc?.policies ?? [];
      const tier = resolveTier(input.tier, prevDoc?.tier, Buffer.byteLength(input.value, 'utf8'), policies.length > 0);
      const keyId = type === 'SecureString' ? (input.keyId ?? prevDoc?.keyId ?? DEFAULT_KEY_ID) : undefined;
      const description = input.description ?? prevDoc?.description;
      const stored = type === 'SecureString' ? await encryptValue(caller, keyId!, arn, input.value, tier) : input.value;
      const doc: VersionDoc = {
        type, tier, dataType, policies, lastModifiedUser: caller.principalArn,
        ...(keyId !== undefined ? { keyId } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(allowedPattern !== undefined ? { allowedPattern } : {}),
      };
      const now = clock.now();
      const times = policyTimes(policies, now);
      const version = await storage.transaction(async (tx) => {
        const current = await tx.parameters.get(scope, name);
        if (!current) {
          if (existing) throw new LostRace();
          const paramDoc: ParamDoc = { tags: input.tags ?? [] };
          try {
            await tx.parameters.insert({ ...scope, name, version: 1, revision: 1, dueAt: nextDue(times, {}, 1), createdAt: now, doc: paramDoc as unknown as Record<string, unknown> });
          } catch (err) {
            if (err instanceof DuplicateError) throw new LostRace();
            throw err;
          }
          await tx.parameters.insertVersion({ ...scope, name, version: 1, createdAt: now, value: stored, labels: [], doc: doc as unknown as Record<string, unknown> });
          return 1;
        }
        if (!existing) {
          if (!input.overwrite) throw new ParameterAlreadyExists('The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
          throw new LostRace();
        }
        const currentLatest = await tx.parameters.getVersion(scope, name, current.version);
        if (currentLatest && vdoc(currentLatest).type !== type) throw new LostRace();
        const next = current.version + 1;
        await dropOldest(tx, scope, name, next);
        const dueAt = nextDue(times, pdoc(current).notified ?? {}, next);
        if (!(await tx.parameters.update({ ...current, version: next, dueAt }, current.revision))) throw new LostRace();
        await tx.parameters.insertVersion({ ...scope, name, version: next, createdAt: now, value: stored, labels: [], doc: doc as unknown as Record<string, unknown> });
        return next;
      });
      return { Version: version, Tier: tier };
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

  async function deleteParameter(caller: Caller, ref: string): Promise<void> {
    const scope = callerScope(caller);
    const parsed = parseParameterReference(scope, ref);
    if (parsed.selector) throw notFound(ref);
    const deleted = await storage.transaction((tx) => tx.parameters.delete(scope, parsed.name));
    if (!deleted) throw notFound(ref);
  }

  async function deleteParameters(caller: Caller, refs: string[]) {
    const deleted: string[] = [];
    const invalid: string[] = [];
    for (const ref of [...new Set(refs)]) {
      try {
        await deleteParameter(caller, ref);
        deleted.push(ref);
      } catch (err) {
        if (err instanceof ParameterNotFound) invalid.push(ref);
        else throw err;
      }
    }
    return { DeletedParameters: deleted, InvalidParameters: invalid };
  }

  /** Runs `change` on the current row and its versions in one transaction, compare-and-set on the row. */
  async function mutate<T>(scope: Scope, name: string, ref: string, change: (tx: Repos, p: ParameterRecord) => Promise<{ doc?: ParamDoc; result: T }>): Promise<T> {
    return withRetries(() =>
      storage.transaction(async (tx) => {
        const p = await tx.parameters.get(scope, name);
        if (!p) throw notFound(ref);
        const { doc, result } = await change(tx, p);
        if (!(await tx.parameters.update({ ...p, ...(doc ? { doc: doc as unknown as Record<string, unknown> } : {}) }, p.revision))) throw new LostRace();
        return result;
      }),
    );
  }

  async function labelParameterVersion(caller: Caller, input: { name: string; labels: string[]; version?: number }) {
    const scope = callerScope(caller);
    const ref = parseParameterReference(scope, input.name);
    const valid = [...new Set(input.labels.filter(isValidLabel))];
    const invalid = input.labels.filter((l) => !isValidLabel(l));
    return mutate(scope, ref.name, input.name, async (tx, p) => {
      const version = input.version ?? p.version;
      const versions = await tx.parameters.listVersions(scope, p.name);
      const target = versions.find((v) => v.version === version);
      if (!target) throw new ParameterVersionNotFound(`Systems Manager could not find version ${version} of ${p.name}. Verify the version and try again.`);
      const labels = [...new Set([...target.labels, ...valid])];
      if (labels.length > MAX_LABELS_PER_VERSION) {
        throw new ParameterVersionLabelLimitExceeded(
          'A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.',
        );
      }
      for (const v of versions) {
        if (v.version === version) continue;
        const kept = v.labels.filter((l) => !valid.includes(l));
        if (kept.length !== v.labels.length) await tx.parameters.setLabels(scope, p.name, v.version, kept);
      }
      await tx.parameters.setLabels(scope, p.name, version, labels);
      return { result: { InvalidLabels: invalid, ParameterVersion: version } };
    });
  }

  async function unlabelParameterVersion(caller: Caller, input: { name: string; labels: string[]; version: number }) {
    const scope = callerScope(caller);
    const ref = parseParameterReference(scope, input.name);
    return mutate(scope, ref.name, input.name, async (tx, p) => {
      const v = await tx.parameters.getVersion(scope, p.name, input.version);
      if (!v) throw new ParameterVersionNotFound(`Systems Manager could not find version ${input.version} of ${p.name}. Verify the version and try again.`);
      const removed = [...new Set(input.labels.filter((l) => v.labels.includes(l)))];
      const invalid = input.labels.filter((l) => !v.labels.includes(l));
      await tx.parameters.setLabels(scope, p.name, v.version, v.labels.filter((l) => !removed.includes(l)));
      return { result: { RemovedLabels: removed, InvalidLabels: invalid } };
    });
  }

  // ---- tags -------------------------------------------------------------------------------------

  function tagTarget(scope: Scope, resourceType: string, resourceId: string): string {
    if (resourceType !== 'Parameter') throw new InvalidResourceType(`Trent supports tags on resource type Parameter only, not ${resourceType}.`);
    try {
      const ref = parseParameterReference(scope, resourceId);
      if (ref.selector) throw new InvalidResourceId('The resource ID is not valid. Verify that you entered the correct ID and try again.');
      return ref.name;
    } catch (err) {
      if (err instanceof ParameterNotFound) throw new InvalidResourceId('The resource ID is not valid. Verify that you entered the correct ID and try again.');
      throw err;
    }
  }

  async function changeTags(caller: Caller, resourceType: string, resourceId: string, change: (tags: ParameterTag[]) => ParameterTag[]): Promise<void> {
    const scope = callerScope(caller);
    const name = tagTarget(scope, resourceType, resourceId);
    try {
      await mutate(scope, name, resourceId, async (_tx, p) => {
        const tags = change(pdoc(p).tags);
        if (tags.length > MAX_TAGS) throw new TooManyTagsError('The Tags parameter contains too many tags. A resource can have at most 50 tags.');
        return { doc: { ...pdoc(p), tags }, result: undefined };
      });
    } catch (err) {
      if (err instanceof ParameterNotFound) throw new InvalidResourceId('The resource ID is not valid. Verify that you entered the correct ID and try again.');
      throw err;
    }
  }

  async function addTags(caller: Caller, resourceType: string, resourceId: string, tags: ParameterTag[]): Promise<void> {
    await changeTags(caller, resourceType, resourceId, (current) => {
      const byKey = new Map(current.map((t) => [t.Key, t]));
      for (const t of tags) byKey.set(t.Key, t);
      return [...byKey.values()];
    });
  }

  async function removeTags(caller: Caller, resourceType: string, resourceId: string, keysToRemove: string[]): Promise<void> {
    await changeTags(caller, resourceType, resourceId, (current) => current.filter((t) => !keysToRemove.includes(t.Key)));
  }

  async function listTags(caller: Caller, resourceType: string, resourceId: string): Promise<{ TagList: ParameterTag[] }> {
    const scope = callerScope(caller);
    const name = tagTarget(scope, resourceType, resourceId);
    const p = await storage.read((r) => r.parameters.get(scope, name));
    if (!p) throw new InvalidResourceId('The resource ID is not valid. Verify that you entered the correct ID and try again.');
    return { TagList: pdoc(p).tags };
  }

  /** The tags of a parameter, none when it does not exist (aws:ResourceTag/… for the authorizer). */
  async function tagsOf(scope: Scope, name: string): Promise<ParameterTag[]> {
    const p = await storage.read((r) => r.parameters.get(scope, name));
    return p ? pdoc(p).tags : [];
  }

  // ---- background job ---------------------------------------------------------------------------

  const REASONS: Record<PolicyEventType, (at: string) => string> = {
    Expiration: (at) => `The parameter expired at ${at} and was deleted (Expiration policy).`,
    ExpirationNotification: (at) => `The parameter expires at ${at} (ExpirationNotification policy).`,
    NoChangeNotification: (at) => `The parameter has not changed since ${at} (NoChangeNotification policy).`,
  };

  /** Publishes; false when the sink could not deliver (the caller leaves the action pending). */
  async function publish(p: ParameterRecord, v: ParameterVersionRecord, policyType: PolicyEventType, dueAt: number, about: number, now: number): Promise<boolean> {
    if (!events) return true;
    const d = vdoc(v);
    const scope = { accountId: p.accountId, region: p.region };
    const e: ParameterPolicyEvent = {
      policyType, ...scope, arn: parameterArn(scope, p.name), name: p.name, parameterType: d.type,
      policyText: d.policies.find((x) => x.PolicyType === policyType)?.PolicyText ?? '',
      dueAt, time: now, reason: REASONS[policyType](new Date(about).toISOString()),
    };
    return events.publish(e).then(() => true, () => false);
  }

  /**
   * The policy job: deletes parameters whose Expiration is due (AWS deletes whatever the listeners'
   * state, then announces it) and sends due ExpirationNotification / NoChangeNotification events, each
   * remembered in the row once delivered. Returns how many parameters were deleted.
   */
  async function runDue(): Promise<number> {
    const now = clock.now();
    let deleted = 0;
    for (;;) {
      const due = await storage.read((r) => r.parameters.listDue(now, 100));
      let progress = 0;
      for (const p of due) {
        const scope = { accountId: p.accountId, region: p.region };
        const v = await storage.read((r) => r.parameters.getVersion(scope, p.name, p.version));
        if (!v) continue;
        const times = policyTimes(vdoc(v).policies, v.createdAt);
        if (times.expiresAt !== undefined && times.expiresAt <= now) {
          if (await storage.transaction((tx) => tx.parameters.delete(scope, p.name, p.revision))) {
            deleted++;
            progress++;
            await publish(p, v, 'Expiration', times.expiresAt, times.expiresAt, now);
          }
          continue;
        }
        const notified: NotifiedState = { ...(pdoc(p).notified ?? {}) };
        for (const type of dueNotifications(times, notified, p.version, now)) {
          if (type === 'ExpirationNotification') {
            if (await publish(p, v, type, times.expirationNotifyAt!, times.expiresAt!, now)) notified.expiration = times.expiresAt!;
          } else if (await publish(p, v, type, times.noChangeNotifyAt!, v.createdAt, now)) {
            notified.noChange = p.version;
          }
        }
        const dueAt = nextDue(times, notified, p.version);
        const sent = JSON.stringify(notified) !== JSON.stringify(pdoc(p).notified ?? {});
        if (dueAt === p.dueAt && !sent) continue;
        const doc: ParamDoc = { ...pdoc(p), notified };
        if (await storage.transaction((tx) => tx.parameters.update({ ...p, dueAt, doc: doc as unknown as Record<string, unknown> }, p.revision))) {
          if (dueAt !== p.dueAt) progress++;
        }
      }
      if (due.length < 100 || progress === 0) return deleted;
    }
  }

  return {
    putParameter,
    getParameter,
    getParameters,
    getParametersByPath,
    describeParameters,
    getParameterHistory,
    deleteParameter,
    deleteParameters,
    labelParameterVersion,
    unlabelParameterVersion,
    addTags,
    removeTags,
    listTags,
    tagsOf,
    runDue,
  };
}
