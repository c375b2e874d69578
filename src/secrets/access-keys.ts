/**
 * The condition keys each Secrets Manager action is decided with, as the access rules supply them at run
 * time (access-rules.ts, from the typed request and the secret). The declared table for Secrets Manager:
 * docs/iam.md's table is generated from it, the e2e suite (test/e2e/condition-keys.test.ts) proves the
 * keys, and src/http/condition-keys.test.ts fails when AWS documents a key for an action that is neither
 * here nor in NOT_SUPPLIED.
 *
 * AWS: Service Authorization Reference, "Actions, resources, and condition keys for AWS Secrets Manager"
 * (the copy in test/fixtures/aws-sar/secretsmanager.json).
 */
import type { ServiceActionKeys } from '../parameters/access-keys.ts';

export type { ServiceActionKeys };

/** Keys of an existing secret, on every action that names one (a missing secret has only SecretId). */
export const SECRET_RESOURCE_KEYS = [
  'secretsmanager:SecretId', 'aws:ResourceTag/*', 'secretsmanager:ResourceTag/*', 'secretsmanager:SecretPrimaryRegion',
  'secretsmanager:resource/AllowRotationLambdaArn',
] as const;


const onSecret = (...conditionKeys: string[]): ServiceActionKeys => ({ resource: 'secret', conditionKeys });
const TAGS = ['aws:RequestTag/*', 'aws:TagKeys'];
const KMS_KEY = ['secretsmanager:KmsKeyId', 'secretsmanager:KmsKeyArn'];
const REPLICA = ['secretsmanager:AddReplicaRegions', 'secretsmanager:ForceOverwriteReplicaSecret'];

export const SECRETS_MANAGER_ACTION_KEYS: Readonly<Record<string, ServiceActionKeys>> = {
  'secretsmanager:CreateSecret': {
    // AWS: authorized on the ARN the secret will get; its resource tags are the request's.
    resource: 'secret',
    conditionKeys: ['secretsmanager:Name', 'secretsmanager:Description', ...KMS_KEY, ...REPLICA, ...TAGS, 'aws:ResourceTag/*', 'secretsmanager:ResourceTag/*'],
  },
  'secretsmanager:GetSecretValue': onSecret('secretsmanager:VersionId', 'secretsmanager:VersionStage'),
  'secretsmanager:PutSecretValue': onSecret(),
  'secretsmanager:UpdateSecret': onSecret('secretsmanager:Description', ...KMS_KEY),
  'secretsmanager:UpdateSecretVersionStage': onSecret('secretsmanager:VersionStage'),
  'secretsmanager:DescribeSecret': onSecret(),
  'secretsmanager:ListSecretVersionIds': onSecret(),
  'secretsmanager:DeleteSecret': onSecret('secretsmanager:RecoveryWindowInDays', 'secretsmanager:ForceDeleteWithoutRecovery'),
  'secretsmanager:RestoreSecret': onSecret(),
  'secretsmanager:TagResource': onSecret(...TAGS),
  'secretsmanager:UntagResource': onSecret('aws:TagKeys'),
  'secretsmanager:RotateSecret': onSecret('secretsmanager:RotationLambdaARN', 'secretsmanager:RotateImmediately', 'secretsmanager:ModifyRotationRules'),
  'secretsmanager:CancelRotateSecret': onSecret(),
  'secretsmanager:PutResourcePolicy': onSecret('secretsmanager:BlockPublicPolicy'),
  'secretsmanager:GetResourcePolicy': onSecret(),
  'secretsmanager:DeleteResourcePolicy': onSecret(),
  'secretsmanager:ValidateResourcePolicy': onSecret(),
  'secretsmanager:ReplicateSecretToRegions': onSecret(...REPLICA),
  'secretsmanager:RemoveRegionsFromReplication': onSecret(),
  'secretsmanager:StopReplicationToReplica': onSecret(),
  'secretsmanager:ListSecrets': { resource: '*', conditionKeys: [] },
  'secretsmanager:GetRandomPassword': { resource: '*', conditionKeys: [] },
  'secretsmanager:BatchGetSecretValue': { resource: '*', conditionKeys: [] },
};

/** AWS-documented keys Trent never supplies for Secrets Manager, and why. */
export const SECRETS_MANAGER_NOT_SUPPLIED: Readonly<Record<string, string>> = {
  'secretsmanager:Type': 'Managed external secrets (Type) are not served; no request carries a type.',
  'secretsmanager:resource/Type': 'Managed external secrets are not served; no secret has a type.',
  'secretsmanager:ExternalSecretRotationRoleArn': 'Managed external secret rotation is not served; RotateSecret takes no such role.',
};
