/** RotateSecret, CancelRotateSecret and the resource-policy operations. */
import type { SecretsManagerRequests as Requests } from '../../secrets/requests.ts';
import type { RotationRunner } from '../../secrets/rotation.ts';
import type { RotationRules } from '../../secrets/schedule.ts';
import type { SecretService } from '../../secrets/secret-service.ts';
import { SerializationException } from '../../errors/errors.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { ParsedOperation, ParsedOperations } from '../operation.ts';
import { checkSecretId, readSecretId, readSecretIdOnly, readToken } from './common.ts';

function readRules(input: Record<string, unknown>): RotationRules | undefined {
  const raw = input.RotationRules;
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new SerializationException('Expected a structure for RotationRules');
  const r = new InputReader(raw as Record<string, unknown>);
  const days = r.integer('AutomaticallyAfterDays', { min: 1, max: 1000 });
  const duration = r.string('Duration', { min: 2, max: 3, pattern: /^[0-9]h$|^1[0-9]h$|^2[0-4]h$/ });
  const expr = r.string('ScheduleExpression', { min: 1, max: 256 });
  r.done();
  return definedMembers({ AutomaticallyAfterDays: days, Duration: duration, ScheduleExpression: expr });
}

export function rotateSecretOperation(rotation: RotationRunner): ParsedOperation<Requests['RotateSecret']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const secretId = readSecretId(r);
      const token = readToken(r);
      const lambdaArn = r.string('RotationLambdaARN', { max: 2048 });
      const rotateImmediately = r.boolean('RotateImmediately');
      r.done();
      const rules = readRules(input);
      return definedMembers({ secretId, token, lambdaArn, rules, rotateImmediately });
    },
    async handle(request, { caller }) {
      const out = await rotation.rotateSecret(caller, request);
      return definedMembers({ ARN: out.secret.arn, Name: out.secret.name, VersionId: out.versionId || undefined });
    },
  };
}

export function cancelRotateSecretOperation(secrets: SecretService): ParsedOperation<Requests['CancelRotateSecret']> {
  return {
    readOnly: false,
    parse: readSecretIdOnly,
    async handle({ secretId }, { caller }) {
      const out = await secrets.cancelRotateSecret(caller, secretId);
      return definedMembers({ ARN: out.secret.arn, Name: out.secret.name, VersionId: out.versionId || undefined });
    },
  };
}

type PolicyOperations = Pick<Requests, 'PutResourcePolicy' | 'GetResourcePolicy' | 'DeleteResourcePolicy' | 'ValidateResourcePolicy'>;

export function policyOperations(secrets: SecretService): ParsedOperations<PolicyOperations> {
  return {
    PutResourcePolicy: {
      readOnly: false,
      parse(input) {
        const r = new InputReader(input);
        const secretId = readSecretId(r);
        const policy = r.string('ResourcePolicy', { required: true, min: 1, max: 20480 });
        const blockPublicPolicy = r.boolean('BlockPublicPolicy');
        r.done();
        return definedMembers({ secretId, policy, blockPublicPolicy });
      },
      async handle(request, { caller }) {
        const s = await secrets.putResourcePolicy(caller, request);
        return { ARN: s.arn, Name: s.name };
      },
    },
    GetResourcePolicy: {
      readOnly: true,
      parse: readSecretIdOnly,
      async handle({ secretId }, { caller }) {
        const s = await secrets.getResourcePolicy(caller, secretId);
        return definedMembers({ ARN: s.arn, Name: s.name, ResourcePolicy: s.doc.policy });
      },
    },
    DeleteResourcePolicy: {
      readOnly: false,
      parse: readSecretIdOnly,
      async handle({ secretId }, { caller }) {
        const s = await secrets.deleteResourcePolicy(caller, secretId);
        return { ARN: s.arn, Name: s.name };
      },
    },
    ValidateResourcePolicy: {
      readOnly: true,
      parse(input) {
        const r = new InputReader(input);
        const secretId = checkSecretId(r.string('SecretId', { min: 1, max: 2048 }));
        const policy = r.string('ResourcePolicy', { required: true, min: 1, max: 20480 });
        r.done();
        return definedMembers({ secretId, policy });
      },
      async handle(request, { caller }) {
        const out = await secrets.validateResourcePolicy(caller, request);
        return { PolicyValidationPassed: out.passed, ValidationErrors: out.errors };
      },
    },
  };
}
