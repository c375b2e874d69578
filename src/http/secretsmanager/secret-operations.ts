/** CreateSecret, GetSecretValue, BatchGetSecretValue, PutSecretValue, UpdateSecret, DescribeSecret, DeleteSecret, RestoreSecret. */
import type { Caller } from '../../auth/caller.ts';
import { ActionDeniedException, TrentError } from '../../errors/errors.ts';
import { InvalidParameterException, InvalidRequestException, replicationNotSupported } from '../../secrets/errors.ts';
import type { ListFilter, SecretService } from '../../secrets/secret-service.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { describeShape, readReplicaRegions, readSecretId, readTags, readToken, readValue, seconds, valueShape } from './common.ts';
import { readFilters } from './list-operations.ts';
import { kmsNotAllowed } from './access.ts';

export function createSecretOperation(secrets: SecretService): Operation {
  return {
    name: 'CreateSecret',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const name = r.string('Name', { required: true, min: 1, max: 512 });
      const token = readToken(r);
      const description = r.string('Description', { max: 2048 });
      const kmsKeyId = r.string('KmsKeyId', { max: 2048 });
      const value = readValue(r);
      const tags = readTags(r);
      r.string('Type');
      r.boolean('ForceOverwriteReplicaSecret');
      const replicas = readReplicaRegions(input, false);
      r.done();
      if (replicas !== undefined) throw replicationNotSupported('CreateSecret with AddReplicaRegions');
      const out = await secrets.createSecret(caller, {
        name: name!,
        ...(token !== undefined ? { token } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(kmsKeyId !== undefined ? { kmsKeyId } : {}),
        ...(value ? { value } : {}),
        ...(tags ? { tags } : {}),
      });
      return { ARN: out.secret.arn, Name: out.secret.name, ...(out.versionId ? { VersionId: out.versionId } : {}) };
    },
  };
}

export function getSecretValueOperation(secrets: SecretService): Operation {
  return {
    name: 'GetSecretValue',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const versionId = r.string('VersionId', { min: 32, max: 64 });
      const versionStage = r.string('VersionStage', { min: 1, max: 256 });
      r.done();
      const out = await secrets.getSecretValue(caller, {
        secretId: secretId!, ...(versionId !== undefined ? { versionId } : {}), ...(versionStage !== undefined ? { versionStage } : {}),
      });
      const meta = out.secret.doc.versions[out.versionId]!;
      return {
        ARN: out.secret.arn,
        Name: out.secret.name,
        VersionId: out.versionId,
        ...valueShape(out.value),
        VersionStages: meta.stages,
        CreatedDate: seconds(meta.createdAt),
      };
    },
  };
}

/**
 * AWS: BatchGetSecretValue — SecretIdList (≤20) or Filters, not both; per-secret failures go to Errors,
 * a refusal of secretsmanager:GetSecretValue on one secret (`authorizeGet`) or of KMS included.
 */
