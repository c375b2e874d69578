/** SSM Parameter Store at the edge: X-Amz-Target prefix AmazonSSM, SigV4 service `ssm`. */
import type { Authorizer } from '../../auth/authorizer.ts';
import { ActionDeniedException } from '../../errors/errors.ts';
import { createParameterStoreAccessRules } from '../../parameters/access-rules.ts';
import { kmsDeniedMessage } from '../../parameters/errors.ts';
import type { ParameterService } from '../../parameters/parameter-service.ts';
import type { ParameterStoreRequests } from '../../parameters/requests.ts';
import { withServiceAccessControl } from '../access-control.ts';
import type { ServiceDefinition } from '../operation.ts';
import { deleteParameterOperation, deleteParametersOperation } from './delete-parameters.ts';
import { describeParametersOperation } from './describe-parameters.ts';
import { getParameterOperation, getParametersByPathOperation, getParametersOperation } from './get-parameters.ts';
import { getParameterHistoryOperation, labelParameterVersionOperation, unlabelParameterVersionOperation } from './history-and-labels.ts';
import { putParameterOperation } from './put-parameter.ts';
import { addTagsToResourceOperation, listTagsForResourceOperation, removeTagsFromResourceOperation } from './tags.ts';

/** The service with every operation authorized by its rule (src/parameters/access-rules.ts) at the shared choke point (../access-control.ts). */
export function ssmServiceDefinition(parameters: ParameterService, authorizer: Authorizer): ServiceDefinition {
  return withServiceAccessControl<ParameterStoreRequests>({
    targetPrefix: 'AmazonSSM',
    signingName: 'ssm',
    eventSource: 'ssm.amazonaws.com',
    internalErrorCode: 'InternalServerError',
  }, {
    PutParameter: putParameterOperation(parameters),
    GetParameter: getParameterOperation(parameters),
    GetParameters: getParametersOperation(parameters),
    GetParametersByPath: getParametersByPathOperation(parameters),
    DeleteParameter: deleteParameterOperation(parameters),
    DeleteParameters: deleteParametersOperation(parameters),
    DescribeParameters: describeParametersOperation(parameters),
    GetParameterHistory: getParameterHistoryOperation(parameters),
    LabelParameterVersion: labelParameterVersionOperation(parameters),
    UnlabelParameterVersion: unlabelParameterVersionOperation(parameters),
    AddTagsToResource: addTagsToResourceOperation(parameters),
    RemoveTagsFromResource: removeTagsFromResourceOperation(parameters),
    ListTagsForResource: listTagsForResourceOperation(parameters),
  }, authorizer, {
    viaService: 'ssm',
    rules: createParameterStoreAccessRules(parameters),
    kmsDenied: (err, ctx) => new ActionDeniedException(kmsDeniedMessage(err.message, ctx.requestId), err.action),
  });
}
