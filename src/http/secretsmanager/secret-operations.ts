/** CreateSecret, GetSecretValue, BatchGetSecretValue, PutSecretValue, UpdateSecret, DescribeSecret, DeleteSecret, RestoreSecret. */
import { ActionDeniedException, TrentError } from '../../errors/errors.ts';
import { InvalidParameterException, kmsNotAllowed } from '../../secrets/errors.ts';
import type { SecretsManagerRequests as Requests } from '../../secrets/requests.ts';
import type { SecretService } from '../../secrets/secret-service.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { ParsedOperation } from '../operation.ts';
import { describeShape, replicationStatusShape, readReplicaRegions, readSecretId, readSecretIdOnly, readTags, readToken, readValue, seconds, stagesMember, valueShape } from './common.ts';
import { readFilters } from './list-operations.ts';

export function createSecretOperation(secrets: SecretService): ParsedOperation<Requests['CreateSecret']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const name = r.string('Name', { required: true, min: 1, max: 512 });
      const token = readToken(r);
      const description = r.string('Description', { max: 2048 });
      const kmsKeyId = r.string('KmsKeyId', { max: 2048 });
      const value = readValue(r);
      const tags = readTags(r);
      r.string('Type');
      const forceOverwrite = r.boolean('ForceOverwriteReplicaSecret');
      const addReplicaRegions = readReplicaRegions(input, false);
      r.done();
      return definedMembers({ name, token, description, kmsKeyId, ...value, tags, addReplicaRegions, forceOverwrite });
    },
    async handle(request, { caller }) {
      const out = await secrets.createSecret(caller, request);
      return definedMembers({
        ARN: out.secret.arn, Name: out.secret.name, VersionId: out.versionId || undefined,
        ReplicationStatus: out.replicas ? replicationStatusShape(out.replicas) : undefined,
      });
    },
  };
}

export function getSecretValueOperation(secrets: SecretService): ParsedOperation<Requests['GetSecretValue']> {
  return {
    readOnly: true,
    parse(input) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const versionId = r.string('VersionId', { min: 32, max: 64 });
      const versionStage = r.string('VersionStage', { min: 1, max: 256 });
      r.done();
      return definedMembers({ secretId, versionId, versionStage });
    },
    async handle(request, { caller }) {
      const out = await secrets.getSecretValue(caller, request);
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
 * a refusal of secretsmanager:GetSecretValue on one secret (decided as GetSecretValue decides it) or of KMS included.
 */
export function batchGetSecretValueOperation(secrets: SecretService): ParsedOperation<Requests['BatchGetSecretValue']> {
  return {
    readOnly: true,
    parse(input) {
      const r = new InputReader(input);
      const secretIdList = r.stringList('SecretIdList', { min: 1, max: 20, itemMax: 2048 });
      const filters = readFilters(input);
      const maxResults = r.integer('MaxResults', { min: 1, max: 20 });
      const nextToken = r.string('NextToken', { min: 1, max: 4096 });
      r.done();
      return definedMembers({ secretIdList, filters, maxResults, nextToken });
    },
    async handle({ secretIdList, filters, maxResults, nextToken }, { caller }) {
      if ((secretIdList === undefined) === (filters === undefined)) {
        throw new InvalidParameterException('Either SecretIdList or Filters must be provided, but not both.');
      }
      if (secretIdList !== undefined && maxResults !== undefined) {
        throw new InvalidParameterException('MaxResults can be used only with Filters.');
      }
      let targets: string[];
      let next: string | undefined;
      if (filters) {
        const page = await secrets.listSecrets(caller, definedMembers({ filters, maxResults: maxResults ?? 20, nextToken: nextToken || undefined }));
        targets = page.secrets.map((s) => s.arn);
        next = page.nextToken;
      } else {
        targets = secretIdList!;
      }
      const values: Record<string, unknown>[] = [];
      const errors: Record<string, unknown>[] = [];
      for (const id of targets) {
        try {
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
      return definedMembers({ SecretValues: values, Errors: errors, NextToken: next || undefined });
    },
  };
}

export function putSecretValueOperation(secrets: SecretService): ParsedOperation<Requests['PutSecretValue']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const token = readToken(r);
      const value = readValue(r);
      const stages = r.stringList('VersionStages', { min: 1, max: 20, itemMax: 256 });
      r.string('RotationToken');
      r.done();
      return definedMembers({ secretId, token, ...value, stages });
    },
    async handle(request, { caller }) {
      const out = await secrets.putSecretValue(caller, request);
      return { ARN: out.secret.arn, Name: out.secret.name, VersionId: out.versionId, VersionStages: out.stages };
    },
  };
}

export function updateSecretOperation(secrets: SecretService): ParsedOperation<Requests['UpdateSecret']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const token = readToken(r);
      const description = r.string('Description', { max: 2048 });
      const kmsKeyId = r.string('KmsKeyId', { max: 2048 });
      const value = readValue(r);
      r.string('Type');
      r.done();
      return definedMembers({ secretId, token, description, kmsKeyId, ...value });
    },
    async handle(request, { caller }) {
      const out = await secrets.updateSecret(caller, request);
      return definedMembers({ ARN: out.secret.arn, Name: out.secret.name, VersionId: out.versionId || undefined });
    },
  };
}

export function describeSecretOperation(secrets: SecretService): ParsedOperation<Requests['DescribeSecret']> {
  return {
    readOnly: true,
    parse: readSecretIdOnly,
    async handle({ secretId }, { caller }) {
      const s = await secrets.describeSecret(caller, secretId);
      return { ...describeShape(s, await secrets.replicationStatusOf(s)), ...stagesMember(s.doc, 'VersionIdsToStages') };
    },
  };
}

export function deleteSecretOperation(secrets: SecretService): ParsedOperation<Requests['DeleteSecret']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const recoveryWindowInDays = r.integer('RecoveryWindowInDays');
      const force = r.boolean('ForceDeleteWithoutRecovery');
      r.done();
      return definedMembers({ secretId, recoveryWindowInDays, force });
    },
    async handle(request, { caller }) {
      const out = await secrets.deleteSecret(caller, request);
      return { ARN: out.arn, Name: out.name, DeletionDate: seconds(out.deletionDate) };
    },
  };
}

export function restoreSecretOperation(secrets: SecretService): ParsedOperation<Requests['RestoreSecret']> {
  return {
    readOnly: false,
    parse: readSecretIdOnly,
    async handle({ secretId }, { caller }) {
      const s = await secrets.restoreSecret(caller, secretId);
      return { ARN: s.arn, Name: s.name };
    },
  };
}
