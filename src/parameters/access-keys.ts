/**
 * The condition keys each Parameter Store action is decided with, as the access rules supply them at run
 * time (access-rules.ts, from the typed request). The declared table for Parameter Store: docs/iam.md's
 * table is generated from it, the e2e suite (test/e2e/condition-keys.test.ts) proves the keys, and
 * src/http/condition-keys.test.ts fails when AWS documents a key for an action that is not here.
 *
 * AWS: Service Authorization Reference, "Actions, resources, and condition keys for AWS Systems Manager"
 * (the copy in test/fixtures/aws-sar/ssm.json).
 */
/**
 * The declared shape of a Secrets Manager or Parameter Store action's rule (here, not in secrets/, because
 * imports flow secrets → parameters).
 */
export interface ServiceActionKeys {
  /** 'secret' / 'parameter': decided on the resource (with its keys); '*': no resource. */
  readonly resource: string;
  readonly conditionKeys: readonly string[];
}

/** Keys of the parameter an action names (its tags; none for a parameter that does not exist). */
export const PARAMETER_RESOURCE_KEYS = ['aws:ResourceTag/*'] as const;

const onParameter = (...conditionKeys: string[]): ServiceActionKeys => ({ resource: 'parameter', conditionKeys });

export const PARAMETER_STORE_ACTION_KEYS: Readonly<Record<string, ServiceActionKeys>> = {
  'ssm:GetParameter': onParameter(),
  'ssm:GetParameters': onParameter(),
  'ssm:DeleteParameter': onParameter(),
  'ssm:DeleteParameters': onParameter(),
  'ssm:GetParameterHistory': onParameter(),
  'ssm:LabelParameterVersion': onParameter(),
  'ssm:UnlabelParameterVersion': onParameter(),
  'ssm:PutParameter': onParameter('ssm:Overwrite', 'ssm:Policies', 'aws:RequestTag/*', 'aws:TagKeys'),
  'ssm:AddTagsToResource': onParameter('aws:RequestTag/*', 'aws:TagKeys'),
  'ssm:RemoveTagsFromResource': onParameter('aws:TagKeys'),
  'ssm:ListTagsForResource': onParameter(),
  // AWS: authorized on the path's own ARN, which carries no tags.
  'ssm:GetParametersByPath': { resource: 'path', conditionKeys: ['ssm:Recursive'] },
  'ssm:DescribeParameters': { resource: '*', conditionKeys: [] },
};
