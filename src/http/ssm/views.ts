/**
 * The AWS wire shapes of what the parameter service returns (src/parameters/parameter-model.ts): member
 * names and order as the SSM API sends them (Parameter, ParameterMetadata, ParameterHistory), timestamps
 * in epoch seconds (awsJson).
 */
import type {
  ParameterPage,
  ParameterValue,
  ParameterVersionInfo,
  ParameterVersionValue,
  SecretReferenceValue,
} from '../../parameters/parameter-model.ts';
import { definedMembers } from '../members.ts';

type Json = Record<string, unknown>;

/** awsJson timestamps: epoch seconds. */
const seconds = (ms: number) => ms / 1000;

/**
 * AWS: a `/aws/reference/secretsmanager/` answer is a SecureString of Version 0 named as asked, with the
 * secret's ARN, the version's CreatedDate, Value = SecretString (none for a binary secret) and SourceResult
 * = the GetSecretValue answer as JSON.
 */
function secretReferenceView(s: SecretReferenceValue): Json {
  const created = seconds(s.createdAt);
  const valueMember = s.value.kind === 'string' ? { SecretString: s.value.text } : { SecretBinary: s.value.bytes.toString('base64') };
  return definedMembers({
    Name: s.name,
    Type: 'SecureString',
    Value: s.value.kind === 'string' ? s.value.text : undefined,
    Version: 0,
    Selector: s.selector !== undefined ? `:${s.selector}` : undefined,
    SourceResult: JSON.stringify({ ARN: s.arn, Name: s.secretName, VersionId: s.versionId, ...valueMember, VersionStages: s.stages, CreatedDate: created }),
    LastModifiedDate: created,
    ARN: s.arn,
  });
}

/** Parameter (GetParameter, GetParameters, GetParametersByPath). */
export function parameterView(p: ParameterValue): Json {
  if (p.source === 'secret-reference') return secretReferenceView(p);
  return definedMembers({
    Name: p.name,
    Type: p.type,
    Value: p.value,
    Version: p.version,
    Selector: p.selector,
    LastModifiedDate: seconds(p.createdAt),
    ARN: p.arn,
    DataType: p.dataType,
  });
}

/** ParameterMetadata (DescribeParameters). */
export function metadataView(p: ParameterVersionInfo): Json {
  return definedMembers({
    Name: p.name,
    ARN: p.arn,
    Type: p.type,
    KeyId: p.keyId,
    LastModifiedDate: seconds(p.createdAt),
    LastModifiedUser: p.lastModifiedUser,
    Description: p.description,
    AllowedPattern: p.allowedPattern,
    Version: p.version,
    Tier: p.tier,
    Policies: p.policies,
    DataType: p.dataType,
  });
}

/** ParameterHistory (GetParameterHistory). */
export function historyView(p: ParameterVersionValue): Json {
  return definedMembers({
    Name: p.name,
    Type: p.type,
    KeyId: p.keyId,
    LastModifiedDate: seconds(p.createdAt),
    LastModifiedUser: p.lastModifiedUser,
    Description: p.description,
    Value: p.value,
    AllowedPattern: p.allowedPattern,
    Version: p.version,
    Labels: p.labels,
    Tier: p.tier,
    Policies: p.policies,
    DataType: p.dataType,
  });
}

/** A listing's answer: `Parameters` and, when there is more, `NextToken`. */
export function pageView<T>(page: ParameterPage<T>, view: (item: T) => Json): Json {
  return definedMembers({ Parameters: page.items.map(view), NextToken: page.nextToken || undefined });
}
