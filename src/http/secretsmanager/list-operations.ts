/** ListSecrets, ListSecretVersionIds, UpdateSecretVersionStage, TagResource, UntagResource, GetRandomPassword. */
import { SerializationException, ValidationException } from '../../errors/errors.ts';
import { randomPassword } from '../../secrets/password.ts';
import type { SecretsManagerRequests as Requests } from '../../secrets/requests.ts';
import type { ListFilter, SecretService } from '../../secrets/secret-service.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { ParsedOperation } from '../operation.ts';
import { describeShape, optionalSeconds, readSecretId, readTags, seconds, stagesMember } from './common.ts';

const FILTER_KEYS = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'] as const;

/** AWS model FilterValueStringType: an optional leading `!`, then letters, digits, space and :_@/+=.-! */
const FILTER_VALUE = /^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$/;

/** Filters: [{Key, Values}] (≤10); Key one of FILTER_KEYS; each value ≤512 characters of FILTER_VALUE. */
export function readFilters(input: Record<string, unknown>): ListFilter[] | undefined {
  const raw = input.Filters;
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw new SerializationException('Expected a list for Filters');
  return raw.map((f: unknown, i) => {
    if (typeof f !== 'object' || f === null) throw new SerializationException('Expected a filter in Filters');
    const fr = new InputReader(f as Record<string, unknown>);
    const key = fr.enumValue('Key', FILTER_KEYS);
    const values = fr.stringList('Values', { min: 1, max: 10, itemMax: 512 });
    fr.done();
    const bad = (values ?? []).findIndex((v) => !FILTER_VALUE.test(v));
    if (bad >= 0) {
      throw new ValidationException(
        `1 validation error detected: Value '${values![bad]}' at 'filters.${i + 1}.member.values.${bad + 1}.member' failed to satisfy constraint: Member must satisfy regular expression pattern: ${FILTER_VALUE.source}`,
      );
    }
    return { Key: key ?? 'all', Values: values ?? [] };
  });
}

export function listSecretsOperation(secrets: SecretService): ParsedOperation<Requests['ListSecrets']> {
  return {
    readOnly: true,
    parse(input) {
      const r = new InputReader(input);
      const includePlannedDeletion = r.boolean('IncludePlannedDeletion');
      const maxResults = r.integer('MaxResults', { min: 1, max: 100 });
      const nextToken = r.string('NextToken', { min: 1, max: 4096 });
      const filters = readFilters(input);
      const sortOrder = r.enumValue('SortOrder', ['asc', 'desc'] as const);
      const sortBy = r.enumValue('SortBy', ['created-date', 'last-accessed-date', 'last-changed-date', 'name'] as const);
      r.done();
      return definedMembers({ filters, includePlannedDeletion, maxResults, nextToken, sortOrder, sortBy });
    },
    async handle(request, { caller }) {
      const out = await secrets.listSecrets(caller, request);
      return definedMembers({
        SecretList: out.secrets.map((s) => {
          const { TrentRotationFailure: _ignored, ...shape } = describeShape(s);
          return { ...shape, ...stagesMember(s.doc, 'SecretVersionsToStages') };
        }),
        NextToken: out.nextToken || undefined,
      });
    },
  };
}

export function listSecretVersionIdsOperation(secrets: SecretService): ParsedOperation<Requests['ListSecretVersionIds']> {
  return {
    readOnly: true,
    parse(input) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const maxResults = r.integer('MaxResults', { min: 1, max: 100 });
      const nextToken = r.string('NextToken', { min: 1, max: 4096 });
      const includeDeprecated = r.boolean('IncludeDeprecated');
      r.done();
      return definedMembers({ secretId, maxResults, nextToken, includeDeprecated });
    },
    async handle(request, { caller }) {
      const out = await secrets.listSecretVersionIds(caller, request);
      const doc = out.secret.doc;
      return definedMembers({
        Versions: out.versionIds.map((id) => {
          const v = doc.versions[id]!;
          return definedMembers({
            VersionId: id,
            // AWS: a deprecated version (IncludeDeprecated) is listed without VersionStages (recorded).
            VersionStages: v.stages.length > 0 ? v.stages : undefined,
            LastAccessedDate: optionalSeconds(v.lastAccessedAt),
            CreatedDate: seconds(v.createdAt),
            KmsKeyIds: [doc.kmsKeyId ?? 'DefaultEncryptionKey'],
          });
        }),
        ARN: out.secret.arn,
        Name: out.secret.name,
        NextToken: out.nextToken || undefined,
      });
    },
  };
}

export function updateSecretVersionStageOperation(secrets: SecretService): ParsedOperation<Requests['UpdateSecretVersionStage']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const stage = r.string('VersionStage', { required: true, min: 1, max: 256 });
      const removeFrom = r.string('RemoveFromVersionId', { min: 32, max: 64 });
      const moveTo = r.string('MoveToVersionId', { min: 32, max: 64 });
      r.done();
      return definedMembers({ secretId, stage, removeFrom, moveTo });
    },
    async handle(request, { caller }) {
      const s = await secrets.updateSecretVersionStage(caller, request);
      return { ARN: s.arn, Name: s.name };
    },
  };
}

export function tagResourceOperation(secrets: SecretService): ParsedOperation<Requests['TagResource']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const tags = readTags(r);
      if (tags === undefined) r.string('Tags', { required: true });
      r.done();
      return { secretId, tags: tags! };
    },
    async handle(request, { caller }) {
      await secrets.tagResource(caller, request);
      return undefined;
    },
  };
}

export function untagResourceOperation(secrets: SecretService): ParsedOperation<Requests['UntagResource']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const tagKeys = r.stringList('TagKeys', { required: true, itemMax: 128 });
      r.done();
      return { secretId, tagKeys };
    },
    async handle(request, { caller }) {
      await secrets.untagResource(caller, request);
      return undefined;
    },
  };
}

export function getRandomPasswordOperation(): ParsedOperation<Requests['GetRandomPassword']> {
  return {
    readOnly: true,
    parse(input) {
      const r = new InputReader(input);
      const passwordLength = r.integer('PasswordLength', { min: 1, max: 4096 });
      const excludeCharacters = r.string('ExcludeCharacters', { max: 4096 });
      const excludeNumbers = r.boolean('ExcludeNumbers');
      const excludePunctuation = r.boolean('ExcludePunctuation');
      const excludeUppercase = r.boolean('ExcludeUppercase');
      const excludeLowercase = r.boolean('ExcludeLowercase');
      const includeSpace = r.boolean('IncludeSpace');
      const requireEachIncludedType = r.boolean('RequireEachIncludedType');
      r.done();
      return definedMembers({
        passwordLength, excludeCharacters, excludeNumbers, excludePunctuation, excludeUppercase, excludeLowercase, includeSpace, requireEachIncludedType,
      });
    },
    handle: async (options) => ({ RandomPassword: randomPassword(options) }),
  };
}
