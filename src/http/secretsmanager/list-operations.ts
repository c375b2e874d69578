/** ListSecrets, ListSecretVersionIds, UpdateSecretVersionStage, TagResource, UntagResource, GetRandomPassword. */
import { SerializationException } from '../../errors/errors.ts';
import { randomPassword } from '../../secrets/password.ts';
import type { ListFilter, SecretService } from '../../secrets/secret-service.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { describeShape, readSecretId, readTags, seconds, versionIdsToStages } from './common.ts';

const FILTER_KEYS = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'] as const;

/** Filters: [{Key, Values}] (≤10); Key one of FILTER_KEYS; each value ≤512, optionally starting with `!`. */
export function readFilters(input: Record<string, unknown>): ListFilter[] | undefined {
  const raw = input.Filters;
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw new SerializationException('Expected a list for Filters');
  return raw.map((f: unknown) => {
    if (typeof f !== 'object' || f === null) throw new SerializationException('Expected a filter in Filters');
    const fr = new InputReader(f as Record<string, unknown>);
    const key = fr.enumValue('Key', FILTER_KEYS);
    const values = fr.stringList('Values', { min: 1, max: 10, itemMax: 512 });
    fr.done();
    return { Key: key ?? 'all', Values: values ?? [] };
  });
}

export function listSecretsOperation(secrets: SecretService): Operation {
  return {
    name: 'ListSecrets',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const includePlannedDeletion = r.boolean('IncludePlannedDeletion');
      const maxResults = r.integer('MaxResults', { min: 1, max: 100 });
      const nextToken = r.string('NextToken', { min: 1, max: 4096 });
      const filters = readFilters(input);
      const sortOrder = r.enumValue('SortOrder', ['asc', 'desc'] as const);
      const sortBy = r.enumValue('SortBy', ['created-date', 'last-accessed-date', 'last-changed-date', 'name'] as const);
      r.done();
      const out = await secrets.listSecrets(caller, {
        ...(filters ? { filters } : {}),
        ...(includePlannedDeletion !== undefined ? { includePlannedDeletion } : {}),
        ...(maxResults !== undefined ? { maxResults } : {}),
        ...(nextToken !== undefined ? { nextToken } : {}),
        ...(sortOrder ? { sortOrder } : {}),
        ...(sortBy ? { sortBy } : {}),
      });
      return {
        SecretList: out.secrets.map((s) => {
          const { TrentRotationFailure: _ignored, ...shape } = describeShape(s);
          return { ...shape, SecretVersionsToStages: versionIdsToStages(s.doc) };
        }),
        ...(out.nextToken ? { NextToken: out.nextToken } : {}),
      };
    },
  };
}

export function listSecretVersionIdsOperation(secrets: SecretService): Operation {
  return {
    name: 'ListSecretVersionIds',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const maxResults = r.integer('MaxResults', { min: 1, max: 100 });
      const nextToken = r.string('NextToken', { min: 1, max: 4096 });
      const includeDeprecated = r.boolean('IncludeDeprecated');
      r.done();
      const out = await secrets.listSecretVersionIds(caller, {
        secretId: secretId!,
        ...(maxResults !== undefined ? { maxResults } : {}),
        ...(nextToken !== undefined ? { nextToken } : {}),
        ...(includeDeprecated !== undefined ? { includeDeprecated } : {}),
      });
      const doc = out.secret.doc;
      return {
        Versions: out.versionIds.map((id) => {
          const v = doc.versions[id]!;
          return {
            VersionId: id,
            VersionStages: v.stages,
            ...(v.lastAccessedAt !== undefined ? { LastAccessedDate: seconds(v.lastAccessedAt) } : {}),
            CreatedDate: seconds(v.createdAt),
            KmsKeyIds: [doc.kmsKeyId ?? 'DefaultEncryptionKey'],
          };
        }),
        ARN: out.secret.arn,
        Name: out.secret.name,
        ...(out.nextToken ? { NextToken: out.nextToken } : {}),
      };
    },
  };
}

export function updateSecretVersionStageOperation(secrets: SecretService): Operation {
  return {
    name: 'UpdateSecretVersionStage',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const stage = r.string('VersionStage', { required: true, min: 1, max: 256 });
      const removeFrom = r.string('RemoveFromVersionId', { min: 32, max: 64 });
      const moveTo = r.string('MoveToVersionId', { min: 32, max: 64 });
      r.done();
      const s = await secrets.updateSecretVersionStage(caller, {
        secretId: secretId!, stage: stage!, ...(removeFrom !== undefined ? { removeFrom } : {}), ...(moveTo !== undefined ? { moveTo } : {}),
      });
      return { ARN: s.arn, Name: s.name };
    },
  };
}

export function tagResourceOperation(secrets: SecretService): Operation {
  return {
    name: 'TagResource',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const tags = readTags(r);
      if (tags === undefined) r.string('Tags', { required: true });
      r.done();
      await secrets.tagResource(caller, secretId!, tags!);
      return undefined;
    },
  };
}

export function untagResourceOperation(secrets: SecretService): Operation {
  return {
    name: 'UntagResource',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const keys = r.stringList('TagKeys', { required: true, itemMax: 128 });
      r.done();
      await secrets.untagResource(caller, secretId!, keys!);
      return undefined;
    },
  };
}

export function getRandomPasswordOperation(): Operation {
  return {
    name: 'GetRandomPassword',
    readOnly: true,
    async handle(input) {
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
      const opts = {
        passwordLength, excludeCharacters, excludeNumbers, excludePunctuation, excludeUppercase, excludeLowercase, includeSpace, requireEachIncludedType,
      };
      const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
      return { RandomPassword: randomPassword(defined) };
    },
  };
}
