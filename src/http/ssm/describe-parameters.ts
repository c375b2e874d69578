import type { ParameterService } from '../../parameters/parameter-service.ts';
import type { ParameterStoreRequests } from '../../parameters/requests.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { ParsedOperation } from '../operation.ts';
import { PARAMETER_FILTER_KEY_PATTERN, readFilters, readNextToken, reportViolations } from './common.ts';
import { metadataView, pageView } from './views.ts';

/** AWS: the legacy Filters member takes the keys Name, Type and KeyId only (ParametersFilterKey enum). */
const LEGACY_KEYS = ['Name', 'Type', 'KeyId'] as const;

export function describeParametersOperation(parameters: ParameterService): ParsedOperation<ParameterStoreRequests['DescribeParameters']> {
  return {
    readOnly: true,
    parse(input) {
      const r = new InputReader(input);
      const maxResults = r.integer('MaxResults', { min: 1, max: 50 });
      const nextToken = readNextToken(r);
      r.boolean('Shared');
      r.done();
      // AWS: the violations of both lists are reported together.
      const errors: string[] = [];
      const filters = readFilters(input, 'Filters', { keyEnum: LEGACY_KEYS, valuesRequired: true }, errors);
      const parameterFilters = readFilters(input, 'ParameterFilters', { keyPattern: PARAMETER_FILTER_KEY_PATTERN }, errors);
      reportViolations(errors);
      return definedMembers({ filters, parameterFilters, maxResults, nextToken });
    },
    handle: async (request, { caller }) => pageView(await parameters.describeParameters(caller, request), metadataView),
  };
}
