/** RotateSecret, CancelRotateSecret, the resource-policy operations and the refused replication operations. */
import { replicationNotSupported } from '../../secrets/errors.ts';
import type { RotationRunner } from '../../secrets/rotation.ts';
import type { RotationRules } from '../../secrets/schedule.ts';
import type { SecretService } from '../../secrets/secret-service.ts';
import { SerializationException } from '../../errors/errors.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readReplicaRegions, readSecretId, readToken } from './common.ts';

function readRules(input: Record<string, unknown>): RotationRules | undefined {
  const raw = input.RotationRules;
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new SerializationException('Expected a structure for RotationRules');
  const r = new InputReader(raw as Record<string, unknown>);
  const days = r.integer('AutomaticallyAfterDays', { min: 1, max: 1000 });
  const duration = r.string('Duration', { min: 2, max: 3, pattern: /^[0-9]h$|^1[0-9]h$|^2[0-4]h$/ });
  const expr = r.string('ScheduleExpression', { min: 1, max: 256 });
  r.done();
  return {
    ...(days !== undefined ? { AutomaticallyAfterDays: days } : {}),
    ...(duration !== undefined ? { Duration: duration } : {}),
    ...(expr !== undefined ? { ScheduleExpression: expr } : {}),
  };
}

export function rotateSecretOperation(rotation: RotationRunner): Operation {
  return {
    name: 'RotateSecret',
    readOnly: false,
    // Until rotation runs as a background job, RotateSecret runs the rotator's steps itself.
    notAtomic: 'its rotation steps call the rotator (a webhook that calls Trent back, or a database) and wait for it',
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const token = readToken(r);
      const lambdaArn = r.string('RotationLambdaARN', { max: 2048 });
      const rotateImmediately = r.boolean('RotateImmediately');
      r.done();
      const rules = readRules(input);
      const out = await rotation.rotateSecret(caller, {
        secretId: secretId!,
        ...(token !== undefined ? { token } : {}),
        ...(lambdaArn !== undefined ? { lambdaArn } : {}),
        ...(rules ? { rules } : {}),
        ...(rotateImmediately !== undefined ? { rotateImmediately } : {}),
      });
      return { ARN: out.secret.arn, Name: out.secret.name, ...(out.versionId ? { VersionId: out.versionId } : {}) };
    },
  };
}

export function cancelRotateSecretOperation(secrets: SecretService): Operation {
  return {
    name: 'CancelRotateSecret',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      r.done();
      const out = await secrets.cancelRotateSecret(caller, secretId!);
      return { ARN: out.secret.arn, Name: out.secret.name, ...(out.versionId ? { VersionId: out.versionId } : {}) };
    },
  };
}

export function policyOperations(secrets: SecretService): Operation[] {
  return [
    {
      name: 'PutResourcePolicy',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const secretId = readSecretId(r);
        const policy = r.string('ResourcePolicy', { required: true, min: 1, max: 20480 });
        const blockPublicPolicy = r.boolean('BlockPublicPolicy');
        r.done();
        const s = await secrets.putResourcePolicy(caller, secretId!, policy!, blockPublicPolicy ?? false);
        return { ARN: s.arn, Name: s.name };
      },
    },
    {
      name: 'GetResourcePolicy',
      readOnly: true,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const secretId = readSecretId(r);
        r.done();
        const s = await secrets.resolve(caller, secretId!);
        return { ARN: s.arn, Name: s.name, ...(s.doc.policy !== undefined ? { ResourcePolicy: s.doc.policy } : {}) };
      },
    },
    {
      name: 'DeleteResourcePolicy',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const secretId = readSecretId(r);
        r.done();
        const s = await secrets.deleteResourcePolicy(caller, secretId!);
        return { ARN: s.arn, Name: s.name };
      },
    },
    {
      name: 'ValidateResourcePolicy',
      readOnly: true,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const secretId = r.string('SecretId', { min: 1, max: 2048 });
        const policy = r.string('ResourcePolicy', { required: true, min: 1, max: 20480 });
        r.done();
        const out = await secrets.validateResourcePolicy(caller, policy!, secretId);
        return { PolicyValidationPassed: out.passed, ValidationErrors: out.errors };
      },
    },
  ];
}

/**
 * Trent is a single-Region service: the replication operations check their input as AWS's model does,
 * resolve the secret (ResourceNotFoundException first, as AWS), then answer replicationNotSupported.
 */
export function replicationOperations(secrets: SecretService): Operation[] {
  const members: Record<string, (r: InputReader, input: Record<string, unknown>) => void> = {
    ReplicateSecretToRegions: (r, input) => {
      readReplicaRegions(input, true);
      r.boolean('ForceOverwriteReplicaSecret');
    },
    RemoveRegionsFromReplication: (r) => void r.stringList('RemoveReplicaRegions', { required: true, min: 1, itemMax: 128 }),
    StopReplicationToReplica: () => undefined,
  };
  return Object.entries(members).map(([name, read]) => ({
    name,
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      read(r, input);
      r.done();
      await secrets.resolve(caller, secretId!);
      throw replicationNotSupported(name);
    },
  }));
}