export function batchGetSecretValueOperation(
  secrets: SecretService,
  authorizeGet: (caller: Caller, secretId: string) => Promise<void>,
): Operation {
  return {
    name: 'BatchGetSecretValue',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const ids = r.stringList('SecretIdList', { min: 1, max: 20, itemMax: 2048 });
      const filters = readFilters(input);
      const maxResults = r.integer('MaxResults', { min: 1, max: 20 });
      const nextToken = r.string('NextToken', { min: 1, max: 4096 });
      r.done();
      if ((ids === undefined) === (filters === undefined)) {
        throw new InvalidParameterException('Either SecretIdList or Filters must be provided, but not both.');
      }
      if (ids !== undefined && maxResults !== undefined) {
        throw new InvalidParameterException('MaxResults can be used only with Filters.');
      }
      let targets: string[];
      let next: string | undefined;
      if (filters) {
        const page = await secrets.listSecrets(caller, { filters: filters as ListFilter[], maxResults: maxResults ?? 20, ...(nextToken ? { nextToken } : {}) });
        targets = page.secrets.map((s) => s.arn);
        next = page.nextToken;
      } else {
        targets = ids!;
      }
      const values: Record<string, unknown>[] = [];
      const errors: Record<string, unknown>[] = [];
      for (const id of targets) {
        try {
          await authorizeGet(caller, id);
          const out = await secrets.getSecretValue(caller, { secretId: id }).catch((err: unknown) => {
            throw err instanceof ActionDeniedException && err.action.startsWith('kms:') ? kmsNotAllowed() : err;
          });
          const meta = out.secret.doc.versions[out.versionId]!;
          values.push({
            ARN: out.secret.arn, Name: out.secret.name, VersionId: out.versionId, ...valueShape(out.value),
            VersionStages: meta.stages, CreatedDate: seconds(meta.createdAt),
          });
        } catch (err) {
          if (!(err instanceof TrentError) || err.fault !== 'client') throw err;
          errors.push({ SecretId: id, ErrorCode: err.code, Message: err.message });
        }
      }
      return { SecretValues: values, Errors: errors, ...(next ? { NextToken: next } : {}) };
    },
  };
}

export function putSecretValueOperation(secrets: SecretService): Operation {
  return {
    name: 'PutSecretValue',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const token = readToken(r);
      const value = readValue(r);
      const stages = r.stringList('VersionStages', { min: 1, max: 20, itemMax: 256 });
      r.string('RotationToken');
      r.done();
      if (!value) throw new InvalidRequestException('You must provide either SecretString or SecretBinary.');
      if (token === undefined) throw new InvalidRequestException('You must provide a ClientRequestToken value. We recommend a UUID-type value.');
      const out = await secrets.putSecretValue(caller, { secretId: secretId!, token, value, ...(stages ? { stages } : {}) });
      return { ARN: out.secret.arn, Name: out.secret.name, VersionId: out.versionId, VersionStages: out.stages };
    },
  };
}

export function updateSecretOperation(secrets: SecretService): Operation {
  return {
    name: 'UpdateSecret',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const token = readToken(r);
      const description = r.string('Description', { max: 2048 });
      const kmsKeyId = r.string('KmsKeyId', { max: 2048 });
      const value = readValue(r);
      r.string('Type');
      r.done();
      const out = await secrets.updateSecret(caller, {
        secretId: secretId!,
        ...(token !== undefined ? { token } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(kmsKeyId !== undefined ? { kmsKeyId } : {}),
        ...(value ? { value } : {}),
      });
      return { ARN: out.secret.arn, Name: out.secret.name, ...(out.versionId ? { VersionId: out.versionId } : {}) };
    },
  };
}

export function describeSecretOperation(secrets: SecretService): Operation {
  return {
    name: 'DescribeSecret',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      r.done();
      const s = await secrets.describeSecret(caller, secretId!);
      const stages: Record<string, string[]> = {};
      for (const [id, v] of Object.entries(s.doc.versions)) if (v.stages.length) stages[id] = v.stages;
      return { ...describeShape(s), VersionIdsToStages: stages };
    },
  };
}

export function deleteSecretOperation(secrets: SecretService): Operation {
  return {
    name: 'DeleteSecret',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const recoveryWindowInDays = r.integer('RecoveryWindowInDays');
      const force = r.boolean('ForceDeleteWithoutRecovery');
      r.done();
      const out = await secrets.deleteSecret(caller, {
        secretId: secretId!, ...(recoveryWindowInDays !== undefined ? { recoveryWindowInDays } : {}), ...(force !== undefined ? { force } : {}),
      });
      return { ARN: out.arn, Name: out.name, DeletionDate: seconds(out.deletionDate) };
    },
  };
}

export function restoreSecretOperation(secrets: SecretService): Operation {
  return {
    name: 'RestoreSecret',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      r.done();
      const s = await secrets.restoreSecret(caller, secretId!);
      return { ARN: s.arn, Name: s.name };
    },
  };
}
