/** SSM Parameter Store at the edge: X-Amz-Target prefix AmazonSSM, SigV4 service `ssm`. */
import type { Authorizer } from '../../auth/authorizer.ts';
import type { ParameterService } from '../../parameters/parameter-service.ts';
import { withServiceAccessControl } from '../access-control.ts';
import { createParameterAccess } from './access.ts';
import { defineOperations, type ServiceDefinition } from '../operation.ts';
import { deleteParameterOperation, deleteParametersOperation } from './delete-parameters.ts';
import { describeParametersOperation } from './describe-parameters.ts';
import { getParameterOperation, getParametersByPathOperation, getParametersOperation } from './get-parameters.ts';
import { getParameterHistoryOperation, labelParameterVersionOperation, unlabelParameterVersionOperation } from './history-and-labels.ts';
import { putParameterOperation } from './put-parameter.ts';
import { addTagsToResourceOperation, listTagsForResourceOperation, removeTagsFromResourceOperation } from './tags.ts';

/** The service with every operation authorized (access.ts through the shared choke point, ../access-control.ts). */
export function ssmServiceDefinition(parameters: ParameterService, authorizer: Authorizer): ServiceDefinition {
  return withServiceAccessControl({
    targetPrefix: 'AmazonSSM',
    signingName: 'ssm',
    eventSource: 'ssm.amazonaws.com',
    internalErrorCode: 'InternalServerError',
    operations: defineOperations([
      putParameterOperation(parameters),
      getParameterOperation(parameters),
      getParametersOperation(parameters),
      getParametersByPathOperation(parameters),
      deleteParameterOperation(parameters),
      deleteParametersOperation(parameters),
      describeParametersOperation(parameters),
      getParameterHistoryOperation(parameters),
      labelParameterVersionOperation(parameters),
      unlabelParameterVersionOperation(parameters),
      addTagsToResourceOperation(parameters),
      removeTagsFromResourceOperation(parameters),
      listTagsForResourceOperation(parameters),
    ]),
  }, authorizer, createParameterAccess(parameters));
}
